"""Confirmed clipboard writes, and saving and restoring what was there.

A write returns only once the clipboard reads back as the new content (xclip
and xsel return before their child owns the selection; a read at once can
still get the previous value), within `CONFIRM_S`, or raises OutputError.

The previous clipboard is saved in its own type where the tool can list
types (wl-paste --list-types, xclip TARGETS): an image as its image type,
and HTML only as HTML. The tools serve one type per owner, so content that
also had plain text is kept as plain text (the type every app can paste),
and what else it offered is logged, not restored. xsel cannot list types: it
keeps text only, and logs that anything else would be lost.
"""

from __future__ import annotations

import dataclasses
import logging

from v2m.domain.errors import OutputError
from v2m.infrastructure.output.clipboard_tools import TEXT_TYPES, Backend, Owner, pick_backend, wait_until
from v2m.infrastructure.output.desktop_tools import require_session

log = logging.getLogger(__name__)

CONFIRM_S = 3.0
MAX_SAVED_BYTES = 64 << 20


def confirmed_write(backend: Backend, data: bytes, mime: str, *, served: bool = False,
                    bound_s: float = CONFIRM_S) -> Owner:
    """Start an owner of `data` and return it once the clipboard reads back
    as `data`; OutputError if that does not happen within `bound_s`."""
    owner = backend.own(data, mime, served=served)
    last: list[str] = ["nothing"]

    def holds() -> bool:
        owner.check()
        try:
            got = backend.read(mime, timeout_s=1.0)
        except OutputError as exc:
            last[0] = f"an error ({exc})"
            return False
        last[0] = "the previous content" if got != data else ""
        return got == data

    try:
        if wait_until(holds, bound_s):
            return owner
    except OutputError:
        owner.release()
        raise
    owner.release()
    raise OutputError(f"the clipboard did not take the new content within {bound_s:g} s "
                      f"({backend.tool}: reading it back still gave {last[0]})")


@dataclasses.dataclass(frozen=True)
class Saved:
    """The clipboard before we wrote to it: `data` as `mime`, or nothing."""

    data: bytes | None = None
    mime: str = ""

    @property
    def empty(self) -> bool:
        return self.data is None


def choose_type(types: list[str], text_type: str) -> tuple[str, list[str]]:
    """(the type to keep, the types given up) for what the clipboard offers."""
    texts = [t for t in types if t in TEXT_TYPES or t.startswith("text/plain")]
    if texts:
        keep = text_type if text_type in texts else texts[0]
        return keep, [t for t in types if t not in TEXT_TYPES and not t.startswith("text/plain")]
    ranked = ([t for t in types if t == "image/png"] + [t for t in types if t.startswith("image/")]
              + [t for t in types if t == "text/html"] + types)
    keep = ranked[0]
    return keep, [t for t in types if t != keep]


def save(backend: Backend) -> Saved:
    """What the clipboard holds now, in the type to restore it as; a failure
    to read it is logged, and nothing is restored."""
    try:
        if not backend.lists_types:
            data = backend.read(backend.text_type, timeout_s=1.0)
            if data is None:
                log.info("%s cannot list the clipboard's types: anything but text that was on it is "
                         "not restored", backend.tool)
            return Saved(data, backend.text_type)
        types = backend.types()
        if not types:
            return Saved()
        mime, dropped = choose_type(types, backend.text_type)
        if dropped:
            log.info("the previous clipboard is restored as %s only; it also offered %s", mime, ", ".join(dropped))
        data = backend.read(mime, timeout_s=2.0)
    except OutputError as exc:
        log.warning("could not read the previous clipboard, so it is not restored: %s", exc)
        return Saved()
    if data is not None and len(data) > MAX_SAVED_BYTES:
        log.warning("the previous clipboard (%d MiB of %s) is too big to restore", len(data) >> 20, mime)
        return Saved()
    return Saved(data, mime)


def restore(backend: Backend, saved: Saved, ours: Owner, ours_data: bytes) -> None:
    """Put `saved` back (confirmed), then let our owner go; an empty saved
    clipboard is restored by ending our owner, which empties it."""
    if saved.empty:
        ours.release()
        if ours.proc is None:  # a forked owner (xsel): clear it with the tool
            backend.clear()
    elif saved.data == ours_data and saved.mime == backend.text_type:
        ours.detach()  # it was what we pasted: ours keeps serving it
    else:
        assert saved.data is not None
        confirmed_write(backend, saved.data, saved.mime)
        ours.end()


class ClipboardSink:
    name = "clipboard"

    def deliver(self, text: str) -> None:
        if not text:
            require_session()
            return
        backend = pick_backend()
        confirmed_write(backend, text.encode("utf-8"), backend.text_type)

    def read(self) -> str:
        """The clipboard as text ("" when it holds none)."""
        backend = pick_backend()
        try:
            data = backend.read(backend.text_type)
        except OutputError:
            return ""
        return data.decode("utf-8", errors="replace") if data else ""


def pick_tool() -> str:
    """The clipboard tool this session would use (for `v2m doctor`)."""
    return pick_backend().tool
