"""The release artefacts of build/build.sh (dist/, or $V2M_DIST) on a
stranger's machine: Debian 12 minbase chroots (tests/release/rootfs.py).

Needs root, debootstrap and network the first time (the chroots are cached
in .tox/release-cache, or $V2M_RELEASE_CACHE). The daemon and the CLI run
inside the chroot through a wrapper that V2M_BIN points at, so the e2e
helpers (run_v2m, DaemonProcess) drive them unchanged; the test's temp
directories, the X server's socket and the PulseAudio server's are under
/tmp, which the chroot shares.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import notifications, start_daemon  # noqa: F401 - fixtures used here too
from tests.release import rootfs

DIST = Path(os.environ.get("V2M_DIST") or rootfs.ROOT / "dist")
PULSE_TOOLS = ("pulseaudio", "pactl", "pacat", "paplay")


@dataclass(frozen=True)
class Release:
    name: str          # v2m-VERSION-linux-x86_64
    tarball: Path
    run_file: Path
    deb: Path

    @property
    def folder_entry(self) -> str:
        """Where the tarball's `v2m` is, once unpacked into /opt."""
        return f"/opt/{self.name}/v2m"


@pytest.fixture(scope="session")
def release() -> Release:
    # Collected only in `tox -e release` (tests/conftest.py); there a missing
    # tool or artefact is a failure, never a skip.
    missing = rootfs.missing_tools()
    if missing:
        pytest.fail(f"release tests need {', '.join(missing)}: `make apt` installs them")
    tarballs = sorted(DIST.glob("v2m-*-linux-x86_64.tar.zst"))
    if not tarballs:
        pytest.fail(f"no release in {DIST}: run build/build.sh first")
    name = tarballs[-1].name.removesuffix(".tar.zst")
    version = name.split("-")[1]
    found = Release(name, tarballs[-1], DIST / f"{name}.run", DIST / f"v2m_{version}_amd64.deb")
    for path in (found.run_file, found.deb):
        if not path.exists():
            pytest.fail(f"{path} is missing: run build/build.sh")
    return found


@pytest.fixture
def make_chroot(release, tmp_path_factory):
    """make(packages) -> a fresh chroot of minbase (+ the .deb's dependencies)."""
    shared = {Path("/tmp")}
    base = tmp_path_factory.getbasetemp().resolve()
    if not base.is_relative_to("/tmp"):
        shared.add(base)
    made: list[rootfs.Chroot] = []

    def make(with_deb_packages: bool = False) -> rootfs.Chroot:
        roots = rootfs.CACHE / "roots"
        roots.mkdir(parents=True, exist_ok=True)
        tarball = rootfs.cached_rootfs(rootfs.DEB_PACKAGES if with_deb_packages else ())
        chroot = rootfs.Chroot.unpack(tarball, Path(tempfile.mkdtemp(dir=roots)) / "root", tuple(shared))
        made.append(chroot)
        return chroot

    yield make
    for chroot in made:
        chroot.remove()
        chroot.root.parent.rmdir()


@pytest.fixture
def use_v2m(xdg, tmp_path, monkeypatch):
    """use(chroot, path inside) -> V2M_BIN now runs that v2m inside the chroot."""

    def use(chroot: rootfs.Chroot, inside: str) -> Path:
        wrapper = chroot.wrapper(tmp_path / "v2m-in-chroot", inside)
        monkeypatch.setenv("V2M_BIN", str(wrapper))
        return wrapper
    return use


@pytest.fixture
def unpack_folder(release):
    """unpack(chroot) -> the v2m of the release tarball, unpacked (by the host's tar) into /opt."""

    def unpack(chroot: rootfs.Chroot) -> str:
        import subprocess

        subprocess.run(["tar", "--zstd", "-C", str(chroot.path("/opt")), "-xf", str(release.tarball)], check=True)
        return release.folder_entry
    return unpack


@pytest.fixture
def chroot_pulse(tmp_path, monkeypatch):
    """start(chroot) -> a private PulseAudio server running inside the chroot
    (its own pulseaudio and tools), as tests/support/pulse.py starts one."""
    from tests.support.pulse import PulseServer

    servers: list[PulseServer] = []

    def start(chroot: rootfs.Chroot) -> PulseServer:
        tools = tmp_path / "pulse-tools"
        tools.mkdir()
        for tool in PULSE_TOOLS:
            chroot.wrapper(tools / tool, f"/usr/bin/{tool}")
        monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
        server = PulseServer()
        servers.append(server)
        server.start()
        for key, value in server.env.items():
            monkeypatch.setenv(key, value)
        return server

    yield start
    for server in servers:
        server.stop()
