"""A dictation in a noisy room, through the virtual microphone: brown noise
at 10 dB SNR runs before, during and after the speech, and the user pauses
0.8 s before the stop. The end of speech is still found during the pause,
so the text is ready when the stop comes (issue 19)."""

from __future__ import annotations

from tests.e2e.conftest import run_v2m
from tests.e2e.test_dictation import desktop, speak  # noqa: F401 (fixture)
from tests.support import noise
from tests.support.speech import SENTENCES, write_pcm
from tests.support.wer import wer
from v2m.ipc.client import DaemonClient

# Measured here at 10 dB brown noise: WER 0.05-0.25 on these two sentences.
NOISY_WER_BOUND = 0.35


def noisy_dictation(tmp_path) -> tuple[str, object]:
    sentences = [noise.spoken(s, tmp_path) for s in SENTENCES[:2]]
    scene = noise.scene(sentences, pause_s=1.0, lead_s=1.5, tail_s=0.8)
    pcm = noise.mix(scene, noise.make_noise("brown", 10.0, tmp_path), snr_db=10)
    return " ".join(SENTENCES[:2]), write_pcm(tmp_path / "noisy.wav", pcm)


def test_the_stop_after_a_pause_in_noise_is_ready(desktop, start_daemon, pulse, tmp_path):
    """With webrtcvad the noise reads as speech and the stop waits for the
    tail pass (tests/integration/test_vad_noise.py measures it in-process)."""
    start_daemon().wait_model_loaded()
    reference, wav = noisy_dictation(tmp_path)
    with DaemonClient(timeout_s=60) as client:
        assert client.call("TOGGLE_RECORDING")["state"] == "recording"
        speak(pulse, wav)  # returns when the 0.8 s of noise after the last word has played
        reply = client.call("TOGGLE_RECORDING")
    assert reply["stop_path"] == "ready", reply
    assert wer(reference, reply["transcription"]) <= NOISY_WER_BOUND, reply["transcription"]
    assert "recording" not in run_v2m("status").stdout
