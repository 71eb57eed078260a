"""`v2m status --follow`: one line per state change, for status bars.

Standard library and click only: Waybar keeps this process running for the
whole session, so it must be small. It holds one SUBSCRIBE connection, ticks
once a second while recording (the elapsed time is part of the state), and
reconnects every second while the daemon is down.
"""

from __future__ import annotations

import json
import time
from typing import Callable

from v2m.ipc.client import DaemonClient
from v2m.domain.errors import V2mError

ICONS = {"idle": "", "recording": "●", "transcribing": "…", "paused": "⏸", "down": "✕"}
# Waybar hides a custom module whose text is empty; idle shows this instead,
# so there is always something to click (on-click: v2m toggle).
DEFAULT_IDLE_TEXT = "🎙"
TICK_S = 1.0


def render(state: str, elapsed_s: float | None, fmt: str, idle_text: str = DEFAULT_IDLE_TEXT) -> str:
    elapsed = f"{int(elapsed_s) // 60}:{int(elapsed_s) % 60:02d}" if elapsed_s is not None else ""
    if fmt == "json":
        return json.dumps({"state": state, "elapsed_s": None if elapsed_s is None else round(elapsed_s, 1)})
    if fmt == "waybar":
        label = {"down": "v2m is not running", "recording": f"recording {elapsed}"}.get(state, state)
        icon = idle_text if state == "idle" else ICONS.get(state, "")
        return json.dumps({"text": f"{icon} {elapsed}".strip(), "alt": state,
                           "class": state, "tooltip": f"v2m: {label}"})
    return f"{state} {elapsed}".strip()


def follow(fmt: str, emit: Callable[[str], None], retry_s: float = 1.0,
           idle_text: str = DEFAULT_IDLE_TEXT) -> None:
    """Run until interrupted; `emit` gets each line."""
    down_reported = False
    line = lambda state, elapsed: render(state, elapsed, fmt, idle_text)  # noqa: E731
    while True:
        try:
            _follow_one_daemon(line, emit)
            down_reported = False
        except V2mError:
            pass  # not running, or it went away: report it once, then retry
        if not down_reported:
            emit(line("down", None))
            down_reported = True
        time.sleep(retry_s)


def _follow_one_daemon(render_line: Callable[[str, float | None], str], emit: Callable[[str], None]) -> None:
    with DaemonClient(timeout_s=5.0) as client:
        status = client.call("GET_STATUS")
        state = status["state"]
        started = time.monotonic() - float(status.get("recording_s") or 0.0)
        client.call("SUBSCRIBE")
        emit(render_line(state, _elapsed(state, started)))
        next_tick = time.monotonic() + TICK_S
        while True:
            # Ticks keep to the clock, whatever other events (transcription
            # updates) arrive in between.
            wait = max(0.001, next_tick - time.monotonic()) if state == "recording" else None  # 0 = non-blocking
            event = client.next_event(wait)
            if event is None:  # the second is up, while recording
                emit(render_line(state, _elapsed(state, started)))
                next_tick += TICK_S
                continue
            if event.get("type") != "state_changed" or event.get("state") == state:
                continue
            state = event["state"]
            if state == "recording":
                started = time.monotonic()
                next_tick = started + TICK_S
            emit(render_line(state, _elapsed(state, started)))


def _elapsed(state: str, started: float) -> float | None:
    return time.monotonic() - started if state == "recording" else None
