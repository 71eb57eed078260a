"""When a changed setting takes effect in a running daemon: live, with a
model reload, or at the next start. `v2m config set` says which; a test
checks that every key of config.toml has exactly one entry."""

from __future__ import annotations

import dataclasses

# How a change to each setting reaches a running daemon (`config set` says
# which). LIVE: read at each dictation, pass or use. RELOAD: the daemon loads
# the model again at once (the update waits for the load, and a model that
# fails to load refuses it); these keys come from settings.ModelLoadOptions,
# the daemon's own test of whether to reload. RESTART: read only when the
# daemon starts (none today). A unit test fails if a key of config.toml has
# no entry, here or among the model-load keys.
LIVE, RELOAD, RESTART = "live", "reload", "restart"
_PER_DICTATION = "read at each dictation"
_PER_PASS = "read at each transcription pass"
_PER_LLM_CALL = "read at each LLM call"
MODEL_LOAD_REASON = "the daemon loads the model again with it, then switches"
APPLIES: dict[str, tuple[str, str]] = {
    "transcription.language": (LIVE, _PER_PASS),
    "transcription.task": (LIVE, _PER_PASS),
    "transcription.beam_size": (LIVE, _PER_PASS),
    "transcription.streaming": (LIVE, _PER_DICTATION),
    "transcription.fast_stop": (LIVE, _PER_PASS),
    "transcription.engine": (LIVE, "read at each transcription pass and file"),
    "transcription.remote.base_url": (LIVE, _PER_PASS),
    "transcription.remote.model": (LIVE, _PER_PASS),
    "transcription.remote.api_key_env": (LIVE, _PER_PASS + "; the variable itself comes from the daemon's "
                                         "environment, so a new key needs `systemctl --user set-environment "
                                         "NAME=...` and a restart"),
    "transcription.remote.timeout_s": (LIVE, _PER_PASS),
    "transcription.remote.file_timeout_s": (LIVE, "read at each file"),
    "transcription.remote.cooldown_s": (RESTART, "read when the daemon starts"),
    "transcription.remote.upload_format": (LIVE, "read at each file"),
    "transcription.remote.keep_local_warm": (RESTART, "read when the daemon starts"),
    "server.listen": (RESTART, "the server starts with the daemon"),
    "server.auth": (RESTART, "the server starts with the daemon"),
    "server.allowed_hosts": (RESTART, "the server starts with the daemon"),
    "server.allowed_origins": (RESTART, "the server starts with the daemon"),
    "server.max_upload_mb": (RESTART, "the server starts with the daemon"),
    "server.max_queue": (RESTART, "the server starts with the daemon"),
    "server.queue_timeout_s": (RESTART, "the server starts with the daemon"),
    "audio.device": (LIVE, "the microphone is opened at each dictation"),
    "audio.vad": (LIVE, "a voice detector is made for each dictation"),
    "audio.vad_aggressiveness": (LIVE, _PER_DICTATION),
    "audio.min_silence_ms": (LIVE, _PER_DICTATION),
    "audio.preroll_ms": (LIVE, _PER_DICTATION),
    "audio.max_utterance_s": (LIVE, _PER_DICTATION),
    "audio.min_hold_ms": (LIVE, "read at each `v2m stop`"),
    "output.sinks": (LIVE, _PER_DICTATION),
    "output.notify": (LIVE, "read at each notification"),
    "output.separator": (LIVE, _PER_DICTATION),
    "output.live": (LIVE, _PER_DICTATION),
    "output.typing_delay_ms": (LIVE, _PER_DICTATION),
    "output.paste_keys": (LIVE, _PER_DICTATION),
    "feedback.sounds": (LIVE, _PER_DICTATION),
    "text.replacements": (LIVE, _PER_DICTATION),
    "text.vocabulary": (LIVE, _PER_DICTATION),
    "text.spoken_punctuation": (LIVE, _PER_DICTATION),
    "llm.base_url": (LIVE, _PER_LLM_CALL),
    "llm.model": (LIVE, _PER_LLM_CALL),
    "llm.api_key_env": (LIVE, _PER_LLM_CALL + "; the variable itself comes from the daemon's environment, "
                        "so a new key needs `systemctl --user set-environment NAME=...` and a restart"),
    "llm.timeout_s": (LIVE, _PER_LLM_CALL),
    "llm.retries": (LIVE, _PER_LLM_CALL),
    "llm.refine": (LIVE, _PER_DICTATION),
    "log.level": (LIVE, "the daemon sets its log level at once"),
}


def model_load_keys() -> frozenset[str]:
    """The keys whose change makes the daemon load the model again."""
    from v2m.config.settings import ModelLoadOptions

    return frozenset(f"transcription.{field.name}" for field in dataclasses.fields(ModelLoadOptions))


def applies(key: str) -> tuple[str, str]:
    """(LIVE, RELOAD or RESTART, why) for a known key; RESTART if it has no entry."""
    if key in model_load_keys():
        return RELOAD, MODEL_LOAD_REASON
    return APPLIES.get(key, (RESTART, "not known to apply live"))
