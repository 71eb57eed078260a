#!/usr/bin/env bash
# Package a release folder as a .deb:
#   build/deb.sh FOLDER VERSION OUTPUT.deb [COMPRESSION]
# COMPRESSION: xz:6 (the default, for releases: 138 MB in 5-6 min on 2 cores;
# xz -9 saved 1 MB in twice the time, zstd -19 gave 145 MB in 7 min, and
# lintian calls zstd members malformed) or zstd:N (quick builds: zstd -3 packs
# in 3 s; dpkg reads zstd since Debian 12 and Ubuntu 18.04).
# /usr/lib/v2m/          the folder (its `v2m` entry, v2m-app, _internal/)
# /usr/bin/v2m           -> ../lib/v2m/v2m
# /usr/lib/systemd/user/v2m.service   ExecStart=/usr/bin/v2m daemon (not enabled:
#                        `systemctl --user enable --now v2m.service`)
# /usr/share/applications/v2m.desktop, the man page, copyright, changelog.
# The folder takes libasound, libstdc++ and libgcc_s from the system (see
# build/v2m.spec), hence Depends.
set -euo pipefail
folder=${1:?usage: build/deb.sh FOLDER VERSION OUTPUT.deb [xz:LEVEL|zstd:LEVEL]}
version=${2:?version}
out=${3:?output}
compression=${4:-xz:6}
here=$(cd "$(dirname "$0")" && pwd)
pkg=$here/../packaging
maintainer=${V2M_MAINTAINER:-v2m maintainers <v2m@users.noreply.github.com>}
root=$(mktemp -d)
chmod 755 "$root"  # the archive's ./ entry
trap 'rm -rf "$root"' EXIT

install -d "$root/DEBIAN" "$root/usr/lib" "$root/usr/bin" "$root/usr/lib/systemd/user" \
  "$root/usr/share/applications" "$root/usr/share/man/man1" "$root/usr/share/doc/v2m" \
  "$root/usr/share/lintian/overrides"
cp -a "$folder" "$root/usr/lib/v2m"
# Libraries need no execute bit; the two programs keep theirs.
find "$root/usr/lib/v2m/_internal" -type f -perm /111 -name '*.so*' -exec chmod 644 {} +
find "$root/usr/lib/v2m/_internal" -type f ! -name '*.so*' -exec chmod 644 {} +
ln -s ../lib/v2m/v2m "$root/usr/bin/v2m"
sed 's|^ExecStart=.*|ExecStart=/usr/bin/v2m daemon|;
     s|^# `v2m service install` writes.*|# Installed by the v2m package; per user: systemctl --user enable --now v2m.service|;
     /^# ExecStart pointing at/d; /^#   systemctl --user daemon-reload/d' \
  "$pkg/v2m.service" > "$root/usr/lib/systemd/user/v2m.service"
grep -v '^#' "$pkg/v2m.desktop" > "$root/usr/share/applications/v2m.desktop"
gzip -9n < "$pkg/v2m.1" > "$root/usr/share/man/man1/v2m.1.gz"
cp "$pkg/deb/copyright" "$root/usr/share/doc/v2m/copyright"
sed "s|@VERSION@|$version|g; s|@MAINTAINER@|$maintainer|; s|@DATE@|$(date -R -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}")|" \
  "$pkg/deb/changelog" | gzip -9n > "$root/usr/share/doc/v2m/changelog.gz"
cp "$pkg/deb/lintian-overrides" "$root/usr/share/lintian/overrides/v2m"
chmod 644 "$root/usr/lib/systemd/user/v2m.service" "$root/usr/share/applications/v2m.desktop" \
  "$root/usr/share/man/man1/v2m.1.gz" "$root/usr/share/doc/v2m/"* "$root/usr/share/lintian/overrides/v2m"

floor=$("$here/glibc_floor.sh" "$folder" | sed 's/GLIBC_//')
size_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: v2m
Version: $version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $size_kb
Depends: libc6 (>= $floor), libstdc++6, libgcc-s1, libasound2, libasound2-plugins | pipewire-alsa, pulseaudio | pipewire-pulse
Recommends: xclip, wl-clipboard, wtype, xdotool, libnotify-bin
Section: sound
Priority: optional
Description: local voice dictation for Linux desktops
 A daemon keeps a Whisper model (faster-whisper on CTranslate2) warm; a key
 bound to "v2m toggle" starts recording, and the next press stops it and puts
 the text on the clipboard or types it into the focused window. Audio never
 leaves the machine. Also transcribes audio and video files to text or
 subtitles. Ships the tiny.en model, so it works offline from the first start.
EOF
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs -d '\n' md5sum) > "$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Z"${compression%%:*}" -z"${compression#*:}" --threads-max="$(nproc)" \
  -b "$root" "$out" >/dev/null
