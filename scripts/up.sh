#!/usr/bin/env bash
# The main job: set up this machine (dependencies, build, a Docker daemon) and bring up a local
# Shoal cluster on it with `shoal up`. Extra arguments go to `shoal up`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
exec node_modules/.bin/shoal up "$@"
