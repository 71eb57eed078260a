"""The socket edge: request data into typed commands.

One place knows the wire's field names, the seed clients' ones included
(UPDATE_CONFIG's table as `data` itself, TRANSCRIBE_FILE's `file_path`,
TRANSLATE_TEXT's `target_lang`); the services get typed commands.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping

import v2m.application.commands as c
from v2m.config import schema
from v2m.domain.errors import InvalidRequest
from v2m.domain.languages import parse_language

MAX_TEXT_CHARS = 100_000  # PROCESS_TEXT / TRANSLATE_TEXT: far past any dictation


def _text(data: Mapping[str, Any]) -> str:
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("data.text must be the text to process")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"data.text has {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text


def _language(data: Mapping[str, Any]) -> str | None:
    value = data.get("language")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequest("data.language must be a language code such as \"es\", or \"auto\"")
    if value == "auto":
        return value
    try:
        return parse_language(value)[0]
    except ValueError as exc:
        raise InvalidRequest(f"data.language: {exc}") from None


def resolve_path(path: Any, cwd: Any) -> str:
    """The client's path as an absolute one: relative paths are the client's,
    resolved against the working directory it sent, never the daemon's."""
    if not isinstance(path, str) or not path:
        raise InvalidRequest("TRANSCRIBE_FILE needs data.path, the file to transcribe")
    if "\0" in path or (isinstance(cwd, str) and "\0" in cwd):
        raise InvalidRequest("data.path and data.cwd cannot contain a NUL character")
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return os.path.normpath(path)
    if not isinstance(cwd, str) or not os.path.isabs(cwd):
        raise InvalidRequest(f"relative path {path[:200]!r} needs data.cwd, the client's working directory",
                             "send an absolute path, or the absolute cwd beside it")
    return os.path.normpath(os.path.join(cwd, path))


def _update(data: Mapping[str, Any]) -> c.UpdateConfig:
    partial = data.get("updates", data)  # seed clients send the table itself
    if not isinstance(partial, Mapping) or not partial:
        raise InvalidRequest('UPDATE_CONFIG needs a table of settings, e.g. {"log": {"level": "debug"}}')
    return c.UpdateConfig(partial, tuple(schema.flatten(partial)))


def _paste_last(data: Mapping[str, Any]) -> c.PasteLast:
    typed = data.get("type", False)
    if not isinstance(typed, bool):
        raise InvalidRequest('data.type of PASTE_LAST must be true (type the text) or false (paste it)')
    return c.PasteLast(typed)


def _translate(data: Mapping[str, Any]) -> c.TranslateText:
    target = data.get("to", data.get("target_lang", data.get("language")))
    if not isinstance(target, str) or not target.strip():
        raise InvalidRequest("data.to must name the target language (a code such as \"de\", or a name)")
    return c.TranslateText(_text(data), target)


PARSERS: dict[str, Callable[[Mapping[str, Any]], c.Command]] = {
    "PING": lambda d: c.Ping(),
    "GET_STATUS": lambda d: c.GetStatus(),
    "SHUTDOWN": lambda d: c.Shutdown(),
    "PAUSE_DAEMON": lambda d: c.PauseDaemon(),
    "RESUME_DAEMON": lambda d: c.ResumeDaemon(),
    "GET_CONFIG": lambda d: c.GetConfig(),
    "UPDATE_CONFIG": _update,
    "START_RECORDING": lambda d: c.StartRecording(_language(d)),
    "TOGGLE_RECORDING": lambda d: c.ToggleRecording(_language(d)),
    "STOP_RECORDING": lambda d: c.StopRecording(),
    "CANCEL_RECORDING": lambda d: c.CancelRecording(),
    "PASTE_LAST": _paste_last,
    "TRANSCRIBE_FILE": lambda d: c.TranscribeFile(resolve_path(d.get("path", d.get("file_path")), d.get("cwd"))),
    "PROCESS_TEXT": lambda d: c.ProcessText(_text(d)),
    "TRANSLATE_TEXT": _translate,
}


def parse(cmd: str, data: Mapping[str, Any]) -> c.Command:
    """The typed command for a known `cmd` (see PARSERS); InvalidRequest if its data is wrong."""
    return PARSERS[cmd](data)
