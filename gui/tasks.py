"""The one way off the GUI thread for short jobs, and the one single-thread queue for writes.

Modelled on MusicBrainz Picard's ``util/thread.py`` (``run_task``): a job runs on a worker thread
and its ``callback(result, error)`` runs on the GUI thread, so no caller ever touches a widget
from elsewhere. Two pools, owned here and nowhere else:

* **tasks** (:func:`run_task`): scanning dropped folders, matching, fitting, writing the demo
  songs, querying the pool's pids. Two threads: they may run side by side.
* **writes** (:func:`run_write`): anything that writes into the user's files (tags, an undo).
  One thread, so two writes never interleave, and :func:`wait_for_writes` is called when the
  window closes, so a write is never cut off by the process ending.

The engine's run is not a short job: it has its own thread in :mod:`gui.engine_thread`, which
hands its events over the same kind of relay. PortAudio's callback thread (playback) is
PortAudio's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from shiboken6 import isValid

Callback = Callable[[Any, BaseException | None], None]
Progress = Callable[[int, int], None]

TASK_THREADS = 2


@dataclass(frozen=True)
class _Reply:
    callback: Callback
    owner: QObject | None


class _Relay(QObject):
    """Lives in the GUI thread, so its slots (the callbacks) run there."""

    done = Signal(object, object, object)
    progressed = Signal(object, int, int)

    def __init__(self) -> None:
        super().__init__()
        self.done.connect(self._deliver)
        self.progressed.connect(self._progress)
        self.pending = 0

    @Slot(object, object, object)
    def _deliver(self, reply: _Reply, result: Any, error: BaseException | None) -> None:
        self.pending -= 1
        if reply.owner is not None and not isValid(reply.owner):
            return  # whoever asked is gone (its window closed): nobody to tell
        reply.callback(result, error)

    @Slot(object, int, int)
    def _progress(self, progress: Progress, done: int, total: int) -> None:
        progress(done, total)


class _Job(QRunnable):
    def __init__(
        self,
        relay: _Relay,
        function: Callable[..., Any],
        callback: Callback,
        progress: Progress | None,
        owner: QObject | None,
    ):
        super().__init__()
        self._relay, self._function, self._progress = relay, function, progress
        self._reply = _Reply(callback, owner)  # plain Python: outlives this runnable, which the pool deletes

    def run(self) -> None:
        try:
            if self._progress is not None:
                progress = self._progress
                result, error = self._function(lambda d, t: self._relay.progressed.emit(progress, d, t)), None
            else:
                result, error = self._function(), None
        except Exception as exc:  # handed to the callback, which tells the user
            result, error = None, exc
        try:
            self._relay.done.emit(self._reply, result, error)
        except RuntimeError:  # "Signal source has been deleted": the application is quitting; nobody to tell
            pass


class _Pools:
    """Created on first use (a QObject needs the QApplication first)."""

    def __init__(self) -> None:
        self.relay = _Relay()
        self.tasks = QThreadPool()
        self.tasks.setMaxThreadCount(TASK_THREADS)
        self.writes = QThreadPool()
        self.writes.setMaxThreadCount(1)


_pools: _Pools | None = None


def _get() -> _Pools:
    global _pools
    if _pools is None:
        _pools = _Pools()
    return _pools


def run_task(function: Callable[[], Any], callback: Callback, owner: QObject | None = None) -> None:
    """Run ``function()`` off the GUI thread; ``callback(result, error)`` runs on the GUI thread.

    ``owner``: the object the callback belongs to; when it has been deleted by then (its window
    closed), the callback is dropped instead of touching a dead object.
    """
    pools = _get()
    pools.relay.pending += 1
    pools.tasks.start(_Job(pools.relay, function, callback, None, owner))


def run_write(
    function: Callable[[Progress], Any],
    callback: Callback,
    progress: Progress | None = None,
    owner: QObject | None = None,
) -> None:
    """Run ``function(report_progress)`` on the one write thread, after any write before it.

    ``report_progress(done, total)`` may be called from the write; ``progress`` then receives it on the
    GUI thread. ``callback(result, error)`` runs on the GUI thread.
    """
    pools = _get()
    pools.relay.pending += 1
    pools.writes.start(_Job(pools.relay, function, callback, progress or (lambda _d, _t: None), owner))


def wait_for_tasks(timeout_s: float) -> bool:
    """Block until the short jobs have finished (bounded); True when none is left."""
    return _pools is None or _pools.tasks.waitForDone(int(timeout_s * 1000))


def wait_for_writes(timeout_s: float = 60.0) -> bool:
    """Block until every queued write has finished (the window calls this as it closes)."""
    return _pools is None or _pools.writes.waitForDone(int(timeout_s * 1000))


def pending() -> int:
    """Jobs whose callback has not run yet (tests wait for 0)."""
    return 0 if _pools is None else _pools.relay.pending
