"""Composition root: the one place that wires adapters into services.

The factories here serve the daemon (DaemonApp) and the CLI commands that
work without it; the daemon's process lifetime is v2m.daemon.

Heavy adapters (faster-whisper, PyAudio, numpy) are imported inside the
functions that build them, so `v2m config set` and `v2m history`, which
reach this module for the config store and the history, stay fast.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from v2m.application.dictation_session import DictationOptions
from v2m.application.text_commands import TextCommands
from v2m.application.text_refinement import TextRefiner
from v2m.infrastructure.system import logging_setup
from v2m.config import paths
from v2m.config.settings import (AudioOptions, DecodeOptions, FeedbackOptions, LlmOptions, ModelLoadOptions,
                                 OutputOptions, RemoteEngineOptions, ServerOptions, Settings, TextOptions)
from v2m.domain.state import DaemonState
from v2m.domain import text_rules
from v2m.domain.errors import ModelError, V2mError
from v2m.domain.segmenter import SegmenterOptions
from v2m.infrastructure.system.jsonl_history import JsonlHistoryStore
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
    checks = [lambda: d.check_microphone(config), d.check_outputs,
              lambda: d.check_model(config, paths.models_dir()),
              lambda: d.check_runtime_dir(paths.runtime_dir(), paths.socket_path()), d.check_cuda]
    if config["transcription"]["engine"] == "openai":
        checks.append(lambda: check_remote_engine(config))
    return findings + d.run_all(checks)


def systemd_service():
    from v2m.infrastructure.system import systemd_service as module

    return module


def find_model_source(source: str):
    from v2m.infrastructure.models.model_sources import find_source

    return find_source(source)


def list_input_devices() -> list[dict[str, Any]]:
    from v2m.infrastructure.audio.pyaudio_source import list_input_devices as list_devices

    return list_devices()


def dictation_options(settings: Settings) -> DictationOptions:
    audio, decode = settings.audio, settings.decode
    return DictationOptions(
        segmenter=SegmenterOptions(min_silence_ms=audio.min_silence_ms, preroll_ms=audio.preroll_ms,
                                   max_utterance_ms=audio.max_utterance_s * 1000),
        streaming=decode.streaming, fast_stop=decode.fast_stop, beam_size=decode.beam_size,
        vocabulary=settings.text.vocabulary, translate=decode.task == "translate",
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


def remote_options(remote: RemoteEngineOptions, decode: DecodeOptions):
    from v2m.infrastructure.asr.openai_remote import RemoteOptions

    return RemoteOptions(base_url=remote.base_url, model=remote.model, api_key_env=remote.api_key_env,
                         timeout_s=remote.timeout_s, file_timeout_s=remote.file_timeout_s,
                         language=decode.language, task=decode.task)


def check_remote_engine(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`v2m doctor` with engine = "openai": key present, server reachable, model listed."""
    from v2m.infrastructure.asr.openai_remote_check import check_remote

    settings = Settings.from_config(config)
    return check_remote(remote_options(settings.remote, settings.decode))


def build_engines(settings: Callable[[], Settings], local: Any, local_files: Any):
    """transcription.engine, read per pass: the remote engine with the local
    model (a ModelSlot) as fallback, or the local model alone; for passes and files."""
    from v2m.application.engine_fallback import EngineChoice, FallbackFileTranscriber, FallbackTranscriber
    from v2m.infrastructure.asr.openai_remote import OpenAiAudioClient, OpenAiRemoteTranscriber
    from v2m.infrastructure.asr.openai_remote_files import OpenAiRemoteFileTranscriber

    client = OpenAiAudioClient(lambda: remote_options(settings().remote, settings().decode))
    choice = EngineChoice(lambda: settings().decode.engine == "openai", local.load,
                          keep_warm=lambda: settings().remote.keep_local_warm,
                          cooldown_s=settings().remote.cooldown_s, is_loaded=lambda: local.current.loaded)
    files = OpenAiRemoteFileTranscriber(client, lambda: settings().remote.upload_format)
    return (FallbackTranscriber(OpenAiRemoteTranscriber(client), local, choice),
            FallbackFileTranscriber(files, local_files, choice))


DEFAULT_LISTEN = "127.0.0.1:8765"


def server_token() -> str:
    """The `v2m serve` bearer token, made on first use (`v2m serve token`)."""
    from v2m.infrastructure.serve.token import read_or_create

    return read_or_create(paths.config_file().parent / "server-token")


def build_server(options: ServerOptions, serve: bool, state: Callable[[], DaemonState], engine: Any, local: Any,
                 worker: Any, prompt: Callable[[], str]):
    """`v2m serve` on the local model (a ModelSlot), or None when it is off
    ([server] listen "" and no --serve). Requests run on the daemon's ASR
    worker, only while the daemon is idle (see serve/admission.py)."""
    listen = options.listen or (DEFAULT_LISTEN if serve else "")
    if not listen:
        return None
    from v2m.infrastructure.serve.backend import local_transcribe
    from v2m.infrastructure.serve.guard import ServeOptions
    from v2m.infrastructure.serve.runner import HttpServer

    run = local_transcribe(lambda: local.current.whisper_model(), lambda: local.current.options, prompt)

    def transcribe(path: str, request: Any, check: Callable[[], None]) -> dict[str, Any]:
        def job() -> dict[str, Any]:
            engine.choice.ensure_local()  # lazy with engine = "openai"
            return run(path, request, check)
        return worker.submit(job).result()
    serve_options = ServeOptions(listen, options.auth, options.allowed_hosts, options.allowed_origins,
                                 options.max_upload_mb, options.max_queue, options.queue_timeout_s)
    return HttpServer(serve_options, server_token() if options.auth else None, transcribe,
                      busy=lambda: state() is not DaemonState.IDLE, model_name=lambda: local.model_name)


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

    kinds = {"clipboard": lambda: ClipboardSink(),
             "type": lambda: TypeSink(delay_ms=output.typing_delay_ms, separator=output.separator,
                                      paste_keys=output.paste_keys, live=output.live),
             "paste": lambda: PasteSink(separator=output.separator, paste_keys=output.paste_keys)}
    return [kinds[name]() for name in output.sinks]


_cues: list = []  # one player for the daemon's life: it keeps the sounds and the player that works


def build_cues(feedback: FeedbackOptions):
    """The start and stop sounds, or None when feedback.sounds is off."""
    if not feedback.sounds:
        return None
    if not _cues:
        from v2m.infrastructure.audio.cues import CuePlayer

        _cues.append(CuePlayer())
    return _cues[0]


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


def text_rules_of(text: TextOptions, language: str = "en") -> text_rules.TextRules:
    """The [text] rules; replacements were validated with the config. Spoken
    commands follow the configured language (a dictation's own overrides it)."""
    return text_rules.TextRules(tuple(text_rules.parse_replacement(r) for r in text.replacements),
                                text.spoken_punctuation, language if language != "auto" else "en")


def setup_logging(config: Mapping[str, Any]) -> None:
    logging_setup.setup(config["log"]["level"], paths.state_dir() / "daemon.log")
