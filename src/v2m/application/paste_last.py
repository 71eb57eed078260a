"""`v2m paste-last`: the newest dictation in the history, delivered again,
for when the focus was in the wrong window.

It runs in the daemon, which has the desktop session (DISPLAY,
WAYLAND_DISPLAY) that a keybinding's client may lack. By default the text
goes where a dictation goes, pasted rather than typed (the configured
sinks, with "type" as "paste": one atomic paste, not a second slow typing);
`--type` types it.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

from v2m.application.commands import PasteLast
from v2m.application.outputs import deliver_all
from v2m.application.ports import HistoryStore, TextSink
from v2m.domain.errors import V2mError

log = logging.getLogger(__name__)


def sink_names(configured: Sequence[str], typed: bool) -> tuple[str, ...]:
    """The outputs a paste-last uses: "type" alone with `typed`; otherwise the
    configured ones with "type" as "paste", or the clipboard when none is set."""
    if typed:
        return ("type",)
    names: list[str] = []
    for name in configured:
        name = "paste" if name == "type" else name
        if name not in names:
            names.append(name)
    return tuple(names) or ("clipboard",)


class PasteLastService:
    def __init__(self, history: HistoryStore, configured: Callable[[], Sequence[str]],
                 build_sinks: Callable[[Sequence[str]], Sequence[TextSink]]) -> None:
        self._history = history
        self._configured = configured
        self._build_sinks = build_sinks

    def paste_last(self, command: PasteLast = PasteLast()) -> dict[str, Any]:
        """Deliver the newest history entry; the reply carries its text and each
        output's result, as a dictation's does ("outputs")."""
        records = self._history.recent(1)
        if not records:
            raise V2mError("there is no dictation to paste yet: the history is empty",
                           "dictate with `v2m toggle` first")
        record = records[-1]
        text = record["text"]
        if not text.strip():
            raise V2mError("the newest dictation in the history has no text", "see `v2m history`")
        names = sink_names(self._configured(), command.typed)
        log.info("paste-last: %d characters to %s", len(text), ", ".join(names))
        outputs = deliver_all(text, self._build_sinks(names))
        return {"text": text, "time": record["time"], "outputs": outputs}
