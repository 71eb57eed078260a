"""Audio and video files to transcribe: checks, then decoding with PyAV.

PyAV bundles FFmpeg's libraries (through faster-whisper), so any container
and codec FFmpeg reads works without an ffmpeg binary.
"""

from __future__ import annotations

import os
import stat

from v2m.domain.errors import MediaError

SAMPLE_RATE_HZ = 16_000
_HINT = "give the path of an audio or video file"


def check_readable(path: str) -> None:
    """Raise MediaError unless `path` is a regular file this user may read.

    Devices and FIFOs are refused before anything opens them: reading
    /dev/zero or a FIFO without a writer would hang the daemon.
    """
    st = _stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(f"{path} is a directory, not a file", _HINT)
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(f"{path} is not a regular file ({_kind(st.st_mode)})", _HINT)
    if not mode_allows_read(st, os.geteuid(), os.getegid(), os.getgroups()):
        raise MediaError(f"{path} is not readable by you (mode {stat.filemode(st.st_mode)}, owner uid {st.st_uid})",
                         f"make it readable, e.g. `chmod u+r {path}`")
    _try_open(path)


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


def decode(path: str):
    """The first audio stream as float32 16 kHz mono samples (numpy array)."""
    import av
    from faster_whisper import decode_audio

    try:
        with av.open(path, metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise MediaError(f"{path} has no audio stream", "give a file with a sound track")
        return decode_audio(path, sampling_rate=SAMPLE_RATE_HZ)
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path} is not an audio or video file FFmpeg can decode "
                         f"({getattr(exc, 'strerror', None) or exc})", _HINT) from exc


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


def _try_open(path: str) -> None:
    # O_NONBLOCK: should the file have been swapped for a FIFO since the stat,
    # this open still returns at once, and the fstat below refuses it.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise MediaError(f"cannot open {path}: {exc.strerror or exc}", "check its permissions") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MediaError(f"{path} is not a regular file", _HINT)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a plain file")
