"""A private PulseAudio server whose default source is a null sink's monitor:
whatever `paplay --device=v2mtest` plays, the "microphone" hears, in real time.

An idle null sink renders in 2-second blocks, so its monitor would deliver
audio 2 s late, unlike any real microphone. A silent low-latency playback
stream kept connected makes the sink render in 20 ms blocks; measured here,
capture then lags 0-60 ms instead of 2 s. The sink runs at 16 kHz mono, as
the daemon captures, so no resampling blurs the test speech.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

SINK = "v2mtest"


class PulseServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="v2m-pulse-"))
        self.runtime = self.dir / "run"
        self.runtime.mkdir(mode=0o700)
        self.pid: int | None = None
        self._keepalive: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        """Variables a client (paplay, PyAudio via ALSA's pulse plugin) needs."""
        return {"PULSE_SERVER": f"unix:{self.runtime / 'pulse' / 'native'}",
                "PULSE_RUNTIME_PATH": str(self.runtime / "pulse")}

    def start(self, timeout_s: float = 15) -> "PulseServer":
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)  # stop() removed it: a restart
        env = dict(os.environ, XDG_RUNTIME_DIR=str(self.runtime), HOME=str(self.dir))
        env.pop("PULSE_SERVER", None)
        subprocess.run(
            ["pulseaudio", "-D", "-n", "--exit-idle-time=-1", "--disallow-exit",
             "--load=module-native-protocol-unix", f"--load=module-null-sink sink_name={SINK} rate=16000 channels=1",
             "--load=module-always-sink", "--log-level=info", f"--log-target=file:{self.dir / 'pulse.log'}"],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout_s)
        client_env = self.client_env()
        deadline = time.monotonic() + timeout_s
        while subprocess.run(["pactl", "info"], env=client_env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PulseAudio did not start; see {self.dir / 'pulse.log'}")
            time.sleep(0.05)
        for args in (["set-default-source", f"{SINK}.monitor"], ["set-default-sink", SINK]):
            subprocess.run(["pactl", *args], env=client_env, check=True)
        self.pid = int((self.runtime / "pulse" / "pid").read_text().strip())
        self._keepalive = subprocess.Popen(
            ["pacat", "--playback", f"--device={SINK}", "--raw", "--format=s16le", "--rate=16000",
             "--channels=1", "--latency-msec=20"],
            stdin=open("/dev/zero", "rb"), env=client_env)  # endless silence, paced by the server
        time.sleep(2.2)  # let the 2 s block rendered before the keepalive finish
        return self

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.update(self.env)
        return env

    def play(self, wav: Path, latency_ms: int = 20) -> subprocess.Popen:
        """Start "speaking" the file into the microphone; returns the paplay process."""
        return subprocess.Popen(["paplay", f"--device={SINK}", f"--latency-msec={latency_ms}", str(wav)],
                                env=self.client_env())

    def stop(self) -> None:
        if self._keepalive is not None:
            self._keepalive.kill()
            self._keepalive.wait()
            self._keepalive = None
        if self.pid is None:
            return
        try:  # by the pid it wrote, never by name
            os.kill(self.pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(self.pid, 0)
                time.sleep(0.05)
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pid = None
        shutil.rmtree(self.dir, ignore_errors=True)  # its socket, cookie and log
