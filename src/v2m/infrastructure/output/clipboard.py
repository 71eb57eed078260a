"""Clipboard sink: wl-copy on Wayland, xclip or xsel on X11."""

from __future__ import annotations

from v2m.domain.errors import OutputError
from v2m.infrastructure.output.desktop_tools import have, run_tool, session_kind

WRITE = {
    "wl-copy": ["wl-copy"],
    "xclip": ["xclip", "-selection", "clipboard", "-in"],
    "xsel": ["xsel", "--clipboard", "--input"],
}
READ = {
    "wl-copy": ["wl-paste", "--no-newline"],
    "xclip": ["xclip", "-selection", "clipboard", "-out"],
    "xsel": ["xsel", "--clipboard", "--output"],
}


def pick_tool() -> str:
    kind = session_kind()
    candidates = {"wayland": ["wl-copy"], "x11": ["xclip", "xsel"]}.get(kind, [])
    for tool in candidates:
        if have(tool):
            return tool
    if kind == "none":
        raise OutputError("no graphical session (neither WAYLAND_DISPLAY nor DISPLAY is set)")
    raise OutputError(f"no clipboard tool for {kind}: install " + " or ".join(candidates))


class ClipboardSink:
    name = "clipboard"

    def deliver(self, text: str) -> None:
        run_tool(WRITE[pick_tool()], text=text)

    def read(self) -> str:
        try:
            return run_tool(READ[pick_tool()], capture=True)
        except OutputError:
            return ""  # an empty clipboard makes xclip -out fail
