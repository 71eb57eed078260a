#!/usr/bin/env bash
# Build the v2m executable from a clean checkout:
#   build/build.sh              dist/v2m-VERSION-linux-ARCH/ (folder build, with tiny.en),
#                               its .tar.gz, and dist/v2m -> the folder's entry
#   build/build.sh --no-model   the same without the bundled model
# Uses PyInstaller's folder (onedir) build and a C fast client as its entry;
# see README ("Building the binary").
set -euo pipefail
cd "$(dirname "$0")/.."
model=1
for arg in "$@"; do
  case "$arg" in
    --no-model) model=0 ;;
    *) echo "usage: build/build.sh [--no-model]" >&2; exit 2 ;;
  esac
done
# Inside tox (VIRTUAL_ENV set) use its env; otherwise the project's .venv.
if [ -n "${VIRTUAL_ENV:-}" ]; then py="$VIRTUAL_ENV/bin/python"; else make venv >/dev/null; py=.venv/bin/python; fi
"$py" -m pip install -q 'pyinstaller>=6.10'
version=$("$py" -c 'import v2m; print(v2m.__version__)')
name="v2m-$version-linux-$(uname -m)$([ "$model" = 0 ] && echo -nomodel || true)"
rm -rf build/out dist/"$name" dist/"$name".tar.gz
V2M_BUILD_MODEL=$model "$py" -m PyInstaller --noconfirm --log-level WARN \
  --distpath build/out/dist --workpath build/out/work build/v2m.spec
# The entry: a static C client for the keybinding commands (about 1 ms to
# start, against 40-60 ms for the frozen Python), falling through to v2m-app.
build/fastclient/build.sh build/out/dist/v2m/v2m
mkdir -p dist
mv build/out/dist/v2m dist/"$name"
ln -sfn "$name/v2m" dist/v2m
tar -C dist -czf dist/"$name".tar.gz "$name"
echo "built dist/$name ($(du -sh dist/"$name" | cut -f1)), dist/$name.tar.gz ($(du -sh dist/"$name".tar.gz | cut -f1)); dist/v2m -> $name/v2m"
