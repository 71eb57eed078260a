import math

import pytest

from v2m.domain import transcript
from v2m.domain.audio_math import FRAME_BYTES, power_mean, rms, signal_to_noise_db
from v2m.domain.hallucination import SegmentScore, keep_segment


def seg(text, nsp=0.1, lp=-0.3, cr=1.2):
    return SegmentScore(text, nsp, lp, cr)


@pytest.mark.parametrize("text", [" Thank you.", " you", "Thanks for watching!", " ."])
def test_known_phrases_dropped_over_weak_audio(text):
    assert not keep_segment(seg(text), speech_ratio=0.1, rms=0.2)
    assert not keep_segment(seg(text), speech_ratio=0.9, rms=0.001)


def test_known_phrase_kept_over_clear_confident_speech():
    assert keep_segment(seg(" Thank you."), speech_ratio=0.9, rms=0.1)


def test_known_phrase_over_loud_noise_dropped_by_no_speech_prob():
    assert not keep_segment(seg(" You", nsp=0.95, lp=-0.9), speech_ratio=1.0, rms=0.3)


def test_whisper_silence_rule_and_repetition():
    assert not keep_segment(seg("Real words here", nsp=0.8, lp=-1.2), 0.9, 0.1)
    assert keep_segment(seg("Real words here", nsp=0.8, lp=-0.5), 0.9, 0.1)
    assert not keep_segment(seg("the " * 40, cr=3.1), 0.9, 0.1)


def test_noise_after_speech_is_dropped_below_whisper_own_no_speech_bar():
    # Scores measured on white noise read after a sentence (see GateOptions).
    assert not keep_segment(seg(" I'm going to do that.", nsp=0.47, lp=-1.79), 1.0, 0.09)
    assert not keep_segment(seg(" Hey, hey, hey.", nsp=0.55, lp=-1.45), 1.0, 0.17)
    # Doubtful no-speech alone, or low confidence alone, is still speech.
    assert keep_segment(seg("Real words here", nsp=0.45, lp=-0.7), 0.9, 0.1)
    assert keep_segment(seg("Real words here", nsp=0.2, lp=-1.3), 0.9, 0.1)


def test_ordinary_text_kept_even_over_weak_audio():
    assert keep_segment(seg("Send the report by Friday."), speech_ratio=0.2, rms=0.005)


def test_join_and_prompt_tail():
    assert transcript.join([" Hello there.", "", "  How are you? "]) == "Hello there. How are you?"
    text = "word " * 100
    tail = transcript.prompt_tail(text, 23)
    assert len(tail) <= 23 and tail.startswith("word") and text.strip().endswith(tail)


def test_rms_of_silence_and_full_scale():
    assert rms(bytes(FRAME_BYTES)) == 0.0
    full = (32767).to_bytes(2, "little", signed=True) * 480
    assert rms(full) == pytest.approx(1.0, abs=1e-4)


def test_signal_to_noise_is_the_mean_power_over_the_quietest_tenths():
    # A tenth of the frames at the floor (pauses), the rest 100x louder (40 dB):
    # the mean power is 0.9 of the loud frames', so a little under 40 dB.
    levels = [0.001] * 10 + [0.1] * 90
    assert signal_to_noise_db(levels) == pytest.approx(20 * math.log10(math.sqrt(0.9 * 0.01 + 0.1 * 1e-6) / 0.001))
    assert signal_to_noise_db([0.05] * 50) == pytest.approx(0.0)  # noise alone, or speech with no pause
    assert signal_to_noise_db([]) == math.inf and signal_to_noise_db([0.0] * 10 + [0.1] * 90) > 150


def test_a_stretch_level_is_the_power_mean_of_its_frames():
    # Two frames of the same length: the stretch's RMS from theirs, not their average.
    loud, soft = b"\x00\x40" * 480, b"\x00\x00" * 480  # 0.5 of full scale, then silence
    assert power_mean([rms(loud), rms(soft)]) == pytest.approx(rms(loud + soft)) == pytest.approx(0.5 / math.sqrt(2))
    assert power_mean([]) == 0.0


def test_echoes_spots_the_context_said_again_and_spares_new_speech():
    earlier = "We will meet at the station. Please send the quarterly report to my manager by Friday."
    assert transcript.echoes("Please send the quarterly report to manager by Friday.", earlier)
    assert transcript.echoes("the quarterly report", earlier)
    assert not transcript.echoes("Voice dictation should never lose the last word.", earlier)
    assert not transcript.echoes("Remember to buy milk, bread and coffee on the way home.", earlier)
    # Order matters: the same words shuffled are not a repetition.
    assert not transcript.echoes("Friday by manager my to report quarterly the send", earlier)
    assert not transcript.echoes("", earlier) and not transcript.echoes("anything", "")
