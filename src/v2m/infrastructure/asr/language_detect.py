"""Spoken-language detection on the quick pass's short encoder window.

faster-whisper detects the language on a full 30 s window (3000 mel frames).
CTranslate2 (3.19+) accepts fewer frames for detect_language as for generate,
and the encoder's cost falls with the window, so the language of a dictation
is read from the same short window the quick pass decodes.

Measured: multilingual `base`, int8, 2 CPU threads, 25 espeak-ng sentences
(2.3-3.9 s; 5 each in en, es, ru, de, fr). The 10 s and 30 s windows agreed
on 22 of 25 (the 3 others under p 0.3 both ways) and were right as often
(15 vs 14 of 25). Per call: 10 s window ~430 ms, 30 s window ~2,900 ms; on
features already encoded for the quick pass, ~43 ms (the encoder is the
cost: ~295 ms for 10 s). espeak-ng's ru, de and fr voices fool `base`
(ru read as pl/cs, de as en, fr as th), and wrong answers went up to p 0.877
on one utterance; two utterances together (6-7 s) were right 15 of 20 times,
and no wrong answer there scored above 0.72. Hence LOW_CONFIDENCE.
"""

from __future__ import annotations

from v2m.domain.languages import DETECTION_BAR

# Below this probability a detection is a guess: the dictation uses it for
# this utterance only, and detects again on the next one (whose quick pass
# reads the utterances of the last seconds too, up to the window), until an
# answer clears the bar (application/language_choice.py). Every wrong answer
# measured scored below it; en and clear es sentences score above.
LOW_CONFIDENCE = DETECTION_BAR
# Under an unsure winner, a runner-up this likely is read too, and the quick
# pass keeps the likelier text (Whisper's own scores). Measured on espeak-ng
# Spanish: "Recuerda comprar leche, pan y café" came out it 0.37-0.49, es
# 0.28-0.38; read in Spanish its average log-probability was -0.62, in
# Italian -0.93 ("e quere la compagliace"). Other unsure answers had no
# runner-up this close, so they cost nothing more.
RUNNER_UP = 0.2


def short_features(model, audio_f32, window_s: int = 10):
    """The mel features of the first `window_s` seconds, zero-padded, as a
    CTranslate2 StorageView of shape [1, n_mels, window_s * 100]."""
    import ctranslate2
    import numpy as np
    from faster_whisper.audio import pad_or_trim

    mel = model.feature_extractor(audio_f32[: window_s * 16000])
    return ctranslate2.StorageView.from_array(np.ascontiguousarray(pad_or_trim(mel, window_s * 100)[None]))


def detect_language(model, audio_f32, window_s: int = 10) -> tuple[str, float]:
    """The most likely language code of `audio_f32` (16 kHz mono float32) and its probability.

    `model` is a loaded faster_whisper.WhisperModel. Only the first
    `window_s` seconds are read (30 reproduces faster-whisper's own
    detection on one window). An English-only model answers ("en", 1.0)
    without running anything.
    """
    if not model.model.is_multilingual:
        return "en", 1.0
    return detect_language_features(model, short_features(model, audio_f32, window_s))


def detect_language_features(model, features) -> tuple[str, float]:
    """As detect_language, on mel features or on the encoder's output for
    them (`model.model.encode(features, to_cpu=False)`), which generate()
    accepts too: encode once, detect and decode on it, and detection costs
    one decoder step."""
    return _ranked(model, features, 1)[0]


def _ranked(model, features, count: int) -> list[tuple[str, float]]:
    """The `count` likeliest languages and their probabilities, likeliest first."""
    if not model.model.is_multilingual:
        return [("en", 1.0)]
    (results,) = model.model.detect_language(features)
    return [(token[2:-2], float(probability)) for token, probability in results[:count]]  # "<|es|>" -> "es"


def likely_languages(model, features, prefer: str = "") -> list[tuple[str, float]]:
    """The detected language and its probability; with a runner-up of at
    least RUNNER_UP when the winner is below LOW_CONFIDENCE.

    `prefer`: the language the user's last dictation was sure of. When the
    winner is below LOW_CONFIDENCE and `prefer` is one of the two likeliest,
    it alone is returned: on a few seconds of speech the detection is a
    guess between close languages (espeak-ng's "Recuerda comprar leche…" came
    out it 0.46 / es 0.25, "El tren…" es 0.57 / th 0.29), and the user's own
    recent language is the better evidence. It saves reading the runner-up
    (+55 to +200 ms at the stop, the runner-up's tokens deciding). A sure
    detection is never overridden, so switching language still works."""
    ranked = _ranked(model, features, 2)
    if ranked[0][1] < LOW_CONFIDENCE and prefer in (code for code, _ in ranked):
        return [pick for pick in ranked if pick[0] == prefer]
    unsure = len(ranked) > 1 and ranked[0][1] < LOW_CONFIDENCE and ranked[1][1] >= RUNNER_UP
    return ranked if unsure else ranked[:1]
