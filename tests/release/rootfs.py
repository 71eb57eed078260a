"""Debian 12 minimal chroots for the release tests: a stranger's machine.

`debootstrap --variant=minbase bookworm` (nothing but apt, dpkg and the
essentials: no ALSA, no PulseAudio, no zstd or xz), cached as a tarball so a
test run builds it once a week at most; a second tarball adds what
`apt install ./v2m_*.deb` pulls in, so the .deb installs without network.

Commands enter a chroot through `unshare --mount`: /proc, /dev and the test's
shared directories are mounted in a private mount namespace that ends with
the process, so nothing stays mounted on the host and removing a chroot can
never reach through a bind mount. Shared directories appear at the same path
inside, so a path means the same file on both sides.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("V2M_RELEASE_CACHE") or ROOT / ".tox" / "release-cache")
SUITE = "bookworm"
MIRROR = os.environ.get("V2M_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# The .deb's Depends and Recommends (apt installs both), and pulseaudio-utils
# for the test microphone (pactl, pacat, paplay).
DEB_PACKAGES = ("libasound2", "libasound2-plugins", "pulseaudio", "pulseaudio-utils",
                "xclip", "wl-clipboard", "wtype", "xdotool", "libnotify-bin")

ENTER = r"""
root=$1; shift
while [ "$1" != -- ]; do mkdir -p "$root$1"; mount --bind "$1" "$root$1"; shift; done
shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
exec chroot "$root" "$@"
"""


def missing_tools() -> list[str]:
    tools = ["debootstrap", "unshare", "chroot", "tar"]
    found = [t for t in tools if shutil.which(t) is None]
    if os.geteuid() != 0:
        found.append("root (chroot, mount)")
    return found


def _key(packages: tuple[str, ...]) -> str:
    year, week, _ = datetime.date.today().isocalendar()
    digest = hashlib.sha256(" ".join(sorted(packages)).encode()).hexdigest()[:8]
    return f"{SUITE}-minbase-{year}w{week:02d}-{digest}"


def cached_rootfs(packages: tuple[str, ...] = ()) -> Path:
    """A tarball of minbase (plus `packages`), built on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / f"{_key(packages)}.tar"
    base = cached_rootfs() if packages else None
    with open(CACHE / f".lock-{tarball.name}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time
        if tarball.exists():
            return tarball
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            root = Path(tmp) / "root"
            if base is not None:
                root.mkdir()
                subprocess.run(["tar", "-C", str(root), "-xf", str(base)], check=True)
                chroot = Chroot(root)
                env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
                chroot.run("apt-get", "update", "-qq", env=env, check=True, timeout=600)
                chroot.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages, env=env,
                           check=True, timeout=1200, stdout=subprocess.DEVNULL)
                chroot.run("apt-get", "clean", check=True)
            else:
                subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(root), MIRROR], check=True,
                               stdout=subprocess.DEVNULL, timeout=1200)
            subprocess.run(["tar", "-C", str(root), "-cf", f"{tarball}.tmp", "."], check=True)
            os.replace(f"{tarball}.tmp", tarball)
        digest = tarball.name.rsplit("-", 1)[1]
        for old in CACHE.glob(f"{SUITE}-minbase-*-{digest}"):  # last week's
            if old != tarball:
                old.unlink()
    return tarball


class Chroot:
    """A chroot at `root`; `shared` host directories appear at the same paths inside."""

    def __init__(self, root: Path, shared: tuple[Path, ...] = ()) -> None:
        self.root = root
        self.shared = tuple(shared)

    @classmethod
    def unpack(cls, tarball: Path, root: Path, shared: tuple[Path, ...] = ()) -> "Chroot":
        root.mkdir(parents=True)
        subprocess.run(["tar", "-C", str(root), "-xf", str(tarball)], check=True)
        return cls(root, shared)

    def argv(self, *cmd: str) -> list[str]:
        # No --fork: the command keeps this pid, so signals reach it.
        return ["unshare", "--mount", "sh", "-c", ENTER, "enter", str(self.root),
                *(str(p) for p in self.shared), "--", *cmd]

    def run(self, *cmd: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*cmd), **kwargs)

    def popen(self, *cmd: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*cmd), **kwargs)

    def wrapper(self, path: Path, target: str) -> Path:
        """An executable at `path` (on the host) that runs `target` inside."""
        path.write_text(f"#!/bin/sh\nexec {shlex.join(self.argv(target))} \"$@\"\n")
        path.chmod(0o755)
        return path

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
