"""The microphone step of `v2m setup`: list the inputs, pick one, and listen
to it for a moment with a level meter. Reads only: the daemon is not needed,
and nothing is recorded or kept."""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable

import click

from v2m.domain.audio_math import rms

# A voice at arm's length peaks far above this; an unplugged or muted input
# (digital silence, or a faint hiss) stays below it.
HEARD_DBFS = -45.0
METER_WIDTH = 30


def dbfs(level: float) -> float:
    return 20 * math.log10(level) if level > 0 else -120.0


def device_setting(devices: list[dict[str, Any]], chosen: dict[str, Any]) -> str:
    """The audio.device value for `chosen`: "" for the system default, else its
    name, or its index when an earlier device's name also contains that name."""
    if chosen["default"]:
        return ""
    if chosen.get("kind") == "pulse":
        return chosen["name"]  # a sound server's source: its name is unique, it has no index
    earlier = devices[:devices.index(chosen)]
    if any(chosen["name"].lower() in d["name"].lower() for d in earlier) or chosen["name"].isdigit():
        return str(chosen["index"])
    return chosen["name"]


def current_choice(devices: list[dict[str, Any]], setting: str) -> int:
    """1-based number of the device audio.device names now (the default one if unclear)."""
    for number, d in enumerate(devices, 1):
        if setting and (setting == str(d["index"]) if setting.isdigit() else setting.lower() in d["name"].lower()):
            return number
    return next((n for n, d in enumerate(devices, 1) if d["default"]), 1)


def listen(source: Any, seconds: float, show: Callable[[float], None]) -> float:
    """Capture from `source` for `seconds`, calling `show(level)` ten times a
    second; return the loudest 30 ms frame's RMS level (0..1)."""
    peak = [0.0, 0.0]  # loudest so far, latest
    errors: list[Exception] = []
    lock = threading.Lock()

    def on_frame(frame: bytes) -> None:
        level = rms(frame)
        with lock:
            peak[0], peak[1] = max(peak[0], level), level

    source.start(on_frame, errors.append)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not errors:
            time.sleep(0.1)
            with lock:
                show(peak[1])
    finally:
        source.stop(drain=False)
    if errors:
        raise errors[0]
    return peak[0]


def meter_line(level: float) -> str:
    """A bar from -60 dBFS (empty) to 0 dBFS (full)."""
    filled = max(0, min(METER_WIDTH, round((dbfs(level) + 60) / 60 * METER_WIDTH)))
    return f"[{'#' * filled}{'.' * (METER_WIDTH - filled)}] {dbfs(level):6.1f} dBFS"


def check_microphone(device: str, seconds: float, build_source: Callable[[str], Any]) -> bool:
    """Listen to `device` and say whether it heard anything."""
    tty = click.get_text_stream("stdout").isatty()
    click.echo(f"Listening for {seconds:g} s: say something...")

    def show(level: float) -> None:
        if tty:
            click.echo("\r  " + meter_line(level), nl=False)
    peak = listen(build_source(device), seconds, show)
    if tty:
        click.echo()
    if dbfs(peak) >= HEARD_DBFS:
        click.echo(f"Heard you: peak {dbfs(peak):.0f} dBFS.")
        return True
    click.echo(f"Heard nothing (peak {dbfs(peak):.0f} dBFS): check that the microphone is "
               "plugged in and not muted (pavucontrol), or pick another.")
    return False
