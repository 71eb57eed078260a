#!/usr/bin/env bash
# Compile the C fast client (the release's `v2m` entry) to OUTPUT:
#   build/fastclient/build.sh OUTPUT [GCC FLAG...]
# First gen_header.py reads the commands, replies, messages and rules off the
# Python CLI into v2m_generated.h (in a temp dir); then gcc compiles v2m.c
# with it. GCC FLAGs replace the release's "-O2 -Wall -Wextra -static -s"
# (the tests add -Werror, or build with sanitizers).
# The Python that can import the CLI: $PYTHON, else the active virtualenv's,
# else the project's .venv, else python3.
set -euo pipefail
out=${1:?usage: build/fastclient/build.sh OUTPUT [GCC FLAG...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -eq 0 ]; then set -- -O2 -Wall -Wextra -static -s; fi
py=${PYTHON:-}
if [ -z "$py" ] && [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then py=$VIRTUAL_ENV/bin/python; fi
if [ -z "$py" ] && [ -x "$root/.venv/bin/python" ]; then py=$root/.venv/bin/python; fi
py=${py:-python3}
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
"$py" "$here/gen_header.py" "$gen/v2m_generated.h"
gcc "$@" -I "$gen" -o "$out" "$here/v2m.c"
