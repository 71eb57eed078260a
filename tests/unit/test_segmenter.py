from v2m.domain.segmenter import Segmenter, SegmenterOptions, Utterance

OPTS = SegmenterOptions(frame_ms=30, min_silence_ms=600, preroll_ms=300, postroll_ms=240,
                        max_utterance_ms=25_000, min_speech_ms=150)


def run(pattern: str, options: SegmenterOptions = OPTS, energies=None) -> list[Utterance]:
    """'S' = speech frame, '.' = silence frame; flush at the end."""
    seg = Segmenter(options)
    out: list[Utterance] = []
    for i, ch in enumerate(pattern):
        out += seg.feed(ch == "S", energies[i] if energies else (0.5 if ch == "S" else 0.01))
    return out + seg.flush()


def test_silence_only_yields_nothing():
    assert run("." * 500) == []


def test_commits_after_min_silence_with_preroll_and_postroll():
    seg = Segmenter(OPTS)
    committed = []
    pattern = "." * 50 + "S" * 40 + "." * 30
    for i, ch in enumerate(pattern):
        got = seg.feed(ch == "S")
        if got:
            committed.append((i, got))
    # 600 ms of silence = 20 frames after the last speech frame (index 89).
    assert [i for i, _ in committed] == [109]
    (utt,) = committed[0][1]
    assert utt.start == 50 - 10          # 300 ms pre-roll
    assert utt.end == 90 + 8             # 240 ms post-roll
    assert utt.speech_frames == 40


def test_short_pause_does_not_split():
    out = run("S" * 30 + "." * 15 + "S" * 30 + "." * 40)
    assert len(out) == 1 and out[0].speech_frames == 60


def test_two_utterances_in_order_without_overlap():
    out = run("." * 10 + "S" * 30 + "." * 25 + "S" * 30 + "." * 40)
    assert len(out) == 2
    assert out[0].end <= out[1].start


def test_preroll_never_reaches_into_committed_audio():
    long_preroll = SegmenterOptions(preroll_ms=900)  # 30 frames, more than the gap
    out = run("S" * 20 + "." * 21 + "S" * 20 + "." * 30, long_preroll)
    assert len(out) == 2 and out[1].start == out[0].end == 28


def test_blip_shorter_than_min_speech_is_dropped():
    assert run("." * 20 + "SS" + "." * 40) == []


def test_flush_returns_the_open_utterance():
    out = run("." * 5 + "S" * 50)
    assert len(out) == 1 and out[0].end == 55 and out[0].speech_frames == 50


def test_long_utterance_is_split_at_its_quietest_point():
    options = SegmenterOptions(max_utterance_ms=3_000)   # 100 frames
    energies = [0.5] * 300
    energies[80] = 0.001                                  # a quiet dip in the second half
    out = run("S" * 300, options, energies)
    assert out[0].end == 80
    assert all(u.frames <= 100 for u in out)
    assert sum(u.frames for u in out) == 300              # nothing lost, nothing doubled
    assert all(a.end == b.start for a, b in zip(out, out[1:]))


def test_settled_predicts_the_commit_exactly():
    seg = Segmenter(OPTS)
    settled = []
    committed = []
    for ch in "." * 20 + "S" * 40 + "." * 30:
        committed += seg.feed(ch == "S")
        if (s := seg.settled()) is not None and (not settled or settled[-1] != s):
            settled.append(s)
    assert settled and settled[0] == committed[0]
    # Settled only after the post-roll of silence: 8 frames after the last speech frame.
    seg2 = Segmenter(OPTS)
    for ch in "S" * 40 + "." * 7:
        seg2.feed(ch == "S")
    assert seg2.settled() is None
    seg2.feed(False)
    assert seg2.settled() == Utterance(0, 48, 40)
    seg2.feed(True)  # speech resumes: no longer settled
    assert seg2.settled() is None
