"""Routes a decoded request to its handler and turns the outcome into a reply."""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from v2m.ipc import edge, protocol
from v2m.domain.errors import V2mError

log = logging.getLogger(__name__)

Handler = Callable[[Mapping[str, Any]], Any]

# Error replies never echo a request back whole: a 1 MiB "cmd" would make an
# error too big to send.
MAX_ERROR_CHARS = 2000
MAX_ECHO_CHARS = 64


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit] + f"… ({len(value)} characters)"


class Dispatcher:
    """`handlers` take the typed command that `parse(cmd, data)` (ipc.edge) makes."""

    def __init__(self, handlers: Mapping[str, Handler],
                 parse: Callable[[str, Mapping[str, Any]], Any] = edge.parse) -> None:
        self._handlers = dict(handlers)
        self._parse = parse

    @property
    def commands(self) -> list[str]:
        return sorted(self._handlers)

    def __call__(self, message: Mapping[str, Any]) -> dict[str, Any]:
        cmd = message.get("cmd")
        if not isinstance(cmd, str) or not cmd:
            return protocol.error('request needs a "cmd" string, e.g. {"cmd": "PING", "data": {}}')
        handler = self._handlers.get(cmd)
        if handler is None:
            return protocol.error(f"unknown command {_short(cmd, MAX_ECHO_CHARS)!r}; "
                                  f"known: {', '.join(self.commands)}")
        data = message.get("data")
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            return protocol.error(f'"data" of {cmd} must be a JSON object')
        try:
            return protocol.success(handler(self._parse(cmd, data)))
        except V2mError as exc:
            message_text = _short(str(exc), MAX_ERROR_CHARS)
            log.info("%s failed: %s", cmd, message_text)
            return protocol.error(message_text)
        except RecursionError:
            return protocol.error(f'"data" of {cmd} is nested too deeply')
        except Exception:  # the daemon must survive any handler bug
            log.exception("internal error while handling %s", cmd)
            return protocol.error(f"internal error while handling {cmd}; see the daemon log")
