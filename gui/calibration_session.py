"""The window's calibration state: reference, matches, fitted or loaded profile, and the exports.

Plain Python over ``engine.calibration`` (no Qt), so the window and the command line make the
same matches, fits and files. Methods that read files or fit (:meth:`match`, :meth:`fit`,
:meth:`export`) are pure with respect to the session: they return a value that the GUI thread
then stores with :meth:`adopt_match` / :meth:`adopt_fit`, so they can run off the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.calibration import Calibration, Profile, fit_calibration, load_profile, save_profile
from engine.calibration.corrections import Verdicts
from engine.calibration.dataset import AnalysedSong, evidence_of
from engine.calibration.metrics import HEADLINE, key_rows, tempo_rows
from engine.calibration.workflow import Matched, match_reference
from engine.references.pairs import PAIRS_FILE, ManualPair, save_pairs
from engine.references.readers import ReferenceSet, load_reference
from engine.references.scoring import preload as preload_scorer
from engine.results import SongResult, SongStatus
from engine.run.events import RunSummary
from engine.settings import AnalysisSettings
from gui.row_status import RowStatus, is_analysed

EXPORT_FILES = ("results.csv", "chunks.csv", "comparison.csv", "metrics.csv", "run.json", "history.csv")


@dataclass
class MetricsView:
    """The numbers the panel shows, per metric: raw, calibrated cross-validated, calibrated in-sample."""

    rows: list[tuple[str, float | None, float | None, float | None, int]] = field(default_factory=list)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def song_for(path: str, result: SongResult | None) -> AnalysedSong:
    """A queued song not analysed yet still takes part in matching (its row shows reference values)."""
    if result is None:
        return AnalysedSong(path, RowStatus.QUEUED.value)
    return AnalysedSong.from_result(result)


class CalibrationSession:
    def __init__(self) -> None:
        self.reference_path: Path | None = None
        self.reference_paths: list[Path] = []
        """Every reference file loaded, in order (the first listed wins when two name the same song)."""
        self.reference: ReferenceSet | None = None
        self.manual: list[ManualPair] = []
        """Pairs decided by hand (``pairs.csv``); matching applies them before any automatic rule."""
        self.matched: Matched | None = None
        self.calibration: Calibration | None = None
        self.loaded_profile: Profile | None = None
        self.loaded_profile_path: Path | None = None
        self.apply_profile = True
        self.verdicts: Verdicts | None = None  # the inspector's reference verdicts (gui/inspector)
        self.corrections_path: Path | None = None
        self.key_notation = "classic"
        self.started = datetime.now(UTC).isoformat(timespec="seconds")

    # -- reference and matching ---------------------------------------------------------------
    def load_reference(self, path: str | os.PathLike[str]) -> ReferenceSet:
        """Read a reference CSV (raises ReferenceFileError); row problems are in ``.errors``."""
        reference = load_reference(path)
        self.reference_path, self.reference = Path(path), reference
        self.reference_paths = [Path(path)]
        self.matched, self.calibration = None, None
        return reference

    def add_reference(self, path: str | os.PathLike[str]) -> ReferenceSet:
        """Load one more reference file beside those loaded (raises ReferenceFileError); returns the combined set."""
        added = load_reference(path)
        if self.reference is None:
            self.reference_path, self.reference = Path(path), added
        else:
            combined = ReferenceSet()
            combined.extend(self.reference)
            combined.extend(added)
            self.reference = combined
        self.reference_paths.append(Path(path))
        self.matched, self.calibration = None, None
        return self.reference

    def match(self, paths: Sequence[str], results: dict[str, SongResult]) -> Matched | None:
        """Pair the queued songs with the reference rows (reads song tags: run it off the GUI thread)."""
        if self.reference is None:
            return None
        preload_scorer()  # the GUI thread scores the match next; it must not stall importing mir_eval
        songs = [song_for(p, results.get(p)) for p in paths]
        return match_reference(songs, self.reference, manual=list(self.manual), verdicts=self.verdicts)

    def adopt_match(self, matched: Matched | None) -> None:
        self.matched = matched

    # -- profile --------------------------------------------------------------------------------
    def fit(self, settings: AnalysisSettings) -> Calibration:
        """Fit on the analysed matched songs (raises CalibrationError when there are too few)."""
        if self.matched is None or self.reference is None:
            from engine.calibration import CalibrationError

            raise CalibrationError("load a reference CSV and analyse its songs first")
        analysed = [o for o in self.matched.observations if is_analysed(o.song.status)]
        fingerprints = [f.to_dict() for f in self.reference.fingerprints]
        return fit_calibration(analysed, settings.to_dict(), fingerprints)

    def adopt_fit(self, calibration: Calibration) -> None:
        self.calibration = calibration

    def load_profile(self, path: str | os.PathLike[str]) -> Profile:
        profile = load_profile(path)  # raises ProfileError with a readable message
        self.loaded_profile, self.loaded_profile_path = profile, Path(path)
        return profile

    def save_profile(self, path: str | os.PathLike[str]) -> Path:
        profile = self.profile
        if profile is None:
            raise ValueError("there is no profile to save yet: fit a calibration or load a profile")
        return save_profile(profile, path)

    @property
    def profile(self) -> Profile | None:
        """The profile in force: a loaded one wins over the one fitted here (as with ``--profile``)."""
        if self.loaded_profile is not None:
            return self.loaded_profile
        return self.calibration.profile if self.calibration is not None else None

    @property
    def applied_profile(self) -> Profile | None:
        return self.profile if self.apply_profile else None

    # -- values for the queue -------------------------------------------------------------------
    def reference_values(self) -> dict[str, dict[str, Any]]:
        if self.matched is None:
            return {}
        values = {}
        used = {o.path: o.row for o in self.matched.observations}  # corrected by the user's verdicts
        for index, song in enumerate(self.matched.songs):
            match = self.matched.match_for(index)
            if match is not None:
                row = used.get(song.path, self.matched.rows[match.row])
                # the queue's tooltip says "matched by …": a fuzzy pair shows its score and where the row is
                method = f"fuzzy (score {match.score:.2f}), {row.where()}" if match.method == "fuzzy" else match.method
                values[song.path] = {"ref_bpm": row.bpm, "ref_key": row.key or "", "match_method": method}
        return values

    def calibrated_values(self, results: dict[str, SongResult]) -> dict[str, dict[str, Any]]:
        profile = self.applied_profile
        if profile is None:
            return {}
        values = {}
        for path, result in results.items():
            if result.status is not SongStatus.ERROR:
                values[path] = {
                    "cal_bpm": profile.calibrate_bpm(result.bpm, evidence_of(result)),
                    "cal_key": profile.calibrate_key(result.key),
                }
        return values

    def counts(self) -> tuple[int, int, int]:
        """(matched songs, unmatched songs, unmatched reference rows)."""
        if self.matched is None:
            return 0, 0, 0
        report = self.matched.report
        return len(report.matches), len(self.matched.unmatched_songs), len(self.matched.unmatched_rows)

    def metrics(self) -> MetricsView:
        """Raw metrics over the analysed matched songs, with the fit's CV and in-sample beside them."""
        view = MetricsView()
        if self.calibration is not None:
            by_metric = {r["metric"]: r for r in self.calibration.metrics}
            for metric in HEADLINE:
                label, row = metric.short, by_metric.get(metric.name)
                if row is not None:
                    view.rows.append(
                        (
                            label,
                            _number(row.get("raw")),
                            _number(row.get("calibrated_cv")),
                            _number(row.get("calibrated_in_sample")),
                            int(row.get("n", 0)),
                        )
                    )
            return view
        if self.matched is None:
            return view
        analysed = [o for o in self.matched.observations if is_analysed(o.song.status)]
        tempo = [o for o in analysed if o.has_tempo]
        keyed = [o for o in analysed if o.has_key]
        rows = []
        if tempo:
            rows += tempo_rows([o.row.bpm for o in tempo], {"raw": [o.song.bpm for o in tempo]})
        if keyed:
            rows += key_rows([o.row.key for o in keyed], {"raw": [o.song.key for o in keyed]})
        by_metric = {r["metric"]: r for r in rows}
        for metric in HEADLINE:
            label, row = metric.short, by_metric.get(metric.name)
            if row is not None:
                view.rows.append((label, _number(row.get("raw")), None, None, int(row.get("n", 0))))
        return view

    def tempo_pairs(self, calibrated: bool = False) -> list[tuple[float, float]]:
        """(reference, detected) BPM of the analysed matched songs, for the scatter plot."""
        if self.matched is None:
            return []
        profile = self.applied_profile if calibrated else None
        pairs = []
        for o in self.matched.observations:
            if o.has_tempo and is_analysed(o.song.status):
                detected = profile.calibrate_bpm(o.song.bpm, o.song.tempo_evidence) if profile else o.song.bpm
                if detected:
                    pairs.append((float(o.row.bpm), float(detected)))
        return pairs

    def key_relation_counts(self, calibrated: bool = False) -> dict[str, int]:
        from engine.references.scoring import key_relation

        counts: dict[str, int] = {}
        if self.matched is None:
            return counts
        profile = self.applied_profile if calibrated else None
        for o in self.matched.observations:
            if o.has_key and is_analysed(o.song.status):
                key = profile.calibrate_key(o.song.key) if profile else o.song.key
                relation = key_relation(o.row.key, key)
                counts[relation] = counts.get(relation, 0) + 1
        return counts

    # -- export ---------------------------------------------------------------------------------
    def export(
        self,
        directory: str | os.PathLike[str],
        results: Sequence[SongResult],
        settings: AnalysisSettings,
        summary: RunSummary | None,
    ) -> list[Path]:
        """Write the calibration file set into ``directory`` (atomically, file by file).

        Raises ``engine.csv_io.ExportError`` (an ``OSError``) with a readable message when the
        folder cannot be written; nothing in the session changes either way, so a failed export
        loses nothing and can be retried elsewhere.
        """
        from engine.calibration.plan import CalibrationPlan

        out = Path(directory)
        plan = CalibrationPlan(
            reference=self.reference,
            reference_paths=list(self.reference_paths),
            profile=self.applied_profile if self.loaded_profile is not None else None,
            profile_path=self.loaded_profile_path if self.loaded_profile is not None and self.apply_profile else None,
            started=self.started,
            verdicts=self.verdicts,
            corrections_path=self.corrections_path,
            key_notation=self.key_notation,
        )
        if self.reference is not None and results:
            songs = [AnalysedSong.from_result(r) for r in results]
            plan.matched = match_reference(songs, self.reference, manual=list(self.manual), verdicts=self.verdicts)
            plan.calibration = self.calibration
        plan.export(out, results, settings, summary, command="window")
        if self.manual:  # beside the exports, so `calibrate DIR` finds the review work
            save_pairs(out / PAIRS_FILE, self.manual)
        return [out / name for name in EXPORT_FILES if (out / name).exists()] + [
            out / name for name in ("unmatched.csv", "profile.json", PAIRS_FILE) if (out / name).exists()
        ]
