#!/usr/bin/env bash
# Compile the C fast client (the release's `v2m` entry) to $1.
set -euo pipefail
out=${1:?usage: build/fastclient/build.sh OUTPUT}
here=$(dirname "$0")
gcc -O2 -Wall -Wextra -static -s -o "$out" "$here/v2m.c"
