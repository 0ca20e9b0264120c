#!/usr/bin/env bash
# Wire compatibility: the protos under proto/ must not break the wire format of the last release,
# so that managers and agents of two adjacent versions work together during a rolling upgrade.
# The last release's format is a buf image committed under proto/baseline/ (shoal-v<version>.binpb;
# one file: the newest is the one compared against). docs/operations.md, "Wire compatibility".
#
#   scripts/wire-compat.sh                 buf breaking against the baseline (pnpm run lint, CI)
#   scripts/wire-compat.sh --roll VERSION [REF]
#                                          at a release: the protos of git REF (default HEAD, the
#                                          release commit or tag) become the baseline; built from
#                                          git, never from uncommitted files
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

buf=node_modules/.bin/buf
dir=proto/baseline

case "${1:-}" in
  "")
    baseline=$(find "$dir" -maxdepth 1 -name 'shoal-v*.binpb' | sort -V | tail -n 1)
    if [[ -z "$baseline" ]]; then
      echo "wire-compat: no baseline in $dir (scripts/wire-compat.sh --roll VERSION makes one)" >&2
      exit 1
    fi
    if ! "$buf" breaking --against "$baseline"; then
      echo "wire-compat: the changes above break the wire format of $(basename "$baseline" .binpb);" \
        "add fields and messages instead of renumbering, retyping or removing (docs/operations.md)" >&2
      exit 1
    fi
    echo "wire-compat: compatible with $(basename "$baseline" .binpb)"
    ;;
  --roll)
    version="${2:?usage: scripts/wire-compat.sh --roll VERSION}"
    if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
      echo "wire-compat: '$version' is not a version such as 0.2.0" >&2
      exit 2
    fi
    ref="${3:-HEAD}"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    git archive "$ref" buf.yaml proto/shoal | tar -x -C "$tmp"
    (cd "$tmp" && "$OLDPWD/$buf" build --exclude-source-info -o "$OLDPWD/$dir/shoal-v$version.binpb.tmp")
    find "$dir" -maxdepth 1 -name 'shoal-v*.binpb' -delete
    mv "$dir/shoal-v$version.binpb.tmp" "$dir/shoal-v$version.binpb"
    echo "wire-compat: $dir/shoal-v$version.binpb ($ref) is the baseline now (commit it with the release)"
    ;;
  *)
    echo "usage: scripts/wire-compat.sh [--roll VERSION]" >&2
    exit 2
    ;;
esac
