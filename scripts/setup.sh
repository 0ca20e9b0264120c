#!/usr/bin/env bash
# One set-up for every entry point (README commands, .ci/run):
#   scripts/setup.sh          dependencies, the build, and a Docker daemon that answers
#   scripts/setup.sh --test   the same, plus what the multi-host test harness needs
# Idempotent: each step checks first and does only what is missing.
set -euo pipefail

PNPM_VERSION=12.4.2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${SHOAL_STATE_DIR:-$ROOT/.shoal}"
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" == 0 ]]; }

# --- Node and pnpm -----------------------------------------------------------
command -v node >/dev/null || die "Node.js 20 or newer is required: install it (https://nodejs.org) and run this again"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
(( node_major >= 20 )) || die "Node.js 20 or newer is required, found $(node --version)"

if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  say "installing pnpm $PNPM_VERSION"
  npm install --global --silent "pnpm@$PNPM_VERSION" >/dev/null || die "could not install pnpm $PNPM_VERSION with npm"
fi

# --- Debian packages ---------------------------------------------------------
apt_updated=0
need_pkgs() { # pkg:command-it-provides ... (or pkg:dpkg to ask dpkg)
  local missing=() pair
  for pair in "$@"; do
    if [[ "${pair#*:}" == dpkg ]]; then
      dpkg-query -W -f='${Status}' "${pair%%:*}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${pair%%:*}")
    else
      command -v "${pair#*:}" >/dev/null || missing+=("${pair%%:*}")
    fi
  done
  (( ${#missing[@]} == 0 )) && return 0
  is_root || die "missing ${missing[*]}: install them (Debian: apt-get install ${missing[*]}) or run this as root"
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them with"
  if (( apt_updated == 0 )); then apt-get update -qq >/dev/null; apt_updated=1; fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

need_pkgs docker.io:dockerd busybox-static:dpkg
if (( WITH_TEST )); then
  need_pkgs docker-registry:docker-registry iproute2:ip iptables:iptables util-linux:nsenter python3:python3
  # The docker-py suite (test/e2e/sdk/python) runs on Debian's interpreter with Debian's modules,
  # whatever python3 comes first on PATH (a pyenv one has neither).
  need_pkgs python3-docker:dpkg python3-pytest:dpkg
  /usr/bin/python3 -c 'import docker, pytest' 2>/dev/null \
    || die "/usr/bin/python3 cannot import docker and pytest: install Debian's python3-docker and python3-pytest"
  # The dashboard's browser tests drive Debian's chromium (playwright-core, no browser download).
  need_pkgs chromium:chromium
  is_root || die "the multi-host tests need root (network namespaces, one dockerd per test host)"
fi

# --- Docker daemon -----------------------------------------------------------
docker_ok() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if [[ -n "${DOCKER_HOST:-}" ]]; then
  docker_ok || die "DOCKER_HOST=$DOCKER_HOST does not answer; start that daemon or unset DOCKER_HOST"
elif ! docker_ok; then
  is_root || die "no Docker daemon answers on /var/run/docker.sock: start one (or run this as root and it will start dockerd)"
  mkdir -p "$STATE_DIR"
  say "starting dockerd (log: $STATE_DIR/dockerd.log)"
  # containerd is started by dockerd itself; setsid keeps it alive after this script ends.
  setsid dockerd --host unix:///var/run/docker.sock >"$STATE_DIR/dockerd.log" 2>&1 < /dev/null &
  echo $! > "$STATE_DIR/dockerd.pid"
  for _ in $(seq 1 150); do docker_ok && break; sleep 0.2; done
  docker_ok || die "dockerd did not answer within 30 s; see $STATE_DIR/dockerd.log"
fi
say "docker $(docker version --format '{{.Server.Version}}') is up"

# --- Dependencies and build --------------------------------------------------
cd "$ROOT"
CI=true pnpm install --frozen-lockfile --reporter=silent >/dev/null || die "pnpm install failed"
pnpm run build || die "the build failed"
# The base image the examples and tests run (busybox-static, imported: no registry needed).
node_modules/.bin/tsx test/e2e/harness/ensure-base-image.ts >/dev/null || die "could not build the base image shoal-base:1"
say "ready (base image shoal-base:1)"
