"""The main window: the shell's furniture laid out, one workspace, and the features built over them.

The window holds no analysis logic and no feature logic (``docs/architecture.md``, "The window"):

* :class:`~gui.workspace.Workspace`: the data (queue rows, results, the calibration session, the
  engine) and the signals that say what changed;
* :class:`~gui.shell.Shell`: what a feature may ask of the window (an action, a panel, a tab,
  a status message, an error box);
* :mod:`gui.features`: queue, run, calibration, export, DJ export, pairing review, inspector, tags, help
  and the scripted launch, each built from the workspace and the shell, none knowing another.

Only :mod:`gui.app` builds this class. The properties at the end are the window's public face
for scripts and tests; features never use them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSplitter, QWidget

from engine.run.events import RunSummary
from engine.wording import plural
from gui import tasks
from gui.about import help_actions
from gui.actions import ActionDef, ActionKey, Menu, Place, Section
from gui.engine_thread import EngineController
from gui.features.calibration_feature import CalibrationFeature
from gui.features.dj_export_feature import DjExportFeature
from gui.features.export_feature import ExportFeature
from gui.features.inspector_feature import Inspector
from gui.features.launch_feature import LaunchFlow, LaunchOptions
from gui.features.pairing_feature import PairingFeature
from gui.features.queue_feature import QueueFeature
from gui.features.run_feature import RunFeature
from gui.features.tags_feature import TagsFeature
from gui.preferences import Preferences, load_window_state, save_window_state
from gui.queue_model import QueueModel
from gui.run_stats import RunStats
from gui.settings_dialog import SettingsDialog
from gui.shell import Shell
from gui.workspace import Workspace

WRITES_WAIT_S = 60.0
"""Closing the window waits this long for a tag write in progress (each file is written whole)."""


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
        self.setWindowTitle("Calibration Studio")
        self.setAcceptDrops(True)
        self.resize(1360, 860)
        self.workspace = Workspace(Preferences.load(), data_dir or default_data_dir(), cache_path, self)
        self.shell = Shell(self, quiet=self.launch.quit_when_done)
        ws, shell = self.workspace, self.shell
        ws.logged.connect(shell.note)
        ws.problem.connect(shell.show_error)
        shell.quitRequested.connect(self._quit)
        self._declare_window_actions()
        self.queue = QueueFeature(ws, shell)
        self.run = RunFeature(ws, shell)
        self.export = ExportFeature(ws, shell)
        self.dj_export = DjExportFeature(ws, shell)
        self.calibration = CalibrationFeature(ws, shell)
        self.pairing_review = PairingFeature(ws, shell)
        self.tags = TagsFeature(ws, shell)
        for definition in help_actions(self, ws.engine):
            shell.add_action(definition)
        self.inspector = Inspector(ws, shell)
        shell.add_tab(shell.log, "Log")
        shell.build_menus()
        shell.action(ActionKey.ABOUT).setMenuRole(QAction.MenuRole.AboutRole)
        self._lay_out()
        ws.songsAdded.connect(self.songsAdded)
        ws.referenceLoaded.connect(self.referenceLoaded)
        ws.calibrationChanged.connect(self.calibrationUpdated)
        ws.exportFinished.connect(self.exportFinished)
        ws.engine.runningChanged.connect(lambda running: self.settings_action.setEnabled(not running))
        self.restore_layout()
        self.launch_flow = LaunchFlow(ws, shell, self.launch)
        self.launch_flow.finished.connect(self.finishedLaunch)

    def _declare_window_actions(self) -> None:
        """The window's own commands: settings and quit."""
        self.settings_action = self.shell.add_action(
            ActionDef(
                ActionKey.SETTINGS,
                "Settings…",
                self.show_settings,
                Place(Menu.FILE, Section.THIRD, toolbar=21, order=1),
                QKeySequence.StandardKey.Preferences,
                "Workers, chunks, cache",
            )
        )
        self.shell.add_action(
            ActionDef(ActionKey.QUIT, "Quit", self.close, Place(Menu.FILE, Section.LAST), QKeySequence.StandardKey.Quit)
        )

    def _lay_out(self) -> None:
        """The queue (or the drop zone while it is empty) above the tabs of plots, the inspector and the log."""
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("mainSplitter")
        splitter.addWidget(self.shell.queue_area)
        splitter.addWidget(self.shell.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([430, 330])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

    # ==== settings ==============================================================================
    def show_settings(self) -> None:
        dialog = SettingsDialog(self.workspace.prefs, self)
        dialog.clearCacheRequested.connect(self.clear_cache)
        if dialog.exec():
            self.apply_preferences(dialog.values())

    def apply_preferences(self, prefs: Preferences) -> None:
        self.workspace.set_preferences(prefs)
        self.shell.note("info", f"settings saved: {plural(prefs.workers, 'worker')}, {prefs.chunk_seconds:g} s chunks")

    def clear_cache(self) -> None:
        from engine.run.cache import ResultsCache

        try:
            cache = ResultsCache(self.workspace.cache_path)
            removed = cache.clear()
            cache.close()
        except Exception as exc:  # sqlite3.Error, OSError
            self.shell.show_error("Cannot clear the cache", str(exc))
            return
        self.shell.say(f"Cache cleared ({plural(removed, 'song')})")

    # ==== drag and drop =========================================================================
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self.shell.drop_zone.set_hover(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.shell.drop_zone.set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self.shell.drop_zone.set_hover(False)
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.workspace.add_paths(paths)

    # ==== layout and closing ====================================================================
    def restore_layout(self) -> bool:
        """Put the window and its panels back where the user left them (False when nothing was saved)."""
        geometry, state = load_window_state()
        restored = geometry is not None and self.restoreGeometry(geometry)
        return (state is not None and self.restoreState(state)) or restored

    def save_layout(self) -> None:
        save_window_state(bytes(self.saveGeometry().data()), bytes(self.saveState().data()))

    def confirm_close_during_run(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Analysis running",
            "A run is in progress. Stop it and quit?\nFinished songs are saved in the cache.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _quit(self, _code: int) -> None:
        self.shell.closing = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.workspace.running and not self.shell.closing and not self.confirm_close_during_run():
            event.ignore()
            return
        self.shell.closing = True
        self.save_layout()
        self.run.stop()
        self.inspector.close()  # stop playback
        self.shell.say("Stopping workers…")
        tasks.wait_for_writes(WRITES_WAIT_S)  # a tag write is never cut off by the process ending
        self.workspace.shutdown()
        event.accept()

    # ==== the public face (scripts, tests, gui.app, gui.desktop) ================================
    def add_paths(self, paths: object) -> None:
        self.workspace.add_paths(paths)  # type: ignore[arg-type]

    def start(self, force: bool = False, paths: list[str] | None = None) -> bool:
        return self.run.start(force, paths)

    def toggle_pause(self) -> None:
        self.run.toggle_pause()

    def cancel(self) -> None:
        self.run.cancel()

    def load_reference(self, path: Path) -> bool:
        return self.workspace.calibration.load_reference(Path(path))

    def load_profile(self, path: Path) -> bool:
        return self.workspace.calibration.load_profile(Path(path))

    def export_to(self, folder: Path) -> None:
        self.workspace.export_to(Path(folder))

    def prewarm_engine(self) -> None:
        """Start the analysis workers while the user is still choosing songs (done at launch)."""
        self.workspace.prewarm()

    def try_demo(self) -> None:
        self.queue.try_demo()

    @property
    def controller(self) -> EngineController:
        return self.workspace.engine

    @property
    def model(self) -> QueueModel:
        return self.workspace.model

    @property
    def proxy(self) -> QSortFilterProxyModel:
        return self.workspace.proxy

    @property
    def results(self) -> dict:
        return self.workspace.results

    @property
    def session(self):
        return self.workspace.session

    @property
    def prefs(self) -> Preferences:
        return self.workspace.prefs

    @property
    def data_dir(self) -> Path:
        return self.workspace.data_dir

    @property
    def cache_path(self) -> Path | None:
        return self.workspace.cache_path

    @property
    def table(self):
        return self.shell.queue_view

    @property
    def tabs(self):
        return self.shell.tabs

    @property
    def log(self):
        return self.shell.log

    @property
    def drop_zone(self):
        return self.shell.drop_zone

    @property
    def stack(self):
        return self.shell.queue_area

    @property
    def panel(self):
        return self.calibration.panel

    @property
    def chunk_plot(self):
        return self.run.chunk_plot

    @property
    def run_plot(self):
        return self.run.run_plot

    @property
    def pool_view(self):
        return self.run.pool_view

    @property
    def calibration_plots(self):
        return self.calibration.plots

    @property
    def stats(self) -> RunStats:
        return self.run.stats

    @property
    def last_summary(self) -> RunSummary | None:
        return self.workspace.last_summary

    @property
    def message_label(self):
        return self.shell.message_label

    @property
    def songs_label(self):
        return self.run.songs_label

    @property
    def last_error(self) -> str:
        return self.shell.last_error

    @property
    def error_box(self) -> QMessageBox | None:
        return self.shell.error_box

    @property
    def exit_code(self) -> int:
        return self.shell.exit_code

    @property
    def closing(self) -> bool:
        return self.shell.closing

    @closing.setter
    def closing(self, value: bool) -> None:
        self.shell.closing = value

    @property
    def tagger(self):
        return self.tags.tagger

    @property
    def tag_dialog(self):
        return self.tags.tag_dialog

    @property
    def live_metrics_timer(self) -> QTimer:
        return self.workspace.calibration.live_metrics_timer

    @property
    def live_metrics_interval_ms(self) -> int:
        return self.workspace.calibration.live_metrics_interval_ms

    @live_metrics_interval_ms.setter
    def live_metrics_interval_ms(self, value: int) -> None:
        self.workspace.calibration.live_metrics_interval_ms = value

    def action(self, key: ActionKey) -> QAction:
        """The window's command of that key (scripts and tests trigger commands by key)."""
        return self.shell.action(key)
