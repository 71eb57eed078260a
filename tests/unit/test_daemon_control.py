import pytest

from tests.fakes import FakeConfigStore, FakeTelemetry, RecordingEvents
from v2m.application.commands import UpdateConfig
from v2m.application.daemon_control import DaemonControl
from v2m.domain.errors import ConfigError, InvalidState
from v2m.domain.state import DaemonState


def make(user=None):
    events, calls = RecordingEvents(), []
    control = DaemonControl(FakeConfigStore(user), events, FakeTelemetry(), version="9.9",
                            request_shutdown=lambda: calls.append("stop"), clock=iter(range(100)).__next__)
    return control, events, calls


def test_status_reports_state_pid_uptime_model_and_telemetry():
    control, _, _ = make({"transcription": {"model": "base.en"}})
    status = control.status()
    assert status["state"] == "idle" and status["model"] == "base.en"
    assert status["uptime_s"] == 1 and status["pid"] > 0
    assert status["telemetry"]["rss_mib"] == 1.0


def test_pause_resume_publishes_state_changes():
    control, events, _ = make()
    assert control.pause() == {"state": "paused"}
    assert control.resume() == {"state": "idle"}
    assert [e["state"] for e in events.events] == ["paused", "idle"]
    assert events.events[0]["previous"] == "idle"


def test_pause_twice_and_resume_when_idle_are_errors():
    control, events, _ = make()
    with pytest.raises(InvalidState):
        control.resume()
    control.pause()
    with pytest.raises(InvalidState):
        control.pause()
    assert control.state is DaemonState.PAUSED and len(events.events) == 1


def test_cannot_pause_while_recording():
    control, _, _ = make()
    control.set_state(DaemonState.RECORDING)
    with pytest.raises(InvalidState):
        control.pause()


def test_shutdown_requests_stop():
    control, _, calls = make()
    assert control.shutdown() == {"message": "SHUTTING_DOWN"}
    assert calls == ["stop"]


def test_update_config_writes_notifies_and_names_the_keys():
    control, events, _ = make()
    seen = []
    control.add_config_listener(lambda c: seen.append(c["log"]["level"]))
    control.update_config(UpdateConfig({"log": {"level": "debug"}}, ("log.level",)))
    control.update_config(UpdateConfig({"log": {"level": "warning"}}, ("log.level",)))
    assert control.get_config()["config"]["log"]["level"] == "warning"
    assert seen == ["debug", "warning"]
    assert events.events[-1] == {"type": "config_changed", "keys": ["log.level"]}


def test_bad_update_leaves_running_config_and_store_untouched():
    store = FakeConfigStore()
    events = RecordingEvents()
    control = DaemonControl(store, events, FakeTelemetry(), version="9.9", request_shutdown=lambda: None)
    before = control.get_config()["config"]
    with pytest.raises(ConfigError):
        control.update_config(UpdateConfig({"log": {"level": "loud"}}, ("log.level",)))
    assert control.get_config()["config"] == before
    assert store.writes == 0 and events.events == []
