"""Composition root: the one place that wires adapters into services."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any, Callable, Mapping

from v2m import __version__
from v2m.application.daemon_control import DaemonControl
from v2m.core import logging_setup, paths
from v2m.core.dispatcher import Dispatcher
from v2m.core.events import EventBus
from v2m.core.instance_lock import InstanceLock
from v2m.core.server import SocketServer
from v2m.domain.errors import NotAvailable, V2mError
from v2m.infrastructure.proc_telemetry import ProcTelemetry
from v2m.infrastructure.toml_config_store import TomlConfigStore

log = logging.getLogger("v2m.daemon")

# Seed commands whose use cases have not landed yet answer with this error.
PENDING_COMMANDS = {
    "START_RECORDING": "dictation", "STOP_RECORDING": "dictation",
    "TOGGLE_RECORDING": "dictation", "CANCEL_RECORDING": "dictation",
    "TRANSCRIBE_FILE": "file transcription",
    "PROCESS_TEXT": "LLM refinement", "TRANSLATE_TEXT": "translation",
}


def open_config_store() -> TomlConfigStore:
    return TomlConfigStore(paths.config_file())


def _not_available(cmd: str, feature: str) -> Callable[[Mapping[str, Any]], Any]:
    def handler(_data: Mapping[str, Any]) -> Any:
        raise NotAvailable(f"{cmd}: {feature} is not available in v2m {__version__} yet")
    return handler


def build_handlers(control: DaemonControl) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    handlers: dict[str, Callable[[Mapping[str, Any]], Any]] = {
        cmd: _not_available(cmd, feature) for cmd, feature in PENDING_COMMANDS.items()
    }
    handlers.update({
        "PING": control.ping,
        "GET_STATUS": control.status,
        "SHUTDOWN": control.shutdown,
        "PAUSE_DAEMON": control.pause,
        "RESUME_DAEMON": control.resume,
        "GET_CONFIG": control.get_config,
        "UPDATE_CONFIG": control.update_config,
    })
    return handlers


def run() -> int:
    """Run the daemon in the foreground until SIGTERM, SIGINT or SHUTDOWN."""
    store = open_config_store()
    try:
        config = store.load()
    except V2mError as exc:
        print(f"v2m daemon: {exc}", file=sys.stderr)
        return 1
    logging_setup.setup(config["log"]["level"], paths.state_dir() / "daemon.log")
    try:
        paths.ensure_private_dir(paths.runtime_dir())
        lock = InstanceLock(paths.lock_path())
        lock.acquire()
    except V2mError as exc:
        log.error("%s", exc)
        return 1
    try:
        return _serve(store, lock)
    finally:
        lock.release()


def _serve(store: TomlConfigStore, lock: InstanceLock) -> int:
    stop = threading.Event()
    bus = EventBus()
    control = DaemonControl(store, bus, ProcTelemetry(), version=__version__,
                            request_shutdown=stop.set)
    sock_path = paths.socket_path()
    # We hold the lock, so any socket file here is a dead daemon's leftover.
    if sock_path.exists() or sock_path.is_symlink():
        log.info("removing stale socket %s", sock_path)
        sock_path.unlink()
    server = SocketServer(sock_path, Dispatcher(build_handlers(control)), bus)
    server.start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda num, _frame: (log.info("got signal %d", num), stop.set()))
    log.info("v2m %s daemon ready (pid lock %s)", __version__, lock.path)
    stop.wait()
    log.info("shutting down")
    server.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(run())
