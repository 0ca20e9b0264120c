#!/usr/bin/env bash
# Removes what multi-host test runs left behind (namespaces shoal-t-*, interfaces shoalgw-*,
# their dockerds, containers, mounts, cgroups, /tmp/shoal-harness/<run>). Runs whose owner
# process is alive are kept; --all removes them too (use it only when no test is running).
# Needs root. Same code as the sweep every harness does at start (test/e2e/harness/cleanup.ts).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec node --import tsx test/e2e/harness/clean-cli.ts "$@"
