"""One recording's pipeline: frames in, VAD, segmentation, transcription of
each committed utterance on the ASR worker while the user keeps talking.

Fast stop: most users pause before pressing stop. Once an utterance has
been followed by its post-roll of silence, its audio can no longer change
unless speech resumes, so it is transcribed at once (speculatively), not
after the full `min_silence_ms`. If the user stops during that pause, the
text is ready or being made: the stop never transcribes that audio twice.
Passes over short audio also use a short encoder window (`quick`), and the
passes left to run after the stop decode with a narrow beam (the user is
waiting).

Context: each utterance is read alone, so Whisper would miss what a
whole-recording pass has, the speech around it. Quick passes therefore read
the utterances of the last few seconds again in front of the new one, with
their text forced as the decoder's prefix, so only the new words are
decoded (measured: WER 0.100 against 0.124 without, at 20 s). Passes left
at the stop read alone, as the user is waiting, unless the recording is
noisy: there context is worth its 0.1-0.16 s (options.noisy_below_db).

Revision: an utterance read alone (the dictation's first, above all) never
heard what follows it, which a whole-recording pass uses: in noise, tiny.en
read "near the city" as "here in the city" alone, and right with the next
sentence's audio after it. So the next utterance's pass reads the two
together, freely; the text is cut where the first's own reading ends, and
the first's part replaces it (once; not with live typing, which has typed
it). Each keeps its own entry, so later passes still have their context.

Late re-read: in noise, reading the first utterance with more of what
follows helps further: at 5 dB SNR, the first sentence of 12 dictations had
19 errors alone, 15 with the next utterance, 8 with the next three, and 5
in the whole recording. So once `reread_after_s` of speech has been heard
after the dictation's first utterance, they are read again together, on
the full 30 s window as a whole-recording pass would (the text before them
as the prompt), and each utterance gets its part of that reading
(transcript.split_readings). The next re-read covers what followed, once
as much has been heard again: in 45 s dictations at 5 dB, 186 errors in
12 against 200 with one re-read (the baseline 132). Each takes 0.8-1 s
(tiny.en, 2 cores), so it starts only while the user speaks, with the
worker idle (REREAD_INTO_SPEECH_MS), and not once the user has stopped.
Live typing turns it off, as revision.

Whole reads: in louder noise still (options.whole_below_db; 5 dB SNR), the
short readings lose too much: each pass reads its utterance together with
what was heard before it that the 30 s window holds, on that window, as
the whole-recording baseline does (from the recording's start, noise
before the first word included), and that reading is the text of all of
them (session.text_so_far). Each utterance also takes its part of it
(transcript.cut_readings), as the context of the passes after it; not as
the text: at 5 dB pink noise, where half the words are wrong, the cuts went
astray and cost 46 words in 24 dictations. The speculative pass at a pause
is one such pass, so a stop after a pause has the baseline's reading and
waits only for the rest of it (0.8-1 s on 2 cores, begun 0.3 s after the
last word). The pass left at a stop right after the last word is one too,
with the full beam (options.whole_at_stop): the whole reads before it never
heard the last sentence, and the quick pass, 3-4 times faster, left the
text behind the baseline's: in 24 such dictations at 5 dB, pink noise 616
errors against 578 as a whole read (the baseline 563), brown 122 against
113 (111). It takes about the baseline's time, 1 s, in a room this loud only.
Whole reads decode Whisper's timestamp tokens, as the baseline does: in 48
dictations at 5 dB, both stop styles, in one process, pink noise 1,147
errors against 1,171 without (the baseline 1,137), brown 230 against 218
(215); and each dictation's error count came closer to the baseline's
(137 apart in all, against 193). They cost 10-17 % more time.

Language: with "auto", the first utterance's quick pass detects it, and the
dictation keeps it (application/language_choice.py).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor, Future
from typing import Any, NamedTuple

from v2m.application.dictation_options import DictationOptions
from v2m.application.language_choice import LanguageChoice
from v2m.application.ports import EventSink, Transcriber, VoiceDetector
from v2m.domain import text_rules, transcript
from v2m.domain.audio_math import FRAME_BYTES, FRAME_MS, power_mean, rms, signal_to_noise_db
from v2m.domain.errors import V2mError
from v2m.domain.hallucination import SegmentScore, is_weak, keep_segment
from v2m.domain.segmenter import Segmenter, Utterance
from v2m.domain.transcript import DecodeRequest, HeardBefore


log = logging.getLogger(__name__)

# The late re-read starts this far into a new utterance: far enough that it
# is speech, not a click; early enough that a sentence (2-4 s) outlasts the
# pass (0.5-1 s), so a stop at its end rarely waits for it.
REREAD_INTO_SPEECH_MS = 600


class Reading(NamedTuple):
    """A pass's text; the new texts of utterances before it that the pass
    read again (revision); whether it was read alone (without the speech
    around it); a whole read's text of the block of utterances it read,
    shown for all of them."""

    text: str
    revisions: tuple[tuple[Utterance, str], ...] = ()
    alone: bool = False
    block: str | None = None


class DictationSession:
    def __init__(self, vad: VoiceDetector, transcriber: Transcriber, worker: Executor,
                 events: EventSink, options: DictationOptions = DictationOptions()) -> None:
        self._vad = vad
        self._transcriber = transcriber
        self._worker = worker
        self._events = events
        self.options = options
        self.pcm = bytearray()
        self._frame_rms: list[float] = []
        self._segmenter = Segmenter(options.segmenter)
        self._utterances: list[Utterance] = []
        self._finals: list[Future[Any]] = []
        self._heard: list[tuple[Utterance, str]] = []  # transcribed utterances, in order
        self._alone: Utterance | None = None  # heard[-1], when read alone: revised with the next
        self._block: tuple[int, int, str] | None = None  # heard[first:end]'s text, read whole
        self._rereads = options.reread_after_s > 0 and options.revise and options.fast_stop
        self._reread_mark = 0  # late re-reads cover the utterances heard from this frame on
        self._reread_seen = (0, 0)  # (len(_heard), mark) when _maybe_reread last looked
        self._lock = threading.Lock()
        self._pending = 0          # committed or speculative passes not yet done
        self._provisional: Future[Any] | None = None
        self._last_provisional = 0
        self._spec: tuple[Utterance, Future[Reading]] | None = None
        self._closed = False      # no more frames
        self._snr_db: float | None = None  # the whole recording's, measured once after the stop
        self._abandoned = False   # cancelled: skip queued work
        self.stop_path = ""       # how the stop was served: ready, joined or tail
        self.first_frame_at: float | None = None  # time.monotonic() of the first captured frame
        self._language = LanguageChoice(options.language, prior=options.language_prior)

    @property
    def language_used(self) -> str:
        """The fixed language, or the one detected ("" until a pass said)."""
        return self._language.used

    @property
    def language_sure(self) -> str:
        """The language given, or one detected surely ("" if neither): the next dictation's prior."""
        return self._language.sure

    @property
    def transcriber(self) -> Transcriber:
        """What this session transcribes with (the dictation's EngineTally)."""
        return self._transcriber

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / (FRAME_BYTES * 1000 / FRAME_MS)

    @property
    def text_so_far(self) -> str:
        texts = [text for _, text in self._heard]
        if self._block is not None:  # heard[first:end] as the whole read has them
            first, end, block = self._block
            texts[first:end] = [block]
        return transcript.join(texts)

    @property
    def tail_is_silent(self) -> bool:
        """Nothing after the last transcribed (or settled) point is speech."""
        return self._segmenter.open_start is None or self._segmenter.settled() is not None

    def feed(self, frame: bytes) -> None:
        """Called from the capture thread for each 30 ms frame."""
        if self._closed or len(frame) != FRAME_BYTES:
            return
        self.pcm += frame
        level = rms(frame)
        self._frame_rms.append(level)
        for utterance in self._segmenter.feed(self._vad.is_speech(frame), level):
            self._commit(utterance)
        if self.options.streaming:
            if self.options.fast_stop:
                self._maybe_speculate()
            self._maybe_provisional()

    def finish(self) -> str:
        """The recording has ended: transcribe the tail and return the text."""
        busy = any(not f.done() for f in self._finals) or (self._spec is not None and not self._spec[1].done())
        committed = self._segmenter.flush()
        self._closed = True
        adopted = bool(committed) and self._spec is not None and self._spec[0] == committed[0]
        for utterance in committed:
            self._commit(utterance)
        if not self.options.streaming and self._utterances:
            self._finals.append(self._worker.submit(self._transcribe_all))
        # ready: the text was there; joined: a pass of that very audio was running;
        # tail: audio nobody had transcribed yet.
        new_work = (committed and not adopted) or not self.options.streaming
        self.stop_path = "tail" if new_work else "joined" if busy else "ready"
        for future in self._finals:
            future.result()
        return self.text_so_far

    def abandon(self) -> None:
        self._closed = self._abandoned = True
        self._drop_speculation()

    # -- committed and speculative passes ---------------------------------------

    def _commit(self, utterance: Utterance) -> None:
        self._utterances.append(utterance)
        if not self.options.streaming:
            return
        if self._spec is not None and self._spec[0] == utterance:
            spec = self._spec[1]
            self._spec = None
            self._finals.append(self._worker.submit(self._adopt, utterance, spec))  # runs after spec (FIFO)
            return
        self._drop_speculation()
        pcm = self._audio(utterance)
        with self._lock:
            self._pending += 1
        self._finals.append(self._worker.submit(self._transcribe_final, utterance, pcm))

    def _maybe_speculate(self) -> None:
        settled = self._segmenter.settled()
        if settled is None:
            self._drop_speculation()  # speech resumed: the settled audio grew
            return
        if self._spec is not None and self._spec[0] == settled:
            return
        self._drop_speculation()
        with self._lock:
            self._pending += 1
        self._spec = (settled, self._worker.submit(self._transcribe_speculative, settled, self._audio(settled)))

    def _drop_speculation(self) -> None:
        if self._spec is not None:
            if self._spec[1].cancel():  # not started yet: it will never run
                with self._lock:
                    self._pending -= 1
            self._spec = None

    def _transcribe_speculative(self, utterance: Utterance, pcm: bytes) -> Reading:
        try:
            if self._abandoned:
                return Reading("")
            return self._transcribe_utterance(utterance, pcm)
        finally:
            with self._lock:
                self._pending -= 1

    def _adopt(self, utterance: Utterance, spec: Future[Reading]) -> None:
        self._append_final(utterance, spec.result())

    def _transcribe_final(self, utterance: Utterance, pcm: bytes) -> None:
        try:
            if self._abandoned:
                return
            self._append_final(utterance, self._transcribe_utterance(utterance, pcm))
        finally:
            with self._lock:
                self._pending -= 1

    def _append_final(self, utterance: Utterance, reading: Reading) -> None:
        if self._abandoned:
            return
        text = reading.text
        spans = [u for u, _ in self._heard]
        for revised, revised_text in reading.revisions:
            if revised in spans:
                self._heard[spans.index(revised)] = (revised, revised_text)
        if reading.block is not None:
            self._block = (spans.index(reading.revisions[0][0]) if reading.revisions else len(spans),
                           len(spans) + 1, reading.block)
        self._heard.append((utterance, text))
        self._alone = utterance if reading.alone else None
        if text or reading.revisions:
            self._publish(self.text_so_far, final=True)

    def _transcribe_all(self) -> None:
        speech = sum(u.speech_frames for u in self._utterances)
        frames = len(self._frame_rms)
        whole = Utterance(0, frames, speech)
        self._heard.append((whole, self._transcribe(bytes(self.pcm), speech / max(1, frames),
                                                    self._level(0, frames), self._heard)))

    def _transcribe_utterance(self, utterance: Utterance, pcm: bytes) -> Reading:
        """Runs on the worker, after every earlier utterance's pass (FIFO)."""
        speech_ratio = utterance.speech_frames / utterance.frames
        level = self._level(utterance.start, utterance.end)
        heard, before = self._heard, None
        if is_weak(speech_ratio, level, self.options.gate):
            # Weak audio is read alone: Whisper's no-speech score must judge
            # it, not the speech before it.
            return Reading(self._transcribe(pcm, speech_ratio, level, heard))
        if (block := self._read_whole(utterance)) is not None:
            return block
        if (revision := self._revise(utterance)) is not None:
            return revision
        # The pass the user waits for at the stop is read alone in quiet:
        # CTranslate2 steps through the forced prefix one token at a time,
        # which cost 90 ms there (266 against 173 ms), for 2 words of 1,280
        # in the accuracy benchmark. In noise it is worth it (options).
        if self.options.fast_stop and (not self._closed or self._snr() < self.options.noisy_below_db):
            reach = utterance.start - self.options.context_ms // FRAME_MS
            first = len(heard)
            while first > 0 and heard[first - 1][1] and heard[first - 1][0].start >= reach:
                first -= 1
            if first < len(heard):
                context = heard[first:]
                before = HeardBefore(bytes(self.pcm[context[0][0].start * FRAME_BYTES: utterance.start * FRAME_BYTES]),
                                     transcript.join([text for _, text in context]))
                heard = heard[:first]
        text = self._transcribe(pcm, speech_ratio, level, heard, before)
        return Reading(text, alone=before is None and bool(text))

    def _revise(self, utterance: Utterance) -> Reading | None:
        """The utterance before this one, read alone, read again together
        with this one (see the module doc). Only while the user may still
        talk (the stop's pass is waited for), when both fit the quick
        window, and only a reading with more words than the first alone
        (one that kept them) replaces it."""
        o = self.options
        if not (o.revise and o.fast_stop) or self._closed or not self._heard:
            return None
        first, first_text = self._heard[-1]
        if first != self._alone or not transcript.fits_window((utterance.end - first.start) * FRAME_MS / 1000,
                                                                  o.quick_window_s):
            return None
        both = Utterance(first.start, utterance.end, first.speech_frames + utterance.speech_frames)
        text = self._transcribe(self._audio(both), both.speech_frames / both.frames,
                                self._level(both.start, both.end), self._heard[:-1])
        if len(text.split()) <= len(first_text.split()) or transcript.repeats_a_phrase(text):
            return None  # lost the first's words, or looped ("Please send ... Friday Please send ... Friday")
        parts, rest = transcript.cut_readings([first_text], text)
        if not parts:
            return None  # a correction keeps most words; this reads something else
        return Reading(rest, ((first, parts[0]),))

    def _transcribe(self, pcm: bytes, speech_ratio: float, level: float, heard: list[tuple[Utterance, str]],
                    before: HeardBefore | None = None, *, whole: bool = True, window_s: int | None = None,
                    timestamps: bool = False) -> str:
        told = transcript.join([text for _, text in heard])
        prompt = text_rules.vocabulary_prompt(
            self.options.vocabulary, transcript.prompt_tail(told, self.options.prompt_chars))
        return transcript.join([s.text for s in self._read(pcm, prompt, before, whole, window_s, timestamps)
                                if keep_segment(s, speech_ratio, level, self.options.gate)])

    def _read(self, pcm: bytes, prompt: str, before: HeardBefore | None, whole: bool,
              window_s: int | None = None, timestamps: bool = False) -> list[SegmentScore]:
        """One pass as fast stop wants it: the short window, and once the user
        has stopped (the rest is on the critical path) the narrow beam. In
        the dictation's language; a `whole` utterance's detection may fix it
        (and may read an unsure detection's runner-up too; a provisional
        pass, soon replaced, does neither; it decodes greedily, as a stop
        that comes while it runs waits for it). `window_s`: this pass's
        own window (0: the full one); `timestamps`: decode Whisper's
        timestamp tokens too (a whole read)."""
        o = self.options
        # A full-window pass is read for accuracy: with the full beam even after the stop.
        beam = min(o.stop_beam_size, o.beam_size) if o.fast_stop and self._closed and window_s != 0 \
            else o.beam_size
        beam = beam if whole else 1
        window = window_s if window_s is not None else o.quick_window_s if o.fast_stop else 0
        heard = self._language.heard if whole else self._language.glimpsed
        language = self._language.for_pass(whole)
        if before is not None:
            reading = self._transcriber.transcribe(pcm, DecodeRequest(prompt, beam, window, before,
                                                                      language, heard, whole,
                                                                      self._language.prefer))
            # The no-speech score of a pass with context judges the context, so
            # only a confident reading is taken. Over noise Whisper may also say
            # the context again. Either way the audio is read alone, and the
            # gate judges that, with the context's text in the prompt.
            if reading is not None and all(s.avg_logprob >= o.gate.logprob_threshold
                                           and not transcript.echoes(s.text, before.text) for s in reading):
                return reading
            prompt = transcript.join([prompt, before.text])
        return self._transcriber.transcribe(pcm, DecodeRequest(prompt, beam, window, None, language, heard,
                                                               whole, self._language.prefer, timestamps)) or []

    def _snr(self) -> float:
        """The recording's signal over noise so far, in dB; once all its
        frames are in (after the stop), measured once, and only when a pass
        is left (a stop that finds the text ready skips it)."""
        if self._snr_db is not None:
            return self._snr_db
        snr = signal_to_noise_db(self._frame_rms)
        if self._closed:
            self._snr_db = snr
        return snr

    def _read_whole(self, utterance: Utterance) -> Reading | None:
        """In loud noise (options.whole_below_db), the utterance read
        together with what was heard before it that Whisper's 30 s window
        holds, on that window, as a whole-recording pass reads them (module
        doc); the reading replaces all their texts. None: not that loud, or
        the reading is not to be trusted (it looped, or lost most of the
        words heard before); the usual pass reads it then."""
        o = self.options
        if not (o.revise and o.fast_stop) or (self._closed and not o.whole_at_stop) \
                or self._snr() >= o.whole_below_db:
            return None
        heard = self._heard
        first = len(heard)
        while first > 0 and transcript.fits_window((utterance.end - heard[first - 1][0].start) * FRAME_MS / 1000,
                                                   transcript.FULL_WINDOW_S):
            first -= 1
        if first == len(heard):
            return None  # nothing before it to read it with
        cover = heard[first:]
        # From the end of what the prompt holds (the recording's start), as
        # the baseline reads it, not from the first utterance's VAD start:
        # at 5 dB pink noise, 554 errors in 24 dictations against 605.
        start = heard[first - 1][0].end if first else 0
        if not transcript.fits_window((utterance.end - start) * FRAME_MS / 1000, transcript.FULL_WINDOW_S):
            start = cover[0][0].start
        span = Utterance(start, utterance.end, sum(u.speech_frames for u, _ in cover) + utterance.speech_frames)
        try:
            text = self._transcribe(self._audio(span), span.speech_frames / span.frames,
                                    self._level(span.start, span.end), heard[:first], window_s=0, timestamps=True)
        except V2mError as exc:  # the usual pass may still read it
            log.warning("the whole-window read failed: %s", exc)
            return None
        told = [told for _, told in cover]
        if transcript.repeats_a_phrase(text) or not transcript.echoes(transcript.join(told), text, 0.5):
            return None  # looped; or lost half the words heard (or heard something else)
        # Each utterance's part, as the context of the passes after it (a
        # forced prefix: a cut a word off matters little there).
        parts, rest = transcript.cut_readings(told, text)
        rest = rest if len(parts) == len(told) else ""
        return Reading(rest, tuple((u, part) for (u, _), part in zip(cover, parts + told[len(parts):])),
                       block=text)

    # -- the late re-read -----------------------------------------------------------

    def _maybe_reread(self) -> bool:
        """On the capture thread, where a provisional pass could start: start
        the late re-read (module doc) instead, if it is due and the recording
        so far is noisy."""
        if not self._rereads:
            return False
        # Only new utterances or a moved mark change the answer (texts do not).
        seen = (len(self._heard), self._reread_mark)
        if seen == self._reread_seen:
            return False
        self._reread_seen = seen
        cover = [u for u, _ in list(self._heard) if u.start >= self._reread_mark]
        if not cover:
            return False
        last = cover[-1]
        while cover and not transcript.fits_window((last.end - cover[0].start) * FRAME_MS / 1000,
                                                   transcript.FULL_WINDOW_S):
            del cover[0]  # what a 30 s window holds
        if not cover or (last.end - cover[0].end) * FRAME_MS / 1000 < self.options.reread_after_s:
            return False
        self._reread_mark = last.end  # the next covers what follows
        if not self.options.whole_below_db <= self._snr() < self.options.noisy_below_db:
            return False  # quiet; or so loud that every pass reads the whole window
        with self._lock:
            self._pending += 1
        self._finals.append(self._worker.submit(self._reread, cover[0], last))
        return True

    def _reread(self, target: Utterance, last: Utterance) -> None:
        try:
            if self._closed or self._abandoned:
                return  # the user has stopped: not worth their wait
            spans = [u for u, _ in self._heard]
            if target not in spans or last not in spans:
                return
            first, end = spans.index(target), spans.index(last) + 1
            told = [text for _, text in self._heard[first:end]]
            span = Utterance(target.start, last.end, sum(u.speech_frames for u in spans[first:end]))
            try:
                text = self._transcribe(self._audio(span), span.speech_frames / span.frames,
                                        self._level(span.start, span.end), self._heard[:first], window_s=0)
            except V2mError as exc:  # the texts it would correct stand: the dictation goes on
                log.warning("the late re-read failed: %s", exc)
                return
            if transcript.repeats_a_phrase(text):
                return  # looped
            # Each utterance's part replaces its text: a whole-window reading
            # beats the short ones in noise, not only for the first.
            revised = transcript.split_readings(told, text)
            if revised != told and not self._abandoned:
                self._heard[first:end] = list(zip(spans[first:end], revised))
                self._publish(self.text_so_far, final=True)
        finally:
            with self._lock:
                self._pending -= 1

    def _audio(self, utterance: Utterance) -> bytes:
        return bytes(self.pcm[utterance.start * FRAME_BYTES: utterance.end * FRAME_BYTES])

    def _level(self, start: int, end: int) -> float:
        return power_mean(self._frame_rms[start:end])

    # -- provisional passes --------------------------------------------------------

    def _maybe_provisional(self) -> None:
        """While the worker is idle, re-read the open utterance now and then,
        so subscribers see words appear before the utterance is committed.
        Only while the user speaks: in a pause the speculative pass is at
        most a post-roll away, and must not queue behind this one (it cost
        live typing up to 1.4 s from an utterance's end to its text, on
        busy cores). A late re-read that is due starts here instead."""
        start = self._segmenter.open_start
        now = self._segmenter.frames_seen
        ms = self.options.segmenter.frame_ms
        if start is None or self._spec is not None or self._segmenter.in_pause \
                or (now - start) * ms < REREAD_INTO_SPEECH_MS:
            return
        with self._lock:
            busy = self._pending > 0 or (self._provisional is not None and not self._provisional.done())
        if busy or self._maybe_reread():
            return
        if (now - start) * ms < self.options.min_provisional_ms \
                or (now - self._last_provisional) * ms < self.options.provisional_interval_ms:
            return
        self._last_provisional = now
        pcm = bytes(self.pcm[start * FRAME_BYTES: now * FRAME_BYTES])
        self._provisional = self._worker.submit(self._transcribe_provisional, start, now, pcm)

    def _transcribe_provisional(self, start: int, end: int, pcm: bytes) -> None:
        with self._lock:
            stale = self._closed or self._abandoned or self._pending > 0
        if stale:
            return  # committed work comes first; a newer pass will follow
        text = self._transcribe(pcm, 1.0, self._level(start, end), self._heard, whole=False)
        if text and not self._closed:
            self._publish(transcript.join([self.text_so_far, text]), final=False)

    def _publish(self, text: str, *, final: bool) -> None:
        self._events.publish({"type": "transcription_update", "text": text, "final": final,
                              "language": self.language_used})
