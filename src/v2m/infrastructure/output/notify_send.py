"""Notifier over notify-send; each notification replaces v2m's previous one."""

from __future__ import annotations

import threading
from typing import Callable

from v2m.infrastructure.output.desktop_tools import have, run_tool


class NotifySendNotifier:
    def __init__(self, enabled: Callable[[], bool] = lambda: True) -> None:
        self._enabled = enabled  # read per notification: `config set output.notify` applies at once
        self._last_id: str | None = None
        self._lock = threading.Lock()

    def notify(self, title: str, body: str, *, replace: bool = True) -> None:
        if not self._enabled() or not have("notify-send"):
            return
        argv = ["notify-send", "--app-name=v2m", "--print-id", "--expire-time=5000"]
        with self._lock:
            if replace and self._last_id:
                argv.append(f"--replace-id={self._last_id}")
            out = run_tool(argv + ["--", title, body[:500]], capture=True)
            self._last_id = out.strip().splitlines()[-1] if out.strip() else None
