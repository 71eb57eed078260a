"""Languages as a user meets them: the settings, and Spanish dictations on
the multilingual `base` model (tests/support/multilingual.py) through the
virtual microphone: "auto", `toggle --language`, spoken commands, and
translation to English."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.e2e.conftest import run_v2m
from tests.support import multilingual, spanish
from v2m.domain.errors import V2mError
from v2m.ipc.client import DaemonClient

# The dictation: three sentences of spanish.POOL with 1 s pauses (about 14 s).
SENTENCES = [spanish.POOL[0], spanish.POOL[5], spanish.POOL[8]]
# Measured here (2 shared cores, int8, 8 fresh syntheses each, sox dithers):
# WER 0.06-0.18 with "es" (mean 0.11) and 0.03-0.15 with "auto" (mean 0.10);
# the misreadings are the same in both ("Mañana" as "Mañar", "abuelos" as
# "aruelos", "con todos" as "contólos"). A lost sentence costs 0.33 or more,
# and the dictation read in a wrong language 0.7 or more, so the bound sits
# between what `base` does and either failure.
SPANISH_WER_BOUND = 0.3
# Said with espeak-ng's Latin American voice at 130 words a minute, which
# `base` hears as "coma" and "punto" at beams 2 and 5 (a lone "coma" said at
# 160 is often heard "como" or "toma").
COMMANDS = "Hola, coma, buenos días, punto. Hasta luego, coma, amigo, punto."
# To translate (espeak-ng's Latin American voice): a sentence `base` puts into
# English ("Where is the station of the train?", "... of the plane?", "Where
# is the station?" here). After a greeting, the greeting's text in the prompt
# made it "Where are you from?" now and then, so it is said alone.
TO_TRANSLATE = "¿Dónde está la estación de tren?"


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    d = tmp_path_factory.mktemp("spanish")
    return {"dictation": spanish.dictation(SENTENCES, d / "dictation.wav"),
            "commands": spanish.dictation([COMMANDS], d / "commands.wav", voice="es-419", words_per_min=130),
            "to translate": spanish.dictation([TO_TRANSLATE], d / "to-translate.wav", voice="es-419")}


@pytest.fixture
def base_daemon(pulse, start_daemon, monkeypatch):
    """start(**settings): the daemon on multilingual `base`, hearing the virtual
    microphone, its text on stdout only; settings as V2M_SECTION__KEY."""
    def start(**settings: str):
        env = {**pulse.env, "V2M_TRANSCRIPTION__MODEL": str(multilingual.base_model_path()),
               "V2M_OUTPUT__SINKS": "", "V2M_OUTPUT__NOTIFY": "false"}
        env.update({f"V2M_{key.upper()}": value for key, value in settings.items()})
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return start_daemon().wait_model_loaded(120)
    return start


class Updates:
    """The transcription_update events of the dictations that follow."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self._client = DaemonClient(timeout_s=None)
        stream = self._client.events()  # returned: the daemon has registered the subscription
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        try:
            self.events.extend(stream)
        except (OSError, V2mError):
            pass  # closed by close()

    def languages(self, final: bool = True) -> list[str]:
        """The languages of the final updates (with final=False: of every update)."""
        return [e["language"] for e in list(self.events)
                if e.get("type") == "transcription_update" and (e["final"] or not final)]

    def close(self) -> None:
        self._client.close()


def dictate(pulse, wav, *start_args: str) -> str:
    started = run_v2m("toggle", *start_args)
    assert started.returncode == 0, started.stderr
    pulse.play(wav).wait()
    time.sleep(0.8)
    out = run_v2m("toggle", timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_an_english_only_model_with_another_language_is_refused_naming_both_keys(xdg):
    out = run_v2m("config", "set", "transcription.language", "es")
    assert out.returncode == 1
    assert "transcription.model" in out.stderr and "transcription.language" in out.stderr
    assert run_v2m("config", "get", "transcription.language").stdout.strip() == "en"  # nothing written


def test_auto_with_an_english_only_model_is_accepted(xdg):
    assert run_v2m("config", "set", "transcription.language", "auto").returncode == 0


def test_a_spanish_dictation_with_auto_comes_back_in_spanish(base_daemon, pulse, speech):
    base_daemon(transcription__language="auto")
    updates = Updates()
    text = dictate(pulse, speech["dictation"])
    reference = " ".join(SENTENCES)
    assert spanish.wer(reference, text) <= SPANISH_WER_BOUND, text
    time.sleep(0.2)
    updates.close()
    # detected on the first utterance and kept: every final update says es
    assert len(updates.languages()) >= 3 and set(updates.languages()) == {"es"}, updates.events
    assert updates.languages(final=False)[-1] == "es"


def test_toggle_language_overrides_an_english_config_for_that_dictation_only(base_daemon, pulse, speech):
    base_daemon(transcription__language="en")
    updates = Updates()
    reference = " ".join(SENTENCES)
    text = dictate(pulse, speech["dictation"], "--language", "es")
    assert spanish.wer(reference, text) <= SPANISH_WER_BOUND, text
    time.sleep(0.2)
    first = len(updates.languages())
    assert first and set(updates.languages()) == {"es"}, updates.events
    again = dictate(pulse, speech["dictation"])  # the next one: English again
    time.sleep(0.2)
    updates.close()
    # Every pass of the next one was read in English. (Its text says little: told
    # "en", `base` sometimes writes this Spanish speech in Spanish all the same.)
    assert set(updates.languages()[first:]) == {"en"}, updates.events
    history = json.loads(run_v2m("history", "--json").stdout)
    assert [h["text"] for h in history] == [text, again] and history[0]["language"] == "es"


def test_start_language_and_a_name_for_the_language(base_daemon, pulse, speech):
    base_daemon(transcription__language="en")
    assert run_v2m("start", "--language", "Spanish").returncode == 0
    pulse.play(speech["dictation"]).wait()
    time.sleep(0.8)
    out = run_v2m("stop", timeout=120)
    assert out.returncode == 0 and spanish.wer(" ".join(SENTENCES), out.stdout) <= SPANISH_WER_BOUND, out
    bad = run_v2m("toggle", "--language", "klingon")
    assert bad.returncode == 1 and "unknown language 'klingon'" in bad.stderr
    assert json.loads(run_v2m("status", "--json").stdout)["state"] == "idle"


def test_spanish_spoken_commands_give_comma_and_period(base_daemon, pulse, speech):
    base_daemon(transcription__language="auto", text__spoken_punctuation="true")
    text = dictate(pulse, speech["commands"], "--language", "es")
    raw = json.loads(run_v2m("history", "--json").stdout)[-1]["raw"]
    assert "coma" in spanish.words(raw) and "punto" in spanish.words(raw), raw  # Whisper heard the words
    assert not {"coma", "punto"} & set(spanish.words(text)), text  # and they became marks
    assert text.count(",") >= 2 and text.count(".") >= 2 and "hasta luego" in text.lower(), text


def test_translation_of_spanish_speech_gives_english(base_daemon, pulse, speech):
    base_daemon(transcription__language="auto", transcription__task="translate")
    text = dictate(pulse, speech["to translate"])
    heard = set(spanish.words(text))
    assert {"where", "is", "the", "station"} <= heard and not heard & set(spanish.words(TO_TRANSLATE)), text
