"""Calibration on the command line: the ``analyze --reference/--profile`` options and ``calibrate DIR``.

``analyze`` loads the reference and the profile *before* analysing, so a typo in a file name
fails in a second rather than after an hour of analysis; ``calibrate`` refits from an earlier
run's ``results.csv`` without analysing anything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.calibration.dataset import AnalysedSong, evidence_problem
from engine.calibration.exports import (
    RESULT_EXTRA_COLUMNS,
    calibrated_values,
    file_fingerprint,
    now,
    versions,
    write_calibration_files,
    write_run_files,
)
from engine.calibration.fit import MIN_SONGS, Calibration, CalibrationError, fit_calibration
from engine.calibration.profile import Profile, load_profile
from engine.calibration.workflow import Matched, match_reference
from engine.csv_io import ExportError, read_csv_rows, write_csv
from engine.errors import EngineError
from engine.references.reader import ReferenceSet, load_references
from engine.version import ENGINE_VERSION

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SHOW_AT_MOST = 10


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 (exclusive) and 1")
    return value


def _min_songs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 3:
        raise argparse.ArgumentTypeError(f"{text!r} is too few: cross-validation needs at least 3 songs")
    return value


def add_reference_arguments(parser: argparse.ArgumentParser, for_calibrate: bool = False) -> None:
    group = parser.add_argument_group("calibration")
    group.add_argument(
        "--reference",
        action="append",
        type=Path,
        default=[],
        metavar="REF.csv",
        help="reference CSV with the true BPM/key (file or title/artist columns; repeatable)"
        + ("; default: the files recorded in DIR/run.json" if for_calibrate else ""),
    )
    group.add_argument(
        "--reference-tags",
        action="store_true",
        help="also take reference BPM/key from the songs' own tags (ID3 TBPM/TKEY, MP4 tmpo, Vorbis BPM/INITIALKEY) "
        "for songs no CSV row matches",
    )
    group.add_argument(
        "--fuzzy",
        type=_threshold,
        default=None,
        metavar="T",
        help="also match titles fuzzily at similarity T (0–1, e.g. 0.9); off by default",
    )
    group.add_argument(
        "--min-songs",
        type=_min_songs,
        default=MIN_SONGS,
        metavar="N",
        help="fewest matched songs to fit a calibration (default %(default)s)",
    )
    if not for_calibrate:
        group.add_argument(
            "--profile",
            type=Path,
            default=None,
            metavar="P.json",
            help="apply this calibration profile: calibrated values are written beside the raw ones",
        )


@dataclass
class CalibrationPlan:
    """What ``analyze`` was asked to do about calibration, with the inputs already loaded and checked."""

    reference: ReferenceSet | None = None
    reference_paths: list[Path] = field(default_factory=list)
    use_tags: bool = False
    fuzzy: float | None = None
    min_songs: int = MIN_SONGS
    profile: Profile | None = None
    profile_path: Path | None = None
    started: str = field(default_factory=now)
    matched: Matched | None = None
    calibration: Calibration | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CalibrationPlan | None:
        """Load the reference and the profile; print why and return ``None`` when either is unusable."""
        plan = cls(
            reference_paths=list(args.reference),
            use_tags=args.reference_tags,
            fuzzy=args.fuzzy,
            min_songs=args.min_songs,
            profile_path=getattr(args, "profile", None),
        )
        try:
            if plan.reference_paths or plan.use_tags:
                plan.reference = load_references(plan.reference_paths)
                _report_reference(plan.reference, quiet=getattr(args, "quiet", False))
            if plan.profile_path is not None:
                plan.profile = load_profile(plan.profile_path)
        except (EngineError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return None
        return plan

    @property
    def active(self) -> bool:
        return self.reference is not None or self.profile is not None

    def fit(self, songs: Sequence[AnalysedSong], settings: dict[str, Any], quiet: bool = False) -> None:
        """Match and fit; a refused fit is a warning here (the run itself succeeded)."""
        if self.profile is not None:
            for note in self.profile.warnings_for(ENGINE_VERSION, settings):
                _say(f"warning: {note}")
        if self.reference is None:
            return
        self.matched = match_reference(songs, self.reference, use_tags=self.use_tags, fuzzy_threshold=self.fuzzy)
        _report_matches(self.matched, quiet)
        fingerprints = [f.to_dict() for f in self.reference.fingerprints]
        try:
            self.calibration = fit_calibration(self.matched.observations, settings, fingerprints, self.min_songs)
        except CalibrationError as exc:
            self.notes.append(str(exc))
            _say(f"calibration not fitted: {exc}")
            return
        self.notes.extend(self.calibration.notes)
        if not quiet:
            _report_fit(self.calibration)

    def result_columns(self, songs: Sequence[AnalysedSong]) -> tuple[list[str], dict[str, dict[str, Any]]]:
        profile = self.profile or (self.calibration.profile if self.calibration else None)
        return calibrated_values(songs, self.matched, profile)

    def write(self, out: Path, run: dict[str, Any], command: str = "analyze") -> None:
        summary = write_calibration_files(out, self.matched, self.calibration, self.profile)
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
            "min_songs": self.min_songs,
            "notes": self.notes,
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

    def save_run(
        self, out: Path, results: Sequence[Any], settings: Any, summary: Any = None, quiet: bool = False
    ) -> None:
        """Everything ``analyze`` writes: results.csv/chunks.csv (with calibrated columns), the calibration
        files, run.json and a history row. A bug in calibration never costs the analysis results."""
        songs = [AnalysedSong.from_result(r) for r in results]
        try:
            self.fit(songs, settings.to_dict(), quiet)
        except Exception as exc:  # keep the results whatever happened above
            _say(f"warning: calibration failed ({type(exc).__name__}: {exc}); results saved without it")
            self.matched = self.calibration = None
            self.notes.append(f"calibration failed: {type(exc).__name__}: {exc}")
        self.export(out, results, settings, summary)

    def export(
        self, out: Path, results: Sequence[Any], settings: Any, summary: Any = None, command: str = "analyze"
    ) -> None:
        """Write results.csv/chunks.csv (with calibrated columns when calibrating), the calibration files,
        run.json and a history row, from what this plan already matched and fitted."""
        from engine.exports import write_results

        columns: list[str] = []
        extra: dict[str, dict[str, Any]] = {}
        try:
            songs = [AnalysedSong.from_result(r) for r in results]
            columns, extra = self.result_columns(songs) if self.active else ([], {})
        except Exception as exc:  # a bug in calibration never costs the analysis results
            self.notes.append(f"calibrated columns failed: {type(exc).__name__}: {exc}")
        write_results(out, results, columns, extra)
        run = base_run_info(command, self.started, settings.to_dict(), settings.fingerprint())
        run["counts"] = run_counts(results, summary)
        self.write(out, run, command)


def run_counts(results: Sequence[Any], summary: Any = None) -> dict[str, Any]:
    """The ``counts`` section of run.json: songs by status, and the run summary when there is one."""
    counts: dict[str, Any] = {
        "songs": len(results),
        "songs_done": sum(r.status.value == "done" for r in results),
        "songs_partial": sum(r.status.value == "partial" for r in results),
        "songs_failed": sum(r.status.value == "error" for r in results),
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


# -- calibrate DIR ---------------------------------------------------------------------------------
def add_calibrate_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "calibrate",
        help="refit a calibration from an earlier run's results without re-analysing",
        description="Read DIR/results.csv from an earlier `analyze` run, match it to the reference, fit a "
        "cross-validated calibration profile, and rewrite DIR's calibration files (comparison.csv, metrics.csv, "
        "unmatched.csv, results.csv's calibrated columns, run.json, history.csv).",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="folder an `analyze` run wrote")
    parser.add_argument(
        "--out", type=Path, default=None, metavar="P.json", help="where to write the profile (default DIR/profile.json)"
    )
    add_reference_arguments(parser, for_calibrate=True)
    return parser


def run_calibrate(args: argparse.Namespace) -> int:
    folder: Path = args.dir
    results_path = folder / "results.csv"
    try:
        header, rows = read_results(results_path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    previous = _previous_run(folder)
    if not args.reference:
        args.reference = [Path(f["path"]) for f in previous.get("calibration", {}).get("reference_files", [])]
        args.reference_tags = args.reference_tags or previous.get("calibration", {}).get("reference_tags", False)
        if not args.reference and not args.reference_tags:
            print(
                f"error: no reference given and none recorded in {folder / 'run.json'}; pass --reference",
                file=sys.stderr,
            )
            return EXIT_USAGE
    plan = CalibrationPlan.from_args(args)
    if plan is None:
        return EXIT_USAGE
    songs = [AnalysedSong.from_row(r) for r in rows]
    for r in rows:  # the song stays in the fit; only its octave-choice evidence is dropped
        if problem := evidence_problem(r):
            print(f"warning: {r.get('file') or r.get('path')}: bpm_candidates: {problem}", file=sys.stderr)
    settings = dict(previous.get("settings") or {})
    plan.fit(songs, settings)
    columns, extra = plan.result_columns(songs)
    merged_header = [*header, *(c for c in columns if c not in header)]
    merged = [{**r, **{c: "" for c in RESULT_EXTRA_COLUMNS}, **extra.get(r.get("path", ""), {})} for r in rows]
    run = base_run_info("calibrate", plan.started, settings, str(previous.get("settings_fingerprint", "")))
    run["counts"] = {"songs": len(rows), "songs_failed": sum(r.get("status") == "error" for r in rows)}
    run["analysis"] = {k: previous[k] for k in ("started", "finished", "versions", "counts") if k in previous}
    try:
        write_csv(results_path, merged_header, merged)
        summary = write_calibration_files(folder, plan.matched, plan.calibration, None, args.out)
        run["calibration"] = plan.run_section(summary)
        run["finished"] = now()
        write_run_files(folder, "calibrate", run)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if plan.calibration is None:
        return EXIT_FAILED
    _say(f"profile written to {args.out or folder / 'profile.json'}")
    return EXIT_OK


def read_results(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """An earlier run's ``results.csv`` as its header and rows (strings, untouched)."""
    if not path.is_file():
        raise ValueError(f"{path} not found: run `analyze` into this folder first")
    header, rows = read_csv_rows(path)
    if "path" not in header or "bpm" not in header or "key" not in header:
        raise ValueError(f"{path} is not a results.csv from `analyze` (needs path, bpm and key columns)")
    return header, rows


def _previous_run(folder: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("command") == "calibrate" and isinstance(data.get("analysis"), dict):
        return {
            **data["analysis"],
            "settings": data.get("settings"),
            "calibration": data.get("calibration", {}),
            "settings_fingerprint": data.get("settings_fingerprint", ""),
        }
    return data


# -- reporting -------------------------------------------------------------------------------------
def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _report_reference(reference: ReferenceSet, quiet: bool) -> None:
    if reference.errors:
        _say(f"reference: {len(reference.rows)} rows loaded, {len(reference.errors)} problems:")
        for error in reference.errors[:SHOW_AT_MOST]:
            _say(f"  {error}")
        if len(reference.errors) > SHOW_AT_MOST:
            _say(f"  … and {len(reference.errors) - SHOW_AT_MOST} more (listed in run.json)")
    elif not quiet and reference.fingerprints:
        _say(f"reference: {len(reference.rows)} rows loaded")


def _report_matches(matched: Matched, quiet: bool) -> None:
    report = matched.report
    methods = ", ".join(f"{n} by {m}" for m, n in report.counts().items() if n)
    _say(
        f"matched {len(report.matches)} of {len(matched.songs)} songs to reference rows"
        + (f" ({methods})" if methods else "")
    )
    if report.unmatched_songs:
        _say(f"  {len(report.unmatched_songs)} songs without a reference row (listed in unmatched.csv)")
    unmatched_rows = matched.unmatched_rows
    if unmatched_rows:
        _say(f"  {len(unmatched_rows)} reference rows without a song (listed in unmatched.csv)")
    if not quiet:
        for note in report.notes[:SHOW_AT_MOST]:
            _say(f"  {note}")


def _report_fit(calibration: Calibration) -> None:
    profile = calibration.profile
    kept = [s for s in profile.stages if s["kept"]]
    _say(f"calibration: {len(kept)} of {len(profile.stages)} corrections kept (cross-validated)")
    raw, cv, fitted = (profile.metrics.get(c, {}) for c in ("raw", "calibrated_cv", "calibrated_in_sample"))
    for metric, label in (
        ("tempo_acc1", "tempo Acc1"),
        ("tempo_acc2", "tempo Acc2"),
        ("key_exact", "key exact"),
        ("key_mirex", "key MIREX"),
    ):
        if metric in raw and raw[metric] != "":
            _say(
                f"  {label:<11} raw {raw[metric]:.3f}  calibrated (cross-validated) {cv[metric]:.3f}  "
                f"[in-sample {fitted[metric]:.3f}]"
            )
    for note in calibration.notes:
        _say(f"  {note}")
