"""A stream of sample blocks regrouped into bounded chunks, cut at quiet points.

A long file is transcribed chunk by chunk, so memory stays flat in its
length. Each cut falls at the quietest moment near the chunk's end, and what
follows the cut opens the next chunk, so no word is cut in half.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Iterator

import numpy as np

from v2m.infrastructure.audio.media_files import SAMPLE_RATE_HZ


@dataclasses.dataclass(frozen=True)
class ChunkOptions:
    chunk_s: float                # at most this much audio is transcribed at once
    cut_search_s: float = 5.0     # the cut falls within the chunk's last this many seconds,
    cut_window_ms: int = 100      # in the middle of its quietest window this long,
    cut_hop_ms: int = 10          # tried every this many milliseconds
    sample_rate_hz: int = SAMPLE_RATE_HZ


@dataclasses.dataclass(frozen=True)
class Chunk:
    start_sample: int             # where it starts in the whole file
    audio: np.ndarray             # float32 samples
    last: bool                    # nothing follows: the file's length is known now

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.audio)


def chunks(blocks: Iterable[np.ndarray], options: ChunkOptions) -> Iterator[Chunk]:
    """The blocks' samples as consecutive chunks of at most options.chunk_s.

    Audio no longer than one chunk comes out whole, as a single last chunk
    (an empty stream as one empty chunk).
    """
    limit = max(1, int(options.chunk_s * options.sample_rate_hz))
    pending: list[np.ndarray] = []
    size = start = 0
    for block in blocks:
        pending.append(block)
        size += len(block)
        while size > limit:
            audio = np.concatenate(pending)
            cut = quiet_cut(audio[:limit], options)
            yield Chunk(start, audio[:cut], last=False)
            rest = audio[cut:].copy()  # frees the chunk once the caller is done with it
            pending, size, start = [rest], len(rest), start + cut
    yield Chunk(start, np.concatenate(pending) if pending else np.zeros(0, np.float32), last=True)


def quiet_cut(audio: np.ndarray, options: ChunkOptions) -> int:
    """The sample at which to end `audio`: the middle of the lowest-energy
    window in its last cut_search_s (the first such window on a tie)."""
    rate = options.sample_rate_hz
    window = max(1, options.cut_window_ms * rate // 1000)
    first = max(0, len(audio) - int(options.cut_search_s * rate))
    region = audio[first:].astype(np.float64)
    if len(region) <= window:
        return len(audio)
    energy = np.concatenate([[0.0], np.cumsum(np.square(region))])
    starts = np.arange(0, len(region) - window + 1, max(1, options.cut_hop_ms * rate // 1000))
    best = int(starts[np.argmin(energy[starts + window] - energy[starts])])
    return first + best + window // 2
