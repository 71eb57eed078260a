"""Whisper invents text from silence and noise ("Thank you.", "you").

We gate on three things, cheapest first: the VAD (no speech, no pass at
all), Whisper's own confidence (no_speech_prob with a low log-prob), and,
only when the audio under it is weak, a list of phrases Whisper is known to
invent, per language.

Text is read by Unicode letters, marks and digits, so words in any script
count, and an utterance of digits ("5 5") is speech.
"""

from __future__ import annotations

import dataclasses
import unicodedata

# Phrases from Whisper's training captions that it produces from near-silence,
# per language (its subtitle credits and sign-offs). English first; the others
# are the well-known inventions of the multilingual models. Compared after
# normalise(), so punctuation and case do not matter.
_INVENTED: dict[str, tuple[str, ...]] = {
    "en": ("you", "thank you", "thanks", "thank you very much", "thanks for watching",
           "thank you for watching", "thanks for listening", "bye", "bye bye", "okay", "oh",
           "so", "um", "uh", "hmm", "the end", "please subscribe", "subscribe",
           "subtitles by the amara org community", "i'm sorry", "music"),
    "es": ("y", "gracias", "muchas gracias", "gracias por ver", "gracias por ver el video",
           "subtítulos realizados por la comunidad de amara org",
           "subtítulos por la comunidad de amara org", "suscríbete", "música"),
    "fr": ("merci", "merci beaucoup", "merci d'avoir regardé",
           "sous titres réalisés par la communauté d'amara org",
           "sous titres réalisés para la communauté d'amara org",
           "sous titrage société radio canada", "sous titrage st' 501", "musique"),
    "de": ("danke", "vielen dank", "tschüss", "vielen dank fürs zuschauen",
           "untertitel der amara org community", "untertitelung des zdf 2020",
           "untertitel im auftrag des zdf für funk 2017", "bis zum nächsten mal", "musik"),
    "it": ("grazie", "grazie per la visione", "sottotitoli creati dalla comunità amara org"),
    "pt": ("obrigado", "obrigada", "obrigado por assistir", "legendas pela comunidade amara org"),
    "nl": ("bedankt", "bedankt voor het kijken", "ondertiteld door de amara org gemeenschap"),
    "pl": ("dziękuję", "dzięki za obejrzenie", "napisy stworzone przez społeczność amara org"),
    "ru": ("спасибо", "спасибо за внимание", "продолжение следует",
           "субтитры сделал dimatorzok", "субтитры создавал dimatorzok",
           "редактор субтитров а синецкая корректор а егорова", "музыка", "спокойная музыка",
           "динамичная музыка", "грустная музыка", "напряженная музыка", "музыкальная заставка"),
    "ja": ("ご視聴ありがとうございました", "ありがとうございました", "チャンネル登録をお願いします"),
    "zh": ("谢谢观看", "謝謝觀看", "字幕由amara org社区提供", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"),
    "ko": ("감사합니다", "시청해주셔서 감사합니다", "구독과 좋아요 부탁드립니다"),
    "ar": ("شكرا", "شكرا لكم", "اشتركوا في القناة", "ترجمة نانسي قنقر"),
}

# Openings of the subtitle credits Whisper writes over noise, whatever name
# follows (measured: loud white noise read as Russian by `base` came out as
# "Редактор субтитров А.Синецкая Корректор В.Сухиашвили" at no_speech_prob
# 0.73-0.77 and log-prob -0.54, which Whisper's own rule lets through).
_CREDITS: dict[str, tuple[str, ...]] = {
    "en": ("subtitles by", "captions by", "transcription by"),
    "es": ("subtítulos por", "subtítulos realizados por", "subtitulado por"),
    "fr": ("sous titres réalisés", "sous titrage"),
    "de": ("untertitel der", "untertitel im auftrag", "untertitelung"),
    "it": ("sottotitoli creati", "sottotitoli a cura"),
    "pt": ("legendas pela", "legendado por"),
    "nl": ("ondertiteld door", "ondertiteling"),
    "pl": ("napisy stworzone", "napisy wykonane"),
    "ru": ("субтитры сделал", "субтитры создавал", "субтитры подогнал", "редактор субтитров"),
    "zh": ("字幕由", "字幕志愿者"),
}

_APOSTROPHES = "'\u2019\u02bc"  # ' and ’ and ʼ, kept inside words ("i'm", "d'avoir")


def normalise(text: str) -> str:
    """Letters, marks and digits of any script, casefolded; everything else
    is a word break. Empty means Whisper wrote no word at all."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = (ch if unicodedata.category(ch)[0] in "LMN" else "'" if ch in _APOSTROPHES else " "
            for ch in text)
    return " ".join(word.strip("'") for word in "".join(kept).split() if word.strip("'"))


KNOWN_BY_LANGUAGE: dict[str, frozenset[str]] = {
    lang: frozenset(normalise(p) for p in phrases) for lang, phrases in _INVENTED.items()}
KNOWN_PHRASES = KNOWN_BY_LANGUAGE["en"]
CREDITS_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    lang: tuple(normalise(p) for p in openings) for lang, openings in _CREDITS.items()}


def _lists(language: str | None) -> tuple[set[str], tuple[str, ...]]:
    """The language's phrases and credit openings plus English's; all of them
    for no language or one without a list."""
    langs = (language, "en") if language in KNOWN_BY_LANGUAGE else tuple(KNOWN_BY_LANGUAGE)
    return (set().union(*(KNOWN_BY_LANGUAGE[lang] for lang in langs)),
            tuple(p for lang in langs for p in CREDITS_BY_LANGUAGE.get(lang, ())))


def is_known_phrase(text: str, language: str | None = None) -> bool:
    """One of Whisper's stock inventions, or the opening of a subtitle credit:
    the language's and English's (Whisper's favourite "you", "Thank you." turn
    up in every language). With no language, or one without a list, all count."""
    known, credits = _LISTS.get(language or "", _LISTS[None])
    text = normalise(text)
    return text in known or text.startswith(credits)


_LISTS = {lang: _lists(lang) for lang in (None, *KNOWN_BY_LANGUAGE)}


@dataclasses.dataclass(frozen=True)
class SegmentScore:
    text: str
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float = 1.0


@dataclasses.dataclass(frozen=True)
class GateOptions:
    logprob_threshold: float = -1.0
    # Whisper's rule misses noise read after speech, with the text so far as
    # prompt: measured here, white noise after a sentence came out as
    # "I'm going to do that." or "Hey, hey, hey." at no_speech_prob 0.47-0.59
    # and log-prob -1.16 to -1.88, where the sentences scored 0.05-0.16 and
    # -0.18 to -0.65. Below the log-prob threshold this lower no-speech bar drops it.
    doubtful_no_speech: float = 0.4
    # Above this no_speech_prob, a log-prob under sure_no_speech_logprob is
    # enough. Measured on multilingual `base`, noise read with no VAD in front
    # came out as "СПОКОЙНАЯ МУЗЫКА", "鋰鋰鋰鋰鋰" or a German sentence three
    # times at no_speech_prob 0.73-0.78 and log-prob -0.93 to -0.99, just
    # inside Whisper's -1.0; 130 espeak-ng sentences (en es ru de fr zh, base
    # and tiny.en, beam 5 and 2) never scored above 0.55.
    sure_no_speech: float = 0.7
    sure_no_speech_logprob: float = -0.9
    compression_ratio_threshold: float = 2.4
    # Audio counts as weak below this share of VAD speech frames...
    weak_speech_ratio: float = 0.35
    # ...or below this RMS level (of full scale, 0..1).
    weak_rms: float = 0.01
    # A known phrase over strong audio is still dropped above this no_speech_prob.
    known_phrase_no_speech: float = 0.5


def is_weak(speech_ratio: float, rms: float, options: GateOptions = GateOptions()) -> bool:
    """Audio too sparse or too quiet for Whisper's text alone to be trusted."""
    return speech_ratio < options.weak_speech_ratio or rms < options.weak_rms


def keep_segment(seg: SegmentScore, speech_ratio: float, rms: float,
                 options: GateOptions = GateOptions(), language: str | None = None) -> bool:
    """Decide whether a transcribed segment is real speech, in any script.

    Digits are words: "5 5" is speech. `language` picks the stock-phrase
    list (see is_known_phrase); None checks them all.
    """
    if not normalise(seg.text):
        return False
    if seg.avg_logprob < options.logprob_threshold and seg.no_speech_prob > options.doubtful_no_speech:
        return False  # Whisper's own silence rule, with a lower no-speech bar
    if seg.no_speech_prob > options.sure_no_speech and seg.avg_logprob < options.sure_no_speech_logprob:
        return False  # ...and with a higher one, a log-prob a little better than -1 is no excuse
    if seg.compression_ratio > options.compression_ratio_threshold:
        return False  # "the the the the ..."
    if not is_known_phrase(seg.text, language):
        return True
    # A stock phrase survives only over clear speech that Whisper is sure of:
    # noise loud enough to fool the VAD still scores a high no_speech_prob.
    return not is_weak(speech_ratio, rms, options) and seg.no_speech_prob < options.known_phrase_no_speech
