"""A song's chunks are combined (consensus and beat-grid fit) in the pool, never in the engine's process (issue 23).

Through the real spawn pool, with the real combine: ``tests.faults.faulty_combine`` leaves a file named
after the process it runs in, and injects a fault (a kill, an exception, a hang) into one song's combine.
That song must fail alone, with the step named, its chunks kept; the next song is analysed.
"""

from __future__ import annotations

import os
import re
import threading
from functools import partial

import pytest

from engine.analysis.chunk import warm_up
from engine.results import ChunkStatus, SongStatus
from engine.run import events as ev
from engine.run import runner
from engine.run.runner import COMBINE_FAILED, Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests.audio import song
from tests.faults import faulty_combine

SETTINGS = AnalysisSettings(chunk_seconds=4.0)
PAUSE_S = 2.0


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("combine-songs")
    return [
        song(folder / name, bpm, seconds)
        for name, bpm, seconds in (("a.wav", 120, 9.0), ("b.wav", 90, 6.0), ("c.wav", 140, 5.0), ("d.wav", 100, 6.0))
    ]


def make_engine(tmp_path, faults=None, **options):
    combine = partial(faulty_combine, faults={str(k): v for k, v in (faults or {}).items()}, marker_dir=str(tmp_path))
    opts = EngineOptions(workers=2, use_cache=False, **options)
    return Engine(SETTINGS, opts, warm_up=warm_up, combine_function=combine)


def combined_in(tmp_path) -> dict[str, set[int]]:
    """Song path → the pids of the processes its combine ran in (from the files the combine left)."""
    found: dict[str, set[int]] = {}
    for marker in tmp_path.glob("combined-*"):
        pid = int(re.match(r"combined-(\d+)-", marker.name).group(1))
        found.setdefault(marker.read_text(), set()).add(pid)
    return found


def results_by_path(events):
    assert isinstance(events[-1], ev.RunFinished)
    return {r.path: r for r in events[-1].results}


def test_each_song_is_combined_in_a_pool_worker_and_keeps_its_chunks(tmp_path, songs, no_stray_workers):
    """The combine of every song ran in one of the pool's workers, not in this (the engine's) process; red
    when ``_combine`` calls ``self._combine_function`` in the engine's thread. Its start notice is not taken
    for a chunk's: every song has exactly one ChunkStarted per chunk. A pause that comes as the first song's
    last chunk finishes holds its combine until the resume (no new task while paused); red without the
    ``_wait_while_paused`` before the combine is submitted."""
    engine = make_engine(tmp_path)
    seen_while_paused: list[dict[str, set[int]]] = []

    def resume_later() -> None:
        threading.Event().wait(PAUSE_S)
        seen_while_paused.append(combined_in(tmp_path))
        engine.resume()

    events: list[ev.Event] = []
    with engine:
        for event in engine.run(songs[:2]):
            events.append(event)
            chunks = [e for e in events if isinstance(e, ev.ChunkFinished) and e.index == 0]
            if isinstance(event, ev.ChunkFinished) and event.index == 0 and len(chunks) == started_total(events):
                engine.pause()  # the song's chunks are all back; its combine is next
                threading.Thread(target=resume_later).start()
        workers = {e.result.worker_pid for e in events if isinstance(e, ev.ChunkFinished)}
    assert seen_while_paused == [{}]  # nothing was combined while paused
    results = results_by_path(events)
    where = combined_in(tmp_path)
    assert set(where) == {str(s) for s in songs[:2]}
    for path, result in results.items():
        assert result.status is SongStatus.DONE and result.bpm and result.key
        assert os.getpid() not in where[path] and where[path] <= workers, (where, workers)
        assert [c.index for c in result.chunks] == list(range(result.chunks_total))
        assert all(c.features is not None and c.features.onset_envelope is not None for c in result.chunks)
    for index, path in enumerate(songs[:2]):
        started = [e for e in events if isinstance(e, ev.ChunkStarted) and e.index == index]
        assert sorted(e.chunk_index for e in started) == list(range(results[str(path)].chunks_total))


def started_total(events: list[ev.Event]) -> int:
    """The first song's chunk count, from its SongStarted."""
    return next(e.chunks_total for e in events if isinstance(e, ev.SongStarted) and e.index == 0)


FAULTS = {
    "raise": "RuntimeError: injected failure (2 attempts)",
    "kill": "worker process died (killed by SIGKILL) (2 attempts)",
    "hang": "timed out after 5 s; worker replaced",
}


def test_a_combine_that_dies_raises_or_hangs_fails_that_song_alone_with_the_step_named(
    tmp_path, songs, no_stray_workers
):
    """One run, a fault in each of three songs' combine, then a song without one.

    Killed or raising: tried twice (like a chunk). Hanging: pebble kills the worker at the combine's deadline
    (a chunk's: ``--chunk-timeout``) and starts another, no retry. Each song is then an error that says which
    step failed and why, with its analysed chunks kept; the last song is done. Red with the combine in the
    engine's thread (``raise``, first, escapes the run; ``kill`` would kill the test process), and
    red when it is submitted with no timeout (the watchdog rebuilds the pool a minute later, other words).
    """
    faulty = dict(zip(songs, FAULTS, strict=False))
    with make_engine(tmp_path, faults=faulty, chunk_timeout=5.0) as engine:
        events = list(engine.run(songs))
    results = results_by_path(events)
    for path, fault in faulty.items():
        broken = results[str(path)]
        assert broken.status is SongStatus.ERROR and broken.bpm is None
        assert broken.error == f"{COMBINE_FAILED}: {FAULTS[fault]}"
        assert broken.chunks_ok == broken.chunks_total == len(broken.chunks) >= 1
        assert all(c.status is ChunkStatus.OK and c.features is not None for c in broken.chunks)
        assert any(isinstance(e, ev.SongFailed) and e.error == broken.error for e in events)
    recoveries = [e.reason for e in events if isinstance(e, ev.PoolRecovered)]
    assert sorted(recoveries) == sorted([ev.RecoveryReason.WORKER_DIED] * 2 + [ev.RecoveryReason.TIMEOUT])
    assert results[str(songs[-1])].status is SongStatus.DONE and results[str(songs[-1])].bpm
    assert events[-1].summary.songs_failed == 3 and events[-1].summary.songs_done == 1
    assert events[-1].summary.worker_replacements == 3


def test_a_combine_that_pebble_never_ends_is_ended_by_the_watchdog_and_fails_that_song_alone(
    tmp_path, songs, no_stray_workers, monkeypatch
):
    """The second line behind pebble's deadline: a combine that hangs where pebble's kill never comes (its
    deadline here is a minute away) is given up by the engine's own watchdog at deadline + grace (here 8 s),
    the pool is rebuilt, that song fails with its chunks kept, and the songs after it are done (the next
    song's chunks, started early in the old pool, run again in the new one). Red with the combine's watchdog
    check removed: the run waits for pebble's deadline instead (the song then says "timed out after 60 s")."""
    monkeypatch.setattr(runner, "WATCHDOG_GRACE", -52.0)
    queue = songs[1:]
    with make_engine(tmp_path, faults={queue[0]: "hang"}, chunk_timeout=60.0) as engine:
        events = list(engine.run(queue))
    results = results_by_path(events)
    hung = results[str(queue[0])]
    assert hung.status is SongStatus.ERROR
    assert hung.error == f"{COMBINE_FAILED}: no answer from its worker after its deadline; pool rebuilt"
    assert hung.chunks_ok == hung.chunks_total == len(hung.chunks) >= 1
    assert [e.reason for e in events if isinstance(e, ev.PoolRecovered)] == [ev.RecoveryReason.POOL_REBUILT]
    assert all(results[str(path)].status is SongStatus.DONE for path in queue[1:])
    assert events[-1].summary.worker_replacements == 1


def test_cancel_while_a_song_is_being_combined_stops_at_once_and_leaves_no_worker(tmp_path, songs, no_stray_workers):
    """The combine's wait checks the cancel at every poll; red when it does not (the run would wait out the
    combine's 120 s deadline before the cancel was seen)."""
    engine = make_engine(tmp_path, faults={songs[0]: "hang"}, chunk_timeout=120.0)
    seen: list[ev.Event] = []
    thread = threading.Thread(target=lambda: seen.extend(engine.run(songs[:2])))
    thread.start()
    try:
        for _ in range(600):  # the hanging combine has begun once its marker is there (bounded: 60 s)
            if combined_in(tmp_path):
                break
            thread.join(timeout=0.1)
        assert combined_in(tmp_path), "the combine never started"
        engine.cancel()
        thread.join(timeout=20)
        assert not thread.is_alive()
        assert seen[-1].summary.cancelled and seen[-1].summary.songs_done == 0
        assert engine.worker_pids() == []
    finally:
        engine.cancel()
        thread.join(timeout=30)
        engine.close()
