"""A worker the current song leaves idle starts the next song's chunks; events stay song by song.

Most songs are one or two chunks, so while a song's last chunk runs alone, or only its combine is left,
one worker of two would idle. Through the real spawn pool and the real analysis:
``tests.faults.logged_chunk`` leaves when each chunk ran, so the test sees what overlapped.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest

from engine.results import ChunkStatus, SongStatus
from engine.run import events as ev
from engine.run import runner
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests.audio import song
from tests.faults import logged_chunk

SETTINGS = AnalysisSettings(chunk_seconds=8.0)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    """Three songs of one chunk each (6 s in 8 s windows)."""
    folder = tmp_path_factory.mktemp("idle-songs")
    return [song(folder / name, bpm, 6.0) for name, bpm in (("a.wav", 120), ("b.wav", 96), ("c.wav", 140))]


def make_engine(log_dir: Path, **options) -> Engine:
    chunk = partial(logged_chunk, log_dir=str(log_dir), **options.pop("chunk_options", {}))
    return Engine(SETTINGS, EngineOptions(workers=2, use_cache=False, **options), chunk_function=chunk)


def ran(log_dir: Path, name: str, attempt: int = 0) -> tuple[float, float]:
    began, ended = (log_dir / f"{name}@0-{attempt}").read_text().split()
    return float(began), float(ended)


def test_the_next_songs_chunk_runs_beside_the_current_song_and_events_stay_song_by_song(
    tmp_path, songs, no_stray_workers
):
    """Red without the early start: each song's chunk then begins only after the song before it was combined."""
    received: list[tuple[float, ev.Event]] = []
    with make_engine(tmp_path) as engine:
        for event in engine.run(songs):
            received.append((time.monotonic(), event))
    events = [event for _, event in received]
    results = {r.path: r for r in events[-1].results}
    assert all(r.status is SongStatus.DONE for r in results.values())
    first_ended = ran(tmp_path, Path(songs[0]).name)[1]
    second_began = ran(tmp_path, Path(songs[1]).name)[0]
    assert second_began < first_ended, "the second song's chunk did not start while the first song's ran"
    # the contract between threads is unchanged: one song's events, then the next song's
    song_events = [e for e in events if hasattr(e, "index")]
    assert [e.index for e in song_events] == sorted(e.index for e in song_events)
    for index in range(len(songs)):
        own = [e for e in song_events if e.index == index]
        kinds = [type(e) for e in own]
        assert kinds == [ev.SongStarted, ev.ChunkStarted, ev.ChunkFinished, ev.SongFinished], kinds
        assert own[1].worker_pid == own[2].result.worker_pid
    # the second song's chunk is announced after the first song finished, with when it really began
    first_done = next(at for at, e in received if isinstance(e, ev.SongFinished) and e.index == 0)
    early = next(e for e in events if isinstance(e, ev.ChunkStarted) and e.index == 1)
    assert early.started_at is not None and early.started_at < first_done
    # meanwhile the worker was said to be busy with it (the workers view), while the first song still ran
    ahead = [(at, e) for at, e in received if isinstance(e, ev.WorkerAhead) and e.song_index == 1]
    assert ahead and ahead[0][0] < first_done and not ahead[0][1].finished, ahead
    began = ahead[0][1]
    assert (began.worker_pid, began.chunk_index, began.started_at) == (early.worker_pid, 0, early.started_at)
    assert began.path == str(songs[1]) and began.chunks_total == 1
    assert [e.finished for _, e in ahead] in ([False], [False, True])  # said once each, never out of order


def test_a_pool_rebuilt_under_an_early_chunk_runs_that_chunk_again(tmp_path, songs, no_stray_workers, monkeypatch):
    """The first song's chunk hangs and no deadline ends it: the watchdog rebuilds the pool while the second
    song's chunk, started early, hangs too (once). That chunk must run again in the new pool, as a first
    attempt, and its song be done. Red without the re-queue: the chunk is lost with the old pool (timed out
    by the watchdog), or retried as a failure."""
    monkeypatch.setattr(runner, "WATCHDOG_GRACE", -52.0)  # deadline 60 s, watchdog after 8 s
    first, second = songs[0], songs[1]
    hangs = {"hang": Path(first).name, "hang_once": Path(second).name}
    with make_engine(tmp_path, chunk_timeout=60.0, chunk_options=hangs) as engine:
        events = list(engine.run([first, second]))
    results = {r.path: r for r in events[-1].results}
    assert results[str(first)].chunks[0].status is ChunkStatus.TIMEOUT
    assert [e.reason for e in events if isinstance(e, ev.PoolRecovered)] == [ev.RecoveryReason.POOL_REBUILT]
    ran(tmp_path, Path(second).name, attempt=0)  # it did start early, in the pool that was thrown away
    again = results[str(second)]
    assert again.status is SongStatus.DONE, again.error
    assert again.chunks[0].status is ChunkStatus.OK and again.chunks[0].attempts == 1
