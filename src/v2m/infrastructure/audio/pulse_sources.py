"""PulseAudio/PipeWire sources by name: listing them (`pactl`), and
recording from one through PortAudio.

PortAudio sees the sound server only as ALSA's `pulse` (and `default`)
device, which records from the server's default source. libpulse reads
PULSE_SOURCE when the pulse plugin makes its context, which it does when
the device is opened, and the stream then records from that source. So to
record from a named source, the `pulse` device is opened with PULSE_SOURCE
set (PIPEWIRE_NODE too, for PipeWire's own ALSA plugin), and the variables
are put back right after the open, under a lock: nothing else in the
process sees them. pactl is pulseaudio-utils' (PipeWire's pipewire-pulse
serves it too).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import shutil
import subprocess
import threading
from typing import Any, Iterator

log = logging.getLogger(__name__)

PACTL_TIMEOUT_S = 3.0
ENV_VARS = ("PULSE_SOURCE", "PIPEWIRE_NODE")
INSTALL_PACTL = "install pulseaudio-utils (pactl) to pick a PulseAudio/PipeWire source by name"
_env_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class PulseSource:
    name: str            # what audio.device takes, e.g. "alsa_input.usb-...analog-stereo"
    description: str     # what a desktop's sound settings show, e.g. "Blue Yeti Analog Stereo"
    channels: int
    sample_rate_hz: int
    monitor: bool        # the monitor of an output (what is played), not a microphone
    default: bool        # the server's default source: what audio.device = "" records

    def as_dict(self) -> dict[str, Any]:
        return {"index": None, "name": self.name, "description": self.description, "channels": self.channels,
                "sample_rate_hz": self.sample_rate_hz, "default": self.default, "kind": "pulse",
                "monitor": self.monitor}


def have_pactl() -> bool:
    return shutil.which("pactl") is not None


def _pactl(*args: str) -> str | None:
    """pactl's stdout, or None when it is missing or the server does not answer."""
    try:
        done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=PACTL_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, env=dict(os.environ, LC_ALL="C"))
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("pactl %s: %s", " ".join(args), exc)
        return None
    if done.returncode != 0:
        log.debug("pactl %s exited %d: %s", " ".join(args), done.returncode, done.stderr.strip())
        return None
    return done.stdout


def _spec(text: str) -> tuple[int, int]:
    """(channels, rate) of a sample spec such as "s16le 2ch 44100Hz"."""
    channels = re.search(r"(\d+)ch", text)
    rate = re.search(r"(\d+)Hz", text)
    return int(channels[1]) if channels else 0, int(rate[1]) if rate else 0


def _default_source() -> str:
    for line in (_pactl("info") or "").splitlines():
        if line.startswith("Default Source:"):
            return line.split(":", 1)[1].strip()
    return ""


def _is_monitor(entry: dict[str, Any]) -> bool:
    props = entry.get("properties") if isinstance(entry.get("properties"), dict) else {}
    of_sink = entry.get("monitor_source", entry.get("monitor_of_sink"))  # pactl 16 calls it monitor_source
    return props.get("device.class") == "monitor" or str(entry.get("name", "")).endswith(".monitor") \
        or (isinstance(of_sink, str) and of_sink not in ("", "n/a"))


def list_sources() -> list[PulseSource]:
    """The server's sources, monitors included (marked); [] without pactl or a server."""
    if not have_pactl():
        return []
    default = _default_source()
    listing = _pactl("-f", "json", "list", "sources")
    try:
        entries = json.loads(listing) if listing is not None else None
    except ValueError:
        entries = None
    if not isinstance(entries, list):  # pactl before 16 has no JSON: names only
        return [PulseSource(name, "", *_spec(spec), name.endswith(".monitor"), name == default)
                for name, spec in _short_listing()]
    return [PulseSource(e["name"], str(e.get("description") or ""), *_spec(str(e.get("sample_specification", ""))),
                        _is_monitor(e), e["name"] == default)
            for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)]


def _short_listing() -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in (_pactl("list", "short", "sources") or "").splitlines()]
    return [(row[1], row[3] if len(row) > 3 else "") for row in rows if len(row) > 1]


def find_source(wanted: str, sources: list[PulseSource]) -> PulseSource | None:
    """The source `wanted` names: its exact name, else the first whose name or
    description contains it (case-insensitive), microphones before monitors."""
    for source in sources:
        if source.name == wanted:
            return source
    low = wanted.lower()
    matches = [s for s in sources if low in s.name.lower() or low in s.description.lower()]
    return next((s for s in matches if not s.monitor), matches[0] if matches else None)


@contextlib.contextmanager
def recording_from(source: str) -> Iterator[None]:
    """Make the pulse plugin opened inside this block record from `source`."""
    with _env_lock:
        saved = {name: os.environ.get(name) for name in ENV_VARS}
        try:
            for name in ENV_VARS:
                os.environ[name] = source
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
