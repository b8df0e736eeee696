"""The engine end to end: real audio, the real spawn pool, real faults injected into real workers."""

from __future__ import annotations

import threading
from functools import partial

import psutil
import pytest

from engine.analysis.chunk import warm_up
from engine.results import ChunkStatus, SongStatus
from engine.run import events as ev
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests.audio import song
from tests.faults import faulty_chunk

SETTINGS = AnalysisSettings(chunk_seconds=4.0)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    return [song(folder / "a.wav", 120, 9.0), song(folder / "b.wav", 90, 6.0), song(folder / "c.wav", 140, 3.0)]


def make_engine(tmp_path, faults=None, **options):
    chunk_function = (
        partial(faulty_chunk, faults={str(k): v for k, v in faults.items()}, marker_dir=str(tmp_path))
        if faults
        else None
    )
    opts = EngineOptions(workers=2, cache_path=tmp_path / "cache.sqlite3", **options)
    return Engine(SETTINGS, opts, chunk_function=chunk_function, warm_up=warm_up)


def results_by_path(events):
    finished = [e for e in events if isinstance(e, ev.RunFinished)]
    assert len(finished) == 1 and events[-1] is finished[0]
    return {r.path: r for r in finished[0].results}


def test_events_in_order_and_chunks_in_parallel(tmp_path, songs, no_stray_workers):
    with make_engine(tmp_path, use_cache=False) as engine:
        events = list(engine.run(songs))
        pids = set(engine.worker_pids())
    assert isinstance(events[0], ev.RunStarted)
    assert any(isinstance(e, ev.WarmUp) and e.stage == "done" for e in events)
    for index, path in enumerate(songs):
        own = [e for e in events if getattr(e, "index", None) == index]
        assert isinstance(own[0], ev.SongStarted) and own[0].path == str(path)
        assert isinstance(own[-1], ev.SongFinished)
        chunk_events = [e for e in own if isinstance(e, ev.ChunkFinished)]
        assert len(chunk_events) == own[0].chunks_total
        assert {e.result.worker_pid for e in chunk_events} <= pids
    first_song = [e for e in events if isinstance(e, ev.ChunkFinished) and e.index == 0]
    assert len({e.result.worker_pid for e in first_song}) == 2  # 9 s in 4 s windows: both workers used
    results = results_by_path(events)
    assert all(r.status is SongStatus.DONE and r.bpm and r.key for r in results.values())


def test_workers_are_spawned_at_lower_priority(tmp_path, songs, no_stray_workers):
    with make_engine(tmp_path, use_cache=False) as engine:
        list(engine.warm_up())
        workers = [psutil.Process(pid) for pid in engine.worker_pids()]
        assert len(workers) == 2
        for worker in workers:
            assert "spawn" in " ".join(worker.cmdline())
            assert worker.nice() > psutil.Process().nice()


def test_cache_hit_on_rerun_and_force(tmp_path, songs, no_stray_workers):
    with make_engine(tmp_path) as engine:
        first = results_by_path(list(engine.run(songs)))
        second_events = list(engine.run(songs))
        forced = results_by_path(list(engine.run(songs[:1], force=True)))
    second = results_by_path(second_events)
    assert not any(isinstance(e, ev.SongStarted) for e in second_events)
    assert all(r.cached for r in second.values())
    assert {p: (r.bpm, r.key) for p, r in second.items()} == {p: (r.bpm, r.key) for p, r in first.items()}
    assert not forced[str(songs[0])].cached
    with make_engine(tmp_path) as reopened:  # survives a restart: it is on disk
        assert all(r.cached for r in results_by_path(list(reopened.run(songs))).values())


def test_hanging_chunk_hits_its_deadline_and_the_run_goes_on(tmp_path, songs, no_stray_workers):
    with make_engine(tmp_path, faults={songs[0]: "hang"}, chunk_timeout=5.0, use_cache=False) as engine:
        events = list(engine.run(songs[:2]))
    results = results_by_path(events)
    hung = results[str(songs[0])]
    assert hung.status is SongStatus.PARTIAL
    assert hung.chunks[0].status is ChunkStatus.TIMEOUT and "timed out" in hung.chunks[0].error
    assert all(c.status is ChunkStatus.OK for c in hung.chunks[1:])
    assert any(isinstance(e, ev.PoolRecovered) and e.reason is ev.RecoveryReason.TIMEOUT for e in events)
    assert results[str(songs[1])].status is SongStatus.DONE


@pytest.mark.parametrize("fault", ["kill", "segfault", "memory"])
def test_dying_or_failing_worker_is_retried_once_then_marked_failed(tmp_path, songs, fault, no_stray_workers):
    with make_engine(tmp_path, faults={songs[0]: fault}, use_cache=False) as engine:
        events = list(engine.run(songs[:2]))
    results = results_by_path(events)
    broken = results[str(songs[0])]
    assert broken.status is SongStatus.PARTIAL
    assert broken.chunks[0].status is ChunkStatus.FAILED and broken.chunks[0].attempts == 2
    expected = {"kill": "SIGKILL", "segfault": "SIGSEGV", "memory": "MemoryError"}[fault]
    assert expected in broken.chunks[0].error
    assert results[str(songs[1])].status is SongStatus.DONE


def test_killed_worker_recovers_on_retry(tmp_path, songs, no_stray_workers):
    with make_engine(tmp_path, faults={songs[0]: "kill_once"}, use_cache=False) as engine:
        events = list(engine.run(songs[:1]))
    result = results_by_path(events)[str(songs[0])]
    assert result.status is SongStatus.DONE and result.chunks[0].attempts == 2
    assert any(isinstance(e, ev.PoolRecovered) and e.reason is ev.RecoveryReason.WORKER_DIED for e in events)


@pytest.mark.parametrize("fault", ["nested_pool", "engine_pool"])
def test_worker_cannot_create_a_pool(tmp_path, songs, fault, no_stray_workers):
    with make_engine(tmp_path, faults={songs[2]: fault}, use_cache=False) as engine:
        events = list(engine.run(songs[2:]))
    result = results_by_path(events)[str(songs[2])]
    assert result.status is SongStatus.ERROR
    assert "may not start processes or pools" in result.error


def test_bad_files_fail_clearly_and_the_run_continues(tmp_path, songs, no_stray_workers):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(bytes(range(256)) * 40)
    truncated = tmp_path / "truncated.flac"
    song(truncated, 100, 9.0)
    truncated.write_bytes(truncated.read_bytes()[:3000])
    with make_engine(tmp_path, use_cache=False) as engine:
        events = list(engine.run([empty, noise, truncated, songs[1]]))
    results = results_by_path(events)
    assert "empty" in results[str(empty)].error
    assert "not a readable audio file" in results[str(noise)].error
    # 3000 bytes hold the FLAC header and no whole frame: nothing can be read, so no chunk has audio
    assert results[str(truncated)].status is SongStatus.ERROR
    error = results[str(truncated)].error
    assert "no audio could be read between 0.0 s and" in error and "(truncated file?)" in error, error
    assert results[str(songs[1])].status is SongStatus.DONE
    failed = [e for e in events if isinstance(e, ev.SongFailed)]
    assert {e.path for e in failed} >= {str(empty), str(noise)}


def test_cancel_mid_run_stops_and_leaves_no_child(tmp_path, songs, no_stray_workers):
    faults = {s: "slow" for s in songs}
    engine = make_engine(tmp_path, faults=faults, use_cache=False)
    seen: list[ev.Event] = []

    def drive():
        for event in engine.run(songs * 3):
            seen.append(event)
            if isinstance(event, ev.ChunkStarted):
                engine.cancel()

    thread = threading.Thread(target=drive)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    summary = seen[-1].summary
    assert summary.cancelled and summary.songs_done < len(songs) * 3
    assert engine.worker_pids() == []
    engine.close()


def test_pause_holds_the_run_until_resume(tmp_path, songs, no_stray_workers):
    with make_engine(tmp_path, use_cache=False) as engine:
        list(engine.warm_up())
        engine.pause()
        seen: list[ev.Event] = []
        thread = threading.Thread(target=lambda: seen.extend(engine.run(songs[1:])))
        thread.start()
        thread.join(timeout=1.5)
        assert thread.is_alive() and not any(isinstance(e, ev.SongStarted) for e in seen)
        engine.resume()
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert isinstance(seen[-1], ev.RunFinished) and seen[-1].summary.songs_done == 2


def test_workers_that_die_while_starting_stop_the_run_instead_of_hanging(
    tmp_path, songs, no_stray_workers, monkeypatch
):
    """A broken install: every worker dies in its warm-up. numba's cache is set aside once (it could have been
    the cause), the second pool dies too, and the run stops with the reason."""
    from engine.errors import EngineError
    from tests.faults import warm_up_that_kills_workers

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))  # never the user's: it is set aside here
    (tmp_path / "numba").mkdir()

    options = EngineOptions(workers=2, use_cache=False)
    engine = Engine(
        SETTINGS, options, chunk_function=partial(faulty_chunk, faults={}), warm_up=warm_up_that_kills_workers
    )
    try:
        with pytest.raises(EngineError, match="exit while starting"):
            list(engine.run(songs[:1]))
    finally:
        engine.close()
    assert len(list(tmp_path.glob("numba.set-aside-*"))) == 1


def test_a_damaged_compiled_code_cache_is_set_aside_and_the_run_goes_on(tmp_path, songs, no_stray_workers, monkeypatch):
    """numba's cache once held an entry two processes wrote at once: every worker loading it segfaulted, and no
    run could start until the folder was deleted by hand. The engine sets the folder aside and starts cold.
    Red without :meth:`Engine._set_aside_compiled_code`: "the analysis workers exit while starting"."""
    from tests.faults import warm_up_that_dies_on_a_poisoned_cache

    cache = tmp_path / "numba"
    cache.mkdir()
    (cache / "poisoned").write_text("a damaged entry")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    options = EngineOptions(workers=2, use_cache=False)
    chunk = partial(faulty_chunk, faults={})
    with Engine(SETTINGS, options, chunk_function=chunk, warm_up=warm_up_that_dies_on_a_poisoned_cache) as engine:
        events = list(engine.run(songs[:1]))
    assert events[-1].summary.songs_done == 1
    aside = list(tmp_path.glob("numba.set-aside-*"))
    assert len(aside) == 1 and (aside[0] / "poisoned").exists() and not (cache / "poisoned").exists()


def _alive(pids):
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_closing_one_engine_leaves_another_engines_workers_alone(tmp_path, songs, no_stray_workers):
    """Two pools in one process (the window's and the diagnostics'): each stops only its own workers."""
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    with make_engine(tmp_path / "first", use_cache=False) as first:
        list(first.warm_up())
        first_pids = set(first.worker_pids())
        second = make_engine(tmp_path / "second", use_cache=False)
        try:
            list(second.warm_up())
            second_pids = set(second.worker_pids())
            assert len(first_pids) == 2 and len(second_pids) == 2 and not first_pids & second_pids
        finally:
            second.close()  # SIGKILLs its workers first
        _, still = psutil.wait_procs([psutil.Process(p) for p in _alive(second_pids)], timeout=5)
        assert not _alive(p.pid for p in still), "the closed engine's own workers are gone"
        assert sorted(_alive(first_pids)) == sorted(first_pids), "the other engine's workers survive"
        assert set(first.worker_pids()) == first_pids
        events = list(first.run(songs[2:]))
        assert not any(isinstance(e, ev.WarmUp) and e.stage == "parent" for e in events), "no re-warm needed"
        result = results_by_path(events)[str(songs[2])]
        assert result.status is SongStatus.DONE and result.bpm
        assert {c.worker_pid for c in result.chunks} <= first_pids
