"""Atomic CSV/JSON writing: a crash or a full disk never leaves a half-written export behind."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.errors import ExportError
from engine.staging import read_path, write_path

CSV_ENCODING = "utf-8-sig"
"""UTF-8 with a byte-order mark: Excel needs it to read non-ASCII names, pandas and csv skip it."""
CSV_ERRORS = "surrogateescape"
"""A Linux file name that is not UTF-8 (``caf\xe9.flac`` from an old Windows copy) is written as its own bytes
and read back as the same path, so a later command finds the file; text that is UTF-8 is unaffected."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets."""


def neutralise_formula(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading ``'``; numbers are untouched.

    File names, tags and titles come from the music, i.e. from anyone: a title such as
    ``=HYPERLINK(...)`` must open as text, not as a live formula (OWASP "CSV injection").
    :func:`restore_formula` undoes it when our own files are read back.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value  # "-3.5": a number, not a formula


def restore_formula(value: str) -> str:
    """Inverse of :func:`neutralise_formula` for a cell read back from one of our files."""
    if value.startswith("'") and neutralise_formula(value[1:]) == value:
        return value[1:]
    return value  # including "'-3.5": a number is never given the guard, so this ' is the cell's own


def _atomic_write(
    path: Path, write: Any, newline: str | None = None, encoding: str = "utf-8", errors: str = "strict"
) -> None:
    """Write ``path`` through a temporary file, fsync'ed and renamed; inside :func:`engine.staging.staged_outputs`
    the result goes to the staging folder, and the rename over ``path`` waits for the stage's commit."""
    target = Path(path)
    path = write_path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ExportError(exc.errno, f"cannot write to {target.parent}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding=encoding, errors=errors, newline=newline) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise ExportError(exc.errno, f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise


def write_csv(path: str | os.PathLike[str], fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write rows under a header; unknown keys are an error, missing ones are left empty."""

    def write(handle: Any) -> None:
        writer = csv.DictWriter(handle, fieldnames=list(fieldnames), restval="")
        writer.writeheader()
        writer.writerows({k: neutralise_formula(v) for k, v in row.items()} for row in rows)

    _atomic_write(Path(path), write, newline="", encoding=CSV_ENCODING, errors=CSV_ERRORS)


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    _atomic_write(Path(path), lambda handle: json.dump(data, handle, indent=2, sort_keys=False, default=str))


def read_csv_rows(path: str | os.PathLike[str]) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV this program wrote, with :func:`neutralise_formula` undone."""
    with open(path, newline="", encoding=CSV_ENCODING, errors=CSV_ERRORS) as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = [{k: restore_formula(v) if isinstance(v, str) else v for k, v in row.items()} for row in reader]
    return header, rows


def append_csv_row(path: str | os.PathLike[str], fieldnames: Sequence[str], row: Mapping[str, Any]) -> None:
    """Append one row (rewriting atomically), creating the file with a header when new."""
    path = Path(path)
    existing: list[dict[str, str]] = []
    current = read_path(path)  # inside a stage: its staged version, if this command already appended
    if current.exists():
        existing = read_csv_rows(current)[1]
    columns = list(fieldnames) + [c for c in (existing[0].keys() if existing else []) if c not in fieldnames]
    write_csv(path, columns, [*existing, dict(row)])


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write a whole text file atomically (a DJ collection): the old file stays until the new one is complete."""
    _atomic_write(Path(path), lambda handle: handle.write(text), newline="", encoding=encoding)
