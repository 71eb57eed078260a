"""A dictation in a noisy room, through the virtual microphone: brown noise
at 10 dB SNR runs before, during and after the speech, and the user pauses
at least 0.8 s before the stop. The end of speech is still found during the
pause, so the text is ready when the stop comes (issue 19)."""

from __future__ import annotations

import queue
import threading
import time

from tests.e2e.conftest import run_v2m
from tests.e2e.test_dictation import desktop, speak  # noqa: F401 (fixture)
from tests.support import noise
from tests.support.speech import SENTENCES, write_pcm
from tests.support.wer import wer
from v2m.ipc.client import DaemonClient

# Measured here at 10 dB brown noise: WER 0.05-0.25 on these two sentences.
NOISY_WER_BOUND = 0.35


# Noise after the last word: the stop comes as soon as the last sentence is
# final, which must happen while this noise still plays.
NOISE_AFTER_S = 5.0


def noisy_dictation(tmp_path) -> tuple[str, object, float]:
    """(reference, the WAV, when the last word ends in it, s)"""
    sentences = [noise.spoken(s, tmp_path) for s in SENTENCES[:2]]
    scene = noise.scene(sentences, pause_s=1.0, lead_s=1.5, tail_s=NOISE_AFTER_S)
    pcm = noise.mix(scene, noise.make_noise("brown", 10.0, tmp_path), snr_db=10)
    return " ".join(SENTENCES[:2]), write_pcm(tmp_path / "noisy.wav", pcm), scene.end / noise.RATE


def final_updates(client: DaemonClient) -> tuple["queue.Queue[str]", threading.Thread]:
    """The text of each final `transcription_update`, as the daemon sends it,
    until the dictation is over (the state is idle again)."""
    finals: queue.Queue[str] = queue.Queue()
    stream = client.events()  # subscribed when it returns

    def collect() -> None:
        for event in stream:
            if event.get("type") == "transcription_update" and event.get("final"):
                finals.put(event["text"])
            if event.get("type") == "state_changed" and event.get("state") == "idle":
                return
    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    return finals, reader


def test_the_stop_after_a_pause_in_noise_is_ready(desktop, start_daemon, pulse, tmp_path):
    """The whole dictation becomes final while the noise goes on: the end of
    speech was found in the noise, and the stop then finds the text ready.
    With webrtcvad the noise reads as speech: nothing is final until the
    noise stops (tests/integration/test_vad_noise.py measures it in-process).
    Waiting on the events, not on a fixed pause, keeps a busy machine's slow
    pass from turning "ready" into "joined"."""
    start_daemon().wait_model_loaded()
    reference, wav, last_word_s = noisy_dictation(tmp_path)
    watcher = DaemonClient(timeout_s=None)
    finals, reader = final_updates(watcher)
    try:
        with DaemonClient(timeout_s=60) as client:
            assert client.call("TOGGLE_RECORDING")["state"] == "recording"
            player = pulse.play(wav)
            started = time.monotonic()
            text = ""
            while wer(reference, text) > NOISY_WER_BOUND:
                text = finals.get(timeout=30)  # raises if the end of speech is never found
            assert player.poll() is None, "the dictation became final only once the noise had stopped"
            time.sleep(max(0.0, started + last_word_s + 0.8 - time.monotonic()))  # the user's pause
            reply = client.call("TOGGLE_RECORDING")
            assert player.poll() is None, "the stop came after the noise had stopped"
        reader.join(30)  # the stop's idle event ends it: never close the stream under it
        assert not reader.is_alive(), "no idle event after the stop"
    finally:
        watcher.close()
    player.kill()
    player.wait()
    assert reply["stop_path"] == "ready", reply
    assert wer(reference, reply["transcription"]) <= NOISY_WER_BOUND, reply["transcription"]
    assert "recording" not in run_v2m("status").stdout
