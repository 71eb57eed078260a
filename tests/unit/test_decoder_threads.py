from v2m.infrastructure.asr.decoder_threads import MAX_SPLIT_BYTES, should_split

TINY = 75_000_000


def test_a_small_model_on_several_cpu_threads_gets_a_one_thread_decoder():
    assert should_split("cpu", 2, TINY, 2)
    assert should_split("cpu", 0, TINY, 4)  # 0: CTranslate2's default, a thread per core
    assert should_split("cpu", 4, MAX_SPLIT_BYTES, 1)


def test_one_thread_a_gpu_or_a_large_model_keeps_one_model():
    assert not should_split("cpu", 1, TINY, 8)
    assert not should_split("cpu", 0, TINY, 1)  # one core: one thread already
    assert not should_split("cuda", 4, TINY, 8)
    assert not should_split("cpu", 4, MAX_SPLIT_BYTES + 1, 8)  # medium and up: twice the memory
