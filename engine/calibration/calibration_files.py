"""The calibration CSVs: the evidence a user takes to a spreadsheet.

``comparison.csv`` (per matched song), ``metrics.csv`` (per metric: raw, calibrated in-sample,
calibrated cross-validated, and a loaded profile's when one was applied), ``unmatched.csv``,
``profile.json``, ``run.json`` and a row appended to ``history.csv``. Every file is written
atomically (:mod:`engine.csv_io`); the schema is in ``docs/csv-schema.md``.
"""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.calibration.corrections import verdict_columns
from engine.calibration.dataset import AnalysedSong, Observation, calibrated_value
from engine.calibration.fit import Calibration
from engine.calibration.metrics import HEADLINE, KEY_HEADLINE, TEMPO_HEADLINE, headline, key_rows, tempo_rows
from engine.calibration.profile import Profile, save_profile
from engine.calibration.workflow import Matched
from engine.csv_io import append_csv_row, write_csv, write_json
from engine.references.keynotation import format_key
from engine.references.scoring import bpm_error_at_level, key_relation, mirex_score, root_offset, tempo_ratio_class
from engine.version import APP_VERSION, ENGINE_VERSION

RESULT_EXTRA_COLUMNS = ("ref_bpm", "ref_key", "match_method", "match_score", "bpm_calibrated", "key_calibrated")
COMPARISON_COLUMNS = (
    "path",
    "file",
    "status",
    "match_method",
    "match_score",
    "ref_source",
    "ref_line",
    "ref_title",
    "ref_artist",
    "ref_bpm",
    "bpm",
    "bpm_delta",
    "ratio_class",
    "bpm_error_at_level",
    "bpm_calibrated",
    "ratio_class_calibrated",
    "bpm_error_at_level_calibrated",
    "bpm_calibrated_cv",
    "ratio_class_calibrated_cv",
    "ref_key",
    "key",
    "key_relation",
    "root_offset",
    "key_mirex",
    "key_calibrated",
    "key_relation_calibrated",
    "key_calibrated_cv",
    "key_relation_calibrated_cv",
    "ref_bpm_given",
    "ref_bpm_corrected",
    "ref_bpm_used",
    "ref_key_given",
    "ref_key_corrected",
    "ref_key_used",
    "excluded",
    "confirmed",
    "verdict_reason",
    "key_display",
    "ref_key_display",
)
"""``ref_bpm``/``ref_key`` hold the value scored against (``*_used`` says whether that is the reference
as given or the user's correction); ``*_display`` are the keys in the chosen notation."""
AS_GIVEN_COLUMNS = ("n_as_given", "raw_as_given")
"""Added to metrics.csv when verdicts changed anything: the raw detection against the reference as given."""
METRIC_COLUMNS = ("metric", "n", "raw", "calibrated_in_sample", "calibrated_cv")
UNMATCHED_COLUMNS = ("kind", "path", "reference_file", "line", "title", "artist", "bpm", "key", "candidates")
HISTORY_COLUMNS = (
    "time",
    "command",
    "songs",
    "songs_failed",
    "matched",
    "n_tempo",
    *(f"{m.name}_{v}" for m in TEMPO_HEADLINE for v in ("raw", "cv")),
    "n_key",
    *(f"{m.name}_{v}" for m in KEY_HEADLINE for v in ("raw", "cv")),
    "profile_applied",
    "engine_version",
    "settings",
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def calibrated_values(
    songs: Sequence[AnalysedSong], matched: Matched | None, profile: Profile | None
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Extra ``results.csv`` columns per song path: reference values, match method, calibrated values."""
    columns = list(RESULT_EXTRA_COLUMNS)
    if profile is not None:
        columns += [f"{name}_calibrated" for name in profile.feature_names]
    extra: dict[str, dict[str, Any]] = {}
    for index, song in enumerate(songs):
        values: dict[str, Any] = {}
        match = matched.match_for(index) if matched is not None else None
        if match is not None and matched is not None:
            row = matched.rows[match.row]
            values.update(
                ref_bpm=_blank(row.bpm), ref_key=row.key or "", match_method=match.method, match_score=match.score
            )
        calibrated = calibrated_value(profile, song) if profile is not None else None
        if profile is not None and calibrated is not None:
            values["bpm_calibrated"] = _bpm(calibrated.bpm)
            values["key_calibrated"] = calibrated.key
            for name, value in profile.calibrate_features(song.measurements).items():
                values[f"{name}_calibrated"] = _blank(value)
        extra[song.path] = values
    return columns, extra


def comparison_rows(
    matched: Matched, calibration: Calibration | None, profile: Profile | None, notation: str = "classic"
) -> list[dict[str, Any]]:
    """One row per matched song: reference vs detected vs calibrated (applied profile) vs cross-validated.

    Excluded songs are listed (``excluded=1``) but were not scored or fitted; a corrected reference
    value is the one compared against, with the value as given beside it.
    """
    cv_bpm: dict[str, float | None] = {}
    cv_key: dict[str, str | None] = {}
    if calibration is not None:
        for o in matched.observations:
            _, cv_bpm[o.path], _, cv_key[o.path] = calibration.answers_for(o.song)
    rows = []
    used = {o.path: o.row for o in matched.observations}
    corrected = matched.applied.corrected if matched.applied is not None else {}
    for o in matched.given_observations:
        song, given = o.song, o.row
        ref = used.get(o.path, given)
        fixed = corrected.get(o.path, {})
        detected = song.bpm if not song.failed else None
        key = song.key if not song.failed else ""
        bpm_cal = profile.calibrate_bpm(detected, song.tempo_evidence) if profile is not None and detected else None
        key_cal = profile.calibrate_key(key) if profile is not None and key else ""
        rows.append(
            {
                "path": song.path,
                "file": Path(song.path.replace("\\", "/")).name,
                "status": song.status.value if song.status is not None else "",
                "match_method": o.method,
                "match_score": o.score,
                "ref_source": "tags" if ref.source == "tags" else Path(ref.source).name,
                "ref_line": "" if ref.source == "tags" else ref.line,
                "ref_title": ref.title,
                "ref_artist": ref.artist,
                "ref_bpm": _blank(ref.bpm),
                "bpm": _bpm(detected),
                "bpm_delta": _blank(round(detected - ref.bpm, 2) if detected and ref.bpm else None),
                "ratio_class": _ratio(detected, ref.bpm),
                "bpm_error_at_level": _level_error(detected, ref.bpm),
                "bpm_calibrated": _bpm(bpm_cal),
                "ratio_class_calibrated": _ratio(bpm_cal, ref.bpm),
                "bpm_error_at_level_calibrated": _level_error(bpm_cal, ref.bpm),
                "bpm_calibrated_cv": _bpm(cv_bpm.get(song.path)),
                "ratio_class_calibrated_cv": _ratio(cv_bpm.get(song.path), ref.bpm),
                "ref_key": ref.key or "",
                "key": key,
                "key_relation": _relation(key, ref.key),
                "root_offset": _blank(root_offset(ref.key, key) if key and ref.key else None),
                "key_mirex": _blank(mirex_score(ref.key, key) if key and ref.key else None),
                "key_calibrated": key_cal,
                "key_relation_calibrated": _relation(key_cal, ref.key),
                "key_calibrated_cv": cv_key.get(song.path) or "",
                "key_relation_calibrated_cv": _relation(cv_key.get(song.path), ref.key),
                "ref_bpm_given": _blank(given.bpm),
                "ref_bpm_corrected": _blank(ref.bpm) if "bpm" in fixed else "",
                "ref_bpm_used": ("corrected" if "bpm" in fixed else "given") if ref.bpm is not None else "",
                "ref_key_given": given.key or "",
                "ref_key_corrected": (ref.key or "") if "key" in fixed else "",
                "ref_key_used": ("corrected" if "key" in fixed else "given") if ref.key else "",
                **verdict_columns(song.path, matched.verdicts),
                "key_display": format_key(key, notation),
                "ref_key_display": format_key(ref.key, notation),
            }
        )
    return rows


def merge_as_given(rows: list[dict[str, Any]], given: Sequence[Observation]) -> list[dict[str, Any]]:
    """Add the raw detection scored against the reference as given (``raw_as_given``) to each metric row."""
    _, as_given = metric_table(given, None, None)
    by_metric = {r["metric"]: r for r in as_given}
    merged = [
        {
            **r,
            "n_as_given": by_metric.get(r["metric"], {}).get("n", ""),
            "raw_as_given": by_metric.get(r["metric"], {}).get("raw", ""),
        }
        for r in rows
    ]
    seen = {r["metric"] for r in rows}
    merged += [
        {"metric": m, "n": 0, "n_as_given": r["n"], "raw_as_given": r["raw"]}
        for m, r in by_metric.items()
        if m not in seen
    ]
    return merged


def metric_table(
    observations: Sequence[Observation], calibration: Calibration | None, applied: Profile | None
) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of ``metrics.csv`` over the matched songs that have a detection and a reference."""
    columns = list(METRIC_COLUMNS) + (["calibrated_profile"] if applied is not None else [])
    tempo = [o for o in observations if o.has_tempo]
    keyed = [o for o in observations if o.has_key]
    answers = {o.path: calibration.answers_for(o.song) for o in observations} if calibration else {}
    rows: list[dict[str, Any]] = []
    if tempo:
        table: dict[str, list[Any]] = {"raw": [o.song.bpm for o in tempo]}
        if calibration is not None:
            table["calibrated_in_sample"] = [answers[o.path].bpm_in_sample for o in tempo]
            table["calibrated_cv"] = [answers[o.path].bpm_cv for o in tempo]
        if applied is not None:
            table["calibrated_profile"] = [applied.calibrate_bpm(o.song.bpm, o.song.tempo_evidence) for o in tempo]
        rows += tempo_rows([o.row.bpm or 0.0 for o in tempo], table)
    if keyed:
        table = {"raw": [o.song.key for o in keyed]}
        if calibration is not None:
            table["calibrated_in_sample"] = [answers[o.path].key_in_sample for o in keyed]
            table["calibrated_cv"] = [answers[o.path].key_cv for o in keyed]
        if applied is not None:
            table["calibrated_profile"] = [applied.calibrate_key(o.song.key) for o in keyed]
        rows += key_rows([o.row.key or "" for o in keyed], table)
    if calibration is not None:
        rows += [r for r in calibration.metrics if r["metric"].startswith("feature_")]
    return columns, rows


def unmatched_rows(matched: Matched) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"kind": "song", "path": matched.songs[i].path, "candidates": candidate_text(matched, i)}
        for i in matched.report.unmatched_songs
    ]
    for row in matched.unmatched_rows:
        rows.append(
            {
                "kind": "reference row",
                "path": row.file,
                "reference_file": Path(row.source).name,
                "line": row.line,
                "title": row.title,
                "artist": row.artist,
                "bpm": _blank(row.bpm),
                "key": row.key or "",
            }
        )
    return rows


def candidate_text(matched: Matched, song_index: int) -> str:
    """``file line N: Artist - Title (0.87: why not)`` per candidate, best first, ``|`` between them."""
    parts = []
    for row, candidate in matched.candidates_for(song_index):
        parts.append(f"{row.where()}: {row.describe()} ({candidate.score:.2f}: {candidate.why})")
    if song_index in matched.report.declined:
        parts.insert(0, "unpaired by hand (pairs.csv)")
    return " | ".join(parts)


def write_calibration_files(
    out_dir: str | os.PathLike[str],
    matched: Matched | None,
    calibration: Calibration | None,
    applied: Profile | None,
    profile_path: str | os.PathLike[str] | None = None,
    notation: str = "classic",
) -> dict[str, Any]:
    """Write comparison/metrics/unmatched CSVs and the fitted profile; returns the headline numbers for run.json.

    Calibrated values come from the applied profile when one was given (``--profile``), else from
    the profile fitted here; the ``*_cv`` columns always come from this fit's cross-validation.
    """
    out = Path(out_dir)
    summary: dict[str, Any] = {}
    if matched is None:
        return summary
    values_from = applied if applied is not None else (calibration.profile if calibration is not None else None)
    write_csv(out / "comparison.csv", COMPARISON_COLUMNS, comparison_rows(matched, calibration, values_from, notation))
    columns, metrics = metric_table(matched.observations, calibration, applied)
    if matched.verdicts:
        metrics = merge_as_given(metrics, matched.given_observations)
        columns += list(AS_GIVEN_COLUMNS)
        summary["verdicts"] = {
            "corrected": len(matched.applied.corrected) if matched.applied else 0,
            "excluded": len(matched.applied.excluded) if matched.applied else 0,
            "problems": list(matched.applied.problems) if matched.applied else [],
        }
    write_csv(out / "metrics.csv", columns, metrics)
    write_csv(out / "unmatched.csv", UNMATCHED_COLUMNS, unmatched_rows(matched))
    summary["metrics"] = {c: headline(metrics, c) for c in columns[2:] if c not in AS_GIVEN_COLUMNS}
    summary["n_tempo"] = sum(o.has_tempo for o in matched.observations)
    summary["n_key"] = sum(o.has_key for o in matched.observations)
    if calibration is not None:
        target = Path(profile_path) if profile_path else out / "profile.json"
        save_profile(calibration.profile, target)
        summary["profile_written"] = str(target)
    return summary


def history_row(command: str, run: dict[str, Any]) -> dict[str, Any]:
    counts = run.get("counts", {})
    calibration = run.get("calibration", {})
    metrics = calibration.get("metrics", {})
    raw, cv = metrics.get("raw", {}), metrics.get("calibrated_cv", {})
    profile = run.get("profile_applied") or {}
    return {
        "time": run.get("finished", now()),
        "command": command,
        "songs": counts.get("songs", ""),
        "songs_failed": counts.get("songs_failed", ""),
        "matched": calibration.get("matched", ""),
        "n_tempo": calibration.get("n_tempo", ""),
        "n_key": calibration.get("n_key", ""),
        **{f"{m.name}_raw": raw.get(m.name, "") for m in HEADLINE},
        **{f"{m.name}_cv": cv.get(m.name, "") for m in HEADLINE},
        "profile_applied": profile.get("path", ""),
        "engine_version": run.get("versions", {}).get("engine", ENGINE_VERSION),
        "settings": run.get("settings_fingerprint", ""),
    }


def write_run_files(out_dir: str | os.PathLike[str], command: str, run: dict[str, Any]) -> None:
    """``run.json`` (this run) and one more ``history.csv`` row (every run in this folder)."""
    out = Path(out_dir)
    write_json(out / "run.json", run)
    append_csv_row(out / "history.csv", HISTORY_COLUMNS, history_row(command, run))


def versions() -> dict[str, str]:
    found = {"app": APP_VERSION, "engine": ENGINE_VERSION, "python": platform.python_version()}
    from importlib.metadata import PackageNotFoundError, version

    for package in ("numpy", "librosa", "mir_eval", "mutagen", "soundfile"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = ""
    return found


def file_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    data = Path(path).read_bytes()
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest()}


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _bpm(value: float | None) -> Any:
    return "" if value is None else round(float(value), 2)


def _level_error(detected: float | None, reference: float | None) -> Any:
    error = bpm_error_at_level(detected, reference) if detected and reference else None
    return "" if error is None else round(error, 3)


def _ratio(detected: float | None, reference: float | None) -> str:
    if not detected or not reference:
        return ""
    return tempo_ratio_class(detected, reference)


def _relation(detected: str | None, reference: str | None) -> str:
    if not detected or not reference:
        return ""
    return key_relation(reference, detected)
