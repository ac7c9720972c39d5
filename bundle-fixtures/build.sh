#!/usr/bin/env bash
# Build the static container probe: bundle-fixtures/probe.c -> build/fixtures/probe
# (paths relative to the repository root). Idempotent; does nothing when the
# binary is newer than its source and this script. Prints the binary's path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/bundle-fixtures/probe.c"
outdir="$root/build/fixtures"
out="$outdir/probe"

if [[ -x "$out" && "$out" -nt "$src" && "$out" -nt "${BASH_SOURCE[0]}" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$outdir"
if [[ -n "${CC:-}" ]]; then
  cc="$CC"
elif [[ -x /usr/bin/musl-gcc ]]; then
  cc=/usr/bin/musl-gcc
else
  cc=gcc
fi
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
"$cc" -static -Os -Wall -Wextra -Wno-unused-parameter -o "$tmp" "$src"
strip "$tmp" 2>/dev/null || true
mv -f "$tmp" "$out"
trap - EXIT
echo "$out"
