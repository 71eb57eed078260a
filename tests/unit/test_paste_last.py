"""`v2m paste-last` in the application layer: the newest history entry, to
the outputs that the configuration and --type name."""

import pytest

from tests.fakes import FakeHistory, FakeSink
from v2m.application import commands as c
from v2m.application.paste_last import PasteLastService, sink_names
from v2m.domain.errors import InvalidRequest, V2mError
from v2m.ipc.edge import parse


def service(records, configured=("clipboard",), fail=()):
    history = FakeHistory()
    for record in records:
        history.append(record)
    built: list[list[FakeSink]] = []

    def build(names):
        built.append([FakeSink(name, fail=name in fail) for name in names])
        return built[-1]
    return PasteLastService(history, lambda: configured, build), built


def test_sink_names_paste_instead_of_typing_unless_asked_to_type():
    assert sink_names(["clipboard"], False) == ("clipboard",)
    assert sink_names(["type"], False) == ("paste",)
    assert sink_names(["clipboard", "type", "paste"], False) == ("clipboard", "paste")
    assert sink_names([], False) == ("clipboard",)
    assert sink_names(["clipboard", "paste"], True) == ("type",)


def test_the_newest_entry_goes_to_the_outputs_and_the_reply_names_each_result():
    paste, built = service([{"time": 1.0, "text": "older"}, {"time": 2.0, "text": "newest words"}],
                           configured=("clipboard", "type"))
    reply = paste.paste_last(c.PasteLast())
    assert reply == {"text": "newest words", "time": 2.0, "outputs": {"clipboard": "ok", "paste": "ok"}}
    assert [(s.name, s.received) for s in built[-1]] == [("clipboard", ["newest words"]),
                                                          ("paste", ["newest words"])]
    typed = paste.paste_last(c.PasteLast(typed=True))
    assert typed["outputs"] == {"type": "ok"} and built[-1][0].received == ["newest words"]


def test_an_output_failure_is_in_the_reply_and_the_others_still_deliver():
    paste, built = service([{"time": 1.0, "text": "words"}], configured=("paste", "clipboard"), fail=("paste",))
    reply = paste.paste_last(c.PasteLast())
    assert reply["outputs"] == {"paste": "failed: paste is broken", "clipboard": "ok"}
    assert built[-1][1].received == ["words"]


def test_an_empty_history_is_a_clear_error_and_nothing_is_delivered():
    paste, built = service([])
    with pytest.raises(V2mError, match="history is empty") as info:
        paste.paste_last(c.PasteLast())
    assert "v2m toggle" in info.value.hint and built == []
    blank, built = service([{"time": 1.0, "text": "  "}])
    with pytest.raises(V2mError, match="no text"):
        blank.paste_last(c.PasteLast())
    assert built == []


def test_the_edge_takes_a_boolean_type_only():
    assert parse("PASTE_LAST", {}) == c.PasteLast(False)
    assert parse("PASTE_LAST", {"type": True}) == c.PasteLast(True)
    with pytest.raises(InvalidRequest, match="data.type"):
        parse("PASTE_LAST", {"type": "yes"})


def paste_last_meanwhile(order: list[str]):
    """A `paste-last` pressed now, on its own thread, given 0.3 s to start:
    its sink notes "paste-last" in `order` when it delivers."""
    import threading

    class Quick(FakeSink):
        def deliver(self, text):
            order.append("paste-last")

    history = FakeHistory()
    history.append({"text": "again", "time": "t"})
    paste = PasteLastService(history, lambda: ("clipboard",), lambda names: [Quick("paste")])
    pressed = threading.Thread(target=paste.paste_last)
    pressed.start()
    pressed.join(0.3)
    return pressed


def test_a_paste_last_waits_for_a_dictations_delivery_in_progress():
    """Two deliveries into one window would interleave their keys: the
    second starts only once the first has returned."""
    import threading

    from v2m.application.outputs import deliver_all

    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    class Slow(FakeSink):
        def deliver(self, text):
            order.append("dictation in")
            inside.set()
            release.wait(10)
            order.append("dictation out")

    first = threading.Thread(target=deliver_all, args=("one", [Slow("type")]))
    first.start()
    assert inside.wait(10)
    second = paste_last_meanwhile(order)
    assert second.is_alive() and order == ["dictation in"]  # waiting, not typing over the dictation
    release.set()
    first.join(10)
    second.join(10)
    assert order == ["dictation in", "dictation out", "paste-last"]
