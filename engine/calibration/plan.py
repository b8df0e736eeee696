"""What a run was asked to do about calibration, and doing it: match, fit, write the file set.

``analyze --reference/--profile`` and the window's export share this one object. It never prints:
what a user should read comes back as lines (``reference_report``, ``fit``, ``fit_results``), which
the command line writes to stderr and the window may show or ignore.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.calibration.calibration_files import (
    calibrated_values,
    file_fingerprint,
    now,
    versions,
    write_calibration_files,
    write_run_files,
)
from engine.calibration.corrections import Verdicts, load_verdicts
from engine.calibration.dataset import AnalysedSong, Observation
from engine.calibration.fit import MIN_SONGS, Calibration, CalibrationError, fit_calibration
from engine.calibration.metrics import HEADLINE
from engine.calibration.profile import Profile, load_profile
from engine.calibration.workflow import Matched, match_reference
from engine.references.matching import DEFAULT_FUZZY
from engine.references.pairs import ManualPair, load_pairs
from engine.references.readers import ReferenceFileError, ReferenceSet, load_references
from engine.results import SongResult, SongStatus
from engine.staging import staged_outputs
from engine.version import ENGINE_VERSION

SHOW_AT_MOST = 10
"""Reference problems and match notes listed on the terminal; all of them are in run.json."""


@dataclass
class CalibrationPlan:
    """What ``analyze`` was asked to do about calibration, with the inputs already loaded and checked."""

    reference: ReferenceSet | None = None
    reference_paths: list[Path] = field(default_factory=list)
    use_tags: bool = False
    fuzzy: float | None = DEFAULT_FUZZY
    manual: list[ManualPair] = field(default_factory=list)
    pair_errors: list[str] = field(default_factory=list)
    min_songs: int = MIN_SONGS
    profile: Profile | None = None
    profile_path: Path | None = None
    started: str = field(default_factory=now)
    matched: Matched | None = None
    calibration: Calibration | None = None
    notes: list[str] = field(default_factory=list)
    verdicts: Verdicts | None = None
    corrections_path: Path | None = None
    key_notation: str = "classic"

    @classmethod
    def load(
        cls,
        reference_paths: Sequence[Path] = (),
        use_tags: bool = False,
        fuzzy: float | None = DEFAULT_FUZZY,
        min_songs: int = MIN_SONGS,
        profile_path: Path | None = None,
        pairs_path: Path | None = None,
        corrections_path: Path | None = None,
        key_notation: str = "classic",
    ) -> CalibrationPlan:
        """Load the reference and the profile; raises ``EngineError``/``OSError`` when either is unusable."""
        plan = cls(
            reference_paths=list(reference_paths),
            use_tags=use_tags,
            fuzzy=fuzzy,
            min_songs=min_songs,
            profile_path=profile_path,
            corrections_path=corrections_path,
            key_notation=key_notation,
        )
        if corrections_path is not None:
            if not Path(corrections_path).is_file():
                raise OSError(f"corrections file {corrections_path} not found")
            plan.verdicts = load_verdicts(corrections_path)
        if plan.reference_paths or plan.use_tags:
            plan.reference = load_references(plan.reference_paths)
        if plan.profile_path is not None:
            plan.profile = load_profile(plan.profile_path)
        if pairs_path is not None:
            if not Path(pairs_path).is_file():
                raise ReferenceFileError(f"pairs file not found: {pairs_path}")
            plan.manual, errors = load_pairs(pairs_path)
            plan.pair_errors = [str(e) for e in errors]
        return plan

    def reference_report(self, quiet: bool = False) -> list[str]:
        """Lines that say how the reference loaded (its bad rows always, the row count unless ``quiet``)."""
        lines = reference_lines(self.reference, quiet) if self.reference is not None else []
        lines += [f"warning: {error}" for error in self.pair_errors]
        if self.verdicts is not None:
            lines += [f"warning: {warning}" for warning in self.verdicts.warnings]
        if self.manual and not quiet:
            lines.append(f"pairs: {len(self.manual)} decisions loaded")
        return lines

    @property
    def active(self) -> bool:
        return self.reference is not None or self.profile is not None

    def fit(self, songs: Sequence[AnalysedSong], settings: dict[str, Any], quiet: bool = False) -> list[str]:
        """Match and fit; returns the lines to show a user. A refused fit is a warning (the run succeeded)."""
        lines: list[str] = []
        if self.profile is not None:
            lines += [f"warning: {note}" for note in self.profile.warnings_for(ENGINE_VERSION, settings)]
        self.matched = self.match(songs)
        if self.matched is None:
            return lines
        lines += match_lines(self.matched, quiet)
        if self.matched.applied is not None and self.verdicts:
            applied = self.matched.applied
            lines.append(
                f"verdicts: {len(applied.corrected)} reference values corrected, {len(applied.excluded)} songs excluded"
            )
            lines += [f"  {problem}" for problem in applied.problems[:SHOW_AT_MOST]]
        try:
            self.calibration = self.fit_matched(settings)
        except CalibrationError as exc:
            self.notes.append(str(exc))
            return [*lines, f"calibration not fitted: {exc}"]
        self.notes.extend(self.calibration.notes)
        return lines if quiet else [*lines, *fit_lines(self.calibration)]

    def match(self, songs: Sequence[AnalysedSong]) -> Matched | None:
        """Pair ``songs`` with the reference rows (hand-made pairs first, then names, then the songs' tags).

        Pure with respect to the plan (reads song tags, so a window runs it off its GUI thread).
        """
        if self.reference is None:
            return None
        return match_reference(
            songs,
            self.reference,
            use_tags=self.use_tags,
            fuzzy_threshold=self.fuzzy,
            manual=list(self.manual),
            verdicts=self.verdicts,
        )

    def analysed_observations(self) -> list[Observation]:
        """The matched songs with an answer to score: queued and failed songs are matched but never scored."""
        if self.matched is None:
            return []
        return [o for o in self.matched.observations if o.song.status.analysed]

    def fit_matched(self, settings: Mapping[str, Any]) -> Calibration:
        """Fit on the analysed matched songs (raises ``CalibrationError`` when there are too few). Pure."""
        if self.matched is None or self.reference is None:
            raise CalibrationError("load a reference and analyse its songs first")
        fingerprints = [f.to_dict() for f in self.reference.fingerprints]
        return fit_calibration(self.analysed_observations(), dict(settings), fingerprints, self.min_songs)

    def result_columns(self, songs: Sequence[AnalysedSong]) -> tuple[list[str], dict[str, dict[str, Any]]]:
        profile = self.profile or (self.calibration.profile if self.calibration else None)
        return calibrated_values(songs, self.matched, profile)

    def write(self, out: Path, run: dict[str, Any], command: str = "analyze") -> None:
        summary = write_calibration_files(out, self.matched, self.calibration, self.profile, notation=self.key_notation)
        run["calibration"] = self.run_section(summary)
        if self.profile_path is not None:
            run["profile_applied"] = file_fingerprint(self.profile_path)
        run["finished"] = now()
        write_run_files(out, command, run)

    def run_section(self, summary: dict[str, Any]) -> dict[str, Any]:
        section: dict[str, Any] = {
            "reference_files": [f.to_dict() for f in self.reference.fingerprints] if self.reference else [],
            "reference_tags": self.use_tags,
            "fuzzy_threshold": self.fuzzy,
            "manual_pairs": len(self.manual),
            "min_songs": self.min_songs,
            "notes": self.notes,
            "corrections_file": str(self.corrections_path) if self.corrections_path else "",
            **summary,
        }
        if self.reference is not None:
            section["row_errors"] = [str(e) for e in self.reference.errors]
        if self.matched is not None:
            section["matched"] = len(self.matched.report.matches)
            section["match_methods"] = {k: v for k, v in self.matched.report.counts().items() if v}
            section["unmatched_songs"] = [s.path for s in self.matched.unmatched_songs]
            section["unmatched_rows"] = [f"line {r.line}: {r.describe()}" for r in self.matched.unmatched_rows]
        return section

    def fit_results(self, results: Sequence[Any], settings: Any, quiet: bool = False) -> list[str]:
        """:meth:`fit` on a run's results, guarded: a bug in calibration never costs the analysis results.

        Returns the lines to show a user; :meth:`export` then writes everything.
        """
        songs = [AnalysedSong.from_result(r) for r in results]
        try:
            return self.fit(songs, settings.to_dict(), quiet)
        except Exception as exc:  # keep the results whatever happened above
            self.matched = self.calibration = None
            self.notes.append(f"calibration failed: {type(exc).__name__}: {exc}")
            return [f"warning: calibration failed ({type(exc).__name__}: {exc}); results saved without it"]

    def export(
        self,
        out: Path,
        results: Sequence[Any],
        settings: Any,
        summary: Any = None,
        command: str = "analyze",
        bpm_range: Any = None,
    ) -> None:
        """Write results.csv/chunks.csv (with calibrated columns when calibrating), the calibration files,
        run.json and a history row, from what this plan already matched and fitted.

        ``bpm_range`` (:class:`engine.settings.BpmRange`) only fills ``bpm_in_range``; nothing here uses it.
        """
        from engine.exports import write_results

        columns: list[str] = []
        extra: dict[str, dict[str, Any]] = {}
        try:
            songs = [AnalysedSong.from_result(r) for r in results]
            columns, extra = self.result_columns(songs) if self.active else ([], {})
        except Exception as exc:  # a bug in calibration never costs the analysis results
            self.notes.append(f"calibrated columns failed: {type(exc).__name__}: {exc}")
        with staged_outputs() as stage:  # the whole file set or, when one file fails, none of it
            write_results(out, results, columns, extra, bpm_range)
            run = base_run_info(command, self.started, settings.to_dict(), settings.fingerprint())
            run["counts"] = run_counts(results, summary)
            run["bpm_range"] = str(bpm_range) if bpm_range is not None else ""
            self.write(out, run, command)
            stage.commit()


def run_counts(results: Sequence[SongResult], summary: Any = None) -> dict[str, Any]:
    """The ``counts`` section of run.json: songs by status, and the run summary when there is one."""
    counts: dict[str, Any] = {
        "songs": len(results),
        "songs_done": sum(r.status is SongStatus.DONE for r in results),
        "songs_partial": sum(r.status is SongStatus.PARTIAL for r in results),
        "songs_failed": sum(not r.analysed for r in results),
        "songs_cached": sum(bool(r.cached) for r in results),
    }
    if summary is not None:
        counts.update(
            songs_total=summary.songs_total,
            audio_seconds=round(summary.audio_seconds, 2),
            wall_seconds=round(summary.wall_seconds, 2),
            chunks_timed_out=summary.chunks_timed_out,
            chunks_failed=summary.chunks_failed,
            worker_replacements=summary.worker_replacements,
            cancelled=summary.cancelled,
        )
    return counts


def base_run_info(command: str, started: str, settings: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    return {
        "command": command,
        "started": started,
        "finished": "",
        "versions": versions(),
        "settings": settings,
        "settings_fingerprint": fingerprint,
    }


# -- what to tell a user ------------------------------------------------------------------------
def reference_lines(reference: ReferenceSet, quiet: bool) -> list[str]:
    """How a reference loaded: its problems (the first few) always, the row count unless ``quiet``."""
    lines = []
    if reference.errors:
        problems = f"{len(reference.errors)} problem{'s' if len(reference.errors) != 1 else ''}"
        lines.append(f"reference: {len(reference.rows)} rows loaded, {problems}:")
        lines += [f"  {error}" for error in reference.errors[:SHOW_AT_MOST]]
        if len(reference.errors) > SHOW_AT_MOST:
            lines.append(f"  … and {len(reference.errors) - SHOW_AT_MOST} more (listed in run.json)")
    elif not quiet and reference.fingerprints:
        lines.append(f"reference: {len(reference.rows)} rows loaded")
    return lines


def match_lines(matched: Matched, quiet: bool) -> list[str]:
    """How many songs matched, by which method, and what is left unmatched on either side."""
    report = matched.report
    methods = ", ".join(f"{n} by {m}" for m, n in report.counts().items() if n)
    lines = [
        f"matched {len(report.matches)} of {len(matched.songs)} songs to reference rows"
        + (f" ({methods})" if methods else "")
    ]
    if report.unmatched_songs:
        lines.append(f"  {len(report.unmatched_songs)} songs without a reference row (listed in unmatched.csv)")
    unmatched_rows = matched.unmatched_rows
    if unmatched_rows:
        lines.append(f"  {len(unmatched_rows)} reference rows without a song (listed in unmatched.csv)")
    if not quiet:
        lines += [f"  {note}" for note in report.notes[:SHOW_AT_MOST]]
    return lines


def fit_lines(calibration: Calibration) -> list[str]:
    """Which corrections were kept, and the headline scores raw, cross-validated and in-sample."""
    profile = calibration.profile
    kept = [s for s in profile.stages if s["kept"]]
    lines = [f"calibration: {len(kept)} of {len(profile.stages)} corrections kept (cross-validated)"]
    raw, cv, fitted = (profile.metrics.get(c, {}) for c in ("raw", "calibrated_cv", "calibrated_in_sample"))
    for metric in HEADLINE:
        name = metric.name
        if name in raw and raw[name] != "":
            lines.append(
                f"  {metric.label:<11} raw {raw[name]:.3f}  calibrated (cross-validated) {cv[name]:.3f}  "
                f"[in-sample {fitted[name]:.3f}]"
            )
        if name == "tempo_acc2":
            lines += _exactness_line(raw, cv)
    lines += [f"  {note}" for note in calibration.notes]
    return lines


def _exactness_line(raw: Mapping[str, Any], cv: Mapping[str, Any]) -> list[str]:
    """How exact the tempo is where its level is right, raw and cross-validated: Acc1/Acc2 alone would call
    128.5 for 128 a hit, and a DJ beatmatches by the number."""
    error, within = "tempo_bpm_error_median_acc2", "tempo_within_0.05_acc2"
    if raw.get(error, "") == "" or cv.get(error, "") == "":
        return []  # no Acc2 hit: nothing is exact or not
    return [
        f"  {'':<11} at the matched level (Acc2 hits): median error raw {raw[error]:.3f} BPM, calibrated "
        f"{cv[error]:.3f} BPM; within 0.05 BPM raw {raw[within]:.0%}, calibrated {cv[within]:.0%}"
    ]
