"""A parent process that stops its pool while a worker is still being spawned (issue 26, part 2).

    python -m tests.spawn_race replacement|cancel FOLDER

A spawned worker unpickles its state (the pool's semaphores among it) only after its interpreter
has started and imported this module as ``__mp_main__``: on a loaded machine, seconds after its
parent spawned it. If the pool releases (unlinks) those semaphores in that window and kills the
worker only later, the worker prints a ``SemLock._rebuild ... FileNotFoundError`` traceback to the
terminal, as ``doctor`` did between two checks.

This script makes that window certain instead of rare, without touching the product's code:

* ``FOLDER/hold`` present: a worker that starts now writes ``FOLDER/held-PID`` and waits, at its
  import of this module, until ``FOLDER/go`` appears (at most 20 s): it has not unpickled its state;
* pebble's ``close_channels`` (where the pool's channel semaphores are unlinked) is wrapped: after
  the unlink it creates ``FOLDER/go`` and then stalls until no worker is left running (at most
  10 s), as a parent descheduled on a busy machine between the unlink and the kill would.

A pool that kills and reaps every worker it spawned before any semaphore is released leaves no
held worker to release, so the stall ends at once and nothing is printed. Scenarios:

``replacement``
    the doctor's case: a warm pool, a chunk past its deadline (pebble kills its worker and spawns a
    replacement, which is held), then the pool is stopped.
``cancel``
    the window's case: a run cancelled (``Engine.cancel``, as ``gui/engine_thread.py`` does) while
    its pool's workers are still starting.

Prints ``stopped`` when the pool is down; the test reads stderr.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

FOLDER = Path(os.environ.get("SPAWN_RACE_DIR", "/nonexistent"))

if __name__ == "__mp_main__" and (FOLDER / "hold").exists():  # a worker starting while the hold is on
    (FOLDER / f"held-{os.getpid()}").touch()  # the test checks that the window was really open
    give_up = time.monotonic() + 20
    while not (FOLDER / "go").exists() and time.monotonic() < give_up:
        time.sleep(0.01)


def hang() -> None:
    time.sleep(3600)


def trivial_chunk(path: str, start_s: float, end_s: float, settings: object) -> None:
    return None


def _live_workers() -> list:
    import psutil

    from engine.run.pool import worker_processes

    alive = []
    for proc in worker_processes():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.Error:
            pass
    return alive


def _stall_after_the_unlink() -> None:
    from pebble.pool.process import WorkerManager

    unlink = WorkerManager.close_channels

    def close_channels_then_stall(self: WorkerManager) -> None:
        unlink(self)
        (FOLDER / "go").touch()
        give_up = time.monotonic() + 10
        while _live_workers() and time.monotonic() < give_up:
            time.sleep(0.02)

    WorkerManager.close_channels = close_channels_then_stall  # type: ignore[method-assign]


def _wait_until_held(count: int, timeout: float = 30.0) -> None:
    """Wait until ``count`` workers are held before unpickling their state: the window is open."""
    give_up = time.monotonic() + timeout
    while len(list(FOLDER.glob("held-*"))) < count:
        if time.monotonic() > give_up:
            raise SystemExit(f"spawn_race: {count} held workers never appeared")
        time.sleep(0.02)


def replacement() -> None:
    """A chunk past its deadline: its worker is replaced, and the pool stops while the replacement starts."""
    from engine.run.pool import AnalysisPool

    pool = AnalysisPool(2)
    pool.start()
    give_up = time.monotonic() + 60
    while len(pool.ready_pids) < 2 and time.monotonic() < give_up:
        pool.poll_notices(0.1)
    (FOLDER / "hold").touch()
    future = pool.submit(1, hang, (), timeout=0.2)
    try:
        future.result(timeout=30)
    except TimeoutError:
        pass  # the deadline fired; pebble stops the worker and spawns a replacement
    _wait_until_held(1)  # the replacement, started but not yet unpickled
    pool.stop(kill=True)


def cancel() -> None:
    """A run cancelled while its workers start, as the window's Stop does through the engine thread."""
    from engine.run.runner import Engine
    from engine.settings import AnalysisSettings, EngineOptions

    (FOLDER / "hold").touch()
    song = FOLDER / "song.wav"
    song.write_bytes(b"")
    engine = Engine(AnalysisSettings(), EngineOptions(workers=2, use_cache=False), chunk_function=trivial_chunk)

    def cancel_once_spawned() -> None:
        _wait_until_held(2)
        engine.cancel()

    threading.Thread(target=cancel_once_spawned, daemon=True).start()
    with engine:
        for _event in engine.run([str(song)]):
            pass


if __name__ == "__main__":
    scenario, FOLDER = sys.argv[1], Path(sys.argv[2])
    os.environ["SPAWN_RACE_DIR"] = str(FOLDER)  # read by the workers at their start
    _stall_after_the_unlink()
    {"replacement": replacement, "cancel": cancel}[scenario]()
    print("stopped", flush=True)
