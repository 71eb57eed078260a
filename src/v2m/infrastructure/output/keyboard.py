"""Typing sinks: type the text into the focused window, or paste it.

Tools are tried in order (wtype, ydotool, xdotool); each is checked for the
session it needs before use, and the next is tried if it fails.
"""

from __future__ import annotations

import logging
import os
import time

from v2m.domain.errors import OutputError
from v2m.infrastructure.output.clipboard import ClipboardSink
from v2m.infrastructure.output.desktop_tools import have, run_tool, session_kind

log = logging.getLogger(__name__)


def _ydotool_ready() -> bool:
    socket = os.environ.get("YDOTOOL_SOCKET", "/tmp/.ydotool_socket")
    return have("ydotool") and os.path.exists(socket)


def usable_tools() -> list[str]:
    kind = session_kind()
    tools = []
    if kind == "wayland" and have("wtype"):
        tools.append("wtype")
    if _ydotool_ready():
        tools.append("ydotool")
    if kind == "x11" and have("xdotool"):
        tools.append("xdotool")
    return tools


TYPE = {
    "wtype": lambda text: ["wtype", "--", text],
    "ydotool": lambda text: ["ydotool", "type", "--", text],
    "xdotool": lambda text: ["xdotool", "type", "--clearmodifiers", "--delay", "2", "--", text],
}
PASTE_KEYS = {
    "wtype": ["wtype", "-M", "ctrl", "-k", "v", "-m", "ctrl"],
    "ydotool": ["ydotool", "key", "29:1", "47:1", "47:0", "29:0"],  # ctrl+v by keycode
    "xdotool": ["xdotool", "key", "--clearmodifiers", "ctrl+v"],
}


def _first_that_works(commands: dict, arg: str | None = None) -> None:
    tools = usable_tools()
    if not tools:
        raise OutputError(f"no typing tool works in this {session_kind()} session: "
                          "install wtype (Wayland), ydotool or xdotool (X11)")
    errors = []
    for tool in tools:
        try:
            command = commands[tool]
            run_tool(command(arg) if callable(command) else command, timeout_s=30)
            return
        except OutputError as exc:
            log.info("%s failed, trying the next tool: %s", tool, exc)
            errors.append(str(exc))
    raise OutputError("; ".join(errors))


class TypeSink:
    name = "type"

    def deliver(self, text: str) -> None:
        _first_that_works(TYPE, text)


class PasteSink:
    """Clipboard, then the paste keys, then the old clipboard back."""

    name = "paste"

    def __init__(self, settle_s: float = 0.3) -> None:
        self._clipboard = ClipboardSink()
        self._settle_s = settle_s

    def deliver(self, text: str) -> None:
        previous = self._clipboard.read()
        self._clipboard.deliver(text)
        try:
            _first_that_works(PASTE_KEYS)
            time.sleep(self._settle_s)  # let the target read the clipboard first
        finally:
            if previous:
                self._clipboard.deliver(previous)
