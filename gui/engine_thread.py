"""The window's one threading boundary.

Everything that must not run on the GUI thread goes through this module, modelled on
MusicBrainz Picard's single threading helper:

* :class:`EngineController` owns one :class:`QThread` with one worker object moved to it; the
  worker drives ``Engine.run`` (a blocking generator) and hands each event to the GUI thread.
* :func:`EngineController.run_exclusive` runs a job that starts processes of its own (Help ▸ Run
  Diagnostics) on the engine thread, with the window's pool closed first and warmed again after,
  so that two pools never live side by side.
* Short jobs (scanning dropped folders, rendering the demo songs, fitting a calibration) and
  writes into the user's files go through :mod:`gui.tasks` (``run_task``, ``run_write``), the
  same kind of relay; :meth:`EngineController.run_task` is that ``run_task``.

The worker never touches a widget. Events cross the boundary through a signal, coalesced so
that the GUI thread handles at most :data:`MAX_BATCHES_PER_SECOND` batches a second however
fast the engine produces events (a re-run over 10,000 cached songs yields 10,000 events at
once). The controller re-emits each event as a typed signal on the GUI thread, in order, then
``batchDone`` once per batch, which is when plots and the status bar redraw.

``cancel``/``pause``/``resume`` call the engine directly: they are thread-safe by design, and
the worker thread is busy inside ``Engine.run`` so it could not receive a queued call anyway.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from engine.run import events as ev
from engine.settings import AnalysisSettings, EngineOptions
from gui import tasks

log = logging.getLogger("calibration_studio.engine_thread")

MAX_BATCHES_PER_SECOND = 20
_MIN_INTERVAL_MS = 1000 // MAX_BATCHES_PER_SECOND
EXCLUSIVE_SHUTDOWN_S = 120.0
"""How long closing the window waits for running diagnostics (their pool warms up and faces a hang)."""
MAX_BATCH_MS = 40
"""Longest one batch may hold the GUI thread; the rest of a burst is delivered in the next batch."""


@dataclass(frozen=True)
class RunRequest:
    paths: tuple[str, ...]
    settings: AnalysisSettings
    options: EngineOptions
    force: bool = False


@dataclass(frozen=True)
class RunCrashed:
    """The engine raised instead of finishing the run (a bug or a machine problem); the window stays usable."""

    error: str


class _Mailbox:
    """Events from the worker thread waiting for the GUI thread; the lock is held for microseconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Any] = []

    def put(self, item: Any) -> bool:
        """Add ``item``; True when the box was empty, i.e. the GUI thread needs waking."""
        with self._lock:
            self._items.append(item)
            return len(self._items) == 1

    def take(self) -> list[Any]:
        with self._lock:
            items, self._items = self._items, []
            return items

    def put_back(self, items: list[Any]) -> None:
        """Return undelivered items to the front, ahead of anything that arrived meanwhile."""
        with self._lock:
            self._items[:0] = items


class _EngineWorker(QObject):
    """Lives in the engine thread. Creates the engine there (its import pulls in librosa) and drives it."""

    wake = Signal()
    engineReady = Signal()
    finishedShutdown = Signal()

    def __init__(self, mailbox: _Mailbox, chunk_function: Callable | None = None):
        super().__init__()
        self._mailbox = mailbox
        self._chunk_function = chunk_function
        self._lock = threading.Lock()
        self.engine: Any = None
        self.cancel_requested = False
        self.pause_requested = False

    def _post(self, item: Any) -> None:
        if self._mailbox.put(item):
            self.wake.emit()

    def _engine_for(self, settings: AnalysisSettings, options: EngineOptions) -> Any:
        """Reuse the engine (and its warm pool) unless the settings changed."""
        if self.engine is not None and (self.engine.settings != settings or self.engine.options != options):
            self.engine.close()
            with self._lock:
                self.engine = None
        if self.engine is None:
            from engine.run.runner import Engine

            engine = Engine(settings, options, chunk_function=self._chunk_function)
            with self._lock:
                self.engine = engine
            self.engineReady.emit()
        return self.engine

    # Called from the GUI thread: each passes its control to the engine, or remembers it until the
    # engine exists (a run queued behind a warm-up).
    def cancel(self) -> None:
        with self._lock:
            self.cancel_requested = True
            engine = self.engine
        if engine is not None:
            engine.cancel()

    def pause(self) -> None:
        with self._lock:
            self.pause_requested = True
            engine = self.engine
        if engine is not None:
            engine.pause()

    def resume(self) -> None:
        with self._lock:
            self.pause_requested = False
            engine = self.engine
        if engine is not None:
            engine.resume()

    @Slot(object)
    def run(self, request: RunRequest) -> None:
        try:
            engine = self._engine_for(request.settings, request.options)
            with self._lock:
                if self.cancel_requested:
                    self._post(ev.RunStarted(len(request.paths), request.options.workers))
                    self._post(ev.RunFinished(ev.RunSummary(songs_total=len(request.paths), cancelled=True), []))
                    return
                if self.pause_requested:
                    engine.pause()
                else:
                    engine.resume()
            for event in engine.run(list(request.paths), force=request.force):
                if isinstance(event, ev.RunStarted) and self.cancel_requested:
                    engine.cancel()  # a cancel that raced with the run's own reset of its flag
                self._post(event)
        except Exception as exc:
            self._post(RunCrashed(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"))

    @Slot(object)
    def prewarm(self, config: tuple[AnalysisSettings, EngineOptions]) -> None:
        """Start and warm the pool before the first run, so that Start answers at once.

        A warm-up that fails or is cancelled (the window closing) is not an error here: the next
        run warms up again and reports any real failure itself.
        """
        if self.cancel_requested:
            return
        try:
            engine = self._engine_for(*config)
            for event in engine.warm_up():
                self._post(event)
        except Exception as exc:
            log.info("engine warm-up at launch stopped: %s: %s", type(exc).__name__, exc)

    @Slot(object)
    def exclusive(self, job: tuple[Callable[[], Any], Callable[[Any, BaseException | None], None]]) -> None:
        """Close the engine (its pool), run ``function``, hand its result back, then warm the pool again.

        Runs on the engine thread, so no run can start meanwhile; a run requested during it waits
        in the thread's queue. The engine is built again with the same settings and options.
        """
        function, deliver = job
        config = None
        if self.engine is not None:
            config = (self.engine.settings, self.engine.options)
            self.engine.close()
            with self._lock:
                self.engine = None
        try:
            result, error = function(), None
        except Exception as exc:  # handed to the caller, like run_task
            result, error = None, exc
        deliver(result, error)
        if config is not None:
            self.prewarm(config)

    @Slot()
    def shutdown(self) -> None:
        """Stop every worker process, then end this thread's event loop."""
        try:
            if self.engine is not None:
                self.engine.close()
        finally:
            with self._lock:
                self.engine = None
            self.finishedShutdown.emit()
            QThread.currentThread().quit()


class _TaskRelay(QObject):
    """Lives in the GUI thread, so its slot (the task's callback) runs there."""

    done = Signal(object, object, object)

    def __init__(self) -> None:
        super().__init__()
        self.done.connect(self._deliver)
        self.pending = 0

    @Slot(object, object, object)
    def _deliver(self, callback: Callable, result: Any, error: BaseException | None) -> None:
        self.pending -= 1
        callback(result, error)


class EngineController(QObject):
    """GUI-thread face of the engine thread: start/pause/resume/cancel, and typed event signals in order."""

    runStarted = Signal(object)
    warmUp = Signal(object)
    songStarted = Signal(object)
    chunkStarted = Signal(object)
    workerAhead = Signal(object)
    chunkFinished = Signal(object)
    poolRecovered = Signal(object)
    songFinished = Signal(object)
    songFailed = Signal(object)
    runFinished = Signal(object)
    runCrashed = Signal(str)
    batchDone = Signal()
    runningChanged = Signal(bool)
    _startRequested = Signal(object)
    _prewarmRequested = Signal(object)
    _exclusiveRequested = Signal(object)
    _shutdownRequested = Signal()

    _SIGNAL_FOR: ClassVar[dict[type, str]] = {
        ev.RunStarted: "runStarted",
        ev.WarmUp: "warmUp",
        ev.SongStarted: "songStarted",
        ev.ChunkStarted: "chunkStarted",
        ev.WorkerAhead: "workerAhead",
        ev.ChunkFinished: "chunkFinished",
        ev.PoolRecovered: "poolRecovered",
        ev.SongFinished: "songFinished",
        ev.SongFailed: "songFailed",
        ev.RunFinished: "runFinished",
    }

    def __init__(self, parent: QObject | None = None, chunk_function: Callable | None = None):
        super().__init__(parent)
        self._mailbox = _Mailbox()
        self._thread = QThread()
        self._thread.setObjectName("engine")
        self._worker = _EngineWorker(self._mailbox, chunk_function)
        self._worker.moveToThread(self._thread)
        self._worker.wake.connect(self._schedule_drain)
        self._startRequested.connect(self._worker.run)
        self._prewarmRequested.connect(self._worker.prewarm)
        self._exclusiveRequested.connect(self._worker.exclusive)
        self._shutdownRequested.connect(self._worker.shutdown)
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.timeout.connect(self._drain)
        self._last_drain = 0.0
        self._running = False
        self._closed = False
        self._exclusive_pending = 0
        self._relay = _TaskRelay()
        self._thread.start()

    # -- state ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    @property
    def paused(self) -> bool:
        return self._worker.pause_requested

    def worker_pids(self) -> list[int]:
        engine = self._worker.engine
        return engine.worker_pids() if engine is not None else []

    def pool_rebuilds(self) -> int:
        engine = self._worker.engine
        return engine.pool_rebuilds if engine is not None else 0

    # -- control --------------------------------------------------------------------------------
    def start(self, request: RunRequest) -> bool:
        """Queue a run on the engine thread; False if a run is already going or the controller is closed."""
        if self._running or self._closed:
            return False
        self._worker.cancel_requested = False
        self._set_running(True)
        self._startRequested.emit(request)
        return True

    def prewarm(self, settings: AnalysisSettings, options: EngineOptions) -> None:
        """Start the worker pool now, in the engine thread; a run started meanwhile waits for it."""
        if not self._closed and not self._running:
            self._prewarmRequested.emit((settings, options))

    def pause(self) -> None:
        self._worker.pause()

    def resume(self) -> None:
        self._worker.resume()

    def cancel(self) -> None:
        if self._running:
            self._worker.cancel()

    def run_exclusive(self, function: Callable[[], Any], callback: Callable[[Any, BaseException | None], None]) -> bool:
        """Run ``function`` on the engine thread with no pool of the window's alive; False during a run.

        For work that starts worker processes of its own (the diagnostics): the window's pool is
        closed first and warmed again afterwards (its ``WarmUp`` events arrive as usual), so no two
        pools run side by side and the window's worker pids are always its live workers.
        ``callback(result, error)`` runs on the GUI thread before the pool is warm again.
        """
        if self._running or self._closed:
            return False
        self._relay.pending += 1
        self._exclusive_pending += 1

        def deliver(result: Any, error: BaseException | None) -> None:
            self._relay.done.emit(self._exclusive_done(callback), result, error)

        self._exclusiveRequested.emit((function, deliver))
        return True

    def _exclusive_done(self, callback: Callable[[Any, BaseException | None], None]) -> Callable:
        def done(result: Any, error: BaseException | None) -> None:
            self._exclusive_pending -= 1
            callback(result, error)

        return done

    @property
    def exclusive_running(self) -> bool:
        """A :meth:`run_exclusive` job has not reported back yet (a run started now would wait for it)."""
        return self._exclusive_pending > 0

    def run_task(self, function: Callable[[], Any], callback: Callable[[Any, BaseException | None], None]) -> None:
        """Run ``function`` off the GUI thread; ``callback(result, error)`` runs on the GUI thread."""
        tasks.run_task(function, callback, owner=self)

    def shutdown(self, timeout_s: float = 15.0) -> bool:
        """Cancel any run, stop the worker processes and the thread; blocks (bounded). Safe to call twice."""
        if self._closed:
            return True
        self._closed = True
        self._worker.cancel()
        if self._exclusive_pending:  # the diagnostics cannot be cancelled; each of their steps is bounded
            timeout_s = max(timeout_s, EXCLUSIVE_SHUTDOWN_S)
        tasks.wait_for_tasks(timeout_s)
        self._shutdownRequested.emit()
        finished = self._thread.wait(int(timeout_s * 1000))
        if not finished:  # the engine ignored cancel: stop the thread's loop and close from here
            self._thread.quit()
            self._thread.wait(2000)
        if self._worker.engine is not None:
            self._worker.engine.close()
            self._worker.engine = None
        self._drain(everything=True)
        return finished

    # -- delivery on the GUI thread -------------------------------------------------------------
    @Slot()
    def _schedule_drain(self) -> None:
        if self._drain_timer.isActive():
            return
        wait_ms = _MIN_INTERVAL_MS - int((time.monotonic() - self._last_drain) * 1000)
        self._drain_timer.start(max(0, wait_ms))

    @Slot()
    def _drain(self, everything: bool = False) -> None:
        self._last_drain = time.monotonic()
        items = self._mailbox.take()
        if not items:
            return
        give_up_at = self._last_drain + MAX_BATCH_MS / 1000
        for position, item in enumerate(items):
            # A burst (a re-run over 10,000 cached songs) goes out in slices, so the window stays responsive.
            if position and not everything and time.monotonic() > give_up_at:
                self._mailbox.put_back(items[position:])
                self._drain_timer.start(_MIN_INTERVAL_MS)
                break
            if isinstance(item, RunCrashed):
                self._set_running(False)
                self.runCrashed.emit(item.error)
                continue
            if isinstance(item, ev.RunFinished):
                self._set_running(False)  # before the signal: its handlers may start the next step
            name = self._SIGNAL_FOR.get(type(item))
            if name is not None:
                getattr(self, name).emit(item)
        self.batchDone.emit()

    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self.runningChanged.emit(running)
