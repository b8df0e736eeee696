"""The calibration session's slow steps, off the GUI thread, with their results put into the queue rows.

Part of the :class:`~gui.workspace.Workspace`: the session
(:class:`engine.calibration.session.CalibrationSession`) decides, this class runs its matching,
fitting and export through :func:`gui.tasks.run_task`, adopts what comes back on the GUI thread,
writes reference and calibrated values into the queue rows and says ``calibrationChanged``.
Panels and plots (the calibration feature) redraw on that signal; none of this knows them.

``settled`` is emitted when the calibration has caught up with a finished run: after the final
match (and the fit that follows it, when there are enough songs), or at once when there is no
reference. A scripted launch exports on it (:mod:`gui.features.launch_feature`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.calibration.dataset import AnalysedSong, CalibratedValue
from engine.calibration.session import CalibrationSession, song_for
from engine.results import SongResult
from engine.run import events as ev
from engine.settings import AnalysisSettings
from engine.wording import file_name, plural
from gui.queue_model import QueueModel
from gui.tasks import run_task

LIVE_METRICS_MS = 1500
"""During a run with a reference, metrics and counts are refreshed at most this often (matching is O(songs))."""


class CalibrationJobs(QObject):
    referenceLoaded = Signal(str)
    calibrationChanged = Signal()
    exportFinished = Signal(str, str)
    settled = Signal()
    message = Signal(str)
    logged = Signal(str, str)
    problem = Signal(str, str)

    def __init__(
        self,
        model: QueueModel,
        results: dict[str, SongResult],
        session: CalibrationSession,
        parent: QObject | None = None,
        settings: Callable[[], AnalysisSettings] | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.results = results
        self.session = session
        self.settings: Callable[[], AnalysisSettings] = settings or AnalysisSettings
        self.last_export: list[Path] = []
        self.fit_error = ""
        """Why the last fit was refused (shown under the metrics), or empty."""
        self.running: Callable[[], bool] = lambda: False
        self._match_generation = 0
        self._view_seconds = 0.0
        self.live_metrics_timer = QTimer(self)
        self.live_metrics_timer.setSingleShot(True)
        self.live_metrics_interval_ms = LIVE_METRICS_MS
        self.live_metrics_timer.timeout.connect(self._refresh_live_metrics)

    # -- reference and profile -------------------------------------------------------------------
    def load_reference(self, path: Path) -> bool:
        from engine.errors import EngineError

        try:
            reference = self.session.load_reference(path)
        except (EngineError, OSError) as exc:
            self.problem.emit("Cannot load reference", str(exc))
            return False
        for error in reference.errors:
            self.logged.emit("warning", f"reference {error}")
        self.logged.emit("info", f"reference loaded: {path} ({plural(len(reference.rows), 'row')})")
        self.message.emit(f"Reference loaded: {file_name(path)} ({plural(len(reference.rows), 'row')})")
        self.referenceLoaded.emit(str(path))
        self.rematch()
        return True

    def load_profile(self, path: Path) -> bool:
        from engine.errors import EngineError
        from engine.version import ENGINE_VERSION

        try:
            profile = self.session.load_profile_file(path)
        except (EngineError, OSError, ValueError) as exc:
            self.problem.emit("Cannot load profile", str(exc))
            return False
        for note in profile.warnings_for(ENGINE_VERSION, self.settings().to_dict()):
            self.logged.emit("warning", f"profile: {note}")
        self.logged.emit("info", f"profile loaded: {path}")
        self.show()
        return True

    def set_apply_profile(self, on: bool) -> None:
        self.session.apply_profile = on
        self.show()

    def calibrated(self, result: SongResult) -> CalibratedValue | None:
        return self.session.calibrated(AnalysedSong.from_result(result))

    # -- matching --------------------------------------------------------------------------------
    def song_finished(self) -> None:
        """During a run: refresh the metrics soon (at most 5 % of the GUI thread goes to redrawing them)."""
        if self.session.reference is not None and not self.live_metrics_timer.isActive():
            self.live_metrics_timer.start(max(self.live_metrics_interval_ms, int(20_000 * self._view_seconds)))

    def after_run(self, summary: ev.RunSummary, _now: float = 0.0) -> None:
        """The final match, and a fit unless the run was cancelled; then ``settled``."""
        self.live_metrics_timer.stop()  # the final match (and fit) replaces it
        if self.session.reference is not None:
            self.rematch(fit_after=not summary.cancelled)
        else:
            self.settled.emit()

    def _refresh_live_metrics(self) -> None:
        """Raw metrics, counts and plots for the songs finished so far; fitting waits for the run's end."""
        if self.running() and self.session.reference is not None:
            self.rematch()

    def rematch(self, fit_after: bool = False) -> None:
        """Match the queue to the reference again (off the GUI thread); nothing to do without a reference."""
        if self.session.reference is None:
            if self.session.matched is not None:
                self.session.adopt_match(None)
                self.show()
            return
        paths, results = self.model.paths(), dict(self.results)
        session = self.session
        self._match_generation += 1
        generation = self._match_generation

        def match() -> Any:
            from engine.references.scoring import preload

            preload()  # the GUI thread scores the match next; it must not stall importing mir_eval
            songs = [song_for(p, results.get(p)) for p in paths]  # tempo evidence per song: not on the GUI thread
            return session.match(songs)

        def done(matched: Any, error: BaseException | None) -> None:
            if generation != self._match_generation:
                return  # a newer match was started (tasks can finish out of order): show that one
            if error is not None:
                self.logged.emit("error", f"matching failed: {error}")
                matched = None
            session.adopt_match(matched)
            self.show()
            if fit_after and session.can_fit:
                self.fit()
            else:
                self.settled.emit()

        run_task(match, done, owner=self)

    def verdicts_changed(self) -> bool:
        """The user's verdicts changed: re-apply them (cheap); True when a refit is due."""
        session = self.session
        if session.matched is None:
            return False
        session.matched.apply_verdicts(session.verdicts)
        refit = False
        if session.calibration is not None:  # a fit made before the verdict no longer holds
            if session.can_fit:
                refit = True
            else:
                session.adopt_fit(None)  # too few songs left: show no fit rather than a stale one
        self.show()
        return refit

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self) -> None:
        settings = self.settings().to_dict()
        session = self.session
        self.message.emit("Fitting calibration (cross-validated)…")

        def done(calibration: Any, error: BaseException | None) -> None:
            if error is not None:
                self.fit_error = str(error)
                self.show()
                self.logged.emit("warning", f"calibration not fitted: {error}")
                self.message.emit("Calibration not fitted (see the Calibration panel)")
            else:
                self.fit_error = ""
                session.adopt_fit(calibration)
                for note in calibration.notes:
                    self.logged.emit("info", f"calibration: {note}")
                self.logged.emit(
                    "info", f"calibration fitted on {plural(len(calibration.observations), 'matched song')}"
                )
                self.message.emit("Calibration fitted; cross-validated numbers in the Calibration panel")
                self.show()
            self.settled.emit()

        run_task(lambda: session.fit_matched(settings), done, owner=self)

    # -- into the rows ---------------------------------------------------------------------------
    def show(self) -> None:
        """Reference and calibrated values into the rows, then ``calibrationChanged`` (panels redraw)."""
        started = time.perf_counter()
        session = self.session
        references = {
            path: {"ref_bpm": v.bpm, "ref_key": v.key, "match_method": v.method, "ref_corrected": v.corrected}
            for path, v in session.reference_values().items()
        }
        self.model.set_all(references, clear=("ref_bpm", "ref_key", "match_method", "ref_corrected"))
        calibrated = {
            path: {"cal_bpm": v.bpm, "cal_key": v.key}
            for path, v in session.calibrated_values(self.results.values()).items()
        }
        self.model.set_all(calibrated, clear=("cal_bpm", "cal_key"))
        self.calibrationChanged.emit()
        self._view_seconds = time.perf_counter() - started

    # -- export ----------------------------------------------------------------------------------
    def export_to(
        self, folder: Path, results: Sequence[SongResult], summary: ev.RunSummary | None, bpm_range: Any = None
    ) -> None:
        """Write the file set off the GUI thread; ``exportFinished(folder, error)`` says how it went."""
        settings = self.settings()
        session = self.session
        self.message.emit(f"Exporting to {folder}…")

        def done(files: Any, error: BaseException | None) -> None:
            if error is not None:
                message = str(error)
                self.logged.emit("error", f"export failed: {message}")
                self.problem.emit(
                    "Export failed",
                    f"{message}\n\nNothing was lost: the results are still here. Choose another folder.",
                )
                self.exportFinished.emit(str(folder), message)
                return
            self.last_export = list(files)
            names = ", ".join(f.name for f in files)
            self.logged.emit("info", f"exported to {folder}: {names}")
            self.message.emit(f"Exported {plural(len(files), 'file')} to {folder}")
            self.exportFinished.emit(str(folder), "")

        run_task(lambda: session.export_window(folder, results, settings, summary, bpm_range), done, owner=self)
