"""The window's data and what changes it, as one QObject: queue rows, results by path, the session, the engine.

Every feature (:mod:`gui.features`) receives the workspace and works through it; none of them
holds data of its own that another needs, and none of them calls another. What happened is
told by the workspace's signals, which mean something to a user:

* ``songsAdded(count)``: a scan finished (``count`` may be 0: everything was a duplicate);
* ``queueChanged()``: rows were added, removed or cleared;
* ``runStarting(paths)`` / ``resultChanged(path)`` / ``runEnded(summary)``: a run;
* ``referenceLoaded(path)`` / ``calibrationChanged()`` / ``calibrationSettled()`` /
  ``exportFinished(folder, error)``: the calibration (:class:`~gui.calibration_jobs.CalibrationJobs`);
* ``message(text)``, ``logged(level, text)``, ``problem(title, text)``: for the shell to show.

The engine's own events (chunks, warm-up) stay on :attr:`engine`, the one threading boundary.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, QSortFilterProxyModel, Signal

from engine.calibration.session import CalibrationSession
from engine.references.readers import REFERENCE_SUFFIXES
from engine.results import SongResult, SongStatus
from engine.run import events as ev
from engine.run.discovery import Discovery, discover
from engine.wording import plural
from gui.calibration_jobs import CalibrationJobs
from gui.engine_thread import EngineController, RunRequest
from gui.preferences import Preferences
from gui.queue_model import SORT_ROLE, QueueModel
from gui.tasks import run_task


class StartRefused(Enum):
    """Why :meth:`Workspace.start_run` started nothing (the value is what to tell the user)."""

    RUNNING = "A run is already in progress"
    DIAGNOSTICS = "Diagnostics are running: start the analysis when they have finished"
    NOTHING = "Nothing to analyse: add songs, or re-analyse finished ones"
    SETTINGS = "Invalid settings"


class Workspace(QObject):
    songsAdded = Signal(int)
    queueChanged = Signal()
    runStarting = Signal(list)
    resultChanged = Signal(str)
    runEnded = Signal(object)
    referenceLoaded = Signal(str)
    calibrationChanged = Signal()
    calibrationSettled = Signal()
    exportFinished = Signal(str, str)
    preferencesChanged = Signal()
    message = Signal(str)
    logged = Signal(str, str)
    problem = Signal(str, str)

    def __init__(
        self,
        prefs: Preferences,
        data_dir: Path,
        cache_path: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.data_dir = data_dir
        self.cache_path = cache_path
        self.model = QueueModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.results: dict[str, SongResult] = {}
        """Each analysed song's result, by path."""
        self.session = CalibrationSession()
        self.engine = EngineController(self)
        self.calibration = CalibrationJobs(
            self.model, self.results, self.session, self, settings=lambda: self.prefs.analysis_settings()
        )
        self.calibration.running = lambda: self.engine.running
        for name in ("referenceLoaded", "calibrationChanged", "exportFinished", "message", "logged", "problem"):
            getattr(self.calibration, name).connect(getattr(self, name))
        self.calibration.settled.connect(self.calibrationSettled)
        self.run_paths: list[str] = []
        self.last_summary: ev.RunSummary | None = None
        self.pending_scans = 0
        self.start_after_scan = False
        """Start a run once every scan in flight has finished (the demo and ``--autostart`` set it)."""
        self.engine.songFinished.connect(self._on_song_finished)
        self.engine.songFailed.connect(self._on_song_finished)
        self.engine.runFinished.connect(self._on_run_finished)
        self.engine.runCrashed.connect(self._on_run_crashed)

    @property
    def running(self) -> bool:
        return self.engine.running

    # -- the queue -------------------------------------------------------------------------------
    def add_paths(self, paths: Iterable[str | os.PathLike[str]], start: bool = False) -> None:
        """Queue files and folders (scanned off the GUI thread); reference files and profiles load instead.

        ``start``: analyse once every scan in flight has finished.
        """
        chosen = [Path(p) for p in paths]
        references = [p for p in chosen if p.suffix.lower() in REFERENCE_SUFFIXES and p.is_file()]
        profiles = [p for p in chosen if p.suffix.lower() == ".json" and p.is_file()]
        others = [p for p in chosen if p not in references and p not in profiles]
        for reference in references[-1:]:  # one reference at a time: the last one dropped wins
            self.calibration.load_reference(reference)
        for profile in profiles[-1:]:
            self.calibration.load_profile(profile)
        self.start_after_scan = self.start_after_scan or start
        if not others:
            return
        queued = [Path(p) for p in self.model.paths()]
        self.pending_scans += 1
        self.message.emit("Scanning for songs…")
        run_task(lambda: discover(others, exclude=queued), self._on_discovered, owner=self)

    def _on_discovered(self, found: Discovery | None, error: BaseException | None) -> None:
        self.pending_scans -= 1
        if error is not None or found is None:
            self.logged.emit("error", f"scanning failed: {error}")
            return
        added = self.model.add_paths(str(p) for p in found.songs)
        duplicates = found.duplicates + (len(found.songs) - added)
        parts = [f"Added {plural(added, 'song')}"]
        if found.skipped_non_audio:
            parts.append(f"skipped {plural(found.skipped_non_audio, 'non-audio file')}")
        if duplicates:
            parts.append(f"ignored {plural(duplicates, 'duplicate')}")
        for missing in found.missing:
            self.logged.emit("warning", f"not found: {missing}")
        for folder in found.unreadable_dirs:
            self.logged.emit("warning", f"cannot read folder: {folder}")
        self.message.emit(", ".join(parts))
        if added:
            self.queueChanged.emit()
        self.songsAdded.emit(added)
        if added:
            self.calibration.rematch()
        if self.pending_scans == 0 and self.start_after_scan:
            self.start_after_scan = False
            refused = self.start_run()
            if refused is not None:
                self.message.emit(refused.value)

    def remove_rows(self, rows: Sequence[int]) -> None:
        if self.running:
            return
        for row in rows:
            self.results.pop(self.model.song(row).path, None)
        self.model.remove_rows(rows)
        self.queueChanged.emit()
        self.calibration.rematch()

    def clear(self) -> bool:
        if self.running:
            self.message.emit("Cancel the run before clearing the queue")
            return False
        self.model.clear()
        self.results.clear()
        self.queueChanged.emit()
        self.calibration.rematch()
        return True

    # -- the run ---------------------------------------------------------------------------------
    def start_run(self, force: bool = False, paths: Sequence[str] | None = None) -> StartRefused | None:
        """Analyse ``paths`` (default: every song not analysed yet); ``None`` when started, else why not."""
        if self.engine.running:
            return StartRefused.RUNNING
        if self.engine.exclusive_running:  # the diagnostics have the engine thread (and the only pool)
            return StartRefused.DIAGNOSTICS
        chosen = list(paths) if paths is not None else [r.path for r in self.model.rows if not r.analysed]
        if not chosen:
            return StartRefused.NOTHING
        try:
            settings = self.prefs.analysis_settings()
            options = self.prefs.engine_options(self.cache_path)
        except ValueError as exc:
            self.problem.emit("Invalid settings", str(exc))
            return StartRefused.SETTINGS
        self.run_paths = chosen
        changes = {}
        for path in chosen:
            row = self.model.row_of(path)
            if row is not None:
                changes[row] = {"status": SongStatus.QUEUED, "chunks_done": 0, "chunks_total": 0, "error": ""}
        self.model.update_many(changes)
        self.runStarting.emit(chosen)
        self.engine.start(RunRequest(tuple(chosen), settings, options, force))
        return None

    def path_of_event(self, index: int) -> str | None:
        return self.run_paths[index] if 0 <= index < len(self.run_paths) else None

    def _on_song_finished(self, event: ev.SongFinished | ev.SongFailed) -> None:
        result = event.result
        path = self.path_of_event(event.index) or result.path
        self.results[path] = result
        row = self.model.row_of(path)
        if row is not None:
            values = {
                "status": result.status,
                "duration_s": result.duration_s or self.model.song(row).duration_s,
                "bpm": result.bpm,
                "tempo_stable": result.tempo_stable,
                "key": result.key,
                "analysis_s": result.analysis_s,
                "error": result.error,
                "cached": result.cached,
                "chunks_done": result.chunks_total,
                "chunks_total": result.chunks_total,
                "confidence": min(result.bpm_confidence, result.key_confidence) if result.bpm else None,
            }
            if result.title:
                values.update(title=result.title, artist=result.artist)
            calibrated = self.calibration.calibrated(result)
            if calibrated is not None:
                values.update(cal_bpm=calibrated.bpm, cal_key=calibrated.key)
            self.model.update(row, **values)
        self.resultChanged.emit(path)
        self.calibration.song_finished()

    def _on_run_finished(self, event: ev.RunFinished) -> None:
        summary = event.summary
        self.last_summary = summary
        # Songs the run did not finish: "cancelled" after a cancel (the next Start takes them), else queued again.
        unfinished = SongStatus.CANCELLED if summary.cancelled else SongStatus.QUEUED
        changes = {}
        for path in self.run_paths:
            row = self.model.row_of(path)
            if row is None:
                continue
            status = self.model.song(row).status
            if status.in_progress or status is SongStatus.QUEUED:
                changes[row] = {"status": unfinished, "chunks_done": 0}
        self.model.update_many(changes)
        self.runEnded.emit(summary)
        self.calibration.after_run(summary, time.monotonic())

    def _on_run_crashed(self, error: str) -> None:
        self.logged.emit("error", f"the analysis engine stopped: {error}")
        self.problem.emit("Analysis stopped", error.splitlines()[0] if error else "unknown error")

    def export_to(self, folder: Path) -> None:
        """Write the calibration file set of the queued songs' results into ``folder`` (off the GUI thread)."""
        results = [self.results[p] for p in self.model.paths() if p in self.results]
        self.calibration.export_to(Path(folder), results, self.last_summary, self.prefs.bpm_range)

    def prewarm(self) -> None:
        """Start the analysis workers while the user is still choosing songs (done at launch)."""
        self.engine.prewarm(self.prefs.analysis_settings(), self.prefs.engine_options(self.cache_path))

    def set_preferences(self, prefs: Preferences) -> None:
        prefs.save()
        self.prefs = prefs
        self.session.key_notation = prefs.key_notation
        self.model.set_key_notation(prefs.key_notation)
        self.preferencesChanged.emit()

    def shutdown(self) -> None:
        self.engine.shutdown()
