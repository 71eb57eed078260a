"""Composition root: the one place that wires adapters into services."""

from __future__ import annotations

import logging
import os
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


class DaemonApp:
    """The wired daemon: start() serves the socket, stop() tears it down.

    The caller holds the instance lock, so any socket file already at the
    path is a dead daemon's leftover and is removed.
    """

    def __init__(self, store: TomlConfigStore) -> None:
        self.stop_requested = threading.Event()
        self.bus = EventBus()
        self.control = DaemonControl(store, self.bus, ProcTelemetry(), version=__version__,
                                     request_shutdown=self.stop_requested.set)
        self.server = SocketServer(paths.socket_path(), Dispatcher(build_handlers(self.control)),
                                   self.bus)
        self.control.add_config_listener(
            lambda config: logging.getLogger().setLevel(config["log"]["level"].upper()))

    def start(self) -> None:
        sock_path = self.server.path
        if sock_path.exists() or sock_path.is_symlink():
            log.info("removing stale socket %s", sock_path)
            sock_path.unlink()
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


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
        app = DaemonApp(store)
        app.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda num, _frame: app.stop_requested.set())
        log.info("v2m %s daemon ready, pid %d", __version__, os.getpid())
        app.stop_requested.wait()
        log.info("shutting down")
        app.stop()
        log.info("stopped")
        return 0
    finally:
        lock.release()


if __name__ == "__main__":
    sys.exit(run())
