"""The wired daemon: DaemonApp builds every service from the bootstrap's
factories and serves them on the socket (composition root, with bootstrap)."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from typing import Any, Callable, Mapping

from v2m import __version__
from v2m.application.daemon_control import DaemonControl
from v2m.application.dictation import DictationService
from v2m.application.file_transcription import FileTranscriptionService
from v2m.application.model_slot import ModelSlot
from v2m.application.paste_last import PasteLastService
from v2m.application.recovery import recover_spool
from v2m.application.text_commands import TextCommands
from v2m.bootstrap import (build_cues, build_engines, build_file_transcriber, build_refiner, build_server,
                           build_sinks, build_source, build_transcriber, build_vad, dictation_options,
                           open_history, text_rules_of)
from v2m.config import paths
from v2m.config.settings import Settings
from v2m.config.toml_store import TomlConfigStore
from v2m.domain import text_rules
from v2m.domain.errors import V2mError
from v2m.infrastructure.system.file_spool import FileAudioSpool
from v2m.infrastructure.system.proc_telemetry import ProcTelemetry
from v2m.infrastructure.system.serial_worker import SerialWorker
from v2m.ipc.dispatcher import Dispatcher
from v2m.ipc.events import EventBus
from v2m.ipc.server import SocketServer

log = logging.getLogger("v2m.daemon")


def build_handlers(control: DaemonControl, dictation: DictationService, files: FileTranscriptionService,
                   text: TextCommands, paste: PasteLastService) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    return {
        "PING": control.ping,
        "GET_STATUS": control.status,
        "SHUTDOWN": control.shutdown,
        "PAUSE_DAEMON": control.pause,
        "RESUME_DAEMON": control.resume,
        "GET_CONFIG": control.get_config,
        "UPDATE_CONFIG": control.update_config,
        "START_RECORDING": dictation.start,
        "STOP_RECORDING": dictation.stop,
        "TOGGLE_RECORDING": dictation.toggle,
        "CANCEL_RECORDING": dictation.cancel,
        "PASTE_LAST": paste.paste_last,
        "TRANSCRIBE_FILE": files.transcribe,
        "PROCESS_TEXT": text.process_text,
        "TRANSLATE_TEXT": text.translate_text,
    }


# What the outputs need from the desktop session: `v2m doctor` checks the
# daemon's own values, not the terminal's.
SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_CURRENT_DESKTOP",
                "XDG_SESSION_TYPE", "PATH", "YDOTOOL_SOCKET")


def session_environment() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in SESSION_VARS}


class DaemonApp:
    """The wired daemon: start() serves the socket, stop() tears it down.

    The caller holds the instance lock, so any socket file already at the
    path is a dead daemon's leftover and is removed.
    """

    def __init__(self, store: TomlConfigStore, serve: bool = False) -> None:
        from v2m.infrastructure.output.notify_send import NotifySendNotifier

        self.stop_requested = threading.Event()
        self.bus = EventBus()
        self.control = DaemonControl(store, self.bus, ProcTelemetry(), version=__version__,
                                     request_shutdown=self.stop_requested.set)
        # Typed settings, rebuilt on every accepted update (the first listener);
        # the services read them per dictation, per pass or per use.
        self.settings = Settings.from_config(self.control.config)
        self.control.add_config_listener(self._rebuild_settings)
        settings = lambda: self.settings  # noqa: E731
        self.transcriber = ModelSlot(build_transcriber(self.settings.model, lambda: settings().decode))
        # What the services use: transcription.engine, with the local model as fallback.
        self.engine, engine_files = build_engines(
            settings, self.transcriber, build_file_transcriber(lambda: self.transcriber.current))
        # One ASR thread for the daemon's life: the model stays warm in it.
        self.worker = SerialWorker("v2m-asr")
        self.history = open_history()
        self.spool = FileAudioSpool(paths.state_dir() / "spool")
        self.refiner = build_refiner(lambda: settings().llm)
        self.dictation = DictationService(
            self.control,
            source=lambda: build_source(settings().audio.device),
            vad=lambda: build_vad(settings().audio),
            transcriber=self.engine, worker=self.worker,
            sinks=lambda: build_sinks(settings().output),
            notifier=NotifySendNotifier(lambda: settings().output.notify),
            history=self.history, spool=self.spool, events=self.bus,
            options=lambda: dictation_options(settings()),
            rules=lambda: text_rules_of(settings().text, settings().decode.language),
            refiner=lambda: self.refiner if settings().llm.refine else None,
            cues=lambda: build_cues(settings().feedback),
            min_hold_ms=lambda: settings().audio.min_hold_ms)
        vocabulary = lambda: text_rules.vocabulary_prompt(list(settings().text.vocabulary))  # noqa: E731
        self.files = FileTranscriptionService(self.control, engine_files, self.worker, self.bus, prompt=vocabulary)
        self.http = build_server(self.settings.server, serve, lambda: self.control.state, self.engine,
                                 self.transcriber, self.worker, vocabulary)
        self.control.add_status_provider(self._engine_status)
        self.control.add_config_check(self._prepare_model)
        paste = PasteLastService(self.history, lambda: settings().output.sinks,
                                 lambda names: build_sinks(dataclasses.replace(settings().output, sinks=tuple(names))))
        handlers = build_handlers(self.control, self.dictation, self.files, TextCommands(lambda: self.refiner), paste)
        self.server = SocketServer(paths.socket_path(), Dispatcher(handlers), self.bus)

    def wait_model_loaded(self, timeout_s: float | None = None) -> None:
        """Block until the first model load has finished; raises its ModelError."""
        self._model_load.result(timeout=timeout_s)

    def _rebuild_settings(self, config: Mapping[str, Any]) -> None:
        self.settings = Settings.from_config(config)
        logging.getLogger().setLevel(self.settings.log.level.upper())

    def _engine_status(self) -> dict[str, Any]:
        current = self.transcriber.current
        engine = {**self.engine.choice.status(), "remote": self.engine.model_names()["openai"]}
        server = {"server": self.http.status()} if self.http else {}
        return {**self.dictation.status(), "model_loaded": current.loaded, "compute": current.device,
                "model_path": str(current.path), "session": session_environment(), "engine": engine, **server}

    def _prepare_model(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> Callable[[], None] | None:
        """UPDATE_CONFIG of the model: load the new one first; a failure refuses
        the update, so the old model keeps serving and the file is unchanged.
        The swap is the commit, run only once the file is written."""
        model = Settings.from_config(new).model
        if model == Settings.from_config(old).model:
            return None
        build = lambda: build_transcriber(model, lambda: self.settings.decode)  # noqa: E731
        # Loaded on the ASR thread, after any queued dictation work.
        candidate = self.worker.submit(self.transcriber.prepare, build).result()

        def swap() -> None:
            self.transcriber.swap(candidate)
            log.info("now using model %s", self.transcriber.model_name)
        return swap

    def start(self) -> None:
        # The local model: now, unless the remote engine serves and it is not kept warm.
        self._model_load = self.worker.submit(self.engine.load)
        self.worker.submit(build_vad, self.settings.audio)  # loads Silero's model before the first dictation
        sock_path = self.server.path
        if sock_path.exists() or sock_path.is_symlink():
            log.info("removing stale socket %s", sock_path)
            sock_path.unlink()
        self.server.start()
        if self.http is not None:
            try:
                self.http.start()
            except V2mError as exc:  # a taken port must not cost the user dictation
                log.error("%s; dictation works, the HTTP server is off", exc)
                self.http = None
        threading.Thread(target=self._recover, name="v2m-recover", daemon=True).start()

    def _recover(self) -> None:
        try:
            count = recover_spool(self.spool, self.history, self.dictation.recovery_session,
                                  self.transcriber.model_name)
            if count:
                log.info("recovered %d unfinished dictation(s) into the history", count)
        except Exception:
            log.exception("spool recovery failed")

    def stop(self) -> None:
        self.dictation.close()  # the microphone closes first, whatever the clients do
        self.server.stop()
        if self.http is not None:
            self.http.stop()
        self.worker.shutdown(wait=False, cancel_futures=True)
