"""The window's calibration commands: reference, profile, matching, fitting and the export.

Part of the main window's split by concern (see ``docs/architecture.md``, "The window"). The
state and the arithmetic live in :class:`~gui.calibration_session.CalibrationSession` (no Qt);
this class runs its slow steps through the engine controller's task pool and shows the results
in the calibration panel, plots and queue rows on the GUI thread.

``settled`` is emitted when the calibration has caught up with a finished run: after the final
match (and the fit that follows it, when there are enough songs), or at once when there is no
reference. A scripted launch exports on it (:class:`gui.launch_flow.LaunchFlow`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.run import events as ev
from gui.calibration_session import CalibrationSession
from gui.row_status import is_analysed
from gui.widgets.pairing_review import REFERENCE_FILTER

if TYPE_CHECKING:
    from gui.main_window import MainWindow

LIVE_METRICS_MS = 1500
"""During a run with a reference, metrics and counts are refreshed at most this often (matching is O(songs))."""


class CalibrationController(QObject):
    referenceLoaded = Signal(str)
    calibrationUpdated = Signal()
    exportFinished = Signal(str, str)
    settled = Signal()

    def __init__(self, window: MainWindow, session: CalibrationSession):
        super().__init__(window)
        self.window = window
        self.session = session
        self.last_export_dir: Path | None = None
        self.export_box: QMessageBox | None = None
        self._match_generation = 0
        self._view_seconds = 0.0
        self.live_metrics_timer = QTimer(self)
        self.live_metrics_timer.setSingleShot(True)
        self.live_metrics_interval_ms = LIVE_METRICS_MS
        self.live_metrics_timer.timeout.connect(self._refresh_live_metrics)
        window.panel.applyToggled.connect(self.set_apply_profile)

    # -- reference and matching -----------------------------------------------------------------
    def choose_reference(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Load Reference",
            self.window.prefs.last_folder or str(Path.home()),
            REFERENCE_FILTER,
        )
        if path:
            self.load_reference(Path(path))

    def load_reference(self, path: Path) -> bool:
        from engine.errors import EngineError

        w = self.window
        try:
            reference = self.session.load_reference(path)
        except (EngineError, OSError) as exc:
            w.show_error("Cannot load reference", str(exc))
            return False
        errors = [str(e) for e in reference.errors]
        for error in errors:
            w.log.add("warning", f"reference {error}")
        w.panel.set_reference(path.name, len(reference.rows), errors)
        w.log.add("info", f"reference loaded: {path} ({len(reference.rows)} rows)")
        w.say(f"Reference loaded: {path.name} ({len(reference.rows)} rows)")
        self.referenceLoaded.emit(str(path))
        self.rematch()
        return True

    def song_finished(self) -> None:
        """During a run: refresh the metrics soon (at most 5 % of the GUI thread goes to redrawing them)."""
        if self.session.reference is not None and not self.live_metrics_timer.isActive():
            self.live_metrics_timer.start(max(self.live_metrics_interval_ms, int(20_000 * self._view_seconds)))

    def after_run(self, summary: ev.RunSummary) -> None:
        """The final match, and a fit unless the run was cancelled; then ``settled``."""
        self.live_metrics_timer.stop()  # the final match (and fit) replaces it
        if self.session.reference is not None:
            self.rematch(fit_after=not summary.cancelled)
        else:
            self.settled.emit()

    def _refresh_live_metrics(self) -> None:
        """Raw metrics, counts and plots for the songs finished so far; fitting waits for the run's end."""
        if self.window.controller.running and self.session.reference is not None:
            self.rematch()

    def rematch(self, fit_after: bool = False) -> None:
        w = self.window
        paths = w.model.paths()
        results = dict(w.results)
        session = self.session
        self._match_generation += 1
        generation = self._match_generation

        def done(matched, error) -> None:
            if generation != self._match_generation:
                return  # a newer match was started (tasks can finish out of order): show that one
            if error is not None:
                w.log.add("error", f"matching failed: {error}")
                matched = None
            session.adopt_match(matched)
            self.show()
            if fit_after and self.can_fit():
                self.fit_calibration()
            else:
                self.settled.emit()

        w.controller.run_task(lambda: session.match(paths, results), done)

    # -- fitting --------------------------------------------------------------------------------
    def can_fit(self) -> bool:
        from engine.calibration import MIN_SONGS

        if self.session.matched is None:
            return False
        analysed = [o for o in self.session.matched.observations if is_analysed(o.song.status)]
        return len(analysed) >= MIN_SONGS

    def fit_calibration(self) -> None:
        w = self.window
        settings = w.prefs.analysis_settings()
        session = self.session
        w.say("Fitting calibration (cross-validated)…")

        def done(calibration, error) -> None:
            if error is not None:
                self.show()
                w.panel.note.setText(str(error))  # after show(), which rewrites the note
                w.log.add("warning", f"calibration not fitted: {error}")
                w.say("Calibration not fitted (see the Calibration panel)")
            else:
                session.adopt_fit(calibration)
                for note in calibration.notes:
                    w.log.add("info", f"calibration: {note}")
                w.log.add("info", f"calibration fitted on {len(calibration.observations)} matched songs")
                w.say("Calibration fitted; cross-validated numbers in the Calibration panel")
                self.show()
            self.settled.emit()

        w.controller.run_task(lambda: session.fit(settings), done)

    # -- showing --------------------------------------------------------------------------------
    def show(self) -> None:
        started = time.perf_counter()
        self._show_now()
        self._view_seconds = time.perf_counter() - started

    def _show_now(self) -> None:
        w, session = self.window, self.session
        w.model.set_all(session.reference_values(), clear=("ref_bpm", "ref_key", "match_method"))
        w.model.set_all(session.calibrated_values(w.results), clear=("cal_bpm", "cal_key"))
        w.pairing_review.refresh()
        matched, unmatched_songs, unmatched_rows = session.counts()
        lines = []
        if session.matched is not None:
            lines += [f"song: {s.path}" for s in session.matched.unmatched_songs]
            lines += [f"reference line {r.line}: {r.describe()}" for r in session.matched.unmatched_rows]
        w.panel.set_counts(matched, unmatched_songs, unmatched_rows, "\n".join(lines))
        view = session.metrics()
        note = ""
        if session.calibration is not None:
            note = "Calibrated (CV): each song predicted by a profile fitted without it."
            note += "".join(f"\n{n}" for n in session.calibration.notes)
        elif session.matched is not None and not self.can_fit():
            from engine.calibration import MIN_SONGS

            note = f"Fitting needs at least {MIN_SONGS} analysed songs with a reference."
        w.panel.set_metrics(view.rows, note)
        w.panel.set_profile(describe_profile(session))
        w.calibration_plots.set_tempo(session.tempo_pairs(calibrated=False))
        has_profile = session.applied_profile is not None
        w.calibration_plots.set_keys(
            session.key_relation_counts(False), session.key_relation_counts(True) if has_profile else None
        )
        w.update_actions()
        self.calibrationUpdated.emit()

    # -- profile --------------------------------------------------------------------------------
    def set_apply_profile(self, on: bool) -> None:
        self.session.apply_profile = on
        self.show()

    def choose_profile(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Load Profile", self.window.prefs.last_folder, "Profile (*.json)"
        )
        if path:
            self.load_profile(Path(path))

    def load_profile(self, path: Path) -> bool:
        from engine.errors import EngineError
        from engine.version import ENGINE_VERSION

        w = self.window
        try:
            profile = self.session.load_profile(path)
        except (EngineError, OSError, ValueError) as exc:
            w.show_error("Cannot load profile", str(exc))
            return False
        for note in profile.warnings_for(ENGINE_VERSION, w.prefs.analysis_settings().to_dict()):
            w.log.add("warning", f"profile: {note}")
        w.log.add("info", f"profile loaded: {path}")
        self.show()
        return True

    def choose_save_profile(self) -> None:
        w = self.window
        if self.session.profile is None:
            return
        start = str(Path(w.prefs.export_dir or w.prefs.last_folder or Path.home()) / "profile.json")
        path, _ = QFileDialog.getSaveFileName(w, "Save Profile", start, "Profile (*.json)")
        if path:
            try:
                self.session.save_profile(path)
                w.say(f"Profile saved to {path}")
            except OSError as exc:
                w.show_error("Cannot save profile", str(exc))

    # -- export ---------------------------------------------------------------------------------
    def choose_export(self) -> None:
        prefs = self.window.prefs
        folder = QFileDialog.getExistingDirectory(
            self.window, "Export Calibration CSVs", prefs.export_dir or prefs.last_folder or str(Path.home())
        )
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        """Write the file set off the GUI thread; remember the folder only when it worked."""
        w = self.window
        results = [w.results[p] for p in w.model.paths() if p in w.results]
        settings = w.prefs.analysis_settings()
        summary = w.run.last_summary
        session = self.session
        w.say(f"Exporting to {folder}…")

        def done(files, error) -> None:
            if error is not None:
                message = str(error)
                w.log.add("error", f"export failed: {message}")
                w.show_error(
                    "Export failed",
                    f"{message}\n\nNothing was lost: the results are still here. Choose another folder.",
                )
                self.exportFinished.emit(str(folder), message)
                return
            w.prefs.export_dir = str(folder)
            w.prefs.save()
            self.last_export_dir = folder
            w.open_export_action.setEnabled(True)
            names = ", ".join(f.name for f in files)
            w.log.add("info", f"exported to {folder}: {names}")
            w.say(f"Exported {len(files)} files to {folder}")
            if not w.launch.quit_when_done:
                self._show_export_done(folder, files)
            self.exportFinished.emit(str(folder), "")

        w.controller.run_task(lambda: session.export(folder, results, settings, summary), done)

    def _show_export_done(self, folder: Path, files: Sequence[Path]) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Export finished",
            f"Wrote {len(files)} files to\n{folder}",
            parent=self.window,
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


def describe_profile(session: CalibrationSession) -> str | None:
    profile = session.profile
    if profile is None:
        return None
    source = f"Loaded {session.loaded_profile_path.name}" if session.loaded_profile is not None else "Fitted here"
    rules = f"{len(profile.tempo)} tempo, {len(profile.key)} key, {len(profile.features)} feature corrections"
    return f"{source} on {profile.n_songs} songs: {rules}"
