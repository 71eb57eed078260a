"""The decoder on a one-thread copy of the model (decoder_threads.py), on
the real tiny.en: it is made where it should be, and reads as one model on
every thread does."""

from __future__ import annotations

import pytest

from tests.support.speech import SENTENCES, read_pcm, silence
from v2m.domain.transcript import FULL_WINDOW_S, DecodeRequest, HeardBefore
from v2m.infrastructure.asr.decoder_threads import SplitModel
from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions
from v2m.infrastructure.models.model_locator import bundled_model


def _loaded(**options) -> FasterWhisperTranscriber:
    options = {"cpu_threads": 2, **options}
    transcriber = FasterWhisperTranscriber("tiny.en", bundled_model(), WhisperOptions(**options))
    transcriber.load()
    return transcriber


@pytest.fixture(scope="module")
def pair():
    return _loaded(), _loaded(split_decoder=False)


def test_two_threads_decode_on_a_one_thread_copy_and_one_thread_on_the_model(pair):
    split, single = pair
    model = split.whisper_model().model
    assert isinstance(model, SplitModel)
    assert model._encoder is not model._decoder and not model.is_multilingual  # attributes are the decoder's
    assert not isinstance(single.whisper_model().model, SplitModel)
    assert not isinstance(_loaded(cpu_threads=1).whisper_model().model, SplitModel)


def _reading(transcriber, pcm: bytes, request: DecodeRequest) -> tuple[str, float]:
    (segment,) = transcriber.transcribe(pcm, request)
    return segment.text, segment.avg_logprob


def test_the_split_model_reads_as_the_single_one(pair, speech_dir):
    """Quick passes (the short window, with and without context heard
    before) and a full-window pass: the same text, the same score; and the
    one-thread copy is only ever given the encoder's output (384 wide for
    tiny.en), never mel features it would encode on its one thread."""
    split, single = pair
    model = split.whisper_model().model
    given = []

    class Spy:  # the copy itself decodes; this notes what it was given
        def __getattr__(self, name):
            real = getattr(decoder, name)
            if name in ("generate", "detect_language", "align"):
                return lambda features, *a, **k: given.append(tuple(features.shape)) or real(features, *a, **k)
            return real
    decoder, model._decoder = model._decoder, Spy()
    first, second = (read_pcm(speech_dir / f"s{i}.wav") for i in (0, 1))
    before = HeardBefore(first + silence(0.5), SENTENCES[0])
    requests = [(first, DecodeRequest("", 5, 10)), (second, DecodeRequest("", 2, 10, before)),
                (first + second, DecodeRequest(SENTENCES[2], 5, FULL_WINDOW_S)), (second, DecodeRequest("", 5, 0))]
    for pcm, request in requests:
        text, score = _reading(split, pcm, request)
        again, again_score = _reading(single, pcm, request)
        assert text == again and abs(score - again_score) < 1e-3, (request, text, again)
        assert len(text.split()) >= 5
    model._decoder = decoder
    assert len(given) >= len(requests) and all(shape[2] == 384 and shape[1] in (500, 1500) for shape in given), given
