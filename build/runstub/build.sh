#!/usr/bin/env bash
# Make the one-file release: the static stub (runstub.c) with the payload's
# size and SHA-256 compiled in, then the payload appended.
#   build/runstub/build.sh PAYLOAD.tar.zst BUILD_ID OUTPUT.run
# PAYLOAD is a zstd-compressed ustar archive of the release folder (one top
# directory), as build/build.sh writes it.
set -euo pipefail
payload=${1:?usage: build/runstub/build.sh PAYLOAD.tar.zst BUILD_ID OUTPUT.run}
build_id=${2:?build id}
out=${3:?output}
here=$(dirname "$0")
size=$(stat -c %s "$payload")
sha=$(sha256sum "$payload" | cut -d' ' -f1)
stub=$(mktemp)
trap 'rm -f "$stub"' EXIT
# libzstd.a (libzstd-dev) puts the decompressor inside the stub: a stranger's
# machine needs no zstd, tar or anything else.
gcc -O2 -Wall -Wextra -static -s -o "$stub" "$here/runstub.c" \
  -DBUILD_ID="\"$build_id\"" -DPAYLOAD_SIZE="${size}ULL" -DPAYLOAD_SHA256="\"$sha\"" -l:libzstd.a
cat "$stub" "$payload" > "$out.tmp"
chmod 755 "$out.tmp"
mv "$out.tmp" "$out"
