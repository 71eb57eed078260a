"""The start and stop sounds (feedback.sounds): two short notes each, made
here, played on the default output through the sound server by its own
player: paplay (PulseAudio, and PipeWire's pulse service), pw-play
(PipeWire) or aplay (ALSA).

The start cue is played out before `play_start` returns: the player exits
once the server has played its stream (paplay drains it; a 20 ms latency
keeps the sound card from holding much more), and only then does the
dictation open the microphone. A stop cue still playing when the next
recording starts is waited for first, for the same reason.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import threading
from typing import Callable

from v2m.domain.audio_math import SAMPLE_RATE_HZ
from v2m.infrastructure.audio.wav_encoding import wav_bytes

log = logging.getLogger(__name__)

LEVEL = 0.25          # of full scale: audible, not startling
NOTE_MS = 35          # two notes: 70 ms, which is what the start waits for
FADE_MS = 4           # raised-cosine edges: no clicks
START_NOTES = (880.0, 1320.0)  # rising: listening
STOP_NOTES = (1320.0, 880.0)   # falling: done
# How each player reads a WAV from its stdin.
PLAYERS: tuple[tuple[str, ...], ...] = (("paplay", "--latency-msec=20"), ("pw-play", "-"), ("aplay", "-q"))
BOUND_S = 1.0         # the longest a cue may take; a stuck player is killed


def tone(notes: tuple[float, ...], note_ms: int = NOTE_MS, rate: int = SAMPLE_RATE_HZ) -> bytes:
    """s16le mono PCM: each note in turn, faded in and out."""
    n, fade = rate * note_ms // 1000, rate * FADE_MS // 1000
    samples = []
    for freq in notes:
        for i in range(n):
            edge = min(i, n - 1 - i)
            gain = 0.5 - 0.5 * math.cos(math.pi * edge / fade) if edge < fade else 1.0
            samples.append(round(32767 * LEVEL * gain * math.sin(2 * math.pi * freq * i / rate)))
    return struct.pack(f"<{len(samples)}h", *samples)


class CuePlayer:
    """SoundCues (application/sound_cues.py) through a player program."""

    def __init__(self, players: tuple[tuple[str, ...], ...] = PLAYERS,
                 which: Callable[[str], str | None] = shutil.which) -> None:
        self._players, self._which = players, which
        self._start, self._stop = wav_bytes(tone(START_NOTES), SAMPLE_RATE_HZ), wav_bytes(tone(STOP_NOTES), SAMPLE_RATE_HZ)
        self._player: tuple[str, ...] | None = None  # the first that played
        self._playing: subprocess.Popen | None = None  # the last stop cue
        self._lock = threading.Lock()
        self._warned = False

    def play_start(self) -> None:
        with self._lock:
            self._wait_for_stop_cue()
            candidates = [self._player] if self._player else [p for p in self._players if self._which(p[0])]
            errors = []
            for player in candidates:
                error = self._play_to_end(player, self._start)
                if error is None:
                    self._player = player
                    return
                errors.append(f"{player[0]}: {error}")
            self._player = None
            self._warn("; ".join(errors) or "none of " + ", ".join(p[0] for p in self._players) + " is installed")

    def play_stop(self) -> None:
        with self._lock:
            if self._player is None:
                return  # the start cue found no player
            try:
                proc = subprocess.Popen(self._player, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            except OSError as exc:
                self._warn(f"{self._player[0]}: {exc}")
                return
            self._playing = proc
        threading.Thread(target=self._feed, args=(proc, self._stop), name="v2m-cue", daemon=True).start()

    def _play_to_end(self, player: tuple[str, ...], sound: bytes) -> str | None:
        """Play `sound` and wait until the player has played it out; the error, if any."""
        try:
            done = subprocess.run(player, input=sound, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  timeout=BOUND_S, check=False)
        except subprocess.TimeoutExpired:
            return f"still playing after {BOUND_S:g} s (stopped)"
        except OSError as exc:
            return str(exc)
        return None if done.returncode == 0 else (done.stderr.decode(errors="replace").strip()
                                                  or f"exit status {done.returncode}")

    def _feed(self, proc: subprocess.Popen, sound: bytes) -> None:
        try:
            proc.communicate(sound, timeout=BOUND_S)
        except (subprocess.TimeoutExpired, OSError):
            proc.kill()
            proc.wait()

    def _wait_for_stop_cue(self) -> None:
        proc, self._playing = self._playing, None
        if proc is not None:
            try:
                proc.wait(BOUND_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _warn(self, why: str) -> None:
        if not self._warned:  # once: a dictation without sounds still works
            log.warning("feedback.sounds: cannot play the start and stop sounds (%s)", why)
            self._warned = True
