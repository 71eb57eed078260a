"""One recording, from its start to its delivery: its session and
microphone, the sinks made at its start (live typing types into the same
type sink that delivers the rest), its live typing and its sound cues."""

from __future__ import annotations

import dataclasses
from typing import Callable

from v2m.application.dictation_session import DictationSession
from v2m.application.live_typing import LiveTyping
from v2m.application.ports import AudioSource, TextSink
from v2m.application.sound_cues import SoundCues


@dataclasses.dataclass
class Recording:
    session: DictationSession
    source: AudioSource
    sinks: list[TextSink]
    live: LiveTyping | None
    cues: SoundCues | None
    started_at: float  # time.time(), for the history

    def end_live(self) -> None:
        """Type nothing more live (the stop, a cancel); typed text is never erased."""
        if self.live is not None:
            self.live.close()

    def stop_cue(self) -> None:
        """Only once the microphone has closed: then it cannot hear the cue."""
        if self.cues is not None:
            self.cues.play_stop()

    def text(self, raw: str, post_process: Callable[[str], tuple[str, str | None]]) -> tuple[str, str | None]:
        """(the text to deliver, a refinement error): with live typing, the
        rules per utterance, as typed, and no refinement (a config error with
        it); else `post_process(raw)`."""
        if self.live is None:
            return post_process(raw)
        self.live.wait()
        return self.live.text_at_stop(raw), None
