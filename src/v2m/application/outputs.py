"""Deliver text to every configured output; one failure never stops the rest.

Each output's result is one string, as the reply's `outputs` carries it:

- "ok": the text landed where the output puts it;
- "warning: NOTE": it landed, but not quite as asked, and the user should
  know, e.g. "typing is not possible here (...): the text is on the
  clipboard; paste it with Ctrl+V" (a sink's `deliver` returns the note);
- "failed: REASON": it did not land (the sink raised), e.g. "no graphical
  session (DISPLAY and WAYLAND_DISPLAY are unset)".
"""

from __future__ import annotations

import logging
import threading
from typing import Sequence

from v2m.application.ports import TextSink

log = logging.getLogger(__name__)

OK = "ok"
WARNING = "warning: "
FAILED = "failed: "

# One delivery at a time in the daemon: a `paste-last` during a dictation's
# own delivery, or its live typing, would interleave its keys and clipboard
# with the dictation's. Everything that types or pastes holds it.
one_delivery_at_a_time = threading.Lock()


def deliver_all(text: str, sinks: Sequence[TextSink]) -> dict[str, str]:
    """Return {sink name: "ok", "warning: note" or "failed: reason"}."""
    with one_delivery_at_a_time:
        return _deliver_each(text, sinks)


def _deliver_each(text: str, sinks: Sequence[TextSink]) -> dict[str, str]:
    results: dict[str, str] = {}
    for sink in sinks:
        try:
            note = sink.deliver(text)
        except Exception as exc:  # any adapter failure is reported, never fatal
            log.warning("output %s failed: %s", sink.name, exc)
            results[sink.name] = FAILED + (str(exc) or type(exc).__name__)
            continue
        if isinstance(note, str) and note:
            log.warning("output %s: %s", sink.name, note)
            results[sink.name] = WARNING + note
        else:
            results[sink.name] = OK
    return results


def failed(results: dict[str, str]) -> list[str]:
    """The outputs that did not deliver."""
    return [name for name, result in results.items() if result.startswith(FAILED)]


def warned(results: dict[str, str]) -> list[str]:
    """The outputs that delivered, with a note for the user."""
    return [name for name, result in results.items() if result.startswith(WARNING)]


def problems(results: dict[str, str]) -> list[str]:
    """One line per output that failed or has a note, for stderr and the
    notification: "clipboard failed: no graphical session (...)",
    "type: typing is not possible here (...): the text is on the clipboard; ..."."""
    lines = []
    for name, result in results.items():
        if result.startswith(FAILED):
            lines.append(f"{name} {result}")
        elif result.startswith(WARNING):
            lines.append(f"{name}: {result[len(WARNING):]}")
    return lines


def notification(text: str, results: dict[str, str], *notes: list[str]) -> tuple[str, str]:
    """The dictation's notification: a title naming what went wrong (outputs
    first, then `notes`), and each output's reason before the text, as the
    body is cut at 500 characters."""
    summary = [f"{', '.join(failed(results))} failed"] if failed(results) else []
    summary += [f"{', '.join(warned(results))}: see below"] if warned(results) else []
    summary += [note for group in notes for note in group]
    reasons = problems(results)
    return ("v2m" + (f" ({'; '.join(summary)})" if summary else ""),
            "\n".join(reasons + ["", text]) if reasons else text)
