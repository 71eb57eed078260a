"""Spanish test speech (espeak-ng's `es` voice) and a word error rate that
reads every script.

tests/support/wer.py keeps only [a-z0-9'], which cuts "mañana" into "ma ana"
and drops "sábados"' accent unseen; here words are Unicode letters and digits,
compared case-folded and NFC-normalised, so a lost or wrong accent counts.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from tests.support.speech import read_pcm, say, silence, write_pcm
from tests.support.wer import wer as english_wer

VOICE = "es"

# Everyday dictation, 9-12 words, about 3-4 s each with espeak-ng at 160 wpm.
POOL = [
    "Mañana vamos a visitar a mis abuelos en el campo.",
    "La biblioteca abre temprano los sábados por la mañana.",
    "Por favor envía el informe trimestral a mi jefe antes del viernes.",
    "El tren llegó tarde por una avería cerca de la ciudad.",
    "Recuerda comprar leche, pan y café de camino a casa.",
    "Nuestro equipo terminó la nueva versión dos días antes de lo previsto.",
    "El museo cierra a las seis, así que saldremos después de comer.",
    "Creo que la segunda opción es más barata y fácil de mantener.",
    "Escribe un resumen corto de la reunión y compártelo con todos.",
    "Hace frío y ha llovido durante casi toda la semana.",
]

_WORD = re.compile(r"[^\w']+")


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).casefold().replace("-", " ").replace("_", " ")
    return _WORD.sub(" ", text).split()


def wer(reference: str, hypothesis: str) -> float:
    return english_wer(reference, hypothesis, split=words)


def dictation(sentences: list[str], out: Path, pause_s: float = 1.0, lead_s: float = 0.5,
              tail_s: float = 0.3, voice: str = VOICE, words_per_min: int = 160) -> Path:
    """Sentences in `voice` with pauses between them, as one WAV."""
    parts = [silence(lead_s)]
    for i, sentence in enumerate(sentences):
        parts.append(read_pcm(say(sentence, out.with_name(f"{out.stem}-{i}.wav"), voice, words_per_min)))
        parts.append(silence(pause_s if i < len(sentences) - 1 else tail_s))
    return write_pcm(out, b"".join(parts))
