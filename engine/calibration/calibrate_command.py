"""Calibration on the command line: the ``analyze --reference/--profile`` options and ``calibrate DIR``.

``analyze`` loads the reference and the profile *before* analysing, so a typo in a file name
fails in a second rather than after an hour of analysis; ``calibrate`` refits from an earlier
run's ``results.csv`` without analysing anything. The work itself is
:class:`engine.calibration.plan.CalibrationPlan`; this module parses options and prints its lines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.calibration.calibration_files import RESULT_EXTRA_COLUMNS, now, write_calibration_files, write_run_files
from engine.calibration.dataset import AnalysedSong, evidence_problem
from engine.calibration.fit import MIN_SONGS
from engine.calibration.plan import CalibrationPlan, base_run_info
from engine.calibration.session import CalibrationSession
from engine.csv_io import ExportError, read_csv_rows, write_csv
from engine.errors import EngineError
from engine.exports import bpm_in_range
from engine.frontends.exitcodes import ExitCode
from engine.frontends.keyoption import add_key_notation_option
from engine.references import REFERENCE_FORMATS
from engine.references.matching import DEFAULT_FUZZY
from engine.references.pairs import PAIRS_FILE
from engine.staging import staged_outputs


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
        metavar="REF",
        help=f"reference file with the true BPM/key: {REFERENCE_FORMATS}; repeatable"
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
        default=DEFAULT_FUZZY,
        metavar="T",
        help="pair names fuzzily (rapidfuzz) at score T (0–1; default %(default)s, the window's too)",
    )
    group.add_argument(
        "--no-fuzzy", dest="fuzzy", action="store_const", const=None, help="pair only exactly normalised names"
    )
    group.add_argument(
        "--pairs",
        type=Path,
        default=None,
        metavar="pairs.csv",
        help="pairs decided by hand in the window (song_path, reference_file, line, decided_by, decided_at); "
        + ("default: DIR/pairs.csv when it exists" if for_calibrate else "applied before any automatic rule"),
    )
    group.add_argument(
        "--min-songs",
        type=_min_songs,
        default=MIN_SONGS,
        metavar="N",
        help="fewest matched songs to fit a calibration (default %(default)s)",
    )
    group.add_argument(
        "--corrections",
        type=Path,
        default=None,
        metavar="FILE",
        help="reference verdicts (reference_corrections.csv, written by the window's inspector): corrected "
        "BPM/key replace the reference values and excluded songs leave scoring and the fit",
    )
    add_key_notation_option(  # sharps/flats: the window's two other notations, accepted but not advertised
        group, "notation of the key_display/ref_key_display columns of comparison.csv", extra=("sharps", "flats")
    )
    if not for_calibrate:
        group.add_argument(
            "--profile",
            type=Path,
            default=None,
            metavar="P.json",
            help="apply this calibration profile: calibrated values are written beside the raw ones",
        )


def plan_from_args(args: argparse.Namespace, kind: type[CalibrationPlan] = CalibrationPlan) -> CalibrationPlan | None:
    """The plan (or ``kind``) for these options with its inputs loaded; print why and return ``None`` when one
    is unusable."""
    try:
        plan = kind.load(
            args.reference,
            args.reference_tags,
            args.fuzzy,
            args.min_songs,
            getattr(args, "profile", None),
            getattr(args, "pairs", None),
            getattr(args, "corrections", None),
            getattr(args, "key_notation", "classic"),
        )
    except (EngineError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    say(plan.reference_report(quiet=getattr(args, "quiet", False)))
    return plan


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
    from engine.frontends.outgoing import add_bpm_range_argument

    add_bpm_range_argument(parser)
    add_reference_arguments(parser, for_calibrate=True)
    return parser


def run_calibrate(args: argparse.Namespace) -> int:
    folder: Path = args.dir
    results_path = folder / "results.csv"
    try:
        header, rows = read_results(results_path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    previous = _previous_run(folder)
    if not args.reference:
        args.reference = [Path(f["path"]) for f in previous.get("calibration", {}).get("reference_files", [])]
        args.reference_tags = args.reference_tags or previous.get("calibration", {}).get("reference_tags", False)
        if not args.reference and not args.reference_tags:
            print(
                f"error: no reference given and none recorded in {folder / 'run.json'}; pass --reference",
                file=sys.stderr,
            )
            return ExitCode.USAGE
    if args.pairs is None and (folder / PAIRS_FILE).is_file():
        args.pairs = folder / PAIRS_FILE
    plan = plan_from_args(args, CalibrationSession)  # the window's session: the same match, fit and values
    if plan is None:
        return ExitCode.USAGE
    songs = [AnalysedSong.from_row(r) for r in rows]
    for r in rows:  # the song stays in the fit; only its octave-choice evidence is dropped
        if problem := evidence_problem(r):
            print(f"warning: {r.get('file') or r.get('path')}: bpm_candidates: {problem}", file=sys.stderr)
    settings = dict(previous.get("settings") or {})
    say(plan.fit(songs, settings))
    columns, extra = plan.result_columns(songs)
    merged_header = [*header, *(c for c in columns if c not in header)]
    merged = [{**r, **{c: "" for c in RESULT_EXTRA_COLUMNS}, **extra.get(r.get("path", ""), {})} for r in rows]
    if args.bpm_range is not None:  # shown values only: the fit above never saw it
        merged_header = with_bpm_in_range(merged_header)
        for row in merged:
            row.update(bpm_in_range(_float(row.get("bpm")), args.bpm_range))
    run = base_run_info("calibrate", plan.started, settings, str(previous.get("settings_fingerprint", "")))
    run["counts"] = {"songs": len(rows), "songs_failed": sum(song.failed for song in songs)}
    run["analysis"] = {k: previous[k] for k in ("started", "finished", "versions", "counts") if k in previous}
    if plan.calibration is None:  # a failed command changes nothing: the folder keeps its last good calibration
        print(
            f"error: no calibration fitted; nothing in {folder} was changed (its files are those of the last "
            "run that succeeded)",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    try:
        with staged_outputs() as stage:  # every file below, or none of them
            write_csv(results_path, merged_header, merged)
            summary = write_calibration_files(
                folder, plan.matched, plan.calibration, None, args.out, notation=plan.key_notation
            )
            run["calibration"] = plan.run_section(summary)
            run["finished"] = now()
            write_run_files(folder, "calibrate", run)
            stage.commit()
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    lines = [f"profile written to {args.out or folder / 'profile.json'}"]
    if (
        args.out is not None
        and args.out.resolve() != (folder / "profile.json").resolve()
        and (folder / "profile.json").exists()
    ):
        lines.append(
            f"note: {folder / 'profile.json'} is an earlier calibration's; metrics.csv and comparison.csv "
            f"in {folder} now describe {args.out}"
        )
    say(lines)
    return ExitCode.OK


def with_bpm_in_range(header: list[str]) -> list[str]:
    """``bpm_in_range`` right after ``bpm`` (results.csv files from before it get it there too)."""
    if "bpm_in_range" in header:
        return header
    at = header.index("bpm") + 1 if "bpm" in header else len(header)
    return [*header[:at], "bpm_in_range", *header[at:]]


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


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


def say(lines: list[str]) -> None:
    """Show a plan's lines on the terminal (stderr: stdout stays free for data)."""
    for line in lines:
        print(line, file=sys.stderr, flush=True)
