"""The tag journal: a CSV in the user data folder that records every tag write before it happens.

One row per event, appended and flushed (fsync'ed before any file of a batch is touched):

- ``plan``    one row per file and field, *before* any write: the old value, the new value and the
              file's identity (size, mtime_ns) when it was read. Old/new are shown as text and kept
              exactly as JSON (``null`` = the tag was absent), which is what undo restores.
- ``begin``   follows a batch's plan rows and commits them: plan rows without their ``begin``
              (killed while they were appended) are ignored, and no file of theirs was touched.
              ``note`` is JSON (kind ``write`` or ``undo``, the batch it undoes, …)
- ``written`` the file was replaced; its new identity
- ``refused`` the file was not written; ``note`` says why
- ``end``     the batch is complete (also appended when an interrupted batch is finished or undone)

Text cells that a spreadsheet would run as a formula get a leading ``'``, as in every CSV this
program writes (:mod:`engine.csv_io`); the reader takes it off the path again.

A batch with ``begin`` and no ``end`` was interrupted (killed, power cut): each of its files holds
either all its old or all its new values, because every file write is atomic
(:mod:`engine.tagging.safewrite`), so it can be finished or undone from its ``plan`` rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from engine.csv_io import CSV_ERRORS, neutralise_formula, restore_formula
from engine.errors import EngineError

COLUMNS = ("batch", "time", "action", "path", "field", "old", "new", "old_raw", "new_raw", "size", "mtime_ns", "note")
ENV_DIR = "CALIBRATION_STUDIO_DATA_DIR"


def default_journal_path() -> Path:
    """``tag-journal.csv`` in the user data folder (``CALIBRATION_STUDIO_DATA_DIR`` overrides it)."""
    folder = os.environ.get(ENV_DIR)
    if not folder:
        from platformdirs import user_data_dir

        folder = user_data_dir("CalibrationStudio", appauthor=False)
    return Path(folder) / "tag-journal.csv"


def new_batch_id() -> str:
    """Sortable by time and unique: ``20261130-221501-3f9a``."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:4]


@dataclass
class PlannedField:
    path: str
    field: str
    old: Any  # Raw (JSON-able; None = absent)
    new: Any
    size: int
    mtime_ns: int


@dataclass
class Batch:
    """A batch as the journal tells it."""

    batch: str
    started: str
    info: dict[str, Any]
    planned: list[PlannedField] = field(default_factory=list)
    written: dict[str, tuple[int, int]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    ended: bool = False

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(p.path for p in self.planned))

    def fields_of(self, path: str) -> list[PlannedField]:
        return [p for p in self.planned if p.path == path]


class JournalBusy(EngineError):
    """Another process is writing, undoing or finishing a tag batch on the same journal."""


def _end_of_torn_row(path: Path) -> str:
    """What ends a row cut by a power loss, so that it cannot swallow the next batch's first row.

    Nothing when the journal ends with a whole row; else a newline, after a closing quote when the
    cut fell inside a quoted cell (the JSON of a ``begin`` note or of an old value): a newline alone
    left the quote open, and the reader ran on into the next row, which lost a field from that
    batch's undo. Whether a quote is open is known only from the start of the file (a quoted cell
    may hold newlines), and it is read only after a cut, which is rare.
    """
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return ""
        handle.seek(0)
        quote_open = handle.read().count(b'"') % 2 == 1  # a quote inside a cell is doubled: parity is the state
    return '"\n' if quote_open else "\n"


class Journal:
    """Append-only; rows are flushed at once, and fsync'ed where the caller asks."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path else default_journal_path()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held for a whole batch, so that two processes (the window and a ``tag`` run) never write
        the same files at once, nor take a batch that is still running for an interrupted one.

        An OS file lock beside the journal (``filelock``): the OS drops it when its holder dies, so
        a killed writer leaves an interrupted batch to finish or undo, never a stale lock.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.path.with_name(self.path.name + ".lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise JournalBusy(
                f"another tag write is running on {self.path} (the window or a 'tag' command); "
                "try again when it has ended"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def busy(self) -> bool:
        """Whether some process holds :meth:`exclusive` now: its batch is running, not interrupted."""
        try:
            with self.exclusive():
                return False
        except JournalBusy:
            return True

    def append(self, rows: Iterable[dict[str, Any]], durable: bool = True) -> None:
        """Append ``rows`` with one ``write()`` call, so a killed process leaves whole rows or none."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        buffer = io.StringIO()
        if not new:
            buffer.write(_end_of_torn_row(self.path))
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, restval="")
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow({"time": stamp, **{k: neutralise_formula(v) for k, v in row.items()}})
        data = memoryview(buffer.getvalue().encode("utf-8", CSV_ERRORS))  # a non-UTF-8 file name: its own bytes
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            while data:
                data = data[os.write(fd, data) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)

    def begin(self, batch: str, info: dict[str, Any], planned: list[PlannedField]) -> None:
        """Record the batch and every old value before any file is touched."""
        from engine.tagging.formats import display

        rows = [
            {
                "batch": batch,
                "action": "plan",
                "path": p.path,
                "field": p.field,
                "old": display(p.old),
                "new": display(p.new),
                "old_raw": json.dumps(p.old),
                "new_raw": json.dumps(p.new),
                "size": p.size,
                "mtime_ns": p.mtime_ns,
            }
            for p in planned
        ]
        rows.append({"batch": batch, "action": "begin", "note": json.dumps(info)})  # last: commits the plan rows
        self.append(rows)

    def written(self, batch: str, path: str, new_identity: tuple[int, int]) -> None:
        size, mtime_ns = new_identity
        self.append([{"batch": batch, "action": "written", "path": path, "size": size, "mtime_ns": mtime_ns}], False)

    def refused(self, batch: str, path: str, reason: str) -> None:
        self.append([{"batch": batch, "action": "refused", "path": path, "note": reason}], False)

    def end(self, batch: str, note: str = "") -> None:
        self.append([{"batch": batch, "action": "end", "note": note}])

    def batches(self) -> list[Batch]:
        """Every batch in journal order; a torn last line (killed mid-append) is ignored."""
        if not self.path.exists():
            return []
        found: dict[str, Batch] = {}
        pending: dict[str, list[PlannedField]] = {}
        # a power cut may end the file inside a character: that row is torn anyway; the same error handler
        # gives a non-UTF-8 file name back as the path it was written from
        with open(self.path, newline="", encoding="utf-8", errors=CSV_ERRORS) as handle:
            for row in csv.DictReader(handle):
                if row.get("path"):
                    row["path"] = restore_formula(row["path"])  # a song named "=x.mp3" was written as "'=x.mp3"
                batch_id, action = row.get("batch") or "", row.get("action") or ""
                if action == "begin":
                    try:
                        info = json.loads(row.get("note") or "{}")
                    except ValueError:
                        continue
                    found[batch_id] = Batch(batch_id, row.get("time") or "", info, pending.pop(batch_id, []))
                    continue
                batch = found.get(batch_id)
                try:
                    if action == "plan":
                        pending.setdefault(batch_id, []).append(
                            PlannedField(
                                row["path"],
                                row["field"],
                                json.loads(row["old_raw"]),
                                json.loads(row["new_raw"]),
                                int(row["size"]),
                                int(row["mtime_ns"]),
                            )
                        )
                    elif batch is None:
                        continue
                    elif action == "written":
                        batch.written[row["path"]] = (int(row["size"]), int(row["mtime_ns"]))
                    elif action == "refused":
                        batch.refused[row["path"]] = row.get("note") or ""
                    elif action == "end":
                        batch.ended = True
                except (KeyError, TypeError, ValueError):
                    continue  # a torn row
        return list(found.values())

    def find(self, batch_id: str) -> Batch | None:
        """A batch by id; ``"last"`` is the newest write batch that has not been undone."""
        batches = self.batches()
        if batch_id == "last":
            undone = {b.info.get("undoes") for b in batches}
            writes = [b for b in batches if b.info.get("kind") == "write" and b.batch not in undone and b.written]
            return writes[-1] if writes else None
        return next((b for b in batches if b.batch == batch_id), None)

    def interrupted(self) -> list[Batch]:
        return [b for b in self.batches() if not b.ended]
