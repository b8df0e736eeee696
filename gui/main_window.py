"""The main window: wires the queue, the engine thread, the plots and the calibration panel.

The window holds no analysis logic: songs are found by ``engine.run.discovery``, analysed by the
engine behind :class:`~gui.engine_thread.EngineController`, scored and calibrated by
:class:`~gui.calibration_session.CalibrationSession`. Anything slow runs through the
controller (the engine thread or its task pool); this class only reacts to results on the
GUI thread.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QPoint, QSortFilterProxyModel, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QWidget,
)

from engine.calibration.dataset import evidence_of
from engine.results import ChunkStatus, SongResult, SongStatus
from engine.run import events as ev
from engine.run.discovery import AUDIO_EXTENSIONS, Discovery, discover
from gui.calibration_session import CalibrationSession
from gui.engine_thread import EngineController, RunRequest
from gui.preferences import Preferences
from gui.queue_model import SORT_ROLE, QueueModel
from gui.run_stats import RunStats, format_seconds
from gui.settings_dialog import SettingsDialog
from gui.widgets.calibration_panel import CalibrationPanel
from gui.widgets.calibration_plots import CalibrationPlots
from gui.widgets.chunk_plot import ChunkPlot
from gui.widgets.drop_zone import DropZone
from gui.widgets.log_panel import LogPanel
from gui.widgets.plot_style import WorkerPalette
from gui.widgets.pool_view import PoolView
from gui.widgets.queue_view import QueueView
from gui.widgets.run_plot import RunPlot

TICK_MS = 250
"""Clock for the things that change without an event: elapsed time, running-chunk bars, pool view."""
LIVE_METRICS_MS = 1500
"""During a run with a reference, metrics and counts are refreshed at most this often (matching is O(songs))."""
POOL_REFRESH_S = 1.0


@dataclass
class LaunchOptions:
    """What the command line asked the window to do (see ``gui.app``)."""

    paths: list[str] = field(default_factory=list)
    reference: str | None = None
    profile: str | None = None
    autostart: bool = False
    export_dir: str | None = None
    quit_when_done: bool = False


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("CalibrationStudio", appauthor=False))


class MainWindow(QMainWindow):
    """Signals for scripts and tests: ``songsAdded(count)``, ``exportFinished(folder, error)``."""

    songsAdded = Signal(int)
    referenceLoaded = Signal(str)
    calibrationUpdated = Signal()
    exportFinished = Signal(str, str)
    finishedLaunch = Signal(int)

    def __init__(
        self,
        launch: LaunchOptions | None = None,
        data_dir: Path | None = None,
        cache_path: Path | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.launch = launch or LaunchOptions()
        self.data_dir = data_dir or default_data_dir()
        self.cache_path = cache_path
        self.prefs = Preferences.load()
        self.controller = EngineController(self)
        self.session = CalibrationSession()
        self.model = QueueModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.results: dict[str, SongResult] = {}
        self.stats = RunStats()
        self.run_paths: list[str] = []
        self.last_summary: ev.RunSummary | None = None
        self.last_export_dir: Path | None = None
        self.last_error = ""
        self.exit_code = 0
        self._pending_scans = 0
        self._start_after_scan = False
        self._auto_export_pending = False
        self._last_pool_refresh = 0.0
        self._pool_query_pending = False
        self._worker_pids: list[int] = []
        self._closing = False
        self._palette = WorkerPalette()
        self._notices_shown = 0

        self.setWindowTitle("Calibration Studio")
        self.setAcceptDrops(True)
        self.resize(1360, 860)
        self._build_widgets()
        self._build_actions()
        self._build_status_bar()
        self._connect_engine()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._match_generation = 0
        self._calibration_view_s = 0.0
        self.live_metrics_timer = QTimer(self)
        self.live_metrics_timer.setSingleShot(True)
        self.live_metrics_interval_ms = LIVE_METRICS_MS
        self.live_metrics_timer.timeout.connect(self._refresh_live_metrics)
        self._update_actions()
        QTimer.singleShot(0, self._apply_launch_options)

    # ==== construction ==========================================================================
    def _build_widgets(self) -> None:
        self.drop_zone = DropZone()
        self.drop_zone.demoRequested.connect(self.try_demo)
        self.drop_zone.addFolderRequested.connect(self.choose_folder)
        self.drop_zone.loadReferenceRequested.connect(self.choose_reference)
        self.table = QueueView()
        self.table.setModel(self.proxy)
        self.table.configure_columns()
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.drop_zone)
        self.stack.addWidget(self.table)

        self.chunk_plot = ChunkPlot(self._palette)
        self.run_plot = RunPlot(self._palette)
        self.calibration_plots = CalibrationPlots()
        self.pool_view = PoolView(self._palette)
        self.log = LogPanel()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.chunk_plot, "Current Song")
        self.tabs.addTab(self.run_plot, "Run")
        self.tabs.addTab(self.calibration_plots, "Calibration")
        self.tabs.addTab(self.pool_view, "Pool")
        self.tabs.addTab(self.log, "Log")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        for plot in (self.chunk_plot.plot, self.run_plot.durations, self.run_plot.progress):
            plot.setAcceptDrops(False)
        for plot in (self.calibration_plots.scatter_plot, self.calibration_plots.keys_plot):
            plot.setAcceptDrops(False)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.stack)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([430, 330])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.panel = CalibrationPanel()
        self.panel.loadReferenceRequested.connect(self.choose_reference)
        self.panel.fitRequested.connect(self.fit_calibration)
        self.panel.saveProfileRequested.connect(self.choose_save_profile)
        self.panel.loadProfileRequested.connect(self.choose_profile)
        self.panel.applyToggled.connect(self.set_apply_profile)
        self.panel.exportRequested.connect(self.choose_export)
        dock = QDockWidget("Calibration", self)
        dock.setObjectName("calibrationDock")
        dock.setWidget(self.panel)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.resizeDocks([dock], [340], Qt.Orientation.Horizontal)

    def _action(self, text: str, slot, shortcut: QKeySequence | str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
        return action

    def _build_actions(self) -> None:
        self.add_folder_action = self._action(
            "Add Folder…", self.choose_folder, QKeySequence.StandardKey.Open, "Add a folder of songs"
        )
        self.add_files_action = self._action("Add Files…", self.choose_files, "Ctrl+Shift+O", "Add song files")
        self.load_reference_action = self._action(
            "Load Reference…", self.choose_reference, "Ctrl+R", "Load a reference CSV"
        )
        self.clear_action = self._action(
            "Clear", self.clear_queue, "Ctrl+Shift+Backspace", "Remove every song from the queue"
        )
        self.start_action = self._action("Start", self.start, "Ctrl+Return", "Analyse the queued songs")
        self.pause_action = self._action("Pause", self.toggle_pause, "Ctrl+P", "Pause between chunks, or resume")
        self.cancel_action = self._action("Cancel", self.cancel, "Ctrl+.", "Stop the run; finished songs are kept")
        self.export_action = self._action(
            "Export Calibration CSVs…", self.choose_export, "Ctrl+E", "Write the calibration CSV files"
        )
        self.open_export_action = self._action(
            "Open Export Folder", self.open_export_folder, None, "Show the last export"
        )
        self.open_export_action.setEnabled(False)
        self.settings_action = self._action(
            "Settings…", self.show_settings, QKeySequence.StandardKey.Preferences, "Workers, chunks, cache"
        )
        self.demo_action = self._action(
            "Try with Demo Songs", self.try_demo, None, "Analyse synthetic songs with a reference"
        )
        self.fit_action = self._action("Fit Calibration", self.fit_calibration, "Ctrl+F", "Fit a calibration profile")
        self.copy_action = self._action("Copy Rows as TSV", self.copy_selection, QKeySequence.StandardKey.Copy)
        self.remove_action = self._action("Remove", self.remove_selection, QKeySequence.StandardKey.Delete)
        self.reanalyse_action = self._action("Re-analyse (Force)", self.reanalyse_selection, "Ctrl+Shift+R")
        self.reveal_action = self._action(_reveal_text(), self.reveal_selection)
        quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        for action in (self.copy_action, self.remove_action, self.reanalyse_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.table.addAction(action)

        menu = self.menuBar().addMenu("&File")
        for action in (self.add_folder_action, self.add_files_action, self.load_reference_action, self.demo_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.export_action)
        menu.addAction(self.open_export_action)
        menu.addSeparator()
        menu.addAction(self.clear_action)
        menu.addAction(self.settings_action)
        menu.addSeparator()
        menu.addAction(quit_action)
        run_menu = self.menuBar().addMenu("&Run")
        for action in (self.start_action, self.pause_action, self.cancel_action):
            run_menu.addAction(action)
        calibration_menu = self.menuBar().addMenu("&Calibration")
        calibration_menu.addAction(self.fit_action)
        calibration_menu.addAction(self._action("Save Profile…", self.choose_save_profile))
        calibration_menu.addAction(self._action("Load Profile…", self.choose_profile))

        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.add_folder_action, self.add_files_action, self.load_reference_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        for action in (self.start_action, self.pause_action, self.cancel_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)
        toolbar.addAction(self.settings_action)
        self.addToolBar(toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.message_label = QLabel("Drop song folders on the window to begin")
        self.progress = QProgressBar()
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

    def _connect_engine(self) -> None:
        c = self.controller
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
        c.batchDone.connect(self._redraw)
        c.runningChanged.connect(lambda _running: self._update_actions())

    # ==== adding songs ==========================================================================
    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Queue files and folders: references (.csv) load, everything else is scanned off the GUI thread."""
        paths = [Path(p) for p in paths]
        references = [p for p in paths if p.suffix.lower() == ".csv" and p.is_file()]
        profiles = [p for p in paths if p.suffix.lower() == ".json" and p.is_file()]
        others = [p for p in paths if p not in references and p not in profiles]
        for reference in references[-1:]:  # one reference at a time: the last one dropped wins
            self.load_reference(reference)
        for profile in profiles[-1:]:
            self.load_profile(profile)
        if not others:
            return
        queued = self.model.paths()
        self._pending_scans += 1
        self.message_label.setText("Scanning for songs…")
        self.controller.run_task(lambda: discover(others, exclude=queued), self._on_discovered)

    def _on_discovered(self, found: Discovery | None, error: BaseException | None) -> None:
        self._pending_scans -= 1
        if error is not None or found is None:
            self.log.add("error", f"scanning failed: {error}")
            return
        added = self.model.add_paths(str(p) for p in found.songs)
        duplicates = found.duplicates + (len(found.songs) - added)
        parts = [f"Added {added} song{'s' if added != 1 else ''}"]
        if found.skipped_non_audio:
            parts.append(
                f"skipped {found.skipped_non_audio} non-audio file{'s' if found.skipped_non_audio != 1 else ''}"
            )
        if duplicates:
            parts.append(f"ignored {duplicates} duplicate{'s' if duplicates != 1 else ''}")
        for missing in found.missing:
            self.log.add("warning", f"not found: {missing}")
        for folder in found.unreadable_dirs:
            self.log.add("warning", f"cannot read folder: {folder}")
        self.message_label.setText(", ".join(parts))
        if added:
            self.stack.setCurrentWidget(self.table)
        self._update_actions()
        self.songsAdded.emit(added)
        if added and self.session.reference is not None:
            self._rematch()
        if self._pending_scans == 0 and self._start_after_scan:
            self._start_after_scan = False
            self.start()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add Folder", self.prefs.last_folder or str(Path.home()))
        if folder:
            self._remember_folder(folder)
            self.add_paths([folder])

    def choose_files(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(AUDIO_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add Files", self.prefs.last_folder or str(Path.home()), f"Audio ({patterns});;All files (*)"
        )
        if files:
            self._remember_folder(str(Path(files[0]).parent))
            self.add_paths(files)

    def _remember_folder(self, folder: str) -> None:
        self.prefs.last_folder = folder
        self.prefs.save()

    def clear_queue(self) -> None:
        if self.controller.running:
            self.message_label.setText("Cancel the run before clearing the queue")
            return
        self.model.clear()
        self.results.clear()
        self.stack.setCurrentWidget(self.drop_zone)
        if self.session.reference is not None:
            self._rematch()
        self._update_actions()

    # ==== drag and drop ==========================================================================
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self.drop_zone.set_hover(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.drop_zone.set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_zone.set_hover(False)
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    # ==== the run ===============================================================================
    def start(self, force: bool = False, paths: Sequence[str] | None = None) -> bool:
        """Analyse ``paths`` (default: every song not finished yet). False if nothing was started."""
        if self.controller.running:
            return False
        if paths is None:
            paths = [r.path for r in self.model.rows if not r.finished]
        paths = list(paths)
        if not paths:
            self.message_label.setText("Nothing to analyse: add songs, or re-analyse finished ones")
            return False
        try:
            settings = self.prefs.analysis_settings()
            options = self.prefs.engine_options(self.cache_path)
        except ValueError as exc:
            self._show_error("Invalid settings", str(exc))
            return False
        self.run_paths = paths
        self.stats.reset(paths, time.monotonic())
        self._palette.reset()
        self.run_plot.reset()
        changes = {}
        for path in paths:
            row = self.model.row_of(path)
            if row is not None:
                changes[row] = {"status": "queued", "chunks_done": 0, "chunks_total": 0, "error": ""}
        self.model.update_many(changes)
        self.controller.start(RunRequest(tuple(paths), settings, options, force))
        self.message_label.setText("Starting…")
        self.progress.setValue(0)
        self.progress.show()
        self._update_actions()
        return True

    def toggle_pause(self) -> None:
        if not self.controller.running:
            return
        if self.controller.paused:
            self.controller.resume()
            self.pause_action.setText("Pause")
            self.message_label.setText("Resumed")
        else:
            self.controller.pause()
            self.pause_action.setText("Resume")
            self.message_label.setText("Paused: chunks already running will finish")

    def cancel(self) -> None:
        if self.controller.running:
            self.controller.cancel()
            self.message_label.setText("Cancelling…")

    def _row_for_event(self, index: int) -> int | None:
        if 0 <= index < len(self.run_paths):
            return self.model.row_of(self.run_paths[index])
        return None

    def _on_run_started(self, event: ev.RunStarted) -> None:
        self.stats.on_event(event, time.monotonic())
        self.log.add("info", f"run started: {event.total_songs} songs on {event.workers} workers")

    def prewarm_engine(self) -> None:
        """Start the analysis workers while the user is still choosing songs (done at launch)."""
        self.controller.prewarm(self.prefs.analysis_settings(), self.prefs.engine_options(self.cache_path))

    def _show_engine_notices(self) -> None:
        """Cache problems the engine met and worked around, each shown once in the log."""
        from engine.cachedirs import notices

        fresh = notices()[self._notices_shown :]
        for text in fresh:
            self.log.add("warning", text)
        self._notices_shown += len(fresh)

    def _on_warm_up(self, event: ev.WarmUp) -> None:
        self.stats.on_event(event, time.monotonic())
        self._show_engine_notices()
        if not self.controller.running:  # warming up at launch, before any run
            ready = event.stage == "done"
            self.message_label.setText("Analysis engine ready" if ready else self.stats.warm_up_text)
            return
        if event.stage != "done":
            self.message_label.setText(self.stats.warm_up_text)
            row = self._row_for_event(0)
            if row is not None and self.model.song(row).status == "queued":
                self.model.update(row, status="warming up")
        else:
            self.log.add("info", f"analysis engine ready in {event.seconds:.1f} s")

    def _on_song_started(self, event: ev.SongStarted) -> None:
        self.stats.on_event(event, time.monotonic())
        row = self._row_for_event(event.index)
        if row is not None:
            self.model.update(
                row, status="analysing", duration_s=event.duration_s, chunks_total=event.chunks_total, chunks_done=0
            )
        self.chunk_plot.start_song(Path(event.path).name, event.chunks_total)
        self.message_label.setText(f"Analysing {Path(event.path).name}")

    def _on_chunk_started(self, event: ev.ChunkStarted) -> None:
        now = time.monotonic()
        self.stats.on_event(event, now)
        self.chunk_plot.chunk_started(event.chunk, event.worker_pid, now)

    def _on_chunk_finished(self, event: ev.ChunkFinished) -> None:
        self.stats.on_event(event, time.monotonic())
        self.chunk_plot.chunk_finished(event.chunk)
        row = self._row_for_event(event.index)
        if row is not None:
            song = self.model.song(row)
            self.model.update(row, chunks_done=song.chunks_done + 1)
        chunk = event.chunk
        if chunk.status is not ChunkStatus.OK:
            name = Path(chunk.song_path).name
            self.log.add("warning", f"{name}: chunk {chunk.index + 1} {chunk.status.value}: {chunk.error}")

    def _on_pool_recovered(self, event: ev.PoolRecovered) -> None:
        self.stats.on_event(event, time.monotonic())
        self.log.add("warning", f"pool: {event.reason} (worker {event.worker_pid}); {event.detail}")

    def _on_song_finished(self, event: ev.SongFinished | ev.SongFailed) -> None:
        self.stats.on_event(event, time.monotonic())
        if self.session.reference is not None and not self.live_metrics_timer.isActive():
            # metrics follow the run; with a huge queue, redrawing them may take at most 5 % of the GUI thread
            self.live_metrics_timer.start(max(self.live_metrics_interval_ms, int(20_000 * self._calibration_view_s)))
        result = event.result
        path = self.run_paths[event.index] if 0 <= event.index < len(self.run_paths) else result.path
        self.results[path] = result
        row = self.model.row_of(path)
        if row is None:
            return
        values = {
            "status": result.status.value,
            "duration_s": result.duration_s or self.model.song(row).duration_s,
            "bpm": result.bpm,
            "key": result.key,
            "analysis_s": result.analysis_s,
            "error": result.error,
            "cached": result.cached,
            "chunks_done": result.chunks_total,
            "chunks_total": result.chunks_total,
        }
        profile = self.session.applied_profile
        if profile is not None and result.status is not SongStatus.ERROR:
            cal_bpm = profile.calibrate_bpm(result.bpm, evidence_of(result))
            values.update(cal_bpm=cal_bpm, cal_key=profile.calibrate_key(result.key))
        self.model.update(row, **values)
        if result.status is SongStatus.ERROR:
            self.log.add("error", f"{Path(path).name}: {result.error}")
        elif result.status is SongStatus.PARTIAL:
            self.log.add(
                "warning", f"{Path(path).name}: partial result ({result.chunks_ok}/{result.chunks_total} chunks)"
            )

    def _on_run_finished(self, event: ev.RunFinished) -> None:
        self._show_engine_notices()
        self.live_metrics_timer.stop()  # the final match (and fit) below replaces it
        self.stats.on_event(event, time.monotonic())
        summary = event.summary
        self.last_summary = summary
        for path in self.run_paths:  # songs the run never reached go back to the queue
            row = self.model.row_of(path)
            if row is not None and self.model.song(row).status in ("warming up", "analysing"):
                self.model.update(row, status="queued", chunks_done=0)
        word = "cancelled" if summary.cancelled else "finished"
        text = (
            f"Run {word}: {summary.songs_done} done, {summary.songs_partial} partial, {summary.songs_failed} failed"
            f" ({summary.songs_cached} from cache) in {format_seconds(summary.wall_seconds)}"
        )
        if summary.chunks_timed_out or summary.worker_replacements:
            text += f"; {summary.chunks_timed_out} chunk timeouts, {summary.worker_replacements} workers replaced"
        self.message_label.setText(text)
        self.log.add("info", text)
        self.progress.hide()
        self.pause_action.setText("Pause")
        self._update_actions()
        self._redraw()
        if self.session.reference is not None:
            self._rematch(fit_after=not summary.cancelled)
        elif self._auto_export_pending:
            self._auto_export()

    def _on_run_crashed(self, error: str) -> None:
        self.log.add("error", f"the analysis engine stopped: {error}")
        self.progress.hide()
        self._show_error("Analysis stopped", error.splitlines()[0] if error else "unknown error")
        self.exit_code = 1
        self._update_actions()
        if self.launch.quit_when_done and self._auto_export_pending:
            self._auto_export_pending = False
            self._finish_launch(1)

    # ==== redraws ================================================================================
    def _redraw(self) -> None:
        """After each event batch: only the visible plot is redrawn (a hidden one catches up when shown)."""
        now = time.monotonic()
        visible = self.tabs.currentWidget()
        if visible is self.chunk_plot:
            self.chunk_plot.redraw(now)
        elif visible is self.run_plot:
            self.run_plot.redraw(self.stats, now)
        self._update_status(now)

    def _on_tab_changed(self, _index: int) -> None:
        self._redraw()
        if self.tabs.currentWidget() is self.pool_view:
            self._refresh_pool(force=True)

    def _tick(self) -> None:
        now = time.monotonic()
        if self.controller.running:
            if self.tabs.currentWidget() is self.chunk_plot:
                self.chunk_plot.redraw(now)  # running chunks' bars grow
            self._update_status(now)
        self._refresh_pool()

    def _refresh_pool(self, force: bool = False) -> None:
        """Ask for the live worker pids off the GUI thread (psutil scans /proc), then redraw the pool view."""
        now = time.monotonic()
        interval = POOL_REFRESH_S / 2 if self.controller.running else POOL_REFRESH_S
        if self._pool_query_pending or (not force and now - self._last_pool_refresh < interval):
            return
        if not force and self.tabs.currentWidget() is not self.pool_view and not self.controller.running:
            return
        self._last_pool_refresh = now
        self._pool_query_pending = True
        controller = self.controller

        def done(pids, error) -> None:
            self._pool_query_pending = False
            if error is None and not self._closing:
                self._worker_pids = list(pids)
                if self.tabs.currentWidget() is self.pool_view:
                    self.pool_view.refresh(self._worker_pids, self.stats, controller.pool_rebuilds(), time.monotonic())

        controller.run_task(controller.worker_pids, done)

    def _update_status(self, now: float) -> None:
        stats = self.stats
        if stats.started_at is None:
            for label in (self.songs_label, self.time_label, self.speed_label, self.workers_label):
                label.setText("")
            return
        self.songs_label.setText(f"{stats.songs_finished}/{stats.total} songs")
        self.time_label.setText(f"elapsed {format_seconds(stats.elapsed(now))} · ETA {format_seconds(stats.eta(now))}")
        rt = stats.realtime_factor(now)
        self.speed_label.setText(f"{rt:.1f}× realtime" if rt else "")
        self.workers_label.setText(f"workers busy {stats.busy_workers}/{stats.workers or self.prefs.workers}")
        self.progress.setValue(int(1000 * stats.fraction_done))
        if stats.warming:
            self.message_label.setText(stats.warm_up_text)

    def _update_actions(self) -> None:
        running = self.controller.running
        has_rows = self.model.rowCount() > 0
        self.start_action.setEnabled(not running and has_rows)
        self.pause_action.setEnabled(running)
        self.cancel_action.setEnabled(running)
        self.clear_action.setEnabled(not running and has_rows)
        self.reanalyse_action.setEnabled(not running)
        self.remove_action.setEnabled(not running)
        self.settings_action.setEnabled(not running)
        self.demo_action.setEnabled(not running)
        self.drop_zone.demo_button.setEnabled(not running)
        self.export_action.setEnabled(bool(self.results))
        self.panel.export_button.setEnabled(bool(self.results))

    # ==== queue context menu =====================================================================
    def selected_rows(self) -> list[int]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return sorted(rows)

    def _context_menu(self, pos: QPoint) -> None:
        if not self.selected_rows():
            index = self.table.indexAt(pos)
            if index.isValid():
                self.table.selectRow(index.row())
        if not self.selected_rows():
            return
        menu = QMenu(self)
        for action in (self.reveal_action, self.copy_action, self.reanalyse_action, self.remove_action):
            menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def copy_selection(self) -> None:
        rows = self.selected_rows()
        if rows:
            QApplication.clipboard().setText(self.model.rows_as_tsv(rows))
            self.message_label.setText(f"Copied {len(rows)} row{'s' if len(rows) != 1 else ''}")

    def remove_selection(self) -> None:
        if self.controller.running:
            return
        rows = self.selected_rows()
        for row in rows:
            self.results.pop(self.model.song(row).path, None)
        self.model.remove_rows(rows)
        if not self.model.rowCount():
            self.stack.setCurrentWidget(self.drop_zone)
        self._update_actions()

    def reanalyse_selection(self) -> None:
        paths = [self.model.song(r).path for r in self.selected_rows()]
        if paths:
            self.start(force=True, paths=paths)

    def reveal_selection(self) -> None:
        rows = self.selected_rows()
        if rows:
            reveal_in_file_manager(Path(self.model.song(rows[0]).path))

    # ==== calibration ============================================================================
    def choose_reference(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load Reference", self.prefs.last_folder or str(Path.home()), "Reference CSV (*.csv *.tsv *.txt)"
        )
        if path:
            self.load_reference(Path(path))

    def load_reference(self, path: Path) -> bool:
        from engine.errors import EngineError

        try:
            reference = self.session.load_reference(path)
        except (EngineError, OSError) as exc:
            self._show_error("Cannot load reference", str(exc))
            return False
        errors = [str(e) for e in reference.errors]
        for error in errors:
            self.log.add("warning", f"reference {error}")
        self.panel.set_reference(path.name, len(reference.rows), errors)
        self.log.add("info", f"reference loaded: {path} ({len(reference.rows)} rows)")
        self.message_label.setText(f"Reference loaded: {path.name} ({len(reference.rows)} rows)")
        self.referenceLoaded.emit(str(path))
        self._rematch()
        return True

    def _refresh_live_metrics(self) -> None:
        """Raw metrics, counts and plots for the songs finished so far; fitting waits for the run's end."""
        if self.controller.running and self.session.reference is not None:
            self._rematch()

    def _rematch(self, fit_after: bool = False) -> None:
        paths = self.model.paths()
        results = dict(self.results)
        session = self.session
        self._match_generation += 1
        generation = self._match_generation

        def done(matched, error) -> None:
            if generation != self._match_generation:
                return  # a newer match was started (tasks can finish out of order): show that one
            if error is not None:
                self.log.add("error", f"matching failed: {error}")
                matched = None
            session.adopt_match(matched)
            self._show_calibration()
            if fit_after and self._can_fit():
                self.fit_calibration()
            elif self._auto_export_pending:
                self._auto_export()

        self.controller.run_task(lambda: session.match(paths, results), done)

    def _can_fit(self) -> bool:
        from engine.calibration import MIN_SONGS

        if self.session.matched is None:
            return False
        analysed = [o for o in self.session.matched.observations if o.song.status in ("done", "partial")]
        return len(analysed) >= MIN_SONGS

    def fit_calibration(self) -> None:
        settings = self.prefs.analysis_settings()
        session = self.session
        self.message_label.setText("Fitting calibration (cross-validated)…")

        def done(calibration, error) -> None:
            if error is not None:
                self.panel.note.setText(str(error))
                self.log.add("warning", f"calibration not fitted: {error}")
                self.message_label.setText("Calibration not fitted (see the Calibration panel)")
            else:
                session.adopt_fit(calibration)
                for note in calibration.notes:
                    self.log.add("info", f"calibration: {note}")
                self.log.add("info", f"calibration fitted on {len(calibration.observations)} matched songs")
                self.message_label.setText("Calibration fitted; cross-validated numbers in the Calibration panel")
            self._show_calibration()
            if self._auto_export_pending:
                self._auto_export()

        self.controller.run_task(lambda: session.fit(settings), done)

    def _show_calibration(self) -> None:
        started = time.perf_counter()
        self._show_calibration_now()
        self._calibration_view_s = time.perf_counter() - started

    def _show_calibration_now(self) -> None:
        session = self.session
        self.model.set_all(session.reference_values(), clear=("ref_bpm", "ref_key", "match_method"))
        self.model.set_all(session.calibrated_values(self.results), clear=("cal_bpm", "cal_key"))
        matched, unmatched_songs, unmatched_rows = session.counts()
        lines = []
        if session.matched is not None:
            lines += [f"song: {s.path}" for s in session.matched.unmatched_songs]
            lines += [f"reference line {r.line}: {r.describe()}" for r in session.matched.unmatched_rows]
        self.panel.set_counts(matched, unmatched_songs, unmatched_rows, "\n".join(lines))
        view = session.metrics()
        note = ""
        if session.calibration is not None:
            note = "Calibrated (CV): each song predicted by a profile fitted without it."
            note += "".join(f"\n{n}" for n in session.calibration.notes)
        elif session.matched is not None and not self._can_fit():
            from engine.calibration import MIN_SONGS

            note = f"Fitting needs at least {MIN_SONGS} analysed songs with a reference."
        self.panel.set_metrics(view.rows, note)
        self.panel.set_profile(_describe_profile(session))
        self.calibration_plots.set_tempo(session.tempo_pairs(calibrated=False))
        has_profile = session.applied_profile is not None
        self.calibration_plots.set_keys(
            session.key_relation_counts(False), session.key_relation_counts(True) if has_profile else None
        )
        self.calibrationUpdated.emit()

    def set_apply_profile(self, on: bool) -> None:
        self.session.apply_profile = on
        self._show_calibration()

    def choose_profile(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load Profile", self.prefs.last_folder, "Profile (*.json)")
        if path:
            self.load_profile(Path(path))

    def load_profile(self, path: Path) -> bool:
        from engine.errors import EngineError

        try:
            profile = self.session.load_profile(path)
        except (EngineError, OSError, ValueError) as exc:
            self._show_error("Cannot load profile", str(exc))
            return False
        from engine.version import ENGINE_VERSION

        for note in profile.warnings_for(ENGINE_VERSION, self.prefs.analysis_settings().to_dict()):
            self.log.add("warning", f"profile: {note}")
        self.log.add("info", f"profile loaded: {path}")
        self._show_calibration()
        return True

    def choose_save_profile(self) -> None:
        if self.session.profile is None:
            return
        start = str(Path(self.prefs.export_dir or self.prefs.last_folder or Path.home()) / "profile.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save Profile", start, "Profile (*.json)")
        if path:
            try:
                self.session.save_profile(path)
                self.message_label.setText(f"Profile saved to {path}")
            except OSError as exc:
                self._show_error("Cannot save profile", str(exc))

    # ==== export =================================================================================
    def choose_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Export Calibration CSVs", self.prefs.export_dir or self.prefs.last_folder or str(Path.home())
        )
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        """Write the file set off the GUI thread; remember the folder only when it worked."""
        results = [self.results[p] for p in self.model.paths() if p in self.results]
        settings = self.prefs.analysis_settings()
        summary = self.last_summary
        session = self.session
        self.message_label.setText(f"Exporting to {folder}…")

        def done(files, error) -> None:
            if error is not None:
                message = str(error)
                self.log.add("error", f"export failed: {message}")
                self._show_error(
                    "Export failed",
                    f"{message}\n\nNothing was lost: the results are still here. Choose another folder.",
                )
                self.exportFinished.emit(str(folder), message)
                return
            self.prefs.export_dir = str(folder)
            self.prefs.save()
            self.last_export_dir = folder
            self.open_export_action.setEnabled(True)
            names = ", ".join(f.name for f in files)
            self.log.add("info", f"exported to {folder}: {names}")
            self.message_label.setText(f"Exported {len(files)} files to {folder}")
            if not self.launch.quit_when_done:
                self._show_export_done(folder, files)
            self.exportFinished.emit(str(folder), "")

        self.controller.run_task(lambda: session.export(folder, results, settings, summary), done)

    def _show_export_done(self, folder: Path, files: Sequence[Path]) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information, "Export finished", f"Wrote {len(files)} files to\n{folder}", parent=self
        )
        open_button = box.addButton("Open Export Folder", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Close)
        open_button.clicked.connect(self.open_export_folder)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.export_box = box

    def open_export_folder(self) -> None:
        if self.last_export_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_export_dir)))

    # ==== demo, settings, launch options ========================================================
    def try_demo(self) -> None:
        from engine.frontends.demo import write_demo_set

        if self.controller.running:
            return
        folder = self.data_dir / "demo"
        self.message_label.setText("Writing demo songs…")

        def done(written, error) -> None:
            if error is not None:
                self._show_error("Cannot write demo songs", str(error))
                return
            songs, reference = written
            self.log.add("info", f"demo songs written to {folder}")
            self.load_reference(reference)
            self._start_after_scan = True
            self.add_paths(songs)

        self.controller.run_task(lambda: write_demo_set(folder), done)

    def show_settings(self) -> None:
        dialog = SettingsDialog(self.prefs, self)
        dialog.clearCacheRequested.connect(self.clear_cache)
        if dialog.exec():
            self.apply_preferences(dialog.values())

    def apply_preferences(self, prefs: Preferences) -> None:
        prefs.save()
        self.prefs = prefs
        self.log.add("info", f"settings saved: {prefs.workers} workers, {prefs.chunk_seconds:g} s chunks")

    def clear_cache(self) -> None:
        from engine.run.cache import ResultsCache

        try:
            cache = ResultsCache(self.cache_path)
            removed = cache.clear()
            cache.close()
        except Exception as exc:  # sqlite3.Error, OSError
            self._show_error("Cannot clear the cache", str(exc))
            return
        self.message_label.setText(f"Cache cleared ({removed} songs)")

    def _apply_launch_options(self) -> None:
        launch = self.launch
        ok = True
        if launch.reference:
            ok &= self.load_reference(Path(launch.reference))
        if launch.profile:
            ok &= self.load_profile(Path(launch.profile))
        if not ok and launch.quit_when_done:
            self._finish_launch(2)
            return
        self._auto_export_pending = bool(launch.export_dir or launch.quit_when_done) and launch.autostart
        if launch.paths:
            self._start_after_scan = launch.autostart
            self.add_paths(launch.paths)
        elif launch.autostart and launch.quit_when_done:
            self._finish_launch(0)

    def _auto_export(self) -> None:
        """After an autostarted run: export into --export-dir, then quit if asked."""
        if self.controller.running or self._pending_scans:
            return
        self._auto_export_pending = False
        if self.launch.export_dir:
            if self.launch.quit_when_done:
                self.exportFinished.connect(lambda _folder, error: self._finish_launch(1 if error else 0))
            self.export_to(Path(self.launch.export_dir))
        elif self.launch.quit_when_done:
            self._finish_launch(0)

    def _finish_launch(self, code: int) -> None:
        """Record the exit status and close; ``gui.app.main`` returns it as the process status."""
        self.exit_code = code
        self.finishedLaunch.emit(code)
        if self.launch.quit_when_done:
            self._closing = True
            self.close()

    # ==== messages and closing ===================================================================
    def _show_error(self, title: str, message: str) -> None:
        """Non-blocking error box (a modal loop would stall scripted and tested runs)."""
        self.last_error = message
        self.log.add("error", f"{title}: {message}")
        if self.launch.quit_when_done:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.error_box = box

    def confirm_close_during_run(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Analysis running",
            "A run is in progress. Stop it and quit?\nFinished songs are saved in the cache.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.controller.running and not self._closing and not self.confirm_close_during_run():
            event.ignore()
            return
        self._closing = True
        self._timer.stop()
        self.message_label.setText("Stopping workers…")
        self.controller.shutdown()
        event.accept()


def _describe_profile(session: CalibrationSession) -> str | None:
    profile = session.profile
    if profile is None:
        return None
    source = f"Loaded {session.loaded_profile_path.name}" if session.loaded_profile is not None else "Fitted here"
    rules = f"{len(profile.tempo)} tempo, {len(profile.key)} key, {len(profile.features)} feature corrections"
    return f"{source} on {profile.n_songs} songs: {rules}"


def _reveal_text() -> str:
    if sys.platform == "darwin":
        return "Reveal in Finder"
    if os.name == "nt":
        return "Show in Explorer"
    return "Show in File Manager"


def reveal_in_file_manager(path: Path) -> None:
    """Select the file in Finder/Explorer; elsewhere open its folder."""
    try:
        if sys.platform == "darwin":
            subprocess.Popen(["open", "-R", str(path)])
            return
        if os.name == "nt":
            subprocess.Popen(["explorer", "/select,", str(path)])
            return
    except OSError:
        pass
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
