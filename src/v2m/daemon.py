"""The daemon's runtime: take the instance lock, serve, shut down.

What it runs is wired in v2m.bootstrap; this module owns the process:
signals, the one-daemon lock and an exit that no stuck job can hold up.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from v2m import __version__
from v2m.bootstrap import open_config_store, setup_logging
from v2m.daemon_app import DaemonApp
from v2m.config import paths
from v2m.config.toml_store import TomlConfigStore
from v2m.domain.errors import V2mError
from v2m.ipc.instance_lock import InstanceLock

log = logging.getLogger("v2m.daemon")

# A stop that takes longer than this (a job stuck in native code) ends the
# process anyway: systemd's TimeoutStopSec is 10 s.
SHUTDOWN_GRACE_S = 5.0


def run(serve: bool = False) -> int:
    """Run the daemon in the foreground until SIGTERM, SIGINT or SHUTDOWN."""
    os.umask(0o077)  # all the daemon writes (log, history, spool, replies) is the user's alone
    store = open_config_store()
    try:
        config = store.load()
    except V2mError as exc:
        print(f"v2m daemon: {exc}", file=sys.stderr)
        return 1
    setup_logging(config)
    try:
        paths.ensure_private_dir(paths.runtime_dir())
        lock = InstanceLock(paths.lock_path())
        lock.acquire()
    except V2mError as exc:
        log.error("%s", exc)
        return 1
    try:
        code, busy = _serve(store, serve)
    finally:
        lock.release()
    if busy:
        # A model pass or load still runs in native code: the interpreter
        # cannot finalise under it (it aborts), so the process ends here,
        # after the lock and the socket are gone.
        _force_exit(code)
    return code


def _serve(store: TomlConfigStore, serve: bool = False) -> tuple[int, bool]:
    """Serve until asked to stop; (exit code, whether the ASR thread is still busy)."""
    try:
        app = DaemonApp(store, serve=serve)
    except V2mError as exc:
        log.error("%s", exc)
        return 1, False
    # Before the socket exists: a SIGTERM sent as soon as the daemon answers
    # must stop it cleanly, not kill it with the default action.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _num, _frame: app.stop_requested.set())
    app.start()
    log.info("v2m %s daemon ready, pid %d", __version__, os.getpid())
    app.stop_requested.wait()
    log.info("shutting down")
    deadline = time.monotonic() + SHUTDOWN_GRACE_S
    watchdog = threading.Timer(SHUTDOWN_GRACE_S + 1.0, _force_exit)  # should app.stop() itself hang
    watchdog.daemon = True
    watchdog.start()
    app.stop()
    busy = not app.worker.join(deadline - time.monotonic())
    if busy:
        log.warning("the ASR worker is still busy; exiting without waiting for it")
    log.info("stopped")
    return 0, busy


def _force_exit(code: int = 0) -> None:
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(run())
