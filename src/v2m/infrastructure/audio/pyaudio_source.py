"""AudioSource over PyAudio (PortAudio): 16 kHz mono s16le in 30 ms frames.

The device is open only while recording. Capture reaches us late (PortAudio,
ALSA's pulse plugin and PulseAudio/PipeWire each buffer), so stop() does not
just close the stream: it keeps reading until the samples captured up to the
moment of the stop have arrived, or the last words would be lost.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import math
import threading
import time
from typing import Any, Callable

from v2m.domain.audio_math import FRAME_BYTES, SAMPLE_RATE_HZ
from v2m.domain.errors import AudioDeviceError

log = logging.getLogger(__name__)

# The longest we wait at stop for in-flight audio.
MAX_DRAIN_S = 2.5

_alsa_handler = None


def _quiet_alsa() -> None:
    """PortAudio's device scan makes ALSA print dozens of harmless errors to
    stderr on machines without a sound card; route them nowhere."""
    global _alsa_handler
    if _alsa_handler is not None:
        return
    try:
        asound = ctypes.cdll.LoadLibrary("libasound.so.2")
    except OSError:
        return
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                    ctypes.c_int, ctypes.c_char_p)
    _alsa_handler = handler_type(lambda *args: None)
    asound.snd_lib_error_set_handler(_alsa_handler)


def _open_portaudio():
    """PortAudio's device scan also probes JACK, which prints to fd 2 when no
    JACK server runs; hide fd 2 for the scan (the log file is unaffected).

    PortAudio aborts the process when ALSA has no configuration, so that is
    checked first (alsa_probe): a missing or broken audio stack is an
    AudioDeviceError saying what to install, never the end of the daemon."""
    from v2m.infrastructure.audio.alsa_probe import check_portaudio_safe

    _quiet_alsa()
    check_portaudio_safe()
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    try:
        import pyaudio
    except ImportError as exc:  # libportaudio.so.2 or the libasound.so.2 it needs is missing
        raise AudioDeviceError(f"cannot load PortAudio: {exc}",
                               "install libasound2 (Debian/Ubuntu), alsa-lib (Fedora/Arch)") from None

    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        return pyaudio, pyaudio.PyAudio()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _PortAudio:
    """One PortAudio instance for the daemon's life.

    Initialising PortAudio scans every ALSA/JACK device (about 180 ms here);
    opening a stream on a live instance takes 2-4 ms. Keeping the instance
    keeps `v2m toggle` to first sample short; the microphone itself is still
    opened only while recording. A device missing from the instance's list
    (plugged in later) triggers one rescan.
    """

    _lock = threading.Lock()
    _instance: tuple[Any, Any] | None = None

    @classmethod
    def get(cls, rescan: bool = False) -> tuple[Any, Any]:
        with cls._lock:
            if cls._instance is not None and rescan:
                cls._instance[1].terminate()
                cls._instance = None
            if cls._instance is None:
                cls._instance = _open_portaudio()
            return cls._instance


def list_input_devices() -> list[dict[str, Any]]:
    """PortAudio's inputs (ALSA devices: `pulse`, `default`, hw:...), then the
    sound server's sources by name ("kind": "pulse", "index": None, monitors
    marked "monitor"), any of which audio.device can name."""
    from v2m.infrastructure.audio import pulse_sources

    pyaudio, pa = _open_portaudio()
    try:
        try:
            default = pa.get_default_input_device_info()["index"]
        except OSError:
            default = None
        found = [{"index": info["index"], "name": info["name"], "channels": info["maxInputChannels"],
                  "sample_rate_hz": int(info["defaultSampleRate"]), "default": info["index"] == default,
                  "kind": "alsa"}
                 for info in _inputs(pa)]
    finally:
        pa.terminate()
    return found + [source.as_dict() for source in pulse_sources.list_sources()]


def _inputs(pa: Any) -> list[dict[str, Any]]:
    return [info for info in map(pa.get_device_info_by_index, range(pa.get_device_count()))
            if info["maxInputChannels"] > 0]


def find_device(pa: Any, wanted: str) -> tuple[dict[str, Any], Any]:
    """(the PortAudio device to open, the PulseSource to record from through
    it or None). "" is the default input; digits are an index; anything else
    part of a PortAudio device's name, else a PulseAudio/PipeWire source's
    name (or part of its name or description)."""
    from v2m.infrastructure.audio import pulse_sources

    inputs = _inputs(pa)
    if not wanted:
        try:
            return pa.get_default_input_device_info(), None
        except OSError:
            raise AudioDeviceError("no default microphone", "connect one, or set audio.device "
                                   "(see `v2m devices`)") from None
    for info in inputs:
        if wanted.isdigit() and info["index"] == int(wanted) or \
                not wanted.isdigit() and wanted.lower() in info["name"].lower():
            return info, None
    sources = [] if wanted.isdigit() else pulse_sources.list_sources()
    source = pulse_sources.find_source(wanted, sources)
    if source is not None:
        return _pulse_device(inputs, source), source
    names = ", ".join(f"{i['index']}: {i['name']}" for i in inputs) or "none"
    named = f"; sources: {', '.join(s.name for s in sources)}" if sources else ""
    hint = "fix audio.device; `v2m devices` lists them"
    if not sources and not wanted.isdigit() and not pulse_sources.have_pactl():
        hint += f" ({pulse_sources.INSTALL_PACTL})"
    raise AudioDeviceError(f"no input device matches audio.device = {wanted!r} (inputs: {names}{named})", hint)


def _pulse_device(inputs: list[dict[str, Any]], source: Any) -> dict[str, Any]:
    """The ALSA device that reaches the sound server: `pulse`, else `default`."""
    for name in ("pulse", "default"):
        for info in inputs:
            if info["name"] == name:
                return info
    raise AudioDeviceError(f"{source.name!r} is a PulseAudio/PipeWire source, but ALSA has no `pulse` device "
                           "to record it through", "install libasound2-plugins (Debian/Ubuntu), "
                           "alsa-plugins-pulseaudio (Fedora, Arch)")


class PyAudioSource:
    def __init__(self, device: str = "") -> None:
        self._wanted = device
        self.device_name = device or "default microphone"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_frame: Callable[[bytes], None], on_error: Callable[[Exception], None]) -> None:
        try:
            pyaudio, stream, rate, chunk = self._open(rescan=False)
        except AudioDeviceError:
            pyaudio, stream, rate, chunk = self._open(rescan=True)  # a device plugged in since
        self._thread = threading.Thread(
            target=self._capture, args=(stream, rate, chunk, on_frame, on_error),
            name="v2m-capture", daemon=True)
        self._thread.start()

    def _open(self, rescan: bool) -> tuple[Any, Any, int, int]:
        from v2m.infrastructure.audio import pulse_sources

        pyaudio, pa = _PortAudio.get(rescan)
        try:
            info, source = find_device(pa, self._wanted)
            self.device_name = info["name"] if source is None else source.description or source.name
            named = pulse_sources.recording_from(source.name) if source else contextlib.nullcontext()
            with named:  # PULSE_SOURCE is read when the device opens
                rate = self._pick_rate(pa, pyaudio, info)
                chunk = rate * 30 // 1000
                stream = pa.open(format=pyaudio.paInt16, channels=1, rate=rate, input=True,
                                 input_device_index=info["index"], frames_per_buffer=chunk)
        except AudioDeviceError:
            raise
        except Exception as exc:
            raise AudioDeviceError(f"cannot open microphone {self.device_name!r}: {exc}",
                                   "check `v2m devices` and audio.device") from None
        if source is not None:
            log.info("recording from the source %s through the ALSA device %s", source.name, info["name"])
        return pyaudio, stream, rate, chunk

    def stop(self, drain: bool = True) -> None:
        self._stop_at = time.monotonic()
        self._drain = drain
        self._stop.set()
        if self._thread is not None:
            self._thread.join(MAX_DRAIN_S + 2.0)

    @staticmethod
    def _pick_rate(pa: Any, pyaudio: Any, info: dict[str, Any]) -> int:
        try:
            if pa.is_format_supported(SAMPLE_RATE_HZ, input_device=info["index"], input_channels=1,
                                      input_format=pyaudio.paInt16):
                return SAMPLE_RATE_HZ
        except ValueError:
            pass
        return int(info["defaultSampleRate"])  # resampled to 16 kHz as we read

    def _capture(self, stream: Any, rate: int, chunk: int,
                 on_frame: Callable[[bytes], None], on_error: Callable[[Exception], None]) -> None:
        framer = _Framer(rate, on_frame)
        received = 0
        # When the stream's first sample was heard, bounded from above by every
        # read: its last sample was heard before the read returned. The sound
        # server starts the stream some time after open() returns (longer on a
        # busy machine), so the open time would overstate what is due at stop.
        first_heard = math.inf
        try:
            while True:
                if self._stop.is_set():
                    due = (self._stop_at - first_heard) * rate  # every sample heard before the stop
                    if not self._drain or received >= due or time.monotonic() - self._stop_at > MAX_DRAIN_S:
                        break
                data = stream.read(chunk, exception_on_overflow=False)
                received += len(data) // 2
                first_heard = min(first_heard, time.monotonic() - received / rate)
                framer.push(data)
        except Exception as exc:  # the device went away mid-recording
            log.error("capture from %s failed: %s", self.device_name, exc)
            if not self._stop.is_set():
                on_error(AudioDeviceError(f"microphone {self.device_name!r} failed: {exc}"))
        finally:
            framer.flush()
            try:
                stream.stop_stream()
                stream.close()
            except Exception:
                pass


class _Framer:
    """Cuts device reads into 960-byte 16 kHz frames, resampling if needed."""

    def __init__(self, rate: int, on_frame: Callable[[bytes], None]) -> None:
        self._rate = rate
        self._on_frame = on_frame
        self._buffer = bytearray()

    def push(self, data: bytes) -> None:
        if self._rate != SAMPLE_RATE_HZ:
            from v2m.infrastructure.audio.resample import to_16k

            data = to_16k(data, self._rate)
        self._buffer += data
        while len(self._buffer) >= FRAME_BYTES:
            self._on_frame(bytes(self._buffer[:FRAME_BYTES]))
            del self._buffer[:FRAME_BYTES]

    def flush(self) -> None:
        if self._buffer:  # pad the last partial frame with silence
            self._on_frame(bytes(self._buffer) + bytes(FRAME_BYTES - len(self._buffer)))
            self._buffer.clear()


