"""Pool workers warm up one at a time, so no two write numba's cache at once (a corrupted cache made
every later pool's workers segfault while starting)."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

from engine.run.pool import AnalysisPool


def timed_warm_up(folder: str) -> None:
    """A warm-up that takes a while and writes down when it ran (in the worker)."""
    began = time.time()
    time.sleep(0.6)
    Path(folder, f"{os.getpid()}.txt").write_text(f"{began} {time.time()}")


def test_two_workers_never_warm_up_at_the_same_time(tmp_path):
    cache = tmp_path / "numba"
    cache.mkdir()
    record = tmp_path / "warm-ups"
    record.mkdir()
    pool = AnalysisPool(2, partial(timed_warm_up, str(record)), str(cache))
    try:
        pool.start()
        give_up = time.monotonic() + 60
        while len(list(record.glob("*.txt"))) < 2 and time.monotonic() < give_up:
            time.sleep(0.1)
    finally:
        pool.stop()
    spans = sorted(tuple(map(float, f.read_text().split())) for f in record.glob("*.txt"))
    assert len(spans) == 2, spans
    (_, first_end), (second_start, _) = spans
    assert second_start >= first_end - 0.01, spans  # the second began only when the first had finished
