"""Use cases that control the daemon itself: status, pause, config, shutdown."""

from __future__ import annotations

import os
import threading
import time
from contextlib import AbstractContextManager
from typing import Any, Callable

from v2m.application.commands import GetConfig, GetStatus, PauseDaemon, Ping, ResumeDaemon, Shutdown, UpdateConfig
from v2m.application.ports import ConfigStore, EventSink, Telemetry
from v2m.domain import state as states
from v2m.domain.state import DaemonState


class DaemonControl:
    def __init__(self, config_store: ConfigStore, events: EventSink, telemetry: Telemetry,
                 *, version: str, request_shutdown: Callable[[], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = config_store
        self._events = events
        self._telemetry = telemetry
        self._version = version
        self._request_shutdown = request_shutdown
        self._clock = clock
        self._started = clock()
        # The control lock. Every state transition takes it, and so does
        # everything that must agree with the state: the microphone is opened
        # and closed under it, so it is open exactly when the state is
        # RECORDING, whatever the interleaving of requests. Re-entrant, so a
        # TOGGLE can decide and act under one hold.
        self._lock = threading.RLock()
        self._update_lock = threading.Lock()  # one config update at a time, checks to listeners
        self._state = DaemonState.IDLE
        self.config = config_store.load()
        self._config_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._status_providers: list[Callable[[], dict[str, Any]]] = []
        self._config_checks: list[ConfigCheck] = []

    def add_config_listener(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call `listener(new_config)` after each successful UPDATE_CONFIG."""
        self._config_listeners.append(listener)

    def add_config_check(self, check: "ConfigCheck") -> None:
        """Call `check(old_config, new_config)` before an update is written;
        an exception refuses the update and leaves file and daemon as they were.

        A check may prepare something (load a model) and return its commit:
        called only once the update is written, dropped on any failure, so
        nothing prepared for a refused update is applied later."""
        self._config_checks.append(check)

    def add_status_provider(self, provider: Callable[[], dict[str, Any]]) -> None:
        """Merge `provider()` into each GET_STATUS reply."""
        self._status_providers.append(provider)

    @property
    def state(self) -> DaemonState:
        return self._state

    def transition(self) -> AbstractContextManager[Any]:
        """Hold the control lock: the state cannot change until released."""
        return self._lock

    def set_state(self, new: DaemonState) -> None:
        with self._lock:
            old, self._state = self._state, new
            if old is not new:
                self._announce(old, new)  # under the lock: events keep the order of the changes

    def claim(self, expected: DaemonState, new: DaemonState) -> bool:
        """Move from `expected` to `new` atomically; False if the state was another."""
        with self._lock:
            if self._state is not expected:
                return False
            self.set_state(new)
        return True

    def _announce(self, old: DaemonState, new: DaemonState) -> None:
        self._events.publish({"type": "state_changed", "state": new.value, "previous": old.value})

    def ping(self, _command: Ping = Ping()) -> dict[str, Any]:
        return {"message": "PONG"}

    def status(self, _command: GetStatus = GetStatus()) -> dict[str, Any]:
        status = {
            "state": self._state.value,
            "pid": os.getpid(),
            "uptime_s": round(self._clock() - self._started, 3),
            "version": self._version,
            "model": self.config["transcription"]["model"],
            "telemetry": self._telemetry.sample(),
        }
        for provider in self._status_providers:
            status.update(provider())
        return status

    def pause(self, _command: PauseDaemon = PauseDaemon()) -> dict[str, Any]:
        with self._lock:
            new = states.pause(self._state)
            self.set_state(new)
        return {"state": new.value}

    def resume(self, _command: ResumeDaemon = ResumeDaemon()) -> dict[str, Any]:
        with self._lock:
            new = states.resume(self._state)
            self.set_state(new)
        return {"state": new.value}

    def shutdown(self, _command: Shutdown = Shutdown()) -> dict[str, Any]:
        self._request_shutdown()
        return {"message": "SHUTTING_DOWN"}

    def get_config(self, _command: GetConfig = GetConfig()) -> dict[str, Any]:
        return {"config": self.config, "path": self._store.path}

    def update_config(self, command: UpdateConfig) -> dict[str, Any]:
        partial = command.updates
        with self._update_lock:
            preview = self._store.preview(partial)
            # Prepare, write, then commit: a failure anywhere drops what was
            # prepared, so a refused update is never half applied later.
            commits = [c for check in self._config_checks if (c := check(self.config, preview))]
            self.config = self._store.update(partial)
            for commit in commits:
                commit()
            for listener in self._config_listeners:
                listener(self.config)
        self._events.publish({"type": "config_changed", "keys": sorted(command.keys)})
        return {"config": self.config, "path": self._store.path}


ConfigCheck = Callable[[dict[str, Any], dict[str, Any]], "Callable[[], None] | None"]
