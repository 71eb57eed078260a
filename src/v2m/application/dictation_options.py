"""How a dictation is read: segmentation, the gate, and the fast stop's
choices (see application/dictation_session.py, which makes them)."""

from __future__ import annotations

import dataclasses

from v2m.domain.hallucination import GateOptions
from v2m.domain.segmenter import SegmenterOptions


@dataclasses.dataclass(frozen=True)
class DictationOptions:
    segmenter: SegmenterOptions = SegmenterOptions()
    gate: GateOptions = GateOptions()
    # False: transcribe the whole recording at stop, as most dictation tools do.
    streaming: bool = True
    # Speculative finalization, quick passes and the narrow beam at the stop
    # (see the module doc); every one of those choices is made in this module.
    fast_stop: bool = True
    beam_size: int = 5
    # The passes left at the stop, which the user waits for (BENCHMARKS.md:
    # greedy lost words at 5 s; beams 2, 3 and 5 scored the same).
    stop_beam_size: int = 2
    # A recording noisier than this, signal over noise in dB
    # (audio_math.signal_to_noise_db), is read with more care:
    # - the pass left at the stop reads the context too (as passes before it
    #   do): in brown noise at 10 dB, tiny.en read the last sentence alone with
    #   49 errors in 24 dictations, with context 37 (the whole-recording
    #   baseline 36), for 0.1-0.16 s more at that stop (BENCHMARKS.md). In
    #   quiet it saved 2 words of 1,280 for 90 ms: not taken;
    # - the late re-read (below).
    noisy_below_db: float = 15.0
    # In noise, once `reread_after_s` of speech has followed the first
    # utterance not yet re-read, they are all read again together on the
    # whole window and their texts replaced (dictation_session.py, "Late
    # re-read"): at 5 dB SNR the first sentence of 12 dictations fell from
    # 19 errors alone and 15 with the next utterance to 8 with the next
    # three. 0 turns it off.
    reread_after_s: float = 12.0
    # Louder noise still (a recording below this): each pass reads its
    # utterance together with those before it that Whisper's 30 s window
    # holds, on that window, as the whole-recording baseline reads them, and
    # their texts are replaced (dictation_session.py, "Whole reads"); the
    # late re-read is then not needed. Mixes of brown and pink noise at 5 dB
    # SNR measure 4.5-7.5, babble 8.5-9.5; at 10 dB all measure 9.5-12.5
    # (audio_math.signal_to_noise_db), and there stops after a pause must
    # stay instant. -inf turns it off.
    whole_below_db: float = 8.0
    # There, the pass left at a stop right after the last word is a whole
    # read too, with the full beam: the baseline's reading, and about its
    # time (1 s on 2 cores, not 0.3 s): at 5 dB pink noise, 578 errors in 24
    # such dictations against 616 with the quick pass (the baseline 563).
    whole_at_stop: bool = True
    # Encoder window of quick passes, in seconds (Whisper's is 30): about 2.5x
    # faster, and the shortest the stock weights read without losing accuracy.
    quick_window_s: int = 10
    prompt_chars: int = 200
    # Quick passes read the utterances heard in the last `context_ms` again,
    # ahead of the new one (their text forced, not remade): 0 turns it off.
    context_ms: int = 6000
    # Re-read an utterance read alone together with the next one, and replace
    # its text (dictation_session.py, "Revision"); off with live typing, which typed it.
    revise: bool = True
    # Words the user dictates often; they lead every prompt to bias recognition.
    vocabulary: tuple[str, ...] = ()
    # The spoken language for this dictation; None: the engine's configured one.
    language: str | None = None
    # With "auto": the language the user's last dictation was sure of (the
    # dictation service remembers it); an unsure detection that has it among
    # its two likeliest reads in it.
    language_prior: str = ""
    # transcription.task = "translate": the text is English, and so are its spoken commands.
    translate: bool = False
    provisional_interval_ms: int = 1500
    min_provisional_ms: int = 900
