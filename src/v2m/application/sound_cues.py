"""Start and stop sounds (feedback.sounds): the port the dictation plays them through.

The dictation keeps them out of what it hears by their order alone: the
start cue has finished playing before the microphone opens, and the stop
cue starts once the microphone is closed.
"""

from __future__ import annotations

from typing import Protocol


class SoundCues(Protocol):
    def play_start(self) -> None:
        """Play the start cue; return once it has been played out (bounded).
        Never raises: a cue that cannot play is logged and skipped."""
        ...

    def play_stop(self) -> None:
        """Start playing the stop cue and return at once. Never raises."""
        ...
