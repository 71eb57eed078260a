"""`v2m doctor`: check each part v2m depends on and say how to fix it."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Callable

from v2m.domain.errors import V2mError


def finding(check: str, ok: bool, detail: str, fix: str = "") -> dict[str, Any]:
    return {"check": check, "ok": ok, "detail": detail, "fix": "" if ok else fix}


def check_microphone(config: dict[str, Any]) -> list[dict[str, Any]]:
    from v2m.infrastructure.audio.pyaudio_source import PyAudioSource, list_input_devices

    try:
        devices = list_input_devices()
    except Exception as exc:
        hint = exc.hint if isinstance(exc, V2mError) and exc.hint else "install portaudio / libasound2"
        return [finding("microphone", False, f"PortAudio failed: {exc}", hint)]
    alsa = [d for d in devices if d.get("kind", "alsa") == "alsa"]
    sources = [d for d in devices if d.get("kind") == "pulse" and not d.get("monitor")]
    if not alsa:
        return [finding("microphone", False, "no input devices found",
                        "connect a microphone, and check that PulseAudio or PipeWire runs")]
    names = ", ".join(f"{d['index']}: {d['name']}" for d in alsa)
    named = f"; sources: {', '.join(d['name'] for d in sources)}" if sources else ""
    found = [finding("microphone", True, f"{len(alsa)} input device(s): {names}{named}")]
    wanted = config["audio"]["device"]
    source = PyAudioSource(wanted)
    try:
        source.start(lambda frame: None, lambda exc: None)
        source.stop()
        found.append(finding("configured microphone", True, f"{source.device_name!r} opens"))
    except V2mError as exc:
        found.append(finding("configured microphone", False, exc.message,
                             exc.hint or "fix audio.device (`v2m devices` lists them)"))
    return found


def check_outputs() -> list[dict[str, Any]]:
    from v2m.infrastructure.output.clipboard import pick_tool
    from v2m.infrastructure.output.desktop_tools import have, session_kind
    from v2m.infrastructure.output.key_tools import typing_path

    kind = session_kind()
    display = os.environ.get("WAYLAND_DISPLAY" if kind == "wayland" else "DISPLAY")
    detail = {"wayland": f"Wayland ({display})", "x11": f"X11 ({display})",
              "none": "no graphical session: neither WAYLAND_DISPLAY nor DISPLAY is set"}[kind]
    found = [finding("session", kind != "none", detail,
                     "run the daemon inside your desktop session (DISPLAY or WAYLAND_DISPLAY must be set)")]
    try:
        found.append(finding("clipboard", True, f"{pick_tool()} works for {kind}"))
    except V2mError as exc:
        found.append(finding("clipboard", False, str(exc), "run inside your desktop session" if kind == "none"
                             else "install wl-clipboard (Wayland) or xclip (X11)"))
    found.append(finding("typing", *typing_path()))
    bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    found.append(finding("notifications", have("notify-send") and bool(bus),
                         "notify-send " + ("found" if have("notify-send") else "missing")
                         + (", session bus set" if bus else ", no DBUS_SESSION_BUS_ADDRESS"),
                         "install libnotify-bin and run inside a desktop session"))
    return found


def check_model(config: dict[str, Any], models_dir: Path) -> list[dict[str, Any]]:
    from v2m.infrastructure.models.model_locator import resolve
    from v2m.infrastructure.models.model_sources import Ct2ModelValidator

    name = config["transcription"]["model"]
    try:
        path = resolve(name, models_dir)
        Ct2ModelValidator().check_loads(str(path))
    except V2mError as exc:
        return [finding("model", False, str(exc), exc.hint or f"run `v2m models pull {name}`")]
    return [finding("model", True, f"{name} loads from {path}")]


def check_runtime_dir(runtime: Path, socket: Path) -> list[dict[str, Any]]:
    if not runtime.exists():
        return [finding("socket directory", True, f"{runtime} does not exist yet (the daemon creates it)")]
    st = os.lstat(runtime)
    ok = stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700
    found = [finding("socket directory", ok, f"{runtime}: mode {stat.S_IMODE(st.st_mode):o}, uid {st.st_uid}",
                     f"remove {runtime}; the daemon recreates it as 0700")]
    if socket.exists():
        mode = stat.S_IMODE(os.lstat(socket).st_mode)
        found.append(finding("socket", mode == 0o600, f"{socket}: mode {mode:o}", "restart the daemon"))
    return found


def check_cuda() -> list[dict[str, Any]]:
    try:
        import ctranslate2

        count = ctranslate2.get_cuda_device_count()
    except Exception as exc:
        return [finding("cuda", True, f"not checked: {exc}")]
    # No GPU is a fact, not a fault: the CPU path is the default.
    return [finding("cuda", True, f"{count} CUDA device(s) visible to CTranslate2"
                    + ("" if count else "; transcription runs on the CPU"))]


def run_all(checks: list[Callable[[], list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for check in checks:
        try:
            found += check()
        except Exception as exc:  # a broken check is a finding, never a crash
            found.append(finding(getattr(check, "__name__", "check"), False, f"check failed: {exc}"))
    return found
