"""Daemon logging: stderr and a rotating file, with secrets redacted."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Values of these variables never reach a log line (see RedactSecrets).
SECRET_SUFFIXES = ("_TOKEN", "_API_KEY", "_SECRET", "_PASSWORD")


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            for secret in self._secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    environ = dict(os.environ) if environ is None else environ
    return [v for k, v in environ.items() if k.upper().endswith(SECRET_SUFFIXES) and v]


def setup(level: str, log_file: Path) -> None:
    # The log names the files you transcribe: 0600 in a 0700 directory.
    log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(log_file.parent, 0o700)
    os.close(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
    os.chmod(log_file, 0o600)
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level.upper())
    redact = RedactSecrets(secret_values())
    stderr = logging.StreamHandler()
    to_file = logging.handlers.RotatingFileHandler(log_file, maxBytes=2**20, backupCount=3,
                                                   encoding="utf-8")
    for handler in (stderr, to_file):
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(redact)
        root.addHandler(handler)
