"""Command-line options for what leaves the program (``tag`` and ``export``), and ``export`` itself.

    export RESULTS_DIR --to FILE [--format rekordbox|traktor] [--into THEIR_COLLECTION]
           [--values analysed|calibrated|verified] [--only all|agreeing|verified] [--bpm-range LO:HI]

The choices are :class:`engine.selection.Choice`; the writers are :mod:`engine.references.writers`.
Exit status: 0 when the collection was written, 1 when it could not be (nothing was written, an
earlier file at ``--to`` is unchanged), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.frontends.exitcodes import ExitCode


def _bpm_range(text: str):
    from engine.settings import BpmRange

    try:
        return BpmRange.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def add_bpm_range_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--bpm-range",
        type=_bpm_range,
        default=None,
        metavar="LO:HI",
        help="fold the reported BPM by x2 or x1/2 into LO-HI, as DJ programs do (Traktor 78:155, Serato 68:135); "
        "results.csv keeps bpm as analysed and adds bpm_in_range; scoring and calibration ignore it (default: off)",
    )


def add_choice_arguments(parser: argparse.ArgumentParser) -> None:
    """``--values``, ``--only``, ``--min-confidence``, ``--corrections`` and ``--bpm-range``."""
    from engine.selection import ONLY, VALUES

    group = parser.add_argument_group("which songs and values")
    group.add_argument(
        "--values",
        choices=VALUES,
        default="analysed",
        help="analysed (default), calibrated, or verified: a verdict's value where you gave one "
        "(a corrected BPM/key, or a confirmed detection), the analysed value elsewhere",
    )
    group.add_argument(
        "--only",
        choices=ONLY,
        default="all",
        help="all songs (default), the ones agreeing with their reference (BPM within 4%%, same key), "
        "or the ones you verified (only the fields a verdict covers)",
    )
    group.add_argument(
        "--min-confidence",
        type=_confidence,
        default=None,
        metavar="X",
        help="leave out a BPM or key whose confidence (0-1) is below X; verdicts always count",
    )
    group.add_argument(
        "--corrections",
        type=Path,
        default=None,
        metavar="FILE",
        help="your verdicts (reference_corrections.csv); default: the one the run used, else RESULTS_DIR's",
    )
    add_bpm_range_argument(group)


def choice_from_args(args: argparse.Namespace, unstable_bpm: bool = True):
    from engine.selection import Choice

    return Choice(
        values=args.values,
        only=args.only,
        min_confidence=args.min_confidence,
        bpm_range=args.bpm_range,
        unstable_bpm=unstable_bpm,
        corrections=args.corrections,
    )


def add_export_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from engine.frontends.keyoption import add_key_notation_option
    from engine.references.writers import FORMATS

    parser = commands.add_parser(
        "export",
        help="write BPM, key and beat grid into a rekordbox XML or Traktor collection.nml",
        description="Write an earlier analysis's BPM, key and (where measured) beat grid as a DJ collection: "
        "rekordbox XML (.xml) or Traktor collection.nml (.nml). With --into, start from your own exported "
        "collection and change only the BPM, key and grid of the analysed songs; everything else is kept.",
    )
    parser.add_argument("results", type=Path, metavar="RESULTS_DIR", help="folder with results.csv")
    parser.add_argument("--to", required=True, type=Path, metavar="FILE", help="the collection file to write")
    parser.add_argument("--format", choices=FORMATS, default=None, help="default: from --to's extension (.xml/.nml)")
    parser.add_argument(
        "--into",
        type=Path,
        default=None,
        metavar="COLLECTION",
        help="your own exported collection to start from (never overwritten: --to must be another file)",
    )
    add_key_notation_option(parser, "how keys are written: Am, 8A or 1m")
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    add_choice_arguments(parser)
    return parser


def run_export(args: argparse.Namespace) -> int:
    from engine.csv_io import ExportError
    from engine.errors import EngineError
    from engine.references.writers import export_collection
    from engine.selection import select

    try:
        selection = select(args.results, choice_from_args(args))
        for note in selection.notes:
            print(f"warning: {note}", file=sys.stderr)
        if not selection.songs:
            print(f"error: no song to export: {selection.summary()}; nothing written", file=sys.stderr)
            return ExitCode.FAILED
        report = export_collection(selection.songs, args.to, args.format, args.into, args.key_notation)
    except (EngineError, ValueError) as exc:
        print(f"error: {exc}; nothing written", file=sys.stderr)
        return ExitCode.USAGE
    except ExportError as exc:
        print(f"error: {exc}; nothing written", file=sys.stderr)
        return ExitCode.FAILED
    for note in report.notes:
        print(f"warning: {note}", file=sys.stderr)
    if not args.quiet:
        print(selection.summary(), file=sys.stderr)
        print(report.summary(), file=sys.stderr)
    return ExitCode.OK
