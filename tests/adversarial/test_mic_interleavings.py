"""The privacy invariant on the real microphone path: PyAudio, ALSA's pulse
plugin and a private PulseAudio server, with the daemon's real services.

After any interleaving of START, STOP, TOGGLE, CANCEL, PAUSE, RESUME,
TRANSCRIBE_FILE and SHUTDOWN, sent from real threads at once, the
microphone is open exactly when the state is `recording`. "Open" is what
PulseAudio itself lists as recording streams (`pactl list short
source-outputs`), read while the daemon's control lock is held, so no
transition can slip between the two readings.
"""

from __future__ import annotations

import random
import subprocess
import threading

import pytest

from v2m.config import paths
from v2m.ipc.instance_lock import InstanceLock

COMMANDS = ("START_RECORDING", "STOP_RECORDING", "TOGGLE_RECORDING", "CANCEL_RECORDING", "PAUSE_DAEMON",
            "RESUME_DAEMON", "TRANSCRIBE_FILE")
LIVES = 4                 # daemons started; each ends with a SHUTDOWN racing other commands
INTERLEAVINGS = 1000      # in all, over the lives


def recording_streams(pulse) -> int:
    out = subprocess.run(["pactl", "list", "short", "source-outputs"], env=pulse.client_env(),
                         capture_output=True, text=True, check=True, timeout=10).stdout
    return len(out.strip().splitlines())


@pytest.fixture
def mic_daemon_factory(pulse, xdg, monkeypatch, speech_dir):
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("V2M_OUTPUT__NOTIFY", "false")
    from v2m.bootstrap import open_config_store
    from v2m.daemon_app import DaemonApp

    paths.ensure_private_dir(paths.runtime_dir())
    lock = InstanceLock(paths.lock_path())
    lock.acquire()
    apps = []

    def start():
        app = DaemonApp(open_config_store())
        app.start()
        app.wait_model_loaded(120)
        apps.append(app)
        return app
    yield start
    for app in apps:
        app.stop()
        assert app.worker.join(120)
    lock.release()


def request(app, cmd: str, wav: str) -> dict:
    data = {"path": wav} if cmd == "TRANSCRIBE_FILE" else {}
    return app.server._dispatch({"cmd": cmd, "data": data})


def invariant(app, pulse) -> tuple[bool, str]:
    with app.control.transition():
        state, streams = app.control.state.value, recording_streams(pulse)
    return (streams == (1 if state == "recording" else 0)), f"state {state} with {streams} recording stream(s)"


@pytest.mark.timeout(900)
def test_microphone_is_open_exactly_while_recording_under_random_interleavings(mic_daemon_factory, pulse,
                                                                               speech_dir):
    rng = random.Random(12)
    wav = str(speech_dir / "silence.wav")
    checked, opened = 0, 0
    for life in range(LIVES):
        app = mic_daemon_factory()
        rounds = INTERLEAVINGS // LIVES
        for n in range(rounds):
            names = [rng.choice(COMMANDS) for _ in range(rng.randint(2, 4))]
            last = n == rounds - 1
            if last:
                names.append("SHUTDOWN")
            barrier = threading.Barrier(len(names))
            replies: list[dict] = []

            def run(cmd: str) -> None:
                barrier.wait()
                if cmd == "SHUTDOWN":
                    request(app, cmd, wav)
                    app.stop()  # what the daemon's main thread does on SHUTDOWN
                else:
                    replies.append(request(app, cmd, wav))
            threads = [threading.Thread(target=run, args=(c,)) for c in names]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
                assert not t.is_alive(), f"a request hung: {names}"
            ok, seen = invariant(app, pulse)
            assert ok, f"after {names} (life {life}, round {n}): {seen}; replies {replies}"
            checked += 1
            opened += app.control.state.value == "recording"
        assert recording_streams(pulse) == 0 and app.control.state.value != "recording"
    assert checked == INTERLEAVINGS and opened > INTERLEAVINGS // 10  # the mic was open often enough to matter
    print(f"\n{checked} interleavings, {opened} ended recording, microphone left open: 0")
