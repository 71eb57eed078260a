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
from v2m.config.settings import AudioOptions, DecodeOptions, LlmOptions, ModelLoadOptions, OutputOptions, Settings, TextOptions
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


def text_rules_of(text: TextOptions) -> text_rules.TextRules:
    """The [text] rules; replacements were validated with the config."""
    return text_rules.TextRules(tuple(text_rules.parse_replacement(r) for r in text.replacements),
                                text.spoken_punctuation)


def setup_logging(config: Mapping[str, Any]) -> None:
    logging_setup.setup(config["log"]["level"], paths.state_dir() / "daemon.log")
