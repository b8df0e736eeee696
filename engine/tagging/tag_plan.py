"""What a tag write would change: per file and field, the current value and the new one.

Built without touching any file (tags are only read), so the preview is free; the same plan is what
:mod:`engine.tagging.batch` writes once the user confirms. A file that must not be written gets a
``refusal`` (a sentence) here already, so the preview shows it before anything happens.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.tagging.formats import Raw, TagFile, UnsupportedFile, display
from engine.tagging.notation import FIELDS, comment_with_key, format_bpm, format_key, has_key_prefix
from engine.tagging.safewrite import Refused, check_writable
from engine.wording import plural


class PlanError(ValueError):
    """The request as a whole cannot be planned (no results.csv, no calibrated columns, …)."""


@dataclass(frozen=True)
class Wanted:
    """The values a song should carry: BPM as a number, key as an engine label (``"A minor"``)."""

    path: str
    bpm: float | None
    key: str


@dataclass
class FieldChange:
    field: str
    old: Raw
    new: Raw

    @property
    def old_text(self) -> str:
        return display(self.old)

    @property
    def new_text(self) -> str:
        return display(self.new)


@dataclass
class FileChange:
    path: str
    changes: list[FieldChange] = field(default_factory=list)
    identity: tuple[int, int] = (0, 0)
    refusal: str = ""


@dataclass
class Plan:
    files: list[FileChange] = field(default_factory=list)
    unchanged: int = 0  # files whose tags already hold the new values

    @property
    def writable(self) -> list[FileChange]:
        return [f for f in self.files if not f.refusal and f.changes]

    @property
    def refused(self) -> list[FileChange]:
        return [f for f in self.files if f.refusal]


def wanted_from_results(results_dir: str | os.PathLike[str], calibrated: bool) -> list[Wanted]:
    """The values of an earlier ``analyze`` (``results.csv``), raw or calibrated; failed songs are left out."""
    from engine.csv_io import read_csv_rows

    path = Path(results_dir) / "results.csv"
    try:
        header, rows = read_csv_rows(path)
    except FileNotFoundError:
        raise PlanError(f"no results.csv in {results_dir} (run analyze --out {results_dir} first)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read {path}: {exc}") from None
    bpm_col, key_col = ("bpm_calibrated", "key_calibrated") if calibrated else ("bpm", "key")
    if calibrated and bpm_col not in header:
        raise PlanError(f"{path} has no calibrated values (analyse with --reference or --profile)")
    wanted = []
    for row in rows:
        if row.get("status") == "error" or not row.get("path"):
            continue
        try:
            bpm = float(row[bpm_col]) if row.get(bpm_col) else None
        except ValueError:
            bpm = None
        wanted.append(Wanted(row["path"], bpm if bpm and bpm > 0 else None, row.get(key_col) or ""))
    return wanted


def build_plan(
    wanted: Iterable[Wanted],
    notation: str = "classic",
    fields: Sequence[str] = FIELDS,
    only_empty: bool = False,
    analysed_identity=None,
    comment_key: bool = False,
) -> Plan:
    """Read each file's tags and list what would change.

    ``comment_key`` also puts the key in the comment, Mixed In Key's way (``8A - Am - `` in front of
    the comment already there; :func:`engine.tagging.notation.comment_with_key`).

    ``analysed_identity(path)`` returns the identities (size, mtime_ns) the song was analysed at,
    or ``None`` when unknown; a file whose identity is not among them is refused, since its
    analysis may not describe it any more.
    """
    plan = Plan()
    for song in wanted:
        change = _plan_file(song, notation, fields, only_empty, analysed_identity, comment_key)
        if change.changes or change.refusal:
            plan.files.append(change)
        else:
            plan.unchanged += 1
    return plan


def _plan_file(
    song: Wanted, notation: str, fields: Sequence[str], only_empty: bool, analysed_identity, comment_key: bool = False
) -> FileChange:
    change = FileChange(path=song.path)
    path = Path(song.path)
    try:
        st = check_writable(path)
        change.identity = (st.st_size, st.st_mtime_ns)
        known = analysed_identity(str(path)) if analysed_identity else None
        if known is not None and change.identity not in known:
            raise Refused("the file changed since it was analysed (its size or modification time differ)")
        tag_file = TagFile(path)
    except (Refused, UnsupportedFile) as exc:
        change.refusal = str(exc)
        return change
    texts = {}
    if "bpm" in fields and song.bpm:
        texts["bpm"] = format_bpm(song.bpm, tag_file.container.bpm_integer)
    if "key" in fields and song.key:
        try:
            texts["key"] = format_key(song.key, notation)
        except ValueError as exc:
            change.refusal = f"results key: {exc}"
            return change
    if comment_key and song.key:
        comment = display(tag_file.get("comment"))
        if not (only_empty and has_key_prefix(comment)):  # only_empty: a key already in front stays
            texts["comment"] = comment_with_key(song.key, comment)
    for name, text in texts.items():
        old = tag_file.get(name)
        if display(old) == text or (only_empty and name != "comment" and display(old).strip()):
            continue
        change.changes.append(FieldChange(name, old, tag_file.raw_for(name, text)))
    return change


def preview_lines(plan: Plan, width: int = 60) -> list[str]:
    """The preview table: file, field, current → new; unchanged files are counted, not listed."""
    lines = []
    for f in plan.files:
        name = _short(f.path, width)
        if f.refusal:
            lines.append(f"{name:<{width}}  {'-':<4}  refused: {f.refusal}")
            continue
        for c in f.changes:
            lines.append(f"{name:<{width}}  {c.field:<4}  {c.old_text or '(none)'} → {c.new_text}")
    fields = sum(len(f.changes) for f in plan.writable)
    lines.append(
        f"{plural(fields, 'tag')} to write in {plural(len(plan.writable), 'file')}; {len(plan.refused)} refused; "
        f"{plural(plan.unchanged, 'file')} already up to date"
    )
    return lines


def _short(path: str, width: int) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1) :]
