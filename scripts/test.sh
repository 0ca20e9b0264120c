#!/usr/bin/env bash
# Runs every check and every test: set-up (dependencies, build, Docker, harness prerequisites),
# lint and format, the generated-code check, the type check, unit tests, then the tests against
# real dockerds and multi-host test hosts. Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh --test

step() { printf '\n== %s\n' "$*"; }
step "lint"
pnpm run lint
step "generated code is fresh"
pnpm run gen:check

step "tests"
# The randomized Raft safety test: a few thousand seeded schedules in CI.
export RAFT_FUZZ_SCHEDULES="${RAFT_FUZZ_SCHEDULES:-3000}"
mkdir -p .shoal
results=.shoal/test-results.json
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
if [[ -f "$results" ]]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  ' "$results"
fi
exit "$status"
