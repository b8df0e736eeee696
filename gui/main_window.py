"""The main window: a thin composition of the queue, the run, the calibration and the launch flow.

The window holds no analysis logic and little behaviour of its own. Split by concern the way
MusicBrainz Picard splits its main window (``docs/architecture.md``, "The window"):

* :mod:`gui.window_actions`: every command as one ``QAction``; menus, toolbar and panel buttons.
* :mod:`gui.queue_controller`: adding songs (scanned off the GUI thread), clearing, the selection.
* :mod:`gui.run_presenter`: start/pause/cancel; engine events into rows, plots and the status bar.
* :mod:`gui.calibration_controller`: reference, profile, matching, fitting, export.
* :mod:`gui.launch_flow`: what ``--autostart --export-dir --quit-when-done`` asks for.

They share the window's services: the queue ``model``, the ``results`` by path, the
``session``, the engine ``controller`` (the one threading boundary), ``prefs``, ``log``,
:meth:`say` and :meth:`show_error`. New panels go in with :meth:`add_panel`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QSplitter, QStackedWidget, QTabWidget, QWidget

from gui.calibration_controller import CalibrationController
from gui.calibration_session import CalibrationSession
from gui.engine_thread import EngineController
from gui.inspector.controller import Inspector
from gui.launch_flow import LaunchFlow, LaunchOptions
from gui.preferences import Preferences, load_window_state, save_window_state
from gui.queue_controller import QueueController, reveal_in_file_manager
from gui.queue_model import SORT_ROLE, QueueModel
from gui.run_presenter import RunPresenter
from gui.settings_dialog import SettingsDialog
from gui.tag_dialog import install as install_tag_writing
from gui.widgets.calibration_panel import CalibrationPanel
from gui.widgets.calibration_plots import CalibrationPlots
from gui.widgets.chunk_plot import ChunkPlot
from gui.widgets.drop_zone import DropZone
from gui.widgets.log_panel import LogPanel
from gui.widgets.pairing_review import install_pairing_review
from gui.widgets.plot_style import WorkerPalette
from gui.widgets.pool_view import PoolView
from gui.widgets.queue_view import QueueView
from gui.widgets.run_plot import RunPlot
from gui.window_actions import WindowActions, bind_button

__all__ = ["LaunchOptions", "MainWindow", "default_data_dir", "reveal_in_file_manager"]


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("CalibrationStudio", appauthor=False))


class MainWindow(QMainWindow):
    """Signals for scripts and tests: ``songsAdded(count)``, ``exportFinished(folder, error)``…"""

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
        self.results: dict = {}
        """Each analysed song's ``SongResult``, by path (shared by the run, the queue and the calibration)."""
        self.last_error = ""
        self.error_box: QMessageBox | None = None
        self.exit_code = 0
        self.closing = False
        self.worker_palette = WorkerPalette()

        self.setWindowTitle("Calibration Studio")
        self.setAcceptDrops(True)
        self.resize(1360, 860)
        self._build_central()
        self.panel = CalibrationPanel()
        self.add_panel("calibrationDock", "Calibration", self.panel, width=340)
        self.run = RunPresenter(self, self.statusBar())
        self.queue = QueueController(self)
        self.calibration = CalibrationController(self, self.session)
        self.launch_flow = LaunchFlow(self, self.launch)
        self.commands = WindowActions(self)
        self.commands.install(self.table)
        self.pairing_review = install_pairing_review(self)  # issue 11: Pairing Review dock + menu action
        install_tag_writing(self)  # issue 16: Tags menu, interrupted-batch offer
        self._bind_panel_buttons()
        self._wire()
        self.inspector = Inspector(self)  # issue 15: song inspector (tab, Review menu, shortcuts)
        self.update_actions()
        self.restore_layout()
        QTimer.singleShot(0, self.launch_flow.begin)

    # ==== construction ==========================================================================
    def _build_central(self) -> None:
        """The queue (or the drop zone while it is empty) above the tabs of plots and the log."""
        self.drop_zone = DropZone()
        self.table = QueueView()
        self.table.setModel(self.proxy)
        self.table.configure_columns()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.drop_zone)
        self.stack.addWidget(self.table)

        self.chunk_plot = ChunkPlot(self.worker_palette)
        self.run_plot = RunPlot(self.worker_palette)
        self.calibration_plots = CalibrationPlots()
        self.pool_view = PoolView(self.worker_palette)
        self.log = LogPanel()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for widget, title in (
            (self.chunk_plot, "Current Song"),
            (self.run_plot, "Run"),
            (self.calibration_plots, "Calibration"),
            (self.pool_view, "Pool"),
            (self.log, "Log"),
        ):
            self.tabs.addTab(widget, title)
        for plot in (self.chunk_plot.plot, self.run_plot.durations, self.run_plot.progress):
            plot.setAcceptDrops(False)
        for plot in (self.calibration_plots.scatter_plot, self.calibration_plots.keys_plot):
            plot.setAcceptDrops(False)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(self.stack)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([430, 330])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

    def add_panel(
        self,
        object_name: str,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
        width: int | None = None,
        closable: bool = False,
    ) -> QDockWidget:
        """Dock ``widget`` as a movable, floatable panel; its place is saved and restored with the window's.

        ``object_name`` must be unique and stable: the saved layout finds the panel by it. A panel
        added after the window restored its layout is put back where it was (``restoreDockWidget``).
        """
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        features = QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        if closable:  # an on-demand panel: its toggleViewAction (enabled only when closable) shows and hides it
            features |= QDockWidget.DockWidgetFeature.DockWidgetClosable
        dock.setFeatures(features)
        if not self.restoreDockWidget(dock):  # not in the layout restored at start-up: a new panel
            self.addDockWidget(area, dock)
            if width is not None:
                self.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        return dock

    def _bind_panel_buttons(self) -> None:
        """The panels' buttons are faces of the window's actions, not commands of their own."""
        a = self.commands
        bind_button(self.drop_zone.demo_button, a["demo"])
        bind_button(self.drop_zone.add_folder_button, a["add_folder"])
        bind_button(self.drop_zone.load_reference_button, a["load_reference"])
        bind_button(self.panel.load_reference_button, a["load_reference"])
        bind_button(self.panel.fit_button, a["fit"])
        bind_button(self.panel.save_button, a["save_profile"])
        bind_button(self.panel.load_profile_button, a["load_profile"])
        bind_button(self.panel.export_button, a["export"])

    def _wire(self) -> None:
        """Who hears what: the run, the calibration and a scripted launch follow each other through signals."""
        self.table.customContextMenuRequested.connect(self.queue.context_menu)
        self.queue.songsAdded.connect(self.songsAdded)
        cal = self.calibration
        cal.referenceLoaded.connect(self.referenceLoaded)
        cal.calibrationUpdated.connect(self.calibrationUpdated)
        cal.exportFinished.connect(self.exportFinished)
        self.run.songFinished.connect(cal.song_finished)
        self.run.runEnded.connect(self._after_run)
        self.run.runCrashed.connect(self.launch_flow.run_crashed)
        cal.settled.connect(self.launch_flow.calibration_settled)
        self.launch_flow.finished.connect(self.finishedLaunch)

    def _after_run(self, summary) -> None:
        self.launch_flow.run_ended()  # first: the calibration may settle at once
        self.calibration.after_run(summary)

    # ==== shared services =======================================================================
    def say(self, text: str) -> None:
        """The status bar's message."""
        self.run.message_label.setText(text)

    def show_error(self, title: str, message: str) -> None:
        """Non-blocking error box (a modal loop would stall scripted and tested runs)."""
        self.last_error = message
        self.log.add("error", f"{title}: {message}")
        if self.launch.quit_when_done:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.error_box = box

    def update_actions(self) -> None:
        self.commands.update(
            running=self.controller.running,
            has_rows=self.model.rowCount() > 0,
            has_results=bool(self.results),
            has_profile=self.session.profile is not None,
        )

    # ==== the public face (scripts, tests, gui.app, gui.desktop) ================================
    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self.queue.add_paths(paths)

    def start(self, force: bool = False, paths=None) -> bool:
        return self.run.start(force, paths)

    def toggle_pause(self) -> None:
        self.run.toggle_pause()

    def cancel(self) -> None:
        self.run.cancel()

    def load_reference(self, path: Path) -> bool:
        return self.calibration.load_reference(Path(path))

    def load_profile(self, path: Path) -> bool:
        return self.calibration.load_profile(Path(path))

    def export_to(self, folder: Path) -> None:
        self.calibration.export_to(Path(folder))

    def prewarm_engine(self) -> None:
        """Start the analysis workers while the user is still choosing songs (done at launch)."""
        self.controller.prewarm(self.prefs.analysis_settings(), self.prefs.engine_options(self.cache_path))

    @property
    def stats(self):
        return self.run.stats

    @property
    def last_summary(self):
        return self.run.last_summary

    @property
    def message_label(self):
        return self.run.message_label

    @property
    def songs_label(self):
        return self.run.songs_label

    @property
    def live_metrics_timer(self) -> QTimer:
        return self.calibration.live_metrics_timer

    @property
    def live_metrics_interval_ms(self) -> int:
        return self.calibration.live_metrics_interval_ms

    @live_metrics_interval_ms.setter
    def live_metrics_interval_ms(self, value: int) -> None:
        self.calibration.live_metrics_interval_ms = value

    # ==== demo and settings =====================================================================
    def try_demo(self) -> None:
        from engine.frontends.demo import write_demo_set

        if self.controller.running:
            return
        folder = self.data_dir / "demo"
        self.say("Writing demo songs…")

        def done(written, error) -> None:
            if error is not None:
                self.show_error("Cannot write demo songs", str(error))
                return
            songs, reference = written
            self.log.add("info", f"demo songs written to {folder}")
            self.calibration.load_reference(reference)
            self.queue.start_after_scan = True
            self.queue.add_paths(songs)

        self.controller.run_task(lambda: write_demo_set(folder), done)

    def show_settings(self) -> None:
        dialog = SettingsDialog(self.prefs, self)
        dialog.clearCacheRequested.connect(self.clear_cache)
        if dialog.exec():
            self.apply_preferences(dialog.values())

    def apply_preferences(self, prefs: Preferences) -> None:
        prefs.save()
        self.prefs = prefs
        self.inspector.set_notation(prefs.key_notation)
        self.log.add("info", f"settings saved: {prefs.workers} workers, {prefs.chunk_seconds:g} s chunks")

    def clear_cache(self) -> None:
        from engine.run.cache import ResultsCache

        try:
            cache = ResultsCache(self.cache_path)
            removed = cache.clear()
            cache.close()
        except Exception as exc:  # sqlite3.Error, OSError
            self.show_error("Cannot clear the cache", str(exc))
            return
        self.say(f"Cache cleared ({removed} songs)")

    # ==== drag and drop =========================================================================
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
            self.queue.add_paths(paths)

    # ==== layout and closing ====================================================================
    def restore_layout(self) -> bool:
        """Put the window and its panels back where the user left them (False when nothing was saved)."""
        geometry, state = load_window_state()
        restored = bool(geometry) and self.restoreGeometry(geometry)
        return (bool(state) and self.restoreState(state)) or restored

    def save_layout(self) -> None:
        save_window_state(self.saveGeometry().data(), self.saveState().data())

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
        if self.controller.running and not self.closing and not self.confirm_close_during_run():
            event.ignore()
            return
        self.closing = True
        self.save_layout()
        self.run.stop()
        self.inspector.close()  # stop playback
        self.say("Stopping workers…")
        self.controller.shutdown()
        event.accept()
