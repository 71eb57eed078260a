"""Is it safe to load PortAudio in this process?

PortAudio's ALSA host API asserts (SIGABRT, no exception) when ALSA cannot
read its configuration, as on a machine without the alsa-lib package: in the
daemon that abort would end it on the first `v2m toggle`. So before loading
PortAudio we check, in-process and cheaply, what it needs: the system's
libasound loads and reads its configuration (snd_config_update). When that
check fails, a child process tries PortAudio first (`v2m devices --json`);
only if the child survives is PortAudio loaded here. Otherwise the caller
gets an AudioDeviceError that says what to install.
"""

from __future__ import annotations

import ctypes
import logging
import os
import subprocess
import sys
import threading
import time

from v2m.domain.errors import AudioDeviceError

log = logging.getLogger(__name__)

INSTALL_HINT = "install libasound2 (Debian/Ubuntu), alsa-lib (Fedora/Arch)"
# Set in the probe's child: load PortAudio without checking (that is the test).
CHILD_ENV = "V2M_ALSA_PROBE_CHILD"
CHILD_TIMEOUT_S = 30.0
# A failed child probe is remembered this long: `v2m toggle` retries its
# open once (a device plugged in since), which should not probe twice.
FAILURE_TTL_S = 5.0

_lock = threading.Lock()
_child_ok = False
_failed_at: float | None = None


def no_library_error(detail: str) -> AudioDeviceError:
    log.info("cannot load libasound.so.2: %s", detail)
    return AudioDeviceError("no ALSA library (libasound.so.2)", INSTALL_HINT)


def no_config_error() -> AudioDeviceError:
    return AudioDeviceError("no ALSA configuration", INSTALL_HINT)


def in_probe_child() -> bool:
    return os.environ.get(CHILD_ENV) == "1"


def config_loads() -> tuple[bool, str]:
    """(the system's libasound loads, reads its configuration and finds
    pcm.default in it, detail). A missing alsa.conf is not an error to
    snd_config_update (it prints one and returns 1); the empty configuration
    it leaves is what makes PortAudio abort."""
    try:
        asound = ctypes.CDLL("libasound.so.2")
    except OSError as exc:
        raise no_library_error(str(exc)) from None
    topdir = "/usr/share/alsa"
    if hasattr(asound, "snd_config_topdir"):
        asound.snd_config_topdir.restype = ctypes.c_char_p
        topdir = (asound.snd_config_topdir() or b"").decode(errors="replace") or topdir
    configs = os.environ.get("ALSA_CONFIG_PATH") or os.path.join(topdir, "alsa.conf")
    rc = asound.snd_config_update()  # reads the files PortAudio's scan would read; never aborts
    if rc < 0:
        return False, f"snd_config_update() = {rc} for {configs}"
    top = ctypes.c_void_p.in_dll(asound, "snd_config")
    node = ctypes.c_void_p()
    asound.snd_config_search.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    if not top.value or asound.snd_config_search(top, b"pcm.default", ctypes.byref(node)) != 0:
        return False, f"no pcm.default after reading {configs}"
    return True, f"pcm.default found in {configs}"


def check_portaudio_safe() -> None:
    """Return when loading PortAudio here cannot abort the process; raise
    AudioDeviceError (what to install) otherwise."""
    global _child_ok, _failed_at
    if in_probe_child():
        _no_core_dump()
        return
    ok, detail = config_loads()
    if ok:
        return
    with _lock:
        if _child_ok:
            return
        if _failed_at is not None and time.monotonic() - _failed_at < FAILURE_TTL_S:
            raise no_config_error()
        log.info("ALSA cannot read its configuration (%s); trying PortAudio in a child process", detail)
        survived, how = _probe_in_child()
        if survived:
            log.info("PortAudio survived in a child process (%s); loading it here", how)
            _child_ok = True
            return
        _failed_at = time.monotonic()
        log.info("PortAudio would abort this process (%s): %s", how, detail)
        raise no_config_error()


def _probe_argv() -> list[str]:
    if getattr(sys, "frozen", False):  # the release: v2m-app is the CLI
        return [sys.executable, "devices", "--json"]
    return [sys.executable, "-c", "from v2m.cli.main import main; main()", "devices", "--json"]


def _probe_in_child() -> tuple[bool, str]:
    env = dict(os.environ, **{CHILD_ENV: "1"})
    try:
        done = subprocess.run(_probe_argv(), env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=CHILD_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"child probe failed: {exc}"
    if done.returncode < 0:
        return False, f"child killed by signal {-done.returncode}"
    # An error exit is an exception, not an abort: loading here is safe, and
    # the load reports that error itself.
    return True, f"child exited with {done.returncode}"


def _no_core_dump() -> None:
    """The probe child may abort on purpose: no core file, no crash report
    (systemd-coredump honours both settings)."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        PR_SET_DUMPABLE = 4
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, ValueError, AttributeError):
        pass
