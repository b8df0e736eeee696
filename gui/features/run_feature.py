"""The run feature: Start, Pause and Cancel, and engine events into row progress, plots, the log and status bar.

It folds each engine event into :class:`~gui.run_stats.RunStats` and redraws only what is
visible, once per event batch and on a clock tick for what changes without an event (elapsed
time, the bars of running chunks, the pool view). Finished results go into the workspace (which
owns them); what follows a run (matching, fitting, a scripted export) is not its business.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from engine.results import ChunkStatus, SongStatus
from engine.run import events as ev
from engine.wording import file_name, plural
from gui.actions import ActionDef, ActionKey, Menu, Place
from gui.run_stats import RunStats, finished_text, format_seconds
from gui.shell import Shell
from gui.tasks import run_task
from gui.widgets.chunk_plot import ChunkPlot
from gui.widgets.plot_style import WorkerPalette
from gui.widgets.pool_view import PoolView
from gui.widgets.progress_bar import DeferredProgressBar
from gui.widgets.run_plot import RunPlot
from gui.workspace import StartRefused, Workspace

TICK_MS = 250
"""Clock for the things that change without an event: elapsed time, running-chunk bars, pool view."""
POOL_REFRESH_S = 1.0


class RunFeature(QObject):
    """Owns the run's numbers, plots and status-bar figures."""

    def __init__(self, workspace: Workspace, shell: Shell):
        super().__init__(workspace)
        self.ws = workspace
        self.shell = shell
        self.stats = RunStats()
        self.worker_pids: list[int] = []
        self._notices_shown = 0
        self._last_pool_refresh = 0.0
        self._pool_query_pending = False
        self.worker_palette = WorkerPalette()
        self.chunk_plot = ChunkPlot(self.worker_palette)
        self.chunk_plot.setObjectName("currentSongPlot")  # the inspector takes over from it for one-chunk songs
        self.run_plot = RunPlot(self.worker_palette)
        self.pool_view = PoolView(self.worker_palette)
        for plot in (self.chunk_plot.plot, self.run_plot.durations, self.run_plot.progress):
            plot.setAcceptDrops(False)
        shell.add_tab(self.chunk_plot, "Current Song")
        shell.add_tab(self.run_plot, "Run")
        shell.add_tab(self.pool_view, "Pool")
        self._build_status_bar()
        self.start_action = shell.add_action(
            ActionDef(
                ActionKey.START,
                "Start",
                self.start,
                Place(Menu.RUN, toolbar=10),
                "Ctrl+Return",
                "Analyse the queued songs",
            )
        )
        self.pause_action = shell.add_action(
            ActionDef(
                ActionKey.PAUSE,
                "Pause",
                self.toggle_pause,
                Place(Menu.RUN, toolbar=11),
                "Ctrl+P",
                "Pause between chunks, or resume",
            )
        )
        self.cancel_action = shell.add_action(
            ActionDef(
                ActionKey.CANCEL,
                "Cancel",
                self.cancel,
                Place(Menu.RUN, toolbar=12),
                "Ctrl+.",
                "Stop the run; finished songs are kept",
            )
        )
        self._connect(workspace.engine)
        workspace.runStarting.connect(self._on_run_starting)
        workspace.runEnded.connect(self._on_run_ended)
        workspace.queueChanged.connect(self.update_actions)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        shell.tabs.currentChanged.connect(self._on_tab_changed)
        self.update_actions()

    def update_actions(self) -> None:
        running = self.ws.running
        self.start_action.setEnabled(not running and self.ws.model.rowCount() > 0)
        self.pause_action.setEnabled(running)
        self.cancel_action.setEnabled(running)

    def _build_status_bar(self) -> None:
        self.message_label = self.shell.message_label
        self.progress = DeferredProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.songs_label = QLabel()
        self.time_label = QLabel()
        self.speed_label = QLabel()
        self.workers_label = QLabel()
        for widget in (self.progress, self.songs_label, self.time_label, self.speed_label, self.workers_label):
            self.shell.add_status_widget(widget)

    def _connect(self, c) -> None:
        c.runStarted.connect(self._on_run_started)
        c.warmUp.connect(self._on_warm_up)
        c.songStarted.connect(self._on_song_started)
        c.chunkStarted.connect(self._on_chunk_started)
        c.workerAhead.connect(self._on_worker_ahead)
        c.chunkFinished.connect(self._on_chunk_finished)
        c.poolRecovered.connect(self._on_pool_recovered)
        c.songFinished.connect(self._on_song_finished)
        c.songFailed.connect(self._on_song_finished)
        c.runCrashed.connect(self._on_run_crashed)
        c.batchDone.connect(self.redraw)
        c.runningChanged.connect(lambda _running: self.update_actions())

    def stop(self) -> None:
        """The window is closing: no more ticks."""
        self.timer.stop()

    # -- commands -------------------------------------------------------------------------------
    def start(self, force: bool = False, paths: Sequence[str] | None = None) -> bool:
        """Analyse ``paths`` (default: every song not finished yet). False if nothing was started."""
        refused = self.ws.start_run(force, paths)
        if refused is not None:
            if refused is not StartRefused.SETTINGS:  # the settings' problem is shown as an error already
                self.shell.say(refused.value)
            return False
        return True

    def _on_run_starting(self, paths: list[str]) -> None:
        self.stats.reset(paths, time.monotonic())
        self.worker_palette.reset()
        self.run_plot.reset()
        self.shell.say("Starting…")
        self.progress.setValue(0)
        self.progress.show()
        self.update_actions()

    def toggle_pause(self) -> None:
        controller = self.ws.engine
        if not controller.running:
            return
        if controller.paused:
            controller.resume()
            self.pause_action.setText("Pause")
            self.shell.say("Resumed")
        else:
            controller.pause()
            self.pause_action.setText("Resume")
            self.shell.say("Paused: chunks already running will finish")

    def cancel(self) -> None:
        if self.ws.engine.running:
            self.ws.engine.cancel()
            self.shell.say("Cancelling…")

    # -- engine events --------------------------------------------------------------------------
    def _row_for_event(self, index: int) -> int | None:
        path = self.ws.path_of_event(index)
        return self.ws.model.row_of(path) if path is not None else None

    def _on_run_started(self, event: ev.RunStarted) -> None:
        self.stats.on_event(event, time.monotonic())
        self.shell.note(
            "info", f"run started: {plural(event.total_songs, 'song')} on {plural(event.workers, 'worker')}"
        )

    def show_engine_notices(self) -> None:
        """Cache problems the engine met and worked around, each shown once in the log."""
        from engine.cachedirs import notices

        fresh = notices()[self._notices_shown :]
        for text in fresh:
            self.shell.note("warning", text)
        self._notices_shown += len(fresh)

    def _on_warm_up(self, event: ev.WarmUp) -> None:
        self.stats.on_event(event, time.monotonic())
        self.show_engine_notices()
        if not self.ws.engine.running:  # warming up at launch, before any run
            ready = event.stage == "done"
            self.shell.say("Analysis engine ready" if ready else self.stats.warm_up_text)
            return
        if event.stage != "done":
            self.shell.say(self.stats.warm_up_text)
            row = self._row_for_event(0)
            if row is not None and self.ws.model.song(row).status is SongStatus.QUEUED:
                self.ws.model.update(row, status=SongStatus.WARMING_UP)
        else:
            self.shell.note("info", f"analysis engine ready in {event.seconds:.1f} s")

    def _on_song_started(self, event: ev.SongStarted) -> None:
        self.stats.on_event(event, time.monotonic())
        row = self._row_for_event(event.index)
        if row is not None:
            values = {"duration_s": event.duration_s, "chunks_total": event.chunks_total, "chunks_done": 0}
            self.ws.model.update(row, status=SongStatus.ANALYSING, **values)
        self.chunk_plot.start_song(file_name(event.path), event.chunks_total)
        self.shell.say(f"Analysing {file_name(event.path)}")

    def _on_chunk_started(self, event: ev.ChunkStarted) -> None:
        now = time.monotonic()
        self.stats.on_event(event, now)
        since = event.began(now)
        self.chunk_plot.chunk_started(event.chunk_index, event.worker_pid, since)

    def _on_worker_ahead(self, event: ev.WorkerAhead) -> None:
        """A worker busy with the next song before its turn: the workers view shows it (it redraws on its tick)."""
        self.stats.on_event(event, time.monotonic())

    def _on_chunk_finished(self, event: ev.ChunkFinished) -> None:
        self.stats.on_event(event, time.monotonic())
        self.chunk_plot.chunk_finished(event.result)
        row = self._row_for_event(event.index)
        if row is not None:
            self.ws.model.update(row, chunks_done=self.ws.model.song(row).chunks_done + 1)
        chunk = event.result
        if chunk.status is not ChunkStatus.OK:
            name = file_name(chunk.song_path)
            self.shell.note("warning", f"{name}: chunk {chunk.index + 1} {chunk.status.value}: {chunk.error}")

    def _on_pool_recovered(self, event: ev.PoolRecovered) -> None:
        self.stats.on_event(event, time.monotonic())
        self.shell.note("warning", f"pool: {event.reason} (worker {event.worker_pid}); {event.detail}")

    def _on_song_finished(self, event: ev.SongFinished | ev.SongFailed) -> None:
        """The workspace stores the result and fills the row; the run counts it and says what went wrong."""
        self.stats.on_event(event, time.monotonic())
        result = event.result
        name = file_name(result.path)
        if result.status is SongStatus.ERROR:
            self.shell.note("error", f"{name}: {result.error}")
        elif result.status is SongStatus.PARTIAL:
            self.shell.note("warning", f"{name}: partial result ({result.chunks_ok}/{result.chunks_total} chunks)")

    def _on_run_ended(self, summary: ev.RunSummary) -> None:
        """After the workspace settled the rows: the status line, the log, the actions, the last redraw."""
        self.show_engine_notices()
        self.stats.on_event(ev.RunFinished(summary), time.monotonic())
        text = finished_text(summary, self.stats.elapsed(time.monotonic()))
        self.shell.say(text)
        self.shell.note("info", text)
        self.progress.hide()
        self.pause_action.setText("Pause")
        self.update_actions()
        self.redraw()

    def _on_run_crashed(self, _error: str) -> None:
        self.progress.hide()
        self.shell.exit_code = 1
        self.update_actions()

    # -- redraws --------------------------------------------------------------------------------
    def redraw(self) -> None:
        """After each event batch: only the visible plot is redrawn (a hidden one catches up when shown)."""
        now = time.monotonic()
        visible = self.shell.tabs.currentWidget()
        if visible is self.chunk_plot:
            self.chunk_plot.redraw(now)
        elif visible is self.run_plot:
            self.run_plot.redraw(self.stats, now)
        self._update_status(now)

    def _on_tab_changed(self, _index: int) -> None:
        self.redraw()
        if self.shell.tabs.currentWidget() is self.pool_view:
            self._refresh_pool(force=True)

    def _tick(self) -> None:
        now = time.monotonic()
        if self.ws.engine.running:
            if self.shell.tabs.currentWidget() is self.chunk_plot:
                self.chunk_plot.redraw(now)  # running chunks' bars grow
            self._update_status(now)
        self._refresh_pool()

    def _refresh_pool(self, force: bool = False) -> None:
        """Ask for the live worker pids off the GUI thread (psutil scans /proc), then redraw the pool view."""
        controller = self.ws.engine
        now = time.monotonic()
        interval = POOL_REFRESH_S / 2 if controller.running else POOL_REFRESH_S
        if self._pool_query_pending or (not force and now - self._last_pool_refresh < interval):
            return
        if not force and self.shell.tabs.currentWidget() is not self.pool_view and not controller.running:
            return
        self._last_pool_refresh = now
        self._pool_query_pending = True

        def done(pids, error) -> None:
            self._pool_query_pending = False
            if error is None and not self.shell.closing:
                self.worker_pids = list(pids)
                if self.shell.tabs.currentWidget() is self.pool_view:
                    self.pool_view.refresh(self.worker_pids, self.stats, controller.pool_rebuilds(), time.monotonic())

        run_task(controller.worker_pids, done, owner=self)

    def _update_status(self, now: float) -> None:
        stats = self.stats
        labels = (self.songs_label, self.time_label, self.speed_label, self.workers_label)
        if stats.started_at is None:
            for label in labels:
                label.setText("")
            return
        self.songs_label.setText(f"{stats.songs_finished}/{plural(stats.total, 'song')}")
        self.time_label.setText(f"elapsed {format_seconds(stats.elapsed(now))} · ETA {format_seconds(stats.eta(now))}")
        rt = stats.realtime_factor(now)
        self.speed_label.setText(f"{rt:.1f}× realtime" if rt else "")
        self.workers_label.setText(f"workers busy {stats.busy_workers}/{stats.workers or self.ws.prefs.workers}")
        self.progress.setValue(int(1000 * stats.fraction_done))
        if stats.warming:
            self.message_label.setText(stats.warm_up_text)
