"""The pool on its own: real spawned workers, trivial tasks, no librosa, so each case takes a second or two.

The engine's tests (``test_engine_runner.py``) prove the same promises with real analysis; these run
in-process and fast, which is what mutation testing of ``engine/run/pool.py`` needs
(``bench/mutation_run.py``): every mutant re-runs them.
"""

from __future__ import annotations

import multiprocessing
import os
import time

import psutil
import pytest
from pebble import ProcessExpired

from engine.errors import NestedPoolError, PoolClosedError
from engine.run.pool import AnalysisPool, in_worker, worker_processes


def start_a_process() -> None:
    """What a chunk must never do: start a process of its own."""
    multiprocessing.get_context("spawn").Process(target=os.getpid).start()


def worker_facts() -> tuple[bool, str | None, int]:
    return in_worker(), os.environ.get("OMP_NUM_THREADS"), os.getpriority(os.PRIO_PROCESS, 0)


def ready_pool(workers: int = 2) -> AnalysisPool:
    pool = AnalysisPool(workers)
    pool.start()
    give_up = time.monotonic() + 60
    while len(pool.ready_pids) < workers:
        assert time.monotonic() < give_up, "workers did not start"
        pool.poll_notices(0.1)
    return pool


def alive(pids: list[int]) -> list[int]:
    _, still = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=0)
    return [p.pid for p in still if p.status() != psutil.STATUS_ZOMBIE]


def test_a_pool_runs_tasks_in_its_own_announced_workers_then_stops_them_all(no_stray_workers):
    before = os.environ.get("OMP_NUM_THREADS")
    pool = ready_pool(2)
    try:
        assert pool.running and sorted(pool.worker_pids()) == sorted(pool.ready_pids) and len(pool.ready_pids) == 2
        # the census the leak checks rely on: exactly the workers, not multiprocessing's resource tracker
        assert sorted(p.pid for p in worker_processes()) == sorted(pool.worker_pids())
        assert pool.born_pids >= pool.ready_pids
        value, pid, seconds = pool.submit("token-1", os.getpid, (), timeout=30).result(timeout=30)
        assert value == pid and pid in pool.ready_pids and 0 <= seconds < 30
        assert [(n.kind, n.token, n.pid) for n in pool.poll_notices(1.0) if n.kind == "start"] == [
            ("start", "token-1", pid)
        ]
        expected_nice = min(19, os.nice(0) + 5)  # a niced test run: the worker cannot go past 19
        assert pool.submit(None, worker_facts, (), timeout=30).result(timeout=30)[0] == (True, "1", expected_nice)
        assert not in_worker() and os.environ.get("OMP_NUM_THREADS") == before  # the parent's own limits restored
        workers = pool.worker_pids()
    finally:
        pool.stop()
    assert not pool.running and pool.worker_pids() == [] and pool.ready_pids == pool.born_pids == set()
    assert alive(workers) == []
    with pytest.raises(PoolClosedError, match=r"^the analysis pool is not running$"):
        pool.submit(None, os.getpid, (), timeout=1)
    pool.stop()  # twice is fine


def test_a_task_past_its_deadline_is_stopped_and_its_worker_replaced(no_stray_workers):
    pool = ready_pool(1)
    try:
        (first,) = pool.worker_pids()
        with pytest.raises(TimeoutError) as stopped:
            pool.submit(None, time.sleep, (3600,), timeout=0.3).result(timeout=30)
        assert stopped.value.args[0] == "Task timeout"
        _, pid, _ = pool.submit(None, os.getpid, (), timeout=30).result(timeout=60)
        assert pid != first and alive([first]) == []
        give_up = time.monotonic() + 10
        while pid not in pool.worker_pids() and time.monotonic() < give_up:
            pool.poll_notices(0.1)  # its notices travel apart from the task's result
        assert pool.worker_pids() == [pid]
    finally:
        pool.stop()


def test_a_worker_cannot_start_a_process_or_a_pool(no_stray_workers):
    pool = ready_pool(1)
    try:
        with pytest.raises(NestedPoolError, match="may not start processes or pools"):
            pool.submit(None, start_a_process, (), timeout=30).result(timeout=30)
        with pytest.raises(NestedPoolError, match="may not start processes or pools"):
            pool.submit(None, AnalysisPool, (1,), timeout=30).result(timeout=30)
    finally:
        pool.stop()


def test_a_killed_worker_is_reported_and_replaced(no_stray_workers):
    pool = ready_pool(1)
    try:
        (first,) = pool.worker_pids()
        future = pool.submit(None, time.sleep, (3600,), timeout=60)
        while not [n for n in pool.poll_notices(0.1) if n.kind == "start"]:
            pass
        os.kill(first, 9)
        with pytest.raises(ProcessExpired):
            future.result(timeout=30)
        assert pool.submit(None, os.getpid, (), timeout=30).result(timeout=60)[1] != first
    finally:
        pool.stop()


def test_stop_and_rebuild_while_workers_are_still_starting_leave_nothing_running(no_stray_workers):
    pool = AnalysisPool(2)
    pool.start()
    give_up = time.monotonic() + 30
    while len(worker_processes()) < 2 and time.monotonic() < give_up:  # spawned, not yet announced
        time.sleep(0.005)
    spawned = [p.pid for p in worker_processes()]
    pool.rebuild()
    assert pool.rebuilds == 1 and pool.running
    assert alive(spawned) == []  # the first pool's workers went before the new one started
    pool.rebuild()
    assert pool.rebuilds == 2 and pool.running
    pool.stop(kill=False)
    assert worker_processes() == [] or alive([p.pid for p in worker_processes()]) == []


def test_a_stopping_pool_starts_no_new_worker():
    """Once ``stop`` has closed the guard, pebble's last loop turn cannot start a worker it would never kill."""
    from engine.run.pool import _GuardedSpawnContext, _SpawnGuard

    context = _GuardedSpawnContext(_SpawnGuard())
    assert context.guard.close() == []
    with pytest.raises(OSError, match=r"^the pool is stopping: no new worker is started$"):
        context.Process(target=os.getpid).start()
    assert worker_processes() == []


def leave_marker(folder: str) -> None:
    """A warm-up that says which worker ran it."""
    with open(os.path.join(folder, f"warmed-{os.getpid()}"), "w", encoding="utf-8"):
        pass


def test_each_worker_runs_the_warm_up_before_it_says_ready(tmp_path, no_stray_workers):
    from functools import partial

    pool = AnalysisPool(2, partial(leave_marker, str(tmp_path)))
    pool.start()
    try:
        give_up = time.monotonic() + 60
        while len(pool.ready_pids) < 2:
            assert time.monotonic() < give_up, "workers did not start"
            pool.poll_notices(0.1)
            # a worker is ready only once its warm-up ran
            assert pool.ready_pids <= {int(p.name.split("-")[1]) for p in tmp_path.glob("warmed-*")}
        assert len(list(tmp_path.glob("warmed-*"))) == 2
    finally:
        pool.stop()


def test_polling_for_notices_waits_up_to_the_time_given_and_no_longer_than_needed(no_stray_workers):
    """The engine's start-up loop polls with a wait instead of spinning: with nothing to report, a poll takes
    about its wait, on a running pool and on one that is not running (a stopped pool must not raise)."""
    idle = AnalysisPool(1)
    began = time.monotonic()
    assert idle.poll_notices(0.2) == []
    assert time.monotonic() - began >= 0.15
    pool = ready_pool(1)
    try:
        pool.poll_notices()  # drain
        began = time.monotonic()
        assert pool.poll_notices() == []  # no wait given: none taken (the engine polls between every event)
        assert time.monotonic() - began < 0.5
        began = time.monotonic()
        assert pool.poll_notices(0.3) == []
        assert time.monotonic() - began >= 0.25
        pool.submit("t", os.getpid, (), timeout=30).result(timeout=30)
        began = time.monotonic()
        assert [n.kind for n in pool.poll_notices(5.0)] == ["start"]  # the notice ends the wait
        assert time.monotonic() - began < 4.0
    finally:
        pool.stop()


def make_a_pool_and_report(answers) -> None:
    """In a child process that is not a pool worker: try to own a pool, and say what happened."""
    try:
        AnalysisPool(1)
        answers.put("made a pool")
    except NestedPoolError as exc:
        answers.put(str(exc))


def test_no_child_process_may_own_a_pool_not_only_pool_workers():
    """One pool, owned by the app's own process: a child that is not one of our workers (a helper a library
    started, say) is refused too."""
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=make_a_pool_and_report, args=(answers,))
    child.start()
    try:
        assert "may not start processes or pools" in answers.get(timeout=60)
    finally:
        child.join(timeout=30)


def ignore_term_and_hang() -> None:
    """A task stuck where SIGTERM cannot end it (a handler that ignores it, as some native libraries install)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(600)


def test_stop_ends_a_worker_that_ignores_sigterm_at_once(no_stray_workers):
    """``stop(kill=True)`` must not wait out a stuck task: its worker is SIGKILLed, not asked to stop."""
    import threading

    pool = ready_pool(1)
    (worker,) = pool.worker_pids()
    pool.submit("stuck", ignore_term_and_hang, (), timeout=None)
    while not [n for n in pool.poll_notices(0.1) if n.kind == "start"]:
        pass
    time.sleep(0.2)  # the handler is in place
    stopper = threading.Thread(target=pool.stop, kwargs={"kill": True})
    stopper.start()
    stopper.join(timeout=2.5)  # at once, by SIGKILL, not after a SIGTERM and its 3 s grace
    still_stopping = stopper.is_alive()
    stopper.join(timeout=120)
    assert not still_stopping, "stop waited for a worker that ignores SIGTERM"
    assert alive([worker]) == []


def report_numba_cache_dir() -> str | None:
    return os.environ.get("NUMBA_CACHE_DIR")


def test_workers_compile_into_the_cache_folder_the_pool_was_given(tmp_path, no_stray_workers):
    pool = AnalysisPool(1, None, str(tmp_path))
    pool.start()
    try:
        assert pool.submit(None, report_numba_cache_dir, (), timeout=60).result(timeout=60)[0] == str(tmp_path)
    finally:
        pool.stop()


def test_starting_a_pool_gives_the_parents_thread_limits_back(monkeypatch, no_stray_workers):
    """The one-thread limits are set in the parent's environment only while the workers are spawned: a value
    the parent had comes back, and one it did not have is gone again."""
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    pool = ready_pool(1)
    try:
        assert pool.submit(None, worker_facts, (), timeout=30).result(timeout=30)[0][1] == "1"
        assert os.environ.get("OMP_NUM_THREADS") == "3" and "OPENBLAS_NUM_THREADS" not in os.environ
    finally:
        pool.stop()


def lock_state(cache_dir: str) -> str:
    """Whether another holder has the numba cache's warm-up lock right now."""
    from filelock import FileLock, Timeout

    from engine.run.pool import WARM_UP_LOCK

    lock = FileLock(os.path.join(cache_dir, WARM_UP_LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return "held"
    lock.release()
    return "free"


def test_tasks_run_under_the_cache_lock_until_one_adds_nothing_to_the_cache(tmp_path, no_stray_workers):
    """Real audio compiles signatures the warm-up did not; two workers compiling at once corrupt numba's
    cache. So a worker's task holds the lock until a task has run without adding anything; then none does."""
    pool = AnalysisPool(1, None, str(tmp_path))
    pool.start()
    try:
        first = pool.submit(None, lock_state, (str(tmp_path),), timeout=60).result(timeout=60)[0]
        second = pool.submit(None, lock_state, (str(tmp_path),), timeout=60).result(timeout=60)[0]
    finally:
        pool.stop()
    assert first == "held"  # nothing had shown the cache complete: the task ran alone
    assert second == "free"  # the first added nothing, so the next runs side by side
