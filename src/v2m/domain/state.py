"""The daemon's state machine: which commands apply in which state."""

from __future__ import annotations

import enum

from v2m.domain.errors import InvalidState


class DaemonState(str, enum.Enum):
    IDLE = "idle"
    RECORDING = "recording"
    TRANSCRIBING = "transcribing"
    PAUSED = "paused"


def pause(state: DaemonState) -> DaemonState:
    if state is DaemonState.PAUSED:
        raise InvalidState("the daemon is already paused", "resume it with `v2m resume`")
    if state is not DaemonState.IDLE:
        raise InvalidState(f"cannot pause while {state.value}", "stop or cancel the dictation first")
    return DaemonState.PAUSED


def resume(state: DaemonState) -> DaemonState:
    if state is not DaemonState.PAUSED:
        raise InvalidState(f"the daemon is not paused (it is {state.value})")
    return DaemonState.IDLE
