#!/usr/bin/env bash
# Build the static test fixtures (paths relative to the repository root):
#   bundle-fixtures/probe.c        -> build/fixtures/probe
#   bundle-fixtures/console-recv.c -> build/fixtures/console-recv
#   bundle-fixtures/notify-recv.c  -> build/fixtures/notify-recv
# Idempotent; a binary is rebuilt only when older than its source or this
# script. Prints the probe's path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
outdir="$root/build/fixtures"
self="${BASH_SOURCE[0]}"

if [[ -n "${CC:-}" ]]; then
  cc="$CC"
elif [[ -x /usr/bin/musl-gcc ]]; then
  cc=/usr/bin/musl-gcc
else
  cc=gcc
fi

build() {
  local name="$1" src="$root/bundle-fixtures/$1.c" out="$outdir/$1"
  if [[ -x "$out" && "$out" -nt "$src" && "$out" -nt "$self" ]]; then
    return 0
  fi
  mkdir -p "$outdir"
  local tmp="$out.tmp.$$"
  if ! "$cc" -static -Os -Wall -Wextra -Wno-unused-parameter -o "$tmp" "$src"; then
    rm -f "$tmp"
    return 1
  fi
  strip "$tmp" 2>/dev/null || true
  mv -f "$tmp" "$out"
}

build probe
build console-recv
build notify-recv
echo "$outdir/probe"
