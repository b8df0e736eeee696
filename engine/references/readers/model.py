"""What every reference reader produces: rows, per-row errors and the file's fingerprint.

Shared by the CSV, rekordbox, Traktor and iTunes readers so that matching, scoring and the
exports never need to know which program wrote a reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import EngineError
from engine.references.textnorm import normalise_artist, normalise_title


class ReferenceFileError(EngineError):
    """The file cannot be read as a reference at all (missing, binary, malformed XML, no usable columns)."""


@dataclass
class ReferenceRow:
    """One song's reference values.

    ``line`` is where the row starts in its file (1 = a CSV's header; the ``<TRACK>``/``<ENTRY>``
    element's line in XML); for an iTunes plist it is the entry number (``unit == "entry"``).
    """

    line: int
    source: str
    file: str = ""
    title: str = ""
    artist: str = ""
    bpm: float | None = None
    key: str | None = None
    duration_s: float | None = None
    features: dict[str, float] = field(default_factory=dict)
    cells: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    """What identifies the row in its file (compared to tell a repeated row from a conflicting one)."""
    """The row as read (stripped, case-folded), to tell an exact duplicate from a conflicting one."""
    unit: str = "line"

    @property
    def has_values(self) -> bool:
        return self.bpm is not None or self.key is not None or bool(self.features)

    def identity(self) -> tuple[str, ...]:
        if self.file:
            return ("file", self.file.replace("\\", "/").casefold())
        return ("song", normalise_title(self.title), normalise_artist(self.artist))

    def describe(self) -> str:
        if self.title:
            return f"{self.artist} - {self.title}" if self.artist else self.title
        return self.file

    def where(self) -> str:
        """``"refs.csv line 12"``: how a person finds this row again."""
        name = "tags" if self.source == "tags" else Path(self.source).name
        return f"{name} {self.unit} {self.line}"


@dataclass(frozen=True)
class RowError:
    line: int
    message: str
    source: str = ""
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{Path(self.source).name}: " if self.source else ""
        line = f"{self.unit} {self.line}: " if self.line > 0 else ""  # tags have no lines
        return f"{where}{line}{self.message}"


@dataclass(frozen=True)
class Fingerprint:
    """Which reference file a profile was fitted on: SHA-256 of its bytes and how many rows loaded."""

    path: str
    sha256: str
    rows: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows}


@dataclass
class ReferenceSet:
    rows: list[ReferenceRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    fingerprints: list[Fingerprint] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    """Our field → the header it was read from (the first file's), for the UI and run.json."""
    formats: list[str] = field(default_factory=list)
    """Which reader read each file (``csv``, ``rekordbox``, ``traktor``, ``itunes``), in file order."""

    def extend(self, other: ReferenceSet) -> None:
        self.rows.extend(other.rows)
        self.errors.extend(other.errors)
        self.fingerprints.extend(other.fingerprints)
        self.formats.extend(other.formats)
        for name, header in other.columns.items():
            self.columns.setdefault(name, header)

    @property
    def feature_names(self) -> list[str]:
        return sorted({name for row in self.rows for name in row.features})


def add_row(result: ReferenceSet, seen: dict[tuple[str, ...], ReferenceRow], row: ReferenceRow) -> None:
    """Keep the first of two rows for the same song; an exact duplicate and a conflict are told apart."""
    identity = row.identity()
    first = seen.get(identity)
    if first is None:
        seen[identity] = row
        result.rows.append(row)
        return
    same = first.cells == row.cells if first.cells and row.cells else (first.bpm, first.key) == (row.bpm, row.key)
    message = (
        f"duplicate of {first.unit} {first.line}; ignored"
        if same
        else f"same song as {first.unit} {first.line} with different values; {first.unit} {first.line} kept"
    )
    result.errors.append(RowError(row.line, message, row.source, row.unit))
