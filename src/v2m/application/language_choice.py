"""Which language a dictation's passes are read in.

A fixed language (the dictation's own, or the configuration's) is used as it
is. With "auto" the language is detected once per dictation, not once per
pass: the engine detects it on the first utterance's quick window (on the
encoder output the pass decodes from, so it costs one decoder step) and
says how sure it is; an answer that clears DETECTION_BAR is kept for the
rest of the dictation, so every later pass is read as in a fixed language.
An answer below the bar is a guess: that utterance is read in it, and the
next one is detected again (its quick pass reads the last seconds heard
too, so more speech), until an answer clears the bar.

Before any answer is sure, the passes carry a prior: the language the
user's last dictation was given or sure of. An unsure detection with it
among its two likeliest reads in it (language_detect.likely_languages).

Provisional passes (a second of an utterance still being spoken) use the
choice but do not make it: too little speech to trust. Until an answer is
sure they are read in the prior, if there is one, rather than detected.
What they detect is shown only until a whole utterance was read.
"""

from __future__ import annotations

import threading

from v2m.domain.languages import DETECTION_BAR


class LanguageChoice:
    def __init__(self, setting: str | None, bar: float = DETECTION_BAR, prior: str = "") -> None:
        """`setting`: a language code, "auto", or None for the engine's
        configured language (which the engine reports as it reads).
        `prior`: the language of the user's last sure dictation, or ""."""
        self._setting = setting
        self._bar = bar
        self._prior = prior
        self._lock = threading.Lock()
        self._kept = ""                  # an answer the engine was sure of
        self._guess = ("", 0.0)          # the surest answer below the bar so far
        self._glimpse = ""               # a provisional pass's answer

    @property
    def fixed(self) -> bool:
        return self._setting not in (None, "auto")

    @property
    def used(self) -> str:
        """The fixed language, or the detected one ("" before any pass said)."""
        if self.fixed:
            return str(self._setting)
        with self._lock:
            return self._kept or self._guess[0] or self._glimpse

    @property
    def sure(self) -> str:
        """The fixed language, or a detected one that cleared the bar ("" if none)."""
        if self.fixed:
            return str(self._setting)
        with self._lock:
            return self._kept

    @property
    def prefer(self) -> str:
        """The prior for the next pass's detection ("" once an answer is kept)."""
        if self.fixed:
            return ""
        with self._lock:
            return "" if self._kept else self._prior

    def for_pass(self, whole: bool = True) -> str | None:
        """The language to ask the next pass for: "auto" or None (the
        engine's setting) until a detection was sure. A provisional pass
        (not `whole`) is read in the prior, when there is one: its text is
        replaced within a second, and detecting on a second of speech costs
        time (15-40 ms) and often reads the wrong language (th, ja, pl at
        p 0.3-0.6 for espeak-ng Spanish), whose tokens take longer still; a
        stop that comes meanwhile waits for it."""
        if self.fixed:
            return self._setting
        with self._lock:
            return self._kept or (self._prior if not whole and self._prior else self._setting)

    def heard(self, language: str, probability: float) -> None:
        """The engine read a pass in `language`, this sure of it."""
        if self.fixed or not language:
            return
        with self._lock:
            if self._kept:
                return
            if probability >= self._bar:
                self._kept = language
            elif probability > self._guess[1]:
                self._guess = (language, probability)

    def glimpsed(self, language: str, probability: float) -> None:
        """A provisional pass read part of an utterance in `language`."""
        if not self.fixed:
            with self._lock:
                self._glimpse = language
