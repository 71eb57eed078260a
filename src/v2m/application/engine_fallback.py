"""The remote engine first, the local model when it fails: per utterance, per file.

`transcription.engine = "openai"` sends each pass to the remote engine. When
it fails (unreachable, timeout, HTTP error, a reply that is not a
transcription, a missing key), that same audio is transcribed by the local
model, so no utterance is lost; the pass records which engine made it.
After a failure the remote is left alone for `cooldown_s`, so a dead server
costs one timeout, not one per utterance; then it is tried again.

The local model loads on first need (a fallback, or engine = "local"),
unless `keep_warm` says to load it with the daemon.

Which engine made the text: `last_engine` (of the calling thread's last
pass), `counts()` (all passes so far), and EngineTally, which a dictation
wraps around the transcriber to count its own passes.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any, Callable

from v2m.application.ports import FileTranscriber, Transcriber
from v2m.domain.errors import MediaError
from v2m.domain.hallucination import SegmentScore
from v2m.domain.transcript import FileTranscript
from v2m.domain.transcript import DecodeRequest

log = logging.getLogger(__name__)

REMOTE, LOCAL = "openai", "local"


class EngineChoice:
    """Shared by the two wrappers: whether to try the remote, the cooldown,
    the counts, and loading the local model once."""

    def __init__(self, use_remote: Callable[[], bool], load_local: Callable[[], None], *,
                 keep_warm: Callable[[], bool] = lambda: False, cooldown_s: float = 30.0,
                 is_loaded: Callable[[], bool] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        """`is_loaded`: whether the local model is loaded already (a model change
        loads the new one): then ensure_local() does not load it again."""
        self._use_remote, self._load_local, self._keep_warm = use_remote, load_local, keep_warm
        self._is_loaded = is_loaded
        self.cooldown_s, self._clock = cooldown_s, clock
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._local_loaded = False
        self._skip_until = 0.0
        self._counts: collections.Counter[str] = collections.Counter()
        self._thread = threading.local()
        self.fallbacks = 0
        self.last_error = ""      # the last remote failure, as its message says (never the key)
        self.remote_ok: bool | None = None

    @property
    def local_loaded(self) -> bool:
        return self._local_loaded or bool(self._is_loaded and self._is_loaded())

    @property
    def last_engine(self) -> str:
        return getattr(self._thread, "engine", "")

    @property
    def last_fallback(self) -> str:
        """Why the calling thread's last pass went local ("" when it did not fall back)."""
        return getattr(self._thread, "fallback", "")

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def load(self) -> None:
        """At daemon start: the local model, if it is needed from the first pass."""
        if not self._use_remote() or self._keep_warm():
            self.ensure_local()

    def ensure_local(self) -> None:
        with self._load_lock:
            if not self.local_loaded:
                started = self._clock()
                self._load_local()
                self._local_loaded = True
                log.info("local model loaded on first need in %.1f s", self._clock() - started)

    def begin(self) -> None:
        self._thread.pending_fallback = ""

    def try_remote(self) -> bool:
        return self._use_remote() and self._clock() >= self._skip_until

    def succeeded(self, engine: str) -> None:
        self._thread.engine, self._thread.fallback = engine, ""
        with self._lock:
            self._counts[engine] += 1
            if engine == REMOTE:
                self.remote_ok = True

    def failed(self, exc: Exception, what: str) -> None:
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        log.warning("remote engine failed (%s); %s is transcribed by the local model", reason, what)
        with self._lock:
            self.fallbacks += 1
            self.last_error, self.remote_ok = reason, False
            self._skip_until = self._clock() + self.cooldown_s
        self._thread.pending_fallback = reason

    def local_done(self) -> None:
        reason = getattr(self._thread, "pending_fallback", "")
        if not reason and self._use_remote():
            reason = f"remote engine skipped for {self.cooldown_s:g} s after: {self.last_error}"
        self.succeeded(LOCAL)
        self._thread.fallback, self._thread.pending_fallback = reason, ""

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"engine": REMOTE if self._use_remote() else LOCAL, "remote_ok": self.remote_ok,
                    "fallbacks": self.fallbacks, "last_remote_error": self.last_error,
                    "local_loaded": self.local_loaded, "passes": dict(self._counts)}


class FallbackTranscriber:
    """A Transcriber: `remote` while it works, else `local`, per pass."""

    def __init__(self, remote: Transcriber, local: Transcriber, choice: EngineChoice) -> None:
        self._remote, self._local, self.choice = remote, local, choice

    @property
    def model_name(self) -> str:
        return self._remote.model_name if self.choice.try_remote() else self._local.model_name

    @property
    def last_engine(self) -> str:
        return self.choice.last_engine

    def model_names(self) -> dict[str, str]:
        return {REMOTE: self._remote.model_name, LOCAL: self._local.model_name}

    def load(self) -> None:
        self.choice.load()

    def transcribe(self, pcm: bytes, request: DecodeRequest = DecodeRequest()) -> list[SegmentScore] | None:
        self.choice.begin()
        if self.choice.try_remote():
            try:
                result = self._remote.transcribe(pcm, request)
            except Exception as exc:  # whatever broke, the utterance is read locally
                self.choice.failed(exc, f"this utterance ({len(pcm) / 32000:.1f} s)")
            else:
                if result is not None:
                    self.choice.succeeded(REMOTE)
                return result  # None: no reading with context there; the session asks again
        self.choice.ensure_local()
        result = self._local.transcribe(pcm, request)
        if result is not None:
            self.choice.local_done()
        return result


class FallbackFileTranscriber:
    """A FileTranscriber: the remote engine, or on its failure the local one, for the whole file.

    Files run one at a time (the daemon's state says so), and the service
    reads `last_engine` and `last_fallback` on its own thread once the job
    is done: they are plain attributes here."""

    def __init__(self, remote: FileTranscriber, local: FileTranscriber, choice: EngineChoice) -> None:
        self._remote, self._local, self.choice = remote, local, choice
        self.last_engine = self.last_fallback = ""

    def transcribe_file(self, path: str, on_progress: Callable[[float, float], None] | None = None,
                        prompt: str = "") -> FileTranscript:
        self.choice.begin()
        if self.choice.try_remote():
            try:
                result = self._remote.transcribe_file(path, on_progress, prompt)
            except MediaError:
                raise  # decoded here: the local model could not read it either
            except Exception as exc:
                self.choice.failed(exc, path)
            else:
                self.choice.succeeded(REMOTE)
                self.last_engine, self.last_fallback = REMOTE, ""
                return result
        self.choice.ensure_local()
        result = self._local.transcribe_file(path, on_progress, prompt)
        self.choice.local_done()
        self.last_engine, self.last_fallback = LOCAL, self.choice.last_fallback
        return result


class EngineTally:
    """One dictation's view of a FallbackTranscriber: which engines made its passes."""

    def __init__(self, inner: Transcriber) -> None:
        self._inner = inner
        self.counts: collections.Counter[str] = collections.Counter()
        self.fallback_reasons: list[str] = []

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    def load(self) -> None:
        self._inner.load()

    def transcribe(self, pcm: bytes, request: DecodeRequest = DecodeRequest()) -> list[SegmentScore] | None:
        result = self._inner.transcribe(pcm, request)
        if result is not None:
            choice = getattr(self._inner, "choice", None)
            self.counts[choice.last_engine if choice else LOCAL] += 1
            if choice and choice.last_fallback:
                self.fallback_reasons.append(choice.last_fallback)
        return result

    @property
    def engine(self) -> str:
        """"openai", "local", "openai+local" (both made passes), or "" (no pass ran)."""
        return "+".join(e for e in (REMOTE, LOCAL) if self.counts[e])

    @property
    def model_label(self) -> str:
        """The model(s) that made this dictation's text, for the history."""
        names = getattr(self._inner, "model_names", None)
        if not names or not self.engine:
            return self._inner.model_name
        return " + ".join(names()[e] for e in self.engine.split("+"))

    @property
    def fell_back(self) -> str:
        """Why passes went local although the remote engine was configured ("" if none did)."""
        return self.fallback_reasons[-1] if self.fallback_reasons else ""
