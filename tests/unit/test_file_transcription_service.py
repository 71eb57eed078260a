from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fakes import FakeConfigStore, FakeTelemetry, RecordingEvents
from v2m.application.daemon_control import DaemonControl
from v2m.application.commands import TranscribeFile
from v2m.application.file_transcription import FileTranscriptionService
from v2m.domain.errors import InvalidState, MediaError
from v2m.domain.state import DaemonState
from v2m.domain.transcript import FileTranscript, TimedSegment


class FakeFileTranscriber:
    def __init__(self, error=None):
        self.error, self.calls, self.states = error, [], []

    def transcribe_file(self, path, on_progress=None, prompt=""):
        self.calls.append((path, prompt))
        self.states.append(self.control.state)
        if self.error:
            raise self.error
        on_progress(1.0, 2.0)
        return FileTranscript(path, 2.0, "en", (TimedSegment(0.0, 1.0, " Hello"), TimedSegment(1.0, 2.0, " world")))


def rig(error=None):
    events = RecordingEvents()
    control = DaemonControl(FakeConfigStore(), events, FakeTelemetry(), version="t", request_shutdown=lambda: None)
    files = FakeFileTranscriber(error)
    files.control = control
    return FileTranscriptionService(control, files, ThreadPoolExecutor(1), events, prompt=lambda: "Vocab."), \
        files, control, events


def test_a_file_is_transcribed_in_the_transcribing_state_with_progress_events():
    service, files, control, events = rig()
    reply = service.transcribe(TranscribeFile("/tmp/u/talk.wav"))
    assert reply["transcription"] == "Hello world" and reply["path"] == "/tmp/u/talk.wav"
    assert files.calls == [("/tmp/u/talk.wav", "Vocab.")] and files.states == [DaemonState.TRANSCRIBING]
    assert control.state is DaemonState.IDLE
    assert {"type": "file_progress", "path": "/tmp/u/talk.wav", "done_s": 1.0, "total_s": 2.0} in events.events


def test_a_file_is_refused_while_recording_and_errors_leave_the_daemon_idle():
    service, files, control, _ = rig(error=MediaError("x.wav is not an audio or video file"))
    control.set_state(DaemonState.RECORDING)
    with pytest.raises(InvalidState, match="recording"):
        service.transcribe(TranscribeFile("/x.wav"))
    assert files.calls == []
    control.set_state(DaemonState.IDLE)
    with pytest.raises(MediaError):
        service.transcribe(TranscribeFile("/x.wav"))
    assert control.state is DaemonState.IDLE
