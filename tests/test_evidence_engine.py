"""Fault-table rows with no test of their own: real audio, the real spawn pool, real faults in real workers.

* A chunk whose analysis raises is retried once, then ``failed`` (the song ``partial``).
* A chunk that never returns, on a song that has only that one chunk: the song is ``error``.
* Cancel, then run again with the cache on: songs finished before the cancel come from the cache.
"""

from __future__ import annotations

import threading
from functools import partial

import pytest

from engine.analysis.chunk import warm_up
from engine.results import ChunkStatus, SongStatus
from engine.run import events as ev
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests.audio import song
from tests.faults import faulty_chunk

pytestmark = pytest.mark.usefixtures("no_stray_workers")
SETTINGS = AnalysisSettings(chunk_seconds=4.0)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("evidence-songs")
    return [song(folder / "a.wav", 120, 9.0), song(folder / "b.wav", 90, 6.0), song(folder / "c.wav", 140, 3.0)]


def engine_with(tmp_path, faults: dict, **options) -> Engine:
    chunk = partial(faulty_chunk, faults={str(k): v for k, v in faults.items()}, marker_dir=str(tmp_path))
    opts = EngineOptions(workers=2, **{"use_cache": False, **options})
    return Engine(SETTINGS, opts, chunk_function=chunk, warm_up=warm_up)


def finished(events) -> dict:
    (done,) = [e for e in events if isinstance(e, ev.RunFinished)]
    return {r.path: r for r in done.results}


def test_a_chunk_that_raises_is_retried_once_then_failed(tmp_path, songs):
    with engine_with(tmp_path, {songs[0]: "raise"}) as engine:
        results = finished(list(engine.run(songs[:2])))
    broken = results[str(songs[0])]
    assert broken.status is SongStatus.PARTIAL
    first = broken.chunks[0]
    assert first.status is ChunkStatus.FAILED
    assert first.attempts == 2
    assert "RuntimeError" in first.error and "injected failure" in first.error
    assert all(c.status is ChunkStatus.OK for c in broken.chunks[1:])
    assert results[str(songs[1])].status is SongStatus.DONE


def test_a_timeout_on_a_song_with_one_chunk_is_an_error(tmp_path, songs):
    one_chunk = songs[2]  # 3 s in 4 s chunks
    with engine_with(tmp_path, {one_chunk: "hang"}, chunk_timeout=4.0) as engine:
        events = list(engine.run([one_chunk, songs[1]]))
    results = finished(events)
    hung = results[str(one_chunk)]
    assert len(hung.chunks) == 1
    assert hung.chunks[0].status is ChunkStatus.TIMEOUT
    assert hung.status is SongStatus.ERROR
    assert "timed out" in hung.error
    assert any(isinstance(e, ev.PoolRecovered) and e.reason == "timeout" for e in events)
    assert results[str(songs[1])].status is SongStatus.DONE


def test_cancel_then_run_again_serves_the_finished_songs_from_the_cache(tmp_path, songs):
    """Cancelled after the first song finished: the re-run takes that song from the cache, analyses the rest."""
    queue = [songs[2], songs[1], songs[0]]
    engine = engine_with(tmp_path, {songs[1]: "slow"}, use_cache=True, cache_path=tmp_path / "cache.sqlite3")
    seen: list[ev.Event] = []

    def drive() -> None:
        for event in engine.run(queue):
            seen.append(event)
            if isinstance(event, ev.SongFinished):
                engine.cancel()

    try:
        thread = threading.Thread(target=drive)
        thread.start()
        thread.join(timeout=120)
        assert not thread.is_alive()
        before = [e.result for e in seen if isinstance(e, ev.SongFinished)]
        assert seen[-1].summary.cancelled
        assert [r.path for r in before] == [str(songs[2])] and before[0].status is SongStatus.DONE
        again = list(engine.run(queue))
    finally:
        engine.close()
    results = finished(again)
    assert results[str(songs[2])].cached
    assert (results[str(songs[2])].bpm, results[str(songs[2])].key) == (before[0].bpm, before[0].key)
    assert not results[str(songs[1])].cached and not results[str(songs[0])].cached
    assert all(r.status is SongStatus.DONE for r in results.values())
    started = [e.path for e in again if isinstance(e, ev.SongStarted)]
    assert str(songs[2]) not in started and set(started) == {str(songs[1]), str(songs[0])}


def test_a_song_that_ended_in_an_error_is_not_cached_and_is_tried_again(tmp_path, songs):
    """docs/reliability.md: "Songs that ended in an error are not saved: the next run tries them again"."""
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with engine_with(tmp_path, {}, use_cache=True, cache_path=tmp_path / "cache.sqlite3") as engine:
        first = finished(list(engine.run([empty, songs[2]])))
        again = list(engine.run([empty, songs[2]]))  # the same files, unchanged
    assert first[str(empty)].status is SongStatus.ERROR and "empty" in first[str(empty)].error
    results = finished(again)
    assert results[str(songs[2])].cached  # the good song came from the cache...
    assert not results[str(empty)].cached and results[str(empty)].status is SongStatus.ERROR  # ...the failed one ran
    assert [e.path for e in again if isinstance(e, ev.SongFailed)] == [str(empty)]
