"""Reference verdicts: the user's word that a reference value is wrong, a song should not count, or a
detection is right, kept in ``reference_corrections.csv`` and applied before scoring and fitting.

Streaming and DJ exports carry half-time BPMs and wrong keys; a calibration fitted on them learns
the mistakes. A verdict is one appended row (``path, field, reference, corrected, reason, time``),
written and ``fsync``-ed the moment it is made, so a crash loses nothing already decided. The file
is a log, not a table: the last row for a ``(path, field)`` wins, and a row with an empty
``corrected`` value withdraws the verdict (that is how an undo is saved). A torn last line after a
crash is skipped and reported, never fatal.

Fields: ``bpm`` and ``key`` replace the reference value; ``exclude`` (``corrected`` = ``yes``) takes
the song out of scoring and fitting; ``confirmed`` (``yes``) records that the user listened and the
detection is right (it changes no number; the exports show it).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.calibration.dataset import Observation
from engine.csv_io import CSV_ENCODING, CSV_ERRORS, neutralise_formula, restore_formula
from engine.errors import EngineError
from engine.references.keynotation import KeyNotationError, parse_key

FILE_NAME = "reference_corrections.csv"
COLUMNS = ("path", "field", "reference", "corrected", "reason", "time")
FIELDS = ("bpm", "key", "exclude", "confirmed")
YES = "yes"


class CorrectionsError(EngineError):
    """The corrections file cannot be read or written at all (a bad row is only a warning)."""


@dataclass(frozen=True)
class Correction:
    """One verdict row. ``corrected == ""`` withdraws an earlier verdict on the same field."""

    path: str
    field: str
    reference: str = ""
    corrected: str = ""
    reason: str = ""
    time: str = ""

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValueError(f'unknown verdict field "{self.field}" (expected one of {", ".join(FIELDS)})')

    @property
    def withdrawn(self) -> bool:
        return self.corrected == ""

    def to_row(self) -> dict[str, str]:
        return {c: str(neutralise_formula(getattr(self, c))) for c in COLUMNS}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _song_key(path: str) -> str:
    """Paths compare as the analyser wrote them, with separators unified (a log may cross OSes)."""
    return str(path).replace("\\", "/")


@dataclass
class Verdicts:
    """The verdicts in force: the last non-withdrawn row per song and field."""

    by_song: dict[str, dict[str, Correction]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_rows(cls, rows: Iterable[Correction], warnings: Sequence[str] = ()) -> Verdicts:
        verdicts = cls(warnings=list(warnings))
        for row in rows:
            verdicts.apply(row)
        return verdicts

    def apply(self, row: Correction) -> None:
        fields = self.by_song.setdefault(_song_key(row.path), {})
        if row.withdrawn:
            fields.pop(row.field, None)
        else:
            fields[row.field] = row

    def for_song(self, path: str) -> dict[str, Correction]:
        return dict(self.by_song.get(_song_key(path), {}))

    def get(self, path: str, field_: str) -> Correction | None:
        return self.by_song.get(_song_key(path), {}).get(field_)

    def excluded(self, path: str) -> bool:
        return self.get(path, "exclude") is not None

    def __len__(self) -> int:
        return sum(len(f) for f in self.by_song.values())


class CorrectionLog:
    """``reference_corrections.csv``: append-only, one ``fsync`` per verdict."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def append(self, correction: Correction) -> None:
        """Write one row and force it to disk before returning; the header comes with the first row."""
        if not correction.time:
            correction = replace(correction, time=now())
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        new = not self.path.exists() or self.path.stat().st_size == 0
        if new:
            writer.writeheader()
        writer.writerow(correction.to_row())
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not new:
                self._end_with_newline()
            with open(self.path, "a", encoding=CSV_ENCODING, errors=CSV_ERRORS, newline="") as handle:
                handle.write(buffer.getvalue())
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise CorrectionsError(f"cannot save the verdict to {self.path}: {exc.strerror or exc}") from exc

    def _end_with_newline(self) -> None:
        """A crash mid-row leaves no newline; start the next row on its own line so it is not lost too."""
        with open(self.path, "rb+") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) not in (b"\n", b"\r"):
                handle.write(b"\n")

    def read(self) -> tuple[list[Correction], list[str]]:
        """All rows in order, and a warning per row that could not be used (with its line number)."""
        if not self.path.exists():
            return [], []
        try:
            with open(self.path, encoding=CSV_ENCODING, errors=CSV_ERRORS, newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CorrectionsError(f"cannot read {self.path}: {exc}") from exc
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("path", "field", "corrected") if c not in (reader.fieldnames or [])]
        if missing:
            raise CorrectionsError(f"{self.path} is not a corrections file (no {', '.join(missing)} column)")
        rows: list[Correction] = []
        warnings: list[str] = []
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                warnings.append(f"{self.path.name} line {line}: incomplete row skipped (a crash while saving?)")
                continue
            try:
                rows.append(
                    Correction(
                        **{c: restore_formula(row.get(c) or "").strip() for c in COLUMNS if c != "reason"},
                        reason=restore_formula(row.get("reason") or ""),
                    )
                )
            except ValueError as exc:
                warnings.append(f"{self.path.name} line {line}: {exc}")
        return rows, warnings

    def verdicts(self) -> Verdicts:
        rows, warnings = self.read()
        return Verdicts.from_rows(rows, warnings)


def load_verdicts(path: str | os.PathLike[str]) -> Verdicts:
    """The verdicts in force in a corrections file; a missing file is no verdicts."""
    return CorrectionLog(path).verdicts()


@dataclass(frozen=True)
class Applied:
    """Observations with the verdicts applied, and what was done, for the exports."""

    observations: list[Observation]
    """The ones scoring and fitting use: corrected reference values, excluded songs left out."""
    given: list[Observation]
    """The same songs with the reference as given (excluded ones too)."""
    excluded: list[str]
    corrected: dict[str, dict[str, str]]
    """Per path, the fields whose reference value a verdict replaced: ``{"bpm": "62.0"}``."""
    problems: list[str]


def apply_verdicts(observations: Sequence[Observation], verdicts: Verdicts | None) -> Applied:
    """Replace corrected reference values and drop excluded songs; an unreadable corrected value is
    reported for that song and the reference as given is used there."""
    given = list(observations)
    if not verdicts:
        return Applied(given, given, [], {}, list(verdicts.warnings) if verdicts else [])
    used: list[Observation] = []
    excluded: list[str] = []
    corrected: dict[str, dict[str, str]] = {}
    problems = list(verdicts.warnings)
    for o in given:
        found = verdicts.for_song(o.path)
        if "exclude" in found:
            excluded.append(o.path)
            continue
        changes: dict[str, Any] = {}
        if "bpm" in found:
            value = _bpm(found["bpm"].corrected)
            if value is None:
                problems.append(f'{o.path}: corrected BPM "{found["bpm"].corrected}" is not a positive number; ignored')
            else:
                changes["bpm"] = value
        if "key" in found:
            try:
                key = parse_key(found["key"].corrected)
            except KeyNotationError as exc:
                problems.append(f"{o.path}: corrected {exc}; ignored")
                key = None
            if key is not None:
                changes["key"] = key
        if changes:
            corrected[o.path] = {k: str(v) for k, v in changes.items()}
            o = replace(o, row=replace(o.row, **changes))
        used.append(o)
    return Applied(used, given, excluded, corrected, problems)


def _bpm(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < 1000 else None


def corrections_path_for(
    reference_files: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str] | None
) -> Path | None:
    """Where the window keeps verdicts: beside the first reference file, else in the export folder."""
    for ref in reference_files:
        folder = Path(ref).parent
        if os.access(folder, os.W_OK):
            return folder / FILE_NAME
    return Path(out_dir) / FILE_NAME if out_dir else None


def verdict_columns(path: str, verdicts: Verdicts | None) -> Mapping[str, str]:
    """What the exports say about a song's verdicts: excluded, confirmed, and the reasons."""
    if not verdicts:
        return {"excluded": "", "confirmed": "", "verdict_reason": ""}
    found = verdicts.for_song(path)
    reasons = "; ".join(f"{f}: {c.reason}" for f, c in found.items() if c.reason)
    return {
        "excluded": "1" if "exclude" in found else "",
        "confirmed": "1" if "confirmed" in found else "",
        "verdict_reason": reasons,
    }
