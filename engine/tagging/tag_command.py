"""``main.py tag``: write an earlier analysis's BPM and key into the songs' tags, previewed and undoable.

    tag RESULTS_DIR [--values analysed|calibrated|verified] [--only all|agreeing|verified] [--min-confidence X]
                    [--bpm-range LO:HI] [--unstable-bpm] [--comment-key]
                    [--key-notation N] [--fields bpm,key] [--only-empty] [--dry-run] [--yes]
    tag --undo BATCH|last        put back what a batch replaced (absent tags removed again)
    tag --finish BATCH           complete a batch that was interrupted
    tag --list                   the journal's batches

Nothing is written before the preview is confirmed (a ``y`` on a terminal, ``--yes`` in a script).
Exit status: 0 when every planned file was written (or nothing needed writing), 1 when some file
was refused or a batch is interrupted, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.frontends.exitcodes import ExitCode
from engine.frontends.keyoption import add_key_notation_option
from engine.tagging.notation import FIELDS
from engine.wording import plural

EXIT_OK, EXIT_SOME_REFUSED, EXIT_USAGE = ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE


def _fields(text: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in FIELDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"fields are {', '.join(FIELDS)}; got {text!r}")
    return names


def add_tag_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "tag",
        help="write BPM and key into the songs' tags (previewed, journaled, undoable)",
        description="Write the BPM and key of an earlier analyze run into each song's own tags. "
        "Shows what would change first; every write is journaled and can be undone with --undo.",
    )
    parser.add_argument("results", nargs="?", type=Path, metavar="RESULTS_DIR", help="folder with results.csv")
    parser.add_argument(
        "--calibrated",
        dest="values",
        action="store_const",
        const="calibrated",
        default=argparse.SUPPRESS,  # --values (below) owns the default
        help="the same as --values calibrated",
    )
    add_key_notation_option(parser, "how keys are written into tags: Am, 8A or 1m")
    parser.add_argument("--fields", type=_fields, default=FIELDS, metavar="bpm,key", help="which tags (default both)")
    parser.add_argument("--only-empty", action="store_true", help="only fill tags that are absent or empty")
    parser.add_argument(
        "--comment-key",
        action="store_true",
        help="also put the key in the comment, Mixed In Key's way ('8A - Am - ' before the comment, which is kept)",
    )
    parser.add_argument(
        "--unstable-bpm",
        action="store_true",
        help="also write the BPM of songs whose tempo is not stable (tempo_stable=0); left out by default",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the preview and write nothing")
    parser.add_argument("--yes", action="store_true", help="write without asking (for scripts)")
    parser.add_argument("--undo", metavar="BATCH", help="undo a batch (its id, or 'last')")
    parser.add_argument("--finish", metavar="BATCH", help="finish an interrupted batch")
    parser.add_argument("--list", action="store_true", help="list the journal's batches")
    parser.add_argument("--journal", type=Path, default=None, metavar="CSV", help="journal file (default: user data)")
    parser.add_argument("--cache-file", type=Path, default=None, metavar="FILE", help="results cache to keep valid")
    parser.add_argument("--no-cache", action="store_true", help="neither check nor re-key the results cache")
    from engine.frontends.outgoing import add_choice_arguments

    add_choice_arguments(parser)
    return parser


def run_tag(args: argparse.Namespace) -> int:
    from engine.tagging.batch import Tagger
    from engine.tagging.journal import Journal, JournalBusy

    journal = Journal(args.journal)
    if args.list:
        return _list(journal)
    cache = None
    if not args.no_cache:
        from engine.run.cache import ResultsCache

        cache = ResultsCache(args.cache_file)
    tagger = Tagger(journal, cache)
    try:
        return _write_undo_or_finish(tagger, args, cache)
    except JournalBusy as exc:  # raised before any file is touched
        print(f"error: {exc}; nothing written", file=sys.stderr)
        return EXIT_SOME_REFUSED


def _write_undo_or_finish(tagger, args: argparse.Namespace, cache) -> int:
    if args.undo or args.finish:
        return _undo_or_finish(tagger, args)
    if args.results is None:
        print("error: give RESULTS_DIR (or --undo BATCH, --finish BATCH, --list)", file=sys.stderr)
        return EXIT_USAGE
    pending = tagger.interrupted()
    if pending and not args.dry_run:
        for batch in pending:
            print(
                f"error: tag batch {batch.batch} ({batch.started}) was interrupted; "
                f"run 'tag --finish {batch.batch}' or 'tag --undo {batch.batch}' first",
                file=sys.stderr,
            )
        return EXIT_SOME_REFUSED
    return _write(tagger, args, cache)


def _write(tagger, args: argparse.Namespace, cache) -> int:
    from engine.frontends.outgoing import choice_from_args
    from engine.selection import SelectionError, select
    from engine.tagging.tag_plan import Wanted, build_plan, preview_lines

    try:
        selection = select(args.results, choice_from_args(args, unstable_bpm=args.unstable_bpm))
    except (SelectionError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for note in selection.notes:
        print(f"warning: {note}", file=sys.stderr)
    print(selection.summary())
    wanted = [Wanted(song.path, song.bpm, song.key) for song in selection.songs]
    known = analysed_identities(cache, Path(args.results) / "results.csv", tagger.journal)
    plan = build_plan(wanted, args.key_notation, args.fields, args.only_empty, known, comment_key=args.comment_key)
    for line in preview_lines(plan):
        print(line)
    if args.dry_run or not plan.writable:
        return EXIT_SOME_REFUSED if plan.refused else EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: not confirmed; add --yes to write without a terminal", file=sys.stderr)
            return EXIT_USAGE
        if input(f"Write these tags to {len(plan.writable)} files? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing written")
            return EXIT_OK
    info = {
        "results": str(Path(args.results).resolve()),
        "calibrated": args.values == "calibrated",
        "values": args.values,
        "only": args.only,
        "bpm_range": str(args.bpm_range or ""),
        "notation": args.key_notation,
    }
    report = tagger.write(plan, info)
    return _summary(report, f"undo with: tag --undo {report.batch}")


def analysed_identities(cache, results_csv: Path, journal=None):
    """For :func:`build_plan`: the identities each song was analysed at.

    From the results cache when it knows the song; otherwise a file modified after results.csv was
    written counts as changed (its analysis cannot describe the new content), unless the change was
    one of our own tag writes (its identity is a ``written`` row of the journal).
    """
    try:
        written_ns = results_csv.stat().st_mtime_ns
    except OSError:
        written_ns = None
    ours: dict[str, set[tuple[int, int]]] = {}
    for batch in journal.batches() if journal is not None else []:
        for path, ident in batch.written.items():
            ours.setdefault(str(Path(path).resolve()), set()).add(ident)

    def known(path: str) -> list[tuple[int, int]] | None:
        own = sorted(ours.get(str(Path(path).resolve()), ()))
        if cache is not None:
            identities = cache.identities(path)
            if identities:
                return identities + own
        if written_ns is None:
            return None
        try:
            st = Path(path).stat()
        except OSError:
            return None
        return [(st.st_size, st.st_mtime_ns)] if st.st_mtime_ns <= written_ns else own

    return known


def _undo_or_finish(tagger, args: argparse.Namespace) -> int:
    try:
        report = tagger.undo(args.undo) if args.undo else tagger.finish(args.finish)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _summary(report, "", done="restored" if args.undo else "written")


def _summary(report, hint: str, done: str = "written") -> int:
    for outcome in report.outcomes:
        if outcome.status == "refused":
            print(f"refused: {outcome.path}: {outcome.reason}", file=sys.stderr)
    print(
        f"batch {report.batch}: {plural(report.count('written'), 'file')} {done}, {report.count('refused')} refused, "
        f"{report.count('already')} already as wanted. {hint}".rstrip()
    )
    return EXIT_SOME_REFUSED if report.count("refused") else EXIT_OK


def _list(journal) -> int:
    for batch in journal.batches():
        state = "complete" if batch.ended else "INTERRUPTED"
        what = batch.info.get("kind", "?") + (f" of {batch.info['undoes']}" if batch.info.get("undoes") else "")
        print(f"{batch.batch}  {batch.started}  {what:<24} {len(batch.written):>6} written  {state}")
    print(f"journal: {journal.path}")
    return EXIT_OK
