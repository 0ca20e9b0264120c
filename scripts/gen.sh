#!/usr/bin/env bash
# Generates the TypeScript for the wire contract (proto/ -> packages/shared/src/gen)
# with buf and the local ts-proto plugin; see buf.gen.yaml.
#
#   scripts/gen.sh           regenerate (pnpm gen)
#   scripts/gen.sh --check   regenerate into a temporary directory and fail if
#                            the committed output differs (pnpm gen:check, CI)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=packages/shared/src/gen
buf=node_modules/.bin/buf

case "${1:-}" in
  "")
    rm -rf "$out"
    "$buf" generate
    ;;
  --check)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$buf" generate --output "$tmp"
    if ! diff -ru "$out" "$tmp/$out" >"$tmp/diff" 2>&1; then
      head -n 60 "$tmp/diff" >&2
      echo "generated code is stale: run pnpm gen" >&2
      exit 1
    fi
    echo "generated code is up to date"
    ;;
  *)
    echo "usage: scripts/gen.sh [--check]" >&2
    exit 2
    ;;
esac
