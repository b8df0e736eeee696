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


def quiet_warm_up() -> None:
    """A warm-up that finds everything in the cache: it writes nothing there."""
    time.sleep(0.2)


def compiling_warm_up() -> None:
    """A warm-up that saves a new entry into numba's cache, as a cold cache makes librosa do."""
    Path(os.environ["NUMBA_CACHE_DIR"], f"entry-{os.getpid()}-{time.time_ns()}.nbc").write_bytes(b"code")


def start_and_wait(pool: AnalysisPool, workers: int, within_s: float) -> int:
    pool.start()
    give_up = time.monotonic() + within_s
    while len(pool.ready_pids) < workers and time.monotonic() < give_up:
        pool.poll_notices(0.2)
    return len(pool.ready_pids)


def settled_markers(cache: Path) -> list[Path]:
    return list(cache.glob(".workers.warm-*"))


def after_one_warm_up(tmp_path: Path, monkeypatch, warm_up) -> Path:
    """A fresh numba cache folder, after one pool's single worker warmed up with ``warm_up`` under the lock."""
    cache = tmp_path / "numba"
    cache.mkdir()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    first = AnalysisPool(1, warm_up, str(cache))
    try:
        assert start_and_wait(first, 1, 60) == 1
    finally:
        first.stop()
    return cache


def test_workers_skip_the_lock_once_a_locked_warm_up_wrote_nothing(tmp_path, monkeypatch):
    """The lock costs a whole warm-up per worker on every pool start; a complete cache needs none."""
    from filelock import FileLock

    cache = after_one_warm_up(tmp_path, monkeypatch, quiet_warm_up)
    assert len(settled_markers(cache)) == 1
    held = FileLock(str(cache / ".workers-warming-up.lock"))
    held.acquire()  # another process warming up: only workers that still need the lock would wait
    second = AnalysisPool(2, quiet_warm_up, str(cache))
    try:
        assert start_and_wait(second, 2, 40) == 2
    finally:
        second.stop()
        held.release()


def test_a_warm_up_that_writes_into_the_cache_keeps_the_next_workers_waiting(tmp_path, monkeypatch):
    from filelock import FileLock

    cache = after_one_warm_up(tmp_path, monkeypatch, compiling_warm_up)
    assert list(cache.glob("entry-*.nbc")) and not settled_markers(cache)
    held = FileLock(str(cache / ".workers-warming-up.lock"))
    held.acquire()
    second = AnalysisPool(1, compiling_warm_up, str(cache))
    try:
        assert start_and_wait(second, 1, 3) == 0  # waits for the lock while the cache may still change
        held.release()
        assert start_and_wait(second, 1, 60) == 1
    finally:
        second.stop()
        if held.is_locked:
            held.release()


def test_a_stand_in_warm_up_never_marks_the_real_one_done(tmp_path, monkeypatch):
    """A test's warm-up compiles nothing: its marker must not let the real engine skip its own warm-up."""
    from engine.analysis.chunk import warm_up
    from engine.cachedirs import jit_marker

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert jit_marker(warm_up) == jit_marker()
    assert jit_marker(quiet_warm_up) != jit_marker(warm_up)
    assert jit_marker(partial(timed_warm_up, "x")) != jit_marker(warm_up)


def recording_warm_up(folder: str) -> None:
    """Writes down which process warmed up (the engine's own, or a worker)."""
    Path(folder, f"{os.getpid()}.txt").write_text(str(time.time()))


def test_the_engines_own_warm_up_waits_for_the_lock_too(tmp_path, monkeypatch, no_stray_workers):
    """Another app or command starting at the same moment: its parent process must not write numba's
    cache while this one's workers (or parent) do. Red when the parent warms up without the lock."""
    import threading

    from filelock import FileLock

    from engine.run.runner import Engine
    from engine.settings import AnalysisSettings, EngineOptions

    cache, record = tmp_path / "numba", tmp_path / "warm-ups"
    cache.mkdir()
    record.mkdir()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    held = FileLock(str(cache / ".workers-warming-up.lock"))
    held.acquire()
    engine = Engine(
        AnalysisSettings(),
        EngineOptions(workers=1, use_cache=False),
        chunk_function=partial(time.sleep),  # never called: only the warm-up is looked at
        warm_up=partial(recording_warm_up, str(record)),
    )
    warming = threading.Thread(target=lambda: list(engine.warm_up()), daemon=True)
    try:
        warming.start()
        time.sleep(2.0)
        assert not (record / f"{os.getpid()}.txt").exists()  # still waiting for the other process's lock
        held.release()
        warming.join(timeout=120)
        assert (record / f"{os.getpid()}.txt").exists()
    finally:
        if held.is_locked:
            held.release()
        engine.close()
