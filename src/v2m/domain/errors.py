"""One error tree for v2m. Each error says what the user should do next.

The CLI maps these to exit codes in one place (`v2m.cli.main`); the daemon
turns them into error replies. Nothing here does I/O.
"""

from __future__ import annotations


class V2mError(Exception):
    """Base of every error v2m reports to a user."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class ConfigError(V2mError):
    """A config file, environment variable or update is invalid."""


class DaemonNotRunning(V2mError):
    def __init__(self, socket_path: str) -> None:
        super().__init__(
            f"the v2m daemon is not running (no socket at {socket_path})",
            "start it with `v2m daemon`, or enable the user service",
        )


class DaemonAlreadyRunning(V2mError):
    def __init__(self, pid: int | None, lock_path: str) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"a v2m daemon is already running ({who}, lock {lock_path})",
            "stop it with `v2m shutdown` first",
        )
        self.pid = pid


class InsecureRuntimeDir(V2mError):
    """The runtime directory is not ours or is open to other users."""


class DaemonError(V2mError):
    """The daemon answered a request with an error reply."""


class DaemonTimeout(V2mError):
    """The daemon did not answer within the client's timeout."""


class InvalidRequest(V2mError):
    """A request is malformed: missing command, bad data, unknown command."""


class InvalidState(V2mError):
    """The command does not apply in the daemon's current state."""


class NoSpeech(V2mError):
    def __init__(self) -> None:
        super().__init__("no speech detected", "speak after `v2m toggle`, or check `v2m devices`")


class AudioDeviceError(V2mError):
    """The microphone is missing, busy or failed."""


class ModelError(V2mError):
    """The Whisper model cannot be found or loaded."""


class OutputError(V2mError):
    """A text output (clipboard, typing, notification) failed."""


class MediaError(V2mError):
    """A file to transcribe is missing, unreadable or not audio."""


class LlmError(V2mError):
    """The language model (refinement, translation) failed or gave unusable output."""
