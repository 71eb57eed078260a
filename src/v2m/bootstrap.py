"""Composition root: the one place that wires adapters into services.

The factories here serve the daemon (DaemonApp) and the CLI commands that
work without it; the daemon's process lifetime is v2m.daemon.

Heavy adapters (faster-whisper, PyAudio, numpy) are imported inside the
functions that build them, so `v2m config set` and `v2m history`, which
reach this module for the config store and the history, stay fast.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable, Mapping

from v2m import __version__
from v2m.application.daemon_control import DaemonControl
from v2m.application.dictation import DictationService
from v2m.application.dictation_session import DictationOptions
from v2m.application.file_transcription import FileTranscriptionService
from v2m.application.model_slot import ModelSlot
from v2m.application.recovery import recover_spool
from v2m.application.text_commands import TextCommands
from v2m.application.text_refinement import TextRefiner
from v2m.infrastructure.system import logging_setup
from v2m.config import paths
from v2m.config.settings import AudioOptions, DecodeOptions, LlmOptions, ModelLoadOptions, OutputOptions, Settings, TextOptions
from v2m.ipc.dispatcher import Dispatcher
from v2m.ipc.events import EventBus
from v2m.ipc.server import SocketServer
from v2m.domain import text_rules
from v2m.domain.errors import ModelError, V2mError
from v2m.domain.segmenter import SegmenterOptions
from v2m.infrastructure.system.file_spool import FileAudioSpool
from v2m.infrastructure.system.jsonl_history import JsonlHistoryStore
from v2m.infrastructure.system.proc_telemetry import ProcTelemetry
from v2m.infrastructure.system.serial_worker import SerialWorker
from v2m.config.toml_store import TomlConfigStore

log = logging.getLogger("v2m.daemon")  # the daemon's log lines, wherever wired

def open_config_store() -> TomlConfigStore:
    return TomlConfigStore(paths.config_file())


def open_history() -> JsonlHistoryStore:
    return JsonlHistoryStore(paths.state_dir() / "history.jsonl")


def model_manager(progress: bool | None = None):
    from v2m.application.model_management import ModelManager
    from v2m.application.model_types import InstalledModel
    from v2m.infrastructure.models.hf_model_hub import HfModelHub
    from v2m.infrastructure.models.model_repository import FsModelRepository
    from v2m.infrastructure.models.model_locator import BUNDLED_NAME, bundled_model
    from v2m.infrastructure.models.model_sources import Ct2ModelValidator

    bundled = None
    if (path := bundled_model()) is not None:
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
        bundled = InstalledModel(BUNDLED_NAME, str(path), size, {"source": "bundled"})
    return ModelManager(HfModelHub(progress), FsModelRepository(paths.models_dir()), Ct2ModelValidator(),
                        bundled)


def diagnose() -> list[dict[str, Any]]:
    from v2m.config import schema as config_schema
    from v2m.infrastructure.system import diagnostics as d

    try:
        config = open_config_store().load()
        findings = [d.finding("config", True, f"{paths.config_file()} is valid")]
    except V2mError as exc:
        config = config_schema.load_defaults()
        findings = [d.finding("config", False, str(exc), "fix the file; `v2m config show --defaults`")]
    return findings + d.run_all([
        lambda: d.check_microphone(config), d.check_outputs,
        lambda: d.check_model(config, paths.models_dir()),
        lambda: d.check_runtime_dir(paths.runtime_dir(), paths.socket_path()), d.check_cuda])


def systemd_service():
    from v2m.infrastructure.system import systemd_service as module

    return module


def find_model_source(source: str):
    from v2m.infrastructure.models.model_sources import find_source

    return find_source(source)


def list_input_devices() -> list[dict[str, Any]]:
    from v2m.infrastructure.audio.pyaudio_source import list_input_devices as list_devices

    return list_devices()


def build_handlers(control: DaemonControl, dictation: DictationService, files: FileTranscriptionService,
                   text: TextCommands) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
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
        "TRANSCRIBE_FILE": files.transcribe,
        "PROCESS_TEXT": text.process_text,
        "TRANSLATE_TEXT": text.translate_text,
    }


def dictation_options(settings: Settings) -> DictationOptions:
    audio, decode = settings.audio, settings.decode
    return DictationOptions(
        segmenter=SegmenterOptions(min_silence_ms=audio.min_silence_ms, preroll_ms=audio.preroll_ms,
                                   max_utterance_ms=audio.max_utterance_s * 1000),
        streaming=decode.streaming, fast_stop=decode.fast_stop, beam_size=decode.beam_size,
        vocabulary=settings.text.vocabulary,
    )


def build_refiner(llm: Callable[[], LlmOptions]) -> TextRefiner:
    """LLM refinement and translation; endpoint and prompts are read per use."""
    from v2m.infrastructure.llm.openai_chat import OpenAiChatModel
    from v2m.infrastructure.llm.prompt_files import load_prompt

    def chat() -> OpenAiChatModel:
        o = llm()
        return OpenAiChatModel(o.base_url, o.model, o.api_key_env, o.timeout_s, o.retries)
    return TextRefiner(chat, lambda name: load_prompt(name, paths.config_file().parent / "prompts"))


def build_file_transcriber(transcriber: Callable[[], Any]):
    """Files go through the daemon's current (warm) model."""
    from v2m.infrastructure.asr.whisper_file_transcriber import WhisperFileTranscriber

    return WhisperFileTranscriber(lambda: transcriber().whisper_model(), lambda: transcriber().options)


def build_transcriber(model: ModelLoadOptions, decode: Callable[[], DecodeOptions]):
    """A transcriber for `model`; decoding settings come from `decode()`, per pass."""
    from v2m.infrastructure.asr.faster_whisper_transcriber import FasterWhisperTranscriber, WhisperOptions
    from v2m.infrastructure.models.model_locator import resolve

    path = resolve(model.model, paths.models_dir())  # ModelError: the pull command to run

    def options() -> WhisperOptions:
        d = decode()
        return WhisperOptions(device=model.device, compute_type=model.compute_type, cpu_threads=model.cpu_threads,
                              language=d.language, task=d.task, beam_size=d.beam_size)
    return FasterWhisperTranscriber(model.model, path, options)


def build_source(device: str):
    if device.startswith("file:"):
        from v2m.infrastructure.audio.wav_file_source import WavFileSource

        return WavFileSource(device[len("file:"):])
    from v2m.infrastructure.audio.pyaudio_source import PyAudioSource

    return PyAudioSource(device)


def build_vad(audio: AudioOptions):
    """One voice detector per dictation (they keep per-stream state)."""
    from v2m.infrastructure.audio.webrtc_vad import WebRtcVoiceDetector

    if audio.vad in ("auto", "silero"):
        from v2m.infrastructure.audio.silero_vad import SileroVoiceDetector

        try:
            return SileroVoiceDetector()
        except ModelError as exc:
            if audio.vad == "silero":
                raise
            log.warning("Silero VAD unavailable (%s); using webrtcvad", exc)
    return WebRtcVoiceDetector(audio.vad_aggressiveness)


def build_sinks(output: OutputOptions) -> list:
    from v2m.infrastructure.output.clipboard import ClipboardSink
    from v2m.infrastructure.output.keyboard import PasteSink, TypeSink

    kinds = {"clipboard": ClipboardSink, "type": TypeSink, "paste": PasteSink}
    return [kinds[name]() for name in output.sinks]


def local_file_transcriber(config: Mapping[str, Any]):
    """For `v2m transcribe` without a daemon: the configured model, loaded here."""
    settings = Settings.from_config(config)
    transcriber = build_transcriber(settings.model, lambda: settings.decode)
    transcriber.load()
    return build_file_transcriber(lambda: transcriber)


def local_text_commands(config: Mapping[str, Any]) -> TextCommands:
    """For `v2m refine` and `v2m translate` without a daemon."""
    llm = Settings.from_config(config).llm
    refiner = build_refiner(lambda: llm)
    return TextCommands(lambda: refiner)


# What the outputs need from the desktop session: `v2m doctor` checks the
# daemon's own values, not the terminal's.
SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_CURRENT_DESKTOP",
                "XDG_SESSION_TYPE")


def session_environment() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in SESSION_VARS}


class DaemonApp:
    """The wired daemon: start() serves the socket, stop() tears it down.

    The caller holds the instance lock, so any socket file already at the
    path is a dead daemon's leftover and is removed.
    """

    def __init__(self, store: TomlConfigStore) -> None:
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
        # One ASR thread for the daemon's life: the model stays warm in it.
        self.worker = SerialWorker("v2m-asr")
        self.history = open_history()
        self.spool = FileAudioSpool(paths.state_dir() / "spool")
        self.refiner = build_refiner(lambda: settings().llm)
        self.dictation = DictationService(
            self.control,
            source=lambda: build_source(settings().audio.device),
            vad=lambda: build_vad(settings().audio),
            transcriber=self.transcriber, worker=self.worker,
            sinks=lambda: build_sinks(settings().output),
            notifier=NotifySendNotifier(lambda: settings().output.notify),
            history=self.history, spool=self.spool, events=self.bus,
            options=lambda: dictation_options(settings()),
            rules=lambda: text_rules_of(settings().text),
            refiner=lambda: self.refiner if settings().llm.refine else None)
        self.files = FileTranscriptionService(
            self.control, build_file_transcriber(lambda: self.transcriber.current), self.worker, self.bus,
            prompt=lambda: text_rules.vocabulary_prompt(list(settings().text.vocabulary)))
        self.control.add_status_provider(self._engine_status)
        self.control.add_config_check(self._prepare_model)
        handlers = build_handlers(self.control, self.dictation, self.files, TextCommands(lambda: self.refiner))
        self.server = SocketServer(paths.socket_path(), Dispatcher(handlers), self.bus)

    def wait_model_loaded(self, timeout_s: float | None = None) -> None:
        """Block until the first model load has finished; raises its ModelError."""
        self._model_load.result(timeout=timeout_s)

    def _rebuild_settings(self, config: Mapping[str, Any]) -> None:
        self.settings = Settings.from_config(config)
        logging.getLogger().setLevel(self.settings.log.level.upper())

    def _engine_status(self) -> dict[str, Any]:
        current = self.transcriber.current
        return {**self.dictation.status(), "model_loaded": current.loaded, "compute": current.device,
                "model_path": str(current.path), "session": session_environment()}

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
        self._model_load = self.worker.submit(self.transcriber.load)
        self.worker.submit(build_vad, self.settings.audio)  # loads Silero's model before the first dictation
        sock_path = self.server.path
        if sock_path.exists() or sock_path.is_symlink():
            log.info("removing stale socket %s", sock_path)
            sock_path.unlink()
        self.server.start()
        threading.Thread(target=self._recover, name="v2m-recover", daemon=True).start()

    def _recover(self) -> None:
        try:
            count = recover_spool(self.spool, self.history, self.dictation.new_session,
                                  self.transcriber.model_name)
            if count:
                log.info("recovered %d unfinished dictation(s) into the history", count)
        except Exception:
            log.exception("spool recovery failed")

    def stop(self) -> None:
        self.dictation.close()  # the microphone closes first, whatever the clients do
        self.server.stop()
        self.worker.shutdown(wait=False, cancel_futures=True)


def text_rules_of(text: TextOptions) -> text_rules.TextRules:
    """The [text] rules; replacements were validated with the config."""
    return text_rules.TextRules(tuple(text_rules.parse_replacement(r) for r in text.replacements),
                                text.spoken_punctuation)


def setup_logging(config: Mapping[str, Any]) -> None:
    logging_setup.setup(config["log"]["level"], paths.state_dir() / "daemon.log")
