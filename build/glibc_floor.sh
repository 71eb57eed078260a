#!/usr/bin/env bash
# Print the newest glibc symbol version any ELF file in a build needs:
# the oldest glibc the build runs on.  Usage: build/glibc_floor.sh DIR
# (Static programs, such as the fast client, have no dynamic symbols: objdump
# fails on them, and they need no glibc at all.)
set -euo pipefail
find "${1:?usage: build/glibc_floor.sh DIR}" -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
  { xargs -0 objdump -T 2>/dev/null || true; } | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V | tail -1
