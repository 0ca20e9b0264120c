#!/usr/bin/env bash
shopt -s globstar nullglob
# Runs every benchmark in test/bench; each prints JSON lines, gathered in test/bench/results/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The system benchmarks run on the multi-host harness (and chromium, for the dashboard page).
bash scripts/setup.sh --test
mkdir -p test/bench/results
out="test/bench/results/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
# test/bench holds the system benchmarks; a package keeps the ones that need its test fixtures
# under test/**/bench/.
for bench in test/bench/*.ts packages/*/test/**/bench/*.ts; do
  node_modules/.bin/tsx --conditions=@shoal/source "$bench"
done | tee "$out"
echo "results: $out" >&2
