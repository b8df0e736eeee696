"""The run as the window shows it: engine events into queue rows, plots, the log and the status bar.

Part of the main window's split by concern (see ``docs/architecture.md``, "The window"). It
starts, pauses and cancels runs through the :class:`~gui.engine_thread.EngineController`,
folds each event into :class:`~gui.run_stats.RunStats`, and redraws only what is visible, once
per event batch and on a clock tick for what changes without an event (elapsed time, the bars
of running chunks, the pool view). What follows a run (matching, fitting, a scripted export) is
not its business: it says ``songFinished`` and ``runEnded`` and the window wires the rest.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar

from engine.calibration.dataset import evidence_of
from engine.results import ChunkStatus, SongStatus
from engine.run import events as ev
from gui.engine_thread import RunRequest
from gui.row_status import RowStatus
from gui.run_stats import RunStats, finished_text, format_seconds
from gui.widgets.progress_bar import DeferredProgressBar

if TYPE_CHECKING:
    from gui.main_window import MainWindow

TICK_MS = 250
"""Clock for the things that change without an event: elapsed time, running-chunk bars, pool view."""
POOL_REFRESH_S = 1.0


class RunPresenter(QObject):
    """Owns the run's numbers and status bar; ``runEnded(summary)`` after the rows are final."""

    songFinished = Signal()
    runEnded = Signal(object)
    runCrashed = Signal()

    def __init__(self, window: MainWindow, status_bar: QStatusBar):
        super().__init__(window)
        self.window = window
        self.stats = RunStats()
        self.run_paths: list[str] = []
        self.last_summary: ev.RunSummary | None = None
        self.worker_pids: list[int] = []
        self._notices_shown = 0
        self._last_pool_refresh = 0.0
        self._pool_query_pending = False
        self._build_status_bar(status_bar)
        self._connect(window.controller)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        window.tabs.currentChanged.connect(self._on_tab_changed)

    def _build_status_bar(self, bar: QStatusBar) -> None:
        self.message_label = QLabel("Drop song folders on the window to begin")
        self.progress = DeferredProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.songs_label = QLabel()
        self.time_label = QLabel()
        self.speed_label = QLabel()
        self.workers_label = QLabel()
        bar.addWidget(self.message_label, 1)
        for widget in (self.progress, self.songs_label, self.time_label, self.speed_label, self.workers_label):
            bar.addPermanentWidget(widget)

    def _connect(self, c) -> None:
        c.runStarted.connect(self._on_run_started)
        c.warmUp.connect(self._on_warm_up)
        c.songStarted.connect(self._on_song_started)
        c.chunkStarted.connect(self._on_chunk_started)
        c.chunkFinished.connect(self._on_chunk_finished)
        c.poolRecovered.connect(self._on_pool_recovered)
        c.songFinished.connect(self._on_song_finished)
        c.songFailed.connect(self._on_song_finished)
        c.runFinished.connect(self._on_run_finished)
        c.runCrashed.connect(self._on_run_crashed)
        c.batchDone.connect(self.redraw)
        c.runningChanged.connect(lambda _running: self.window.update_actions())

    def stop(self) -> None:
        """The window is closing: no more ticks."""
        self.timer.stop()

    # -- commands -------------------------------------------------------------------------------
    def start(self, force: bool = False, paths: Sequence[str] | None = None) -> bool:
        """Analyse ``paths`` (default: every song not finished yet). False if nothing was started."""
        w = self.window
        if w.controller.running:
            return False
        if w.controller.exclusive_running:  # the diagnostics have the engine thread (and the only pool)
            w.say("Diagnostics are running: start the analysis when they have finished")
            return False
        if paths is None:
            paths = [r.path for r in w.model.rows if not r.analysed]
        paths = list(paths)
        if not paths:
            w.say("Nothing to analyse: add songs, or re-analyse finished ones")
            return False
        try:
            settings = w.prefs.analysis_settings()
            options = w.prefs.engine_options(w.cache_path)
        except ValueError as exc:
            w.show_error("Invalid settings", str(exc))
            return False
        self.run_paths = paths
        self.stats.reset(paths, time.monotonic())
        w.worker_palette.reset()
        w.run_plot.reset()
        changes = {}
        for path in paths:
            row = w.model.row_of(path)
            if row is not None:
                changes[row] = {"status": RowStatus.QUEUED, "chunks_done": 0, "chunks_total": 0, "error": ""}
        w.model.update_many(changes)
        w.controller.start(RunRequest(tuple(paths), settings, options, force))
        w.say("Starting…")
        self.progress.setValue(0)
        self.progress.show()
        w.update_actions()
        return True

    def toggle_pause(self) -> None:
        controller = self.window.controller
        if not controller.running:
            return
        if controller.paused:
            controller.resume()
            self.window.pause_action.setText("Pause")
            self.window.say("Resumed")
        else:
            controller.pause()
            self.window.pause_action.setText("Resume")
            self.window.say("Paused: chunks already running will finish")

    def cancel(self) -> None:
        if self.window.controller.running:
            self.window.controller.cancel()
            self.window.say("Cancelling…")

    # -- engine events --------------------------------------------------------------------------
    def _row_for_event(self, index: int) -> int | None:
        if 0 <= index < len(self.run_paths):
            return self.window.model.row_of(self.run_paths[index])
        return None

    def _on_run_started(self, event: ev.RunStarted) -> None:
        self.stats.on_event(event, time.monotonic())
        self.window.log.add("info", f"run started: {event.total_songs} songs on {event.workers} workers")

    def show_engine_notices(self) -> None:
        """Cache problems the engine met and worked around, each shown once in the log."""
        from engine.cachedirs import notices

        fresh = notices()[self._notices_shown :]
        for text in fresh:
            self.window.log.add("warning", text)
        self._notices_shown += len(fresh)

    def _on_warm_up(self, event: ev.WarmUp) -> None:
        w = self.window
        self.stats.on_event(event, time.monotonic())
        self.show_engine_notices()
        if not w.controller.running:  # warming up at launch, before any run
            ready = event.stage == "done"
            w.say("Analysis engine ready" if ready else self.stats.warm_up_text)
            return
        if event.stage != "done":
            w.say(self.stats.warm_up_text)
            row = self._row_for_event(0)
            if row is not None and w.model.song(row).status is RowStatus.QUEUED:
                w.model.update(row, status=RowStatus.WARMING_UP)
        else:
            w.log.add("info", f"analysis engine ready in {event.seconds:.1f} s")

    def _on_song_started(self, event: ev.SongStarted) -> None:
        w = self.window
        self.stats.on_event(event, time.monotonic())
        row = self._row_for_event(event.index)
        if row is not None:
            values = {"duration_s": event.duration_s, "chunks_total": event.chunks_total, "chunks_done": 0}
            w.model.update(row, status=RowStatus.ANALYSING, **values)
        w.chunk_plot.start_song(Path(event.path).name, event.chunks_total)
        w.say(f"Analysing {Path(event.path).name}")

    def _on_chunk_started(self, event: ev.ChunkStarted) -> None:
        now = time.monotonic()
        self.stats.on_event(event, now)
        self.window.chunk_plot.chunk_started(event.chunk_index, event.worker_pid, now)

    def _on_chunk_finished(self, event: ev.ChunkFinished) -> None:
        w = self.window
        self.stats.on_event(event, time.monotonic())
        w.chunk_plot.chunk_finished(event.result)
        row = self._row_for_event(event.index)
        if row is not None:
            w.model.update(row, chunks_done=w.model.song(row).chunks_done + 1)
        chunk = event.result
        if chunk.status is not ChunkStatus.OK:
            name = Path(chunk.song_path).name
            w.log.add("warning", f"{name}: chunk {chunk.index + 1} {chunk.status.value}: {chunk.error}")

    def _on_pool_recovered(self, event: ev.PoolRecovered) -> None:
        self.stats.on_event(event, time.monotonic())
        self.window.log.add("warning", f"pool: {event.reason} (worker {event.worker_pid}); {event.detail}")

    def _on_song_finished(self, event: ev.SongFinished | ev.SongFailed) -> None:
        w = self.window
        self.stats.on_event(event, time.monotonic())
        self.songFinished.emit()
        result = event.result
        path = self.run_paths[event.index] if 0 <= event.index < len(self.run_paths) else result.path
        w.results[path] = result
        row = w.model.row_of(path)
        if row is None:
            return
        values = {
            "status": RowStatus.of(result.status),
            "duration_s": result.duration_s or w.model.song(row).duration_s,
            "bpm": result.bpm,
            "key": result.key,
            "analysis_s": result.analysis_s,
            "error": result.error,
            "cached": result.cached,
            "chunks_done": result.chunks_total,
            "chunks_total": result.chunks_total,
        }
        profile = w.session.applied_profile
        if profile is not None and result.status is not SongStatus.ERROR:
            values.update(
                cal_bpm=profile.calibrate_bpm(result.bpm, evidence_of(result)),
                cal_key=profile.calibrate_key(result.key),
            )
        w.model.update(row, **values)
        if result.status is SongStatus.ERROR:
            w.log.add("error", f"{Path(path).name}: {result.error}")
        elif result.status is SongStatus.PARTIAL:
            w.log.add("warning", f"{Path(path).name}: partial result ({result.chunks_ok}/{result.chunks_total} chunks)")

    def _on_run_finished(self, event: ev.RunFinished) -> None:
        w = self.window
        self.show_engine_notices()
        self.stats.on_event(event, time.monotonic())
        summary = event.summary
        self.last_summary = summary
        # Songs the run did not finish: "cancelled" after a cancel (the next Start takes them), else queued again.
        unfinished = RowStatus.CANCELLED if summary.cancelled else RowStatus.QUEUED
        changes = {}
        for path in self.run_paths:
            row = w.model.row_of(path)
            status = w.model.song(row).status if row is not None else None
            if status is not None and (status.in_progress or status is RowStatus.QUEUED):
                changes[row] = {"status": unfinished, "chunks_done": 0}
        w.model.update_many(changes)
        text = finished_text(summary, self.stats.elapsed(time.monotonic()))
        w.say(text)
        w.log.add("info", text)
        self.progress.hide()
        w.pause_action.setText("Pause")
        w.update_actions()
        self.redraw()
        self.runEnded.emit(summary)

    def _on_run_crashed(self, error: str) -> None:
        w = self.window
        w.log.add("error", f"the analysis engine stopped: {error}")
        self.progress.hide()
        w.show_error("Analysis stopped", error.splitlines()[0] if error else "unknown error")
        w.exit_code = 1
        w.update_actions()
        self.runCrashed.emit()

    # -- redraws --------------------------------------------------------------------------------
    def redraw(self) -> None:
        """After each event batch: only the visible plot is redrawn (a hidden one catches up when shown)."""
        w = self.window
        now = time.monotonic()
        visible = w.tabs.currentWidget()
        if visible is w.chunk_plot:
            w.chunk_plot.redraw(now)
        elif visible is w.run_plot:
            w.run_plot.redraw(self.stats, now)
        self._update_status(now)

    def _on_tab_changed(self, _index: int) -> None:
        self.redraw()
        if self.window.tabs.currentWidget() is self.window.pool_view:
            self._refresh_pool(force=True)

    def _tick(self) -> None:
        w = self.window
        now = time.monotonic()
        if w.controller.running:
            if w.tabs.currentWidget() is w.chunk_plot:
                w.chunk_plot.redraw(now)  # running chunks' bars grow
            self._update_status(now)
        self._refresh_pool()

    def _refresh_pool(self, force: bool = False) -> None:
        """Ask for the live worker pids off the GUI thread (psutil scans /proc), then redraw the pool view."""
        w = self.window
        controller = w.controller
        now = time.monotonic()
        interval = POOL_REFRESH_S / 2 if controller.running else POOL_REFRESH_S
        if self._pool_query_pending or (not force and now - self._last_pool_refresh < interval):
            return
        if not force and w.tabs.currentWidget() is not w.pool_view and not controller.running:
            return
        self._last_pool_refresh = now
        self._pool_query_pending = True

        def done(pids, error) -> None:
            self._pool_query_pending = False
            if error is None and not w.closing:
                self.worker_pids = list(pids)
                if w.tabs.currentWidget() is w.pool_view:
                    w.pool_view.refresh(self.worker_pids, self.stats, controller.pool_rebuilds(), time.monotonic())

        controller.run_task(controller.worker_pids, done)

    def _update_status(self, now: float) -> None:
        stats = self.stats
        labels = (self.songs_label, self.time_label, self.speed_label, self.workers_label)
        if stats.started_at is None:
            for label in labels:
                label.setText("")
            return
        self.songs_label.setText(f"{stats.songs_finished}/{stats.total} songs")
        self.time_label.setText(f"elapsed {format_seconds(stats.elapsed(now))} · ETA {format_seconds(stats.eta(now))}")
        rt = stats.realtime_factor(now)
        self.speed_label.setText(f"{rt:.1f}× realtime" if rt else "")
        self.workers_label.setText(f"workers busy {stats.busy_workers}/{stats.workers or self.window.prefs.workers}")
        self.progress.setValue(int(1000 * stats.fraction_done))
        if stats.warming:
            self.message_label.setText(stats.warm_up_text)
