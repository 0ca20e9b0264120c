#!/usr/bin/env bash
# Builds the release artifact: dist/release/shoal-<version>.tgz, an npm package holding the
# one-file bundle of the `shoal` command (every dependency inside it), the licence and the
# changelog. `npm install -g shoal-<version>.tgz` installs it on a machine with Node 20 alone: no
# workspace, no build step, no dependencies to fetch.
#
#   scripts/release.sh            (pnpm run release)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

version=$(node -p 'require("./packages/cli/package.json").version')
shared_version=$(sed -n 's/^export const VERSION = "\(.*\)";$/\1/p' packages/shared/src/version.ts)
if [[ "$version" != "$shared_version" ]]; then
  echo "release: packages/cli/package.json says $version, packages/shared/src/version.ts $shared_version" >&2
  exit 1
fi
if ! grep -q "^## \[$version\]" CHANGELOG.md; then
  echo "release: CHANGELOG.md has no section for $version" >&2
  exit 1
fi

pnpm --filter @shoal/cli run bundle

out="$ROOT/dist/release"
stage="$out/shoal"
rm -rf "$stage" "$out/shoal-$version.tgz"
mkdir -p "$stage"

# The bundle as the package's bin: npm needs the interpreter line. The source map stays out (it
# would triple the size); the bundle's sourceMappingURL comment then points at nothing, harmlessly.
{
  echo '#!/usr/bin/env node'
  grep -v '^//# sourceMappingURL=' packages/cli/dist/shoal.mjs
} >"$stage/shoal.mjs"
chmod 755 "$stage/shoal.mjs"
cp LICENSE CHANGELOG.md "$stage/"
cat >"$stage/README.md" <<MD
# Shoal $version

A swarm-like container orchestrator: Raft-replicated managers schedule services onto agents that
drive Docker. This package is the \`shoal\` command in one file: it needs Node.js 20 or later and,
on hosts that run tasks, a Docker daemon.

    npm install -g shoal-$version.tgz
    shoal --version
    shoal manager --data-dir /var/lib/shoal/manager --listen 0.0.0.0:4242 --advertise HOST:4242
    shoal agent --manager HOST:4242 --token TOKEN --data-dir /var/lib/shoal/agent

See CHANGELOG.md for what is in this version. Licensed under the Apache License 2.0 (LICENSE).
MD

# Every field is written here: nothing of the workspace (dependencies, scripts) leaks in.
node - "$version" "$stage/package.json" <<'JS'
const [version, file] = process.argv.slice(2);
const pkg = {
  name: "shoal",
  version,
  description: "A swarm-like container orchestrator: Raft-replicated managers schedule services onto agents that drive Docker.",
  license: "Apache-2.0",
  type: "module",
  bin: { shoal: "shoal.mjs" },
  files: ["shoal.mjs", "LICENSE", "CHANGELOG.md", "README.md"],
  engines: { node: ">=20.0.0" },
  os: ["linux"],
};
require("node:fs").writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
JS

# The bundle must run from the staging folder, away from the workspace's node_modules.
got=$(cd "$stage" && node shoal.mjs --version)
if [[ "$got" != "$version" ]]; then
  echo "release: the bundle says its version is '$got', expected $version" >&2
  exit 1
fi

(cd "$stage" && npm pack --silent --pack-destination "$out" >/dev/null)
tgz="$out/shoal-$version.tgz"
size=$(stat -c %s "$tgz")
sha=$(sha256sum "$tgz" | cut -d' ' -f1)
echo "$sha  shoal-$version.tgz" >"$tgz.sha256"
echo "release: $tgz ($((size / 1024)) KiB, unpacked $(( $(stat -c %s "$stage/shoal.mjs") / 1024 )) KiB bundle) sha256 $sha"
