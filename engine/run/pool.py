"""The one process pool. Nothing else in the product creates processes.

Built on ``pebble.ProcessPool``, which kills and replaces a worker whose task passes its
timeout and reports a worker that died, things ``concurrent.futures`` cannot do. Workers are
started with the spawn method on every platform (forking a process that runs Qt threads is
unsafe), run at lower priority with one BLAS/OpenMP/numba thread each, and are forbidden to
start processes of their own: the nested pool that deadlocked the system this replaces.

This module must stay importable without numpy or librosa: spawned workers import it first,
and thread limits have to be in the environment before those libraries load.
"""

from __future__ import annotations

import functools
import multiprocessing
import multiprocessing.process
import os
import queue
import signal
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from engine.errors import NestedPoolError, PoolClosedError

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
WORKER_NICE = 5
WARM_UP_LOCK = ".workers-warming-up.lock"
"""A file in the numba cache folder held by the one worker warming up at a time (see :func:`warm_up_alone`)."""
WARM_UP_LOCK_WAIT_S = 120.0
"""How long a worker waits for another's warm-up before it warms up anyway: every wait is bounded."""
STOP_WAIT_S = 5.0
"""How long ``stop`` waits for killed workers to be gone. SIGKILL acts at once; this only bounds a process
held in the kernel (a hung network mount), which is then left to the operating system."""
TERM_WAIT_S = 3.0
"""``stop(kill=False)``: how long a worker may take to exit on SIGTERM before it is killed (pebble's own figure)."""
NESTED_POOL_MESSAGE = (
    "Calibration Studio pool workers may not start processes or pools of their own: "
    "a nested pool is what deadlocked the calibration run this product replaces. "
    "Do the work inside the chunk function, or return it to the engine."
)

_in_worker = False
_notices: Any = None  # the worker's end of the notice queue
_tasks_settled = False
"""A task of this install already ran under the lock without adding to numba's cache (see :func:`run_task`)."""


def in_worker() -> bool:
    """True inside a pool worker process."""
    return _in_worker


def _refuse_process_start(self: multiprocessing.process.BaseProcess) -> None:
    raise NestedPoolError(NESTED_POOL_MESSAGE)


def _lower_priority() -> None:
    try:
        if hasattr(os, "nice"):
            os.nice(WORKER_NICE)
        else:  # Windows
            import psutil

            psutil.Process().nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
    except (OSError, ImportError):
        pass


def _exit_with_parent() -> None:
    """Exit the moment the parent dies, even by SIGKILL, instead of running on as an orphan.

    pebble's workers only notice a dead parent when they next talk to it, so one stuck in a chunk
    would outlive it forever. The parent sentinel (a pipe on POSIX, a process handle on Windows)
    becomes ready when the parent is gone; a daemon thread waits on it.
    """
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is None:
        return

    def watch() -> None:
        from multiprocessing.connection import wait

        wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _route_native_stderr() -> None:
    """Send a worker's file descriptor 2 to ``worker-stderr.log`` in the log folder.

    C libraries print straight to it (libmpg123 inside libsndfile reports every damaged MP3 frame),
    which would break the command line's progress bar and say nothing useful to a user; the
    worker's real failures come back to the parent as results. Started afresh past 1 MB.
    """
    try:
        from engine.logs import log_dir

        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "worker-stderr.log"
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        if path.exists() and path.stat().st_size > 1_000_000:
            flags |= os.O_TRUNC
        fd = os.open(path, flags, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    except OSError:
        pass  # an unwritable log folder must not stop the pool


def _worker_initializer(notices: Any, warm_up: Callable[[], None] | None, numba_cache_dir: str | None) -> None:
    """Runs once in each new worker, before any task."""
    global _in_worker, _notices
    _in_worker = True
    _notices = notices
    notices.put(("born", os.getpid(), None, time.time()))  # the pool now knows this worker is its own
    # Ctrl-C in a terminal reaches the whole process group; only the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    for name in THREAD_ENV_VARS:
        os.environ[name] = "1"
    if numba_cache_dir:
        os.environ["NUMBA_CACHE_DIR"] = numba_cache_dir
    multiprocessing.process.BaseProcess.start = _refuse_process_start  # type: ignore[method-assign]
    # librosa warns about very short chunks; the chunk's result already says what it could measure.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"librosa\..*")
    _lower_priority()
    _route_native_stderr()
    if warm_up is not None:
        warm_up_alone(warm_up, numba_cache_dir)
    notices.put(("ready", os.getpid(), None, time.time()))


def warm_up_alone(
    warm_up: Callable[[], None], numba_cache_dir: str | None, marker_for: Callable[..., Any] | None = None
) -> None:
    """Warm up while no other process does (a worker, or another engine's parent), until a warm-up has
    shown that numba's cache is complete.

    A warm-up imports librosa, whose gufuncs compile and save themselves to the numba cache when the
    cache has no entry a spawned process accepts. Two workers doing that at once each number their
    entries from the same index and overwrite each other's files; a later process then loads one
    signature's index entry with another's machine code and segfaults in ``onset_detect`` (seen in a
    full test run: every pool after it died while starting; librosa issue 1998 is the same hazard).
    An OS file lock beside the cache serialises the warm-ups across pools and processes; the OS frees
    it when its holder dies.

    The lock costs a whole warm-up (imports included, ~8 s) per extra worker on every pool start, so
    it is held only while it can matter: a warm-up under the lock that wrote nothing into the cache
    leaves a marker (:func:`_settled_marker`), and later workers of the same libraries, engine and
    warm-up warm up side by side, as they only read.
    """
    from filelock import FileLock, Timeout

    if not numba_cache_dir:
        warm_up()
        return
    settled = _settled_marker(marker_for or warm_up)
    if os.path.exists(settled):
        warm_up()
        return
    lock: FileLock | None = None
    try:
        lock = FileLock(os.path.join(numba_cache_dir, WARM_UP_LOCK))
        lock.acquire(timeout=WARM_UP_LOCK_WAIT_S)
    except (Timeout, OSError):  # a cache folder we cannot lock, or a warm-up that hangs: go on without
        lock = None
    try:
        before = _last_write(numba_cache_dir)
        warm_up()
        if lock is not None and _last_write(numba_cache_dir) == before:
            _touch(settled)
    finally:
        if lock is not None:
            lock.release()


def _touch(path: str) -> None:
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError:
        pass  # no marker: the next workers take the lock again, which is only slower


def _settled_marker(warm_up: Callable[..., Any]) -> str:
    """The file that says ``warm_up`` found everything it compiles already in the cache (see :func:`warm_up_alone`)."""
    from engine.cachedirs import jit_marker

    marker = jit_marker(warm_up)
    return str(marker.with_name(".workers" + marker.name))


def _last_write(folder: str) -> tuple[int, int]:
    """(number of files, newest modification in ns) under ``folder``: changes whenever numba saves an entry."""
    count = newest = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            if name == WARM_UP_LOCK or name.startswith((".warm-", ".workers.warm-")):
                continue
            try:
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime_ns)
            except OSError:
                continue
            count += 1
    return count, newest


def run_task(token: Any, function: Callable[..., Any], args: tuple) -> tuple[Any, int, float]:
    """Wrapper every task runs in: announces which worker took it, and times it.

    Until a task has run without adding anything to numba's cache, each runs under the warm-up's lock
    (:func:`warm_up_alone`): real audio makes numba compile signatures the warm-up's clicks did not, and
    two workers compiling the same function at once corrupt the cache (seen in a fresh clone's test run,
    once the next song's chunks started beside the current song's). Later tasks run side by side.
    """
    global _tasks_settled
    started = time.time()
    if _notices is not None:
        _notices.put(("start", os.getpid(), token, started))
    cache_dir = os.environ.get("NUMBA_CACHE_DIR") if _in_worker else None
    if cache_dir and not _tasks_settled:
        _tasks_settled = os.path.exists(_settled_marker(run_task))
    if cache_dir and not _tasks_settled:
        answer: list[Any] = []
        warm_up_alone(functools.partial(_keep_answer, answer, function, args), cache_dir, marker_for=run_task)
        value = answer[0]
    else:
        value = function(*args)
    return value, os.getpid(), time.time() - started


def _keep_answer(answer: list[Any], function: Callable[..., Any], args: tuple) -> None:
    answer.append(function(*args))


@dataclass(frozen=True)
class Notice:
    kind: Literal["born", "ready", "start"]
    """"born": the initializer began; "ready": its warm-up is done; "start": it took a task."""
    pid: int
    token: Any
    at: float


class _SpawnGuard:
    """Every process one pool spawned, and a switch that stops it spawning more.

    A spawned worker unpickles its state, the pool's semaphores among it, only once its interpreter
    has started: seconds after the spawn on a loaded machine. pebble's stop unlinks its channel's
    semaphores *before* it terminates the workers (and the notice queue's go when the pool is
    dropped), so a worker still starting (a replacement, or one whose pool was cancelled during
    warm-up) found them gone and printed a ``SemLock._rebuild ... FileNotFoundError`` traceback on
    the user's terminal (issue 26). The pool therefore closes the guard (pebble can start no new
    worker), then kills every process the guard saw start and waits until each is gone, and only
    then lets pebble release anything. Killing, not waiting for the start-up to finish: a start-up
    takes as long as the machine is busy, a SIGKILL does not.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._processes: weakref.WeakSet[multiprocessing.process.BaseProcess] = weakref.WeakSet()
        # weak: pebble (and multiprocessing, until it reaps one) hold every live worker; dead ones may go

    def start(self, process: multiprocessing.process.BaseProcess, start: Callable[[], None]) -> None:
        with self._lock:  # a spawn in progress finishes, and is recorded, before close() returns
            if self._closed:
                raise OSError("the pool is stopping: no new worker is started")
            start()
            self._processes.add(process)

    def close(self) -> list[multiprocessing.process.BaseProcess]:
        """Refuse further starts; return every process started so far."""
        with self._lock:
            self._closed = True
            return list(self._processes)


class _PoolProcess(multiprocessing.context.SpawnProcess):
    """A spawned worker that reports its start to its pool's guard."""

    _guard: _SpawnGuard  # set by the context, taken off again in start()

    def start(self) -> None:
        guard = self.__dict__.pop("_guard", None)  # taken off before the object is pickled for the child
        if guard is None:
            super().start()
        else:
            guard.start(self, super().start)


class _GuardedSpawnContext(multiprocessing.context.SpawnContext):
    """The spawn context handed to pebble: its processes start through ``guard``."""

    def __init__(self, guard: _SpawnGuard) -> None:
        super().__init__()
        self.guard = guard

    def Process(self, *args: Any, **kwargs: Any) -> _PoolProcess:  # type: ignore[override]  # a class there
        process = _PoolProcess(*args, **kwargs)
        process._guard = self.guard
        return process


def _end_processes(processes: list[multiprocessing.process.BaseProcess], kill: bool) -> None:
    """Stop ``processes`` and wait (bounded) until each is gone: SIGKILL, or SIGTERM then SIGKILL."""
    from multiprocessing.connection import wait

    def signal_all(send: Callable[[multiprocessing.process.BaseProcess], None]) -> None:
        for process in processes:
            try:
                send(process)
            except (OSError, ValueError):
                pass  # gone, or closed

    def wait_gone(seconds: float) -> list[multiprocessing.process.BaseProcess]:
        """Wait on each process's sentinel (ready once it has exited), without reaping it under pebble's feet."""
        waiting: dict[Any, multiprocessing.process.BaseProcess] = {}  # sentinel -> process
        for process in processes:
            try:
                waiting[process.sentinel] = process
            except ValueError:
                pass  # closed: already gone
        give_up = time.monotonic() + seconds
        while waiting and time.monotonic() < give_up:
            for ready in wait(list(waiting), timeout=max(0.0, give_up - time.monotonic())):
                waiting.pop(ready, None)
        return list(waiting.values())

    if not kill:
        signal_all(lambda p: p.terminate())
        processes = wait_gone(TERM_WAIT_S)
    signal_all(lambda p: p.kill())
    wait_gone(STOP_WAIT_S)


def _limit_parent_threads_for_children() -> dict[str, str | None]:
    """Spawned children copy our environment at start: set thread limits for them, return what to restore."""
    saved = {name: os.environ.get(name) for name in THREAD_ENV_VARS}
    for name in THREAD_ENV_VARS:
        os.environ[name] = "1"
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


class AnalysisPool:
    """Owns the worker processes; creates them once and rebuilds them only after a hard failure."""

    def __init__(self, workers: int, warm_up: Callable[[], None] | None = None, numba_cache_dir: str | None = None):
        if in_worker() or multiprocessing.parent_process() is not None:
            raise NestedPoolError(NESTED_POOL_MESSAGE)
        self.workers = workers
        self._warm_up = warm_up
        self._numba_cache_dir = numba_cache_dir
        self._lock = threading.Lock()
        self._pool: Any = None
        self._notices: Any = None
        self._guard: _SpawnGuard | None = None
        self.ready_pids: set[int] = set()
        self.born_pids: set[int] = set()
        """Every worker that began its initializer since the pool started; with ``ready_pids``, tells
        a worker that died while starting from one still warming up."""
        self._own: dict[int, Any] = {}  # pid -> psutil.Process of every worker this pool started
        self.rebuilds = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        from pebble import ProcessPool

        with self._lock:
            if self._pool is not None and self._pool.active:
                return
        self.stop(kill=True)  # a pool pebble gave up on (broken): its workers go before its semaphores do
        with self._lock:
            self._guard = _SpawnGuard()
            context = _GuardedSpawnContext(self._guard)
            self._notices = context.Queue()
            saved = _limit_parent_threads_for_children()
            try:
                self._pool = ProcessPool(
                    max_workers=self.workers,
                    initializer=_worker_initializer,
                    initargs=(self._notices, self._warm_up, self._numba_cache_dir),
                    context=context,
                )
                # pebble starts workers lazily; make them now so warm-up overlaps with other set-up.
                self._pool.schedule(os.getpid)
            finally:
                _restore_env(saved)
            self.ready_pids = set()
            self.born_pids = set()

    @property
    def running(self) -> bool:
        return self._pool is not None and self._pool.active

    def submit(self, token: Any, function: Callable[..., Any], args: tuple, timeout: float | None) -> Any:
        """Schedule ``function(*args)``; pebble kills its worker if it runs longer than ``timeout``."""
        if self._pool is None:
            raise PoolClosedError("the analysis pool is not running")
        return self._pool.schedule(run_task, args=(token, function, args), timeout=timeout)

    def poll_notices(self, wait: float = 0.0) -> list[Notice]:
        """Drain worker notices (born / ready / task started), waiting at most ``wait`` seconds for the first."""
        found: list[Notice] = []
        if self._notices is None:
            if wait:
                time.sleep(wait)
            return found
        try:
            item = self._notices.get(timeout=wait) if wait > 0 else self._notices.get_nowait()
            while True:
                notice = Notice(*item)
                if notice.kind == "ready":
                    self.ready_pids.add(notice.pid)
                self.born_pids.add(notice.pid)
                self._adopt(notice.pid)
                found.append(notice)
                item = self._notices.get_nowait()
        except (queue.Empty, OSError, EOFError, ValueError):
            pass
        return found

    def _adopt(self, pid: int) -> None:
        """Remember a worker that announced itself on this pool's own notice queue.

        The psutil handle records the process's start time, so a later kill can never hit another
        process that reused the pid after the worker died.
        """
        if pid in self._own:
            return
        import psutil

        try:
            self._own[pid] = psutil.Process(pid)
        except psutil.Error:
            pass  # already gone: nothing to track or stop

    def _own_processes(self) -> list[Any]:
        """This pool's workers that are still alive; forgets the dead ones."""
        import psutil

        alive = []
        for pid, proc in list(self._own.items()):
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
                    continue
            except psutil.Error:
                pass
            del self._own[pid]
        return alive

    def worker_pids(self) -> list[int]:
        """Live workers of this pool (announced on its own notice queue), never another pool's."""
        return [proc.pid for proc in self._own_processes()]

    def stop(self, kill: bool = True) -> None:
        """Stop this pool's workers now and wait (bounded) until they are gone.

        With ``kill``, SIGKILL at once so a worker stuck in C code cannot delay us; without, SIGTERM
        and :data:`TERM_WAIT_S` before SIGKILL. Every process the pool spawned is gone before any of
        its semaphores is released, including one still starting (see :class:`_SpawnGuard`). Only
        this pool's workers are touched: another pool in the same process (the window's, while
        diagnostics run a pool of their own) keeps its workers.
        """
        with self._lock:
            if self._pool is None:
                return
            self.poll_notices()  # workers that announced themselves since the last poll
            pool, notices, guard = self._pool, self._notices, self._guard
            self._pool, self._notices, self._guard = None, None, None
        spawned = guard.close() if guard is not None else []  # from here pebble can start no worker
        pool.stop()
        _end_processes(spawned, kill)
        try:
            pool.join()  # pebble now unlinks its channel and reaps; no worker is left to need either
        except Exception:
            pass
        if notices is not None:
            notices.close()
            notices.join_thread()
        for process in spawned:
            process.join(timeout=0)  # reap any pebble did not (it may have dropped one it saw die)
        self.ready_pids = set()
        self.born_pids = set()
        self._own = {}

    def rebuild(self) -> None:
        """Throw the whole pool away and start a fresh one: the last resort when pebble itself is stuck."""
        self.stop(kill=True)
        self.rebuilds += 1
        self.start()


def worker_processes() -> list[Any]:
    """Every pool worker alive under this process, whichever pool started it: a census for leak checks.

    Tests and benchmarks use it to prove that nothing is left behind. A pool never uses it to stop
    workers (that would take another pool's too); it stops the ones on its own notice queue. It
    lives here because this module knows what a spawned worker's command line looks like.
    Multiprocessing's resource tracker is not a worker.
    """
    import psutil

    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmdline = " ".join(child.cmdline())
        except (psutil.Error, OSError):
            continue
        if "resource_tracker" in cmdline:
            continue
        # "python -c 'from multiprocessing.spawn import spawn_main; ...' --multiprocessing-fork", or in the
        # frozen app "<app binary> --multiprocessing-fork tracker_fd=5 pipe_handle=7". Anything else (a file
        # manager opened by "reveal", say) is not a worker, frozen or not.
        if "multiprocessing" in cmdline or "spawn_main" in cmdline:
            found.append(child)
    return found
