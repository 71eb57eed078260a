"""Audio and video files to transcribe: checks, then decoding with PyAV.

PyAV bundles FFmpeg's libraries (through faster-whisper), so any container
and codec FFmpeg reads works without an ffmpeg binary.

A file is opened once, and what was opened is checked (fstat) and decoded:
the path is never opened again, so swapping it for a FIFO or a device after
the check changes nothing. Decoding streams blocks of samples, so memory does
not grow with the file's length.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import stat
import time
from typing import Iterator

from v2m.domain.errors import MediaError

SAMPLE_RATE_HZ = 16_000
BLOCK_SAMPLES = 500_000        # source samples resampled at a time, as faster-whisper's decode_audio does
DECODE_GRACE_S = 60.0          # decoding may take this long, plus
DECODE_S_PER_AUDIO_S = 10.0    # this many seconds per second of audio decoded, before it is called stuck
_HINT = "give the path of an audio or video file"
# No protocol is called this: FFmpeg may open nothing by URL on its own.
# Playlists (HLS, DASH), concat lists and image patterns name other files,
# which it would open by path, unchecked (a FIFO hangs it); an SDP file has
# it listen for RTP on a UDP port, for ever.
_NO_PROTOCOLS = "none"


def check_readable(path: str) -> None:
    """Raise MediaError unless `path` is a regular file this user may read."""
    os.close(open_checked(path))


def open_checked(path: str) -> int:
    """A read-only descriptor on `path`, a regular file this user may read.

    Devices and FIFOs are refused before anything opens them (reading
    /dev/zero, or a FIFO without a writer, would hang the daemon). Should the
    path be swapped after that look, O_NONBLOCK still returns at once, and the
    fstat of what was opened refuses it.
    """
    _refuse_unless_readable(path, _stat(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        raise MediaError(f"no such file: {path}", "check the path") from None
    except OSError as exc:
        raise MediaError(f"cannot open {path}: {exc.strerror or exc}", "check its permissions") from None
    try:
        _refuse_unless_readable(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def mode_allows_read(st: os.stat_result, uid: int, gid: int, groups: list[int]) -> bool:
    """The owner, group or other read bit that applies to this user.

    Decided from the mode bits, not os.access: as root, os.access always says
    yes, and a daemon running as root must not read what its user could not.
    """
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IRUSR)
    if st.st_gid == gid or st.st_gid in groups:
        return bool(st.st_mode & stat.S_IRGRP)
    return bool(st.st_mode & stat.S_IROTH)


class AudioStream:
    """The first audio stream of an opened container."""

    def __init__(self, path: str, container) -> None:
        self.path = path
        self._container = container
        self._stream = container.streams.audio[0]

    @property
    def duration_s(self) -> float | None:
        """The length the container declares, if any (it may be wrong)."""
        stream, container = self._stream, self._container
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        return container.duration / 1_000_000 if container.duration and container.duration > 0 else None

    def blocks(self) -> Iterator:
        """Float32 16 kHz mono samples (numpy arrays), block by block.

        The samples are faster-whisper's decode_audio's: s16 from FFmpeg's
        resampler, over 32768. Raises MediaError should decoding run past
        DECODE_GRACE_S + DECODE_S_PER_AUDIO_S per second decoded; the time
        the caller spends between blocks does not count.
        """
        import av

        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE_HZ)
        fifo, clock = av.AudioFifo(), _DecodeClock(self.path)
        try:
            for packet in self._container.demux(self._stream):
                clock.check()
                for frame in _decode(packet):
                    frame.pts = None  # no timestamp checks, as decode_audio
                    fifo.write(frame)
                    if fifo.samples >= BLOCK_SAMPLES:
                        yield from clock.timed(_resample(resampler, fifo.read()))
            yield from clock.timed(_resample(resampler, fifo.read() if fifo.samples else None, flush=True))
        except (av.error.FFmpegError, OSError) as exc:
            raise _not_media(self.path, exc) from exc
        finally:
            del resampler
            gc.collect()  # the resampler's buffers outlive it otherwise (faster-whisper #390)


@contextlib.contextmanager
def open_audio(path: str) -> Iterator[AudioStream]:
    """`path` opened once and checked (open_checked), its first audio stream
    ready to decode from that descriptor."""
    file = _Descriptor(open_checked(path), path)
    try:
        with _container(file, path) as container:
            if not container.streams.audio:
                raise MediaError(f"{path} has no audio stream", "give a file with a sound track")
            yield AudioStream(path, container)
    finally:
        file.close()


def decode(path: str):
    """The whole first audio stream at once, as float32 16 kHz mono samples.

    Holds the file's length in memory: for short files and tests. Transcription
    streams open_audio(path).blocks() instead.
    """
    import numpy as np

    with open_audio(path) as audio:
        return np.concatenate([np.zeros(0, np.float32), *audio.blocks()])


class _DecodeClock:
    """The time spent decoding (not between blocks) against the audio decoded."""

    def __init__(self, path: str) -> None:
        self._path, self._busy_s, self._audio_s = path, 0.0, 0.0
        self._since = time.monotonic()

    def check(self) -> None:
        now = time.monotonic()
        self._busy_s += now - self._since
        self._since = now
        if self._busy_s > DECODE_GRACE_S + DECODE_S_PER_AUDIO_S * self._audio_s:
            raise MediaError(f"gave up decoding {self._path}: {self._busy_s:.0f} s for {self._audio_s:.0f} s of "
                             "audio", "convert it to a plain audio file (e.g. FLAC) and try again")

    def timed(self, blocks: Iterator) -> Iterator:
        for block in blocks:
            self.check()
            self._audio_s += len(block) / SAMPLE_RATE_HZ
            yield block
            self._since = time.monotonic()  # the caller's time is not decoding


class _Descriptor:
    """An open descriptor as the file object PyAV reads.

    Seek errors come back as FFmpeg's negative error codes: an exception
    raised in PyAV's callbacks is printed to stderr, and raised later.
    """

    def __init__(self, fd: int, name: str) -> None:
        self._fd, self.name = fd, name  # the name FFmpeg sees: formats it guesses from the extension

    def read(self, size: int) -> bytes:
        return os.read(self._fd, size)

    def seek(self, offset: int, whence: int) -> int:
        try:
            return os.lseek(self._fd, offset, whence)
        except OSError as exc:
            return -(exc.errno or errno.EIO)

    def tell(self) -> int:
        return os.lseek(self._fd, 0, os.SEEK_CUR)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _container(file: _Descriptor, path: str):
    import av

    try:
        return av.open(file, metadata_errors="ignore", options={"protocol_whitelist": _NO_PROTOCOLS})
    except (av.error.FFmpegError, OSError) as exc:  # OSError: a read error, raised by PyAV after the fact
        raise _not_media(path, exc) from exc


def _decode(packet) -> list:
    import av

    try:
        return packet.decode()
    except av.error.InvalidDataError:  # a damaged packet: skip it, as decode_audio does
        return []


def _resample(resampler, frame, flush: bool = False) -> Iterator:
    import numpy as np

    frames = resampler.resample(frame) if frame is not None else []
    for out in frames + (resampler.resample(None) if flush else []):
        yield out.to_ndarray().reshape(-1).astype(np.float32) / 32768.0


def _refuse_unless_readable(path: str, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(f"{path} is a directory, not a file", _HINT)
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(f"{path} is not a regular file ({_kind(st.st_mode)})", _HINT)
    if not mode_allows_read(st, os.geteuid(), os.getegid(), os.getgroups()):
        raise MediaError(f"{path} is not readable by you (mode {stat.filemode(st.st_mode)}, owner uid {st.st_uid})",
                         f"make it readable, e.g. `chmod u+r {path}`")


def _stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)  # follows symlinks: a link to /dev/zero is a device
    except FileNotFoundError:
        raise MediaError(f"no such file: {path}", "check the path") from None
    except PermissionError:
        raise MediaError(f"cannot reach {path}: permission denied on a directory in its path",
                         "check the directories' permissions") from None
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from None


def _not_media(path: str, exc: Exception) -> MediaError:
    import av

    if isinstance(exc, OSError) and not isinstance(exc, av.error.FFmpegError):
        return MediaError(f"cannot read {path}: {exc.strerror or exc}")
    return MediaError(f"{path} is not an audio or video file FFmpeg can decode "
                      f"({getattr(exc, 'strerror', None) or exc})", _HINT)


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a plain file")
