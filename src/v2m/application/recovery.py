"""After a crash: transcribe the audio spool a dead daemon left into the history."""

from __future__ import annotations

import logging
import time
from typing import Callable

from v2m.application.dictation_session import DictationSession
from v2m.application.ports import AudioSpool, HistoryStore
from v2m.domain.audio_math import FRAME_BYTES, duration_s
from v2m.domain.errors import V2mError
from v2m.domain.history import HistoryRecord

log = logging.getLogger(__name__)


def recover_spool(spool: AudioSpool, history: HistoryStore,
                  new_session: Callable[[], DictationSession], model_name: str) -> int:
    """Return how many dictations were recovered into the history."""
    recovered = 0
    for spool_id, pcm in spool.leftovers():
        session = new_session()
        for offset in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
            session.feed(pcm[offset: offset + FRAME_BYTES])
        try:
            text = session.finish()
        except V2mError as exc:
            log.error("could not recover spool %s (kept for the next start): %s", spool_id, exc)
            continue
        if text:
            history.append(HistoryRecord(time.time(), duration_s(len(pcm)), model_name, text,
                                         recovered=True).to_dict())
            recovered += 1
        log.info("recovered spool %s: %d characters", spool_id, len(text))
        spool.remove(spool_id)
    return recovered
