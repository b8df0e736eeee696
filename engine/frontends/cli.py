"""Headless command line: the same engine as the window, without Qt.

    python main.py analyze PATH... --out DIR [options]

Exit status: 0 when the run completed (songs that failed have ``status=error`` and an
``error`` text in results.csv), 1 when the run itself could not complete, 2 for usage errors,
130 / 143 when stopped by SIGINT / SIGTERM (the songs finished so far are written and cached).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine import cachedirs
from engine.frontends.exitcodes import ExitCode, for_signal
from engine.run import events as ev
from engine.version import APP_VERSION, ENGINE_VERSION

if TYPE_CHECKING:
    from engine.results import SongResult

log = logging.getLogger(__name__)


def program_name() -> str:
    """What to call ourselves in usage lines: main.py, the frozen app's binary, or an entry point."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name == "engine.__main__":
        return "python -m engine"
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name not in ("", "-c", "__main__.py") else "main.py"


def _number(kind: type, minimum: float, strict: bool):
    """An argparse type that names the bad value instead of printing a traceback."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if value < minimum or (strict and value == minimum):
            bound = "greater than" if strict else "at least"
            raise argparse.ArgumentTypeError(f"{text!r} must be {bound} {minimum:g}")
        return value

    return parse


_positive_float = _number(float, 0, strict=True)
_non_negative_float = _number(float, 0, strict=False)
_positive_int = _number(int, 1, strict=False)


def add_analyze_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from engine.settings import AnalysisSettings, default_workers

    defaults = AnalysisSettings()
    parser = commands.add_parser(
        "analyze",
        help="analyse songs and write results.csv and chunks.csv",
        description="Analyse every audio file in PATHs (folders are scanned recursively), one song at a time, "
        "its chunks in parallel, and write DIR/results.csv and DIR/chunks.csv.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="audio files or folders")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the CSV files")
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=default_workers(),
        metavar="N",
        help="worker processes (default: number of cores, %(default)s here)",
    )
    parser.add_argument(
        "--chunk-seconds",
        type=_positive_float,
        default=defaults.chunk_seconds,
        metavar="S",
        help="analysis window length in seconds (default %(default)s)",
    )
    parser.add_argument(
        "--overlap",
        type=_non_negative_float,
        default=defaults.overlap_seconds,
        metavar="S",
        help="overlap between windows in seconds (default %(default)s)",
    )
    parser.add_argument(
        "--max-chunks",
        type=_positive_int,
        default=defaults.max_chunks,
        metavar="N",
        help="most windows per song; longer songs get longer windows (default %(default)s)",
    )
    parser.add_argument(
        "--chunk-timeout",
        type=_positive_float,
        default=None,
        metavar="S",
        help="seconds a chunk may run before its worker is killed and replaced (default: max(30, chunk length))",
    )
    parser.add_argument("--force", action="store_true", help="re-analyse songs even when cached")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the results cache")
    parser.add_argument(
        "--cache-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="results cache (SQLite) to use instead of the one in the user cache folder",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    from engine.calibration.calibrate_command import add_reference_arguments
    from engine.frontends.outgoing import add_bpm_range_argument

    add_bpm_range_argument(parser)
    add_reference_arguments(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="Calibration Studio command line: analyse songs for tempo and key without the window.",
    )
    parser.add_argument(
        "--version", action="version", version=f"Calibration Studio {APP_VERSION} (engine {ENGINE_VERSION})"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_analyze_parser(commands)
    from engine.calibration.calibrate_command import add_calibrate_parser

    add_calibrate_parser(commands)
    from engine.frontends.doctor import add_doctor_parser

    add_doctor_parser(commands)
    from engine.tagging.tag_command import add_tag_parser  # tag writing (issue 16)

    add_tag_parser(commands)
    from engine.frontends.outgoing import add_export_parser  # export to rekordbox/Traktor (issue 24)

    add_export_parser(commands)
    return parser


def command_summaries() -> dict[str, str]:
    """Every command ``main.py`` runs without a window, with its one-line help (for the window's ``--help``)."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = {action.dest: action.help or "" for action in commands._choices_actions}
    found["test"] = "run the whole test suite (from a source checkout)"
    return found


class _Progress:
    """A tqdm bar on a terminal, plain lines otherwise (logs, CI, pipes)."""

    def __init__(self, total: int, quiet: bool):
        self.quiet = quiet
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="song", dynamic_ncols=True, file=sys.stderr)
        self.total = total

    def event(self, event: ev.Event) -> None:
        if isinstance(event, ev.PoolRecovered):
            log.warning("%s: %s", event.reason, event.detail)
        elif isinstance(event, ev.SongFailed):
            log.warning("%s: %s", event.result.path, event.result.error)
        if self.quiet:
            return
        if isinstance(event, ev.WarmUp):
            if event.stage == "parent" and event.done == 0:
                self._say("Preparing analysis engine…")
            elif event.stage == "done":
                self._say(f"Analysis engine ready ({event.total} workers, {event.seconds:.1f} s)")
        elif isinstance(event, ev.SongStarted) and self.bar is not None:
            self.bar.set_postfix_str(Path(event.path).name[:40])
        elif isinstance(event, ev.PoolRecovered):
            self._say(f"warning: {event.reason}: {event.detail}")
        elif isinstance(event, ev.SongFinished | ev.SongFailed):
            result = event.result
            if self.bar is not None:
                self.bar.update(1)
                if isinstance(event, ev.SongFailed):
                    self.bar.write(f"error: {Path(result.path).name}: {result.error}")
            else:
                self._say(f"[{event.index + 1}/{self.total}] {describe(result)}")

    def _say(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def describe(result: SongResult) -> str:
    """One line per finished song on the terminal."""
    from engine.results import SongStatus

    name = Path(result.path).name
    if not result.analysed:
        return f"{name}: error: {result.error}"
    if not result.bpm:
        bpm = "no tempo"
    elif result.tempo_stable:  # the beat grid's exact tempo; a tempogram reading is good to a few tenths
        bpm = f"{result.bpm:.2f} BPM, steady"
    else:
        bpm = f"{result.bpm:.1f} BPM"
    key = result.key or "no key"
    cached = ", cached" if result.cached else ""
    partial = f", partial: {result.error}" if result.status is SongStatus.PARTIAL else ""
    return f"{name}: {bpm}, {key} ({result.analysis_s:.1f} s{cached}){partial}"


def run_analyze(args: argparse.Namespace) -> int:
    from engine.exports import write_results
    from engine.frontends.stopsignals import StopOnSignal
    from engine.run.discovery import discover
    from engine.run.runner import Engine
    from engine.settings import AnalysisSettings, EngineOptions

    try:
        settings = AnalysisSettings(
            chunk_seconds=args.chunk_seconds, overlap_seconds=args.overlap, max_chunks=args.max_chunks
        )
        options = EngineOptions(
            workers=args.workers,
            chunk_timeout=args.chunk_timeout,
            use_cache=not args.no_cache,
            force=args.force,
            cache_path=args.cache_file,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    from engine.calibration.calibrate_command import plan_from_args

    plan = plan_from_args(args)  # reference and profile checked before any analysis
    if plan is None:
        return ExitCode.USAGE
    found = discover(args.paths)
    for missing in found.missing:
        print(f"error: no such file or folder: {missing}", file=sys.stderr)
    if found.missing:
        return ExitCode.USAGE
    if not args.quiet:
        skipped = f", {found.skipped_non_audio} non-audio files skipped" if found.skipped_non_audio else ""
        print(f"{len(found.songs)} songs found{skipped}", file=sys.stderr)
    if not found.songs:
        print("error: no audio files found", file=sys.stderr)
        return ExitCode.FAILED
    results = {}
    progress = _Progress(len(found.songs), args.quiet)
    summary = None
    interrupted = False
    started = time.monotonic()
    try:
        with Engine(settings, options) as engine, StopOnSignal(engine.cancel) as stop:
            try:
                for event in engine.run(found.songs):
                    progress.event(event)
                    if isinstance(event, ev.SongFinished | ev.SongFailed):
                        results[event.index] = event.result
                    elif isinstance(event, ev.RunFinished):
                        summary = event.summary
            except KeyboardInterrupt:
                interrupted = True
            interrupted = interrupted or stop.received is not None
    except Exception as exc:  # the run itself broke: still save what finished
        progress.close()
        print(f"error: the run could not complete: {exc}", file=sys.stderr)
        _save(write_results, args.out, results)
        return ExitCode.FAILED
    progress.close()
    if not _save(write_results, args.out, results, plan, settings, summary, args.quiet, args.bpm_range):
        return ExitCode.FAILED
    if interrupted:
        received = stop.received or signal.SIGINT  # a KeyboardInterrupt with no handler installed is Ctrl-C
        print(f"interrupted ({received.name}): {len(results)} finished songs saved to {args.out}", file=sys.stderr)
        return for_signal(received)
    if not args.quiet and summary is not None:
        print(
            f"{summary.songs_done} done, {summary.songs_partial} partial, {summary.songs_failed} failed "
            f"({summary.songs_cached} from cache) in {time.monotonic() - started:.1f} s, "
            f"{summary.realtime_factor:.0f}× realtime; results in {args.out}",
            file=sys.stderr,
        )
    return ExitCode.OK


def _save(
    write_results, out: Path, results: dict, plan=None, settings=None, summary=None, quiet=False, bpm_range=None
) -> bool:
    from engine.csv_io import ExportError
    from engine.staging import staged_outputs

    try:
        with staged_outputs() as stage:  # all the files, or (a full disk, a read-only file) none of them
            if plan is None:
                write_results(out, [results[i] for i in sorted(results)])
            else:  # with calibrated columns, the calibration files, run.json and history.csv
                from engine.calibration.calibrate_command import say

                finished = [results[i] for i in sorted(results)]
                say(plan.fit_results(finished, settings, quiet))
                plan.export(out, finished, settings, summary, bpm_range=bpm_range)
            stage.commit()
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def run_calibrate(args: argparse.Namespace) -> int:
    from engine.calibration.calibrate_command import run_calibrate as calibrate

    return calibrate(args)


def run_doctor(args: argparse.Namespace) -> int:
    from engine.frontends.doctor import run_doctor as doctor

    return doctor(args)


def run_tag(args: argparse.Namespace) -> int:  # issue 16: tag writing lives in engine/tagging
    from engine.tagging.tag_command import run_tag as tag

    return tag(args)


def run_export(args: argparse.Namespace) -> int:  # issue 24: the writers live in engine/references/writers
    from engine.frontends.outgoing import run_export as export

    return export(args)


COMMANDS = {
    "analyze": run_analyze,
    "calibrate": run_calibrate,
    "doctor": run_doctor,
    "tag": run_tag,
    "export": run_export,
}


def _show_on_terminal(logger: logging.Logger) -> None:
    """Print ``logger``'s warnings as ``warning: …`` lines: problems that have no run event of their own."""
    if any(getattr(h, "_calibration_studio_terminal", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler._calibration_studio_terminal = True  # type: ignore[attr-defined]
    logger.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from engine.logs import setup_logging

    setup_logging(f"command line ({args.command})")
    _show_on_terminal(cachedirs.log)
    log.info("arguments: %s", list(sys.argv[1:] if argv is None else argv))
    code = COMMANDS[args.command](args)
    log.info("%s finished with exit status %s", args.command, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
