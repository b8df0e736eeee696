"""Pairs a person decided by hand, kept in ``pairs.csv`` so that no review work is lost.

Columns: ``song_path``, ``reference_file``, ``line``, ``decided_by``, ``decided_at``. A row with
an empty ``line`` means "this song has no reference row" (an automatic pair undone by hand).
The window writes the file on every decision (atomically); the window and
``calibrate --pairs`` read it back, and matching applies it before any automatic rule.
"""

from __future__ import annotations

import csv
import getpass
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.csv_io import read_csv_rows, write_csv
from engine.references.readers.model import ReferenceFileError, ReferenceRow, RowError

PAIRS_FILE = "pairs.csv"
PAIRS_COLUMNS = ("song_path", "reference_file", "line", "decided_by", "decided_at")


@dataclass(frozen=True)
class ManualPair:
    song_path: str
    reference_file: str = ""
    line: int | None = None
    decided_by: str = ""
    decided_at: str = ""

    @property
    def unpaired(self) -> bool:
        """The person said this song has no row (undoing an automatic pair)."""
        return self.line is None

    def to_row(self) -> dict[str, object]:
        return {
            "song_path": self.song_path,
            "reference_file": self.reference_file,
            "line": "" if self.line is None else self.line,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
        }


def who_decides() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers, some Windows services)
        return "user"


def decision(song_path: str, row: ReferenceRow | None, who: str = "") -> ManualPair:
    """A decision made now: pair ``song_path`` with ``row``, or (``row=None``) with nothing."""
    when = datetime.now(UTC).isoformat(timespec="seconds")
    if row is None:
        return ManualPair(song_path, "", None, who or who_decides(), when)
    return ManualPair(song_path, row.source, row.line, who or who_decides(), when)


def load_pairs(path: str | os.PathLike[str]) -> tuple[list[ManualPair], list[RowError]]:
    """Read ``pairs.csv``; a bad line is an error naming it, the rest load. A missing file is no pairs."""
    path = Path(path)
    if not path.exists():
        return [], []
    try:
        header, rows = read_csv_rows(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReferenceFileError(f"cannot read {path}: {exc}") from None
    missing = [c for c in ("song_path", "line") if c not in header]
    if missing:
        raise ReferenceFileError(f"{path} is not a pairs file: no {', '.join(missing)} column")
    pairs: list[ManualPair] = []
    errors: list[RowError] = []
    for number, row in enumerate(rows, start=2):
        song = (row.get("song_path") or "").strip()
        line_text = (row.get("line") or "").strip()
        if not song:
            errors.append(RowError(number, "no song_path; ignored", str(path)))
            continue
        line: int | None = None
        if line_text:
            if not line_text.isdigit():
                errors.append(RowError(number, f'line "{line_text}" is not a line number; ignored', str(path)))
                continue
            line = int(line_text)
            if not (row.get("reference_file") or "").strip():
                errors.append(RowError(number, "a line but no reference_file; ignored", str(path)))
                continue
        pairs.append(
            ManualPair(
                song,
                (row.get("reference_file") or "").strip(),
                line,
                row.get("decided_by") or "",
                row.get("decided_at") or "",
            )
        )
    return latest(pairs), errors


def save_pairs(path: str | os.PathLike[str], pairs: Iterable[ManualPair]) -> Path:
    """Write every decision (atomically: a crash leaves the old file or the new one, never half)."""
    write_csv(path, PAIRS_COLUMNS, (p.to_row() for p in latest(pairs)))
    return Path(path)


def latest(pairs: Iterable[ManualPair]) -> list[ManualPair]:
    """The last decision per song, and per reference row: a row paired anew leaves its earlier song."""
    by_song: dict[str, ManualPair] = {}
    for pair in pairs:
        by_song.pop(pair.song_path, None)
        if not pair.unpaired:
            for song, other in list(by_song.items()):
                if not other.unpaired and same_row(other, pair.reference_file, pair.line):
                    del by_song[song]
        by_song[pair.song_path] = pair
    return list(by_song.values())


def same_row(pair: ManualPair, reference_file: str, line: int | None) -> bool:
    return pair.line == line and _same_file(pair.reference_file, reference_file)


def _same_file(a: str, b: str) -> bool:
    if not a or not b:
        return False
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def find_row(pair: ManualPair, rows: Sequence[ReferenceRow]) -> int | None:
    """Index of the row a decision names: same file (or, when moved, same file name) and same line."""
    exact = [i for i, r in enumerate(rows) if r.line == pair.line and _same_file(r.source, pair.reference_file)]
    if exact:
        return exact[0]
    name = Path(pair.reference_file).name
    by_name = [i for i, r in enumerate(rows) if r.line == pair.line and Path(r.source).name == name]
    return by_name[0] if len(by_name) == 1 else None
