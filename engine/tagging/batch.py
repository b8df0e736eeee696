"""Carry out a tag batch: journal first, then one atomic rewrite per file; undo and finish from the journal.

Order per file (each step safe to be killed after): the ``plan`` rows with the old values are in
the journal (fsync'ed) -> the file is replaced atomically -> its cached analysis is re-keyed to the
new (size, mtime_ns) -> a ``written`` row. Recovery never trusts the last two steps: it reads the
file's tags and sees whether they hold the batch's old or its new values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.tagging.formats import Raw, TagFile, UnsupportedFile
from engine.tagging.journal import Batch, Journal, PlannedField, new_batch_id
from engine.tagging.safewrite import Refused, identity, remove_leftovers, rewrite, sync_folders
from engine.tagging.tag_plan import Plan


@dataclass
class FileOp:
    """One file's atomic rewrite: each field goes from ``old`` (checked) to ``new``."""

    path: str
    fields: list[tuple[str, Raw, Raw]]
    expected: tuple[int, int]


@dataclass
class Outcome:
    path: str
    status: str  # "written", "refused", "already" (held the target values already)
    reason: str = ""


@dataclass
class Report:
    batch: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


Progress = Callable[[int, int, Outcome], None]


class Tagger:
    """Writes, undoes and finishes batches against one journal and (optionally) one results cache."""

    def __init__(self, journal: Journal | None = None, cache: Any = None):
        self.journal = journal or Journal()
        self.cache = cache  # engine.run.cache.ResultsCache or None

    # ---- the three ways a batch is made ----------------------------------------------------------
    def write(
        self,
        plan: Plan,
        info: dict[str, Any] | None = None,
        progress: Progress | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Report:
        ops = [FileOp(f.path, [(c.field, c.old, c.new) for c in f.changes], f.identity) for f in plan.writable]
        with self.journal.exclusive():
            report = self._run({"kind": "write", **(info or {})}, ops, progress, stop)
        report.outcomes += [Outcome(f.path, "refused", f.refusal) for f in plan.refused]
        return report

    def undo(self, batch_id: str, progress: Progress | None = None) -> Report:
        """Put back every value ``batch_id`` replaced, absent tags included; a file changed since is refused."""
        with self.journal.exclusive():
            return self._undo(batch_id, progress)

    def finish(self, batch_id: str, progress: Progress | None = None) -> Report:
        """Complete an interrupted batch: write the files it had not reached, record the ones it had."""
        with self.journal.exclusive():
            return self._finish(batch_id, progress)

    def interrupted(self) -> list[Batch]:
        """Batches begun and never ended; none while another process holds the journal (it is running)."""
        return [] if self.journal.busy() else self.journal.interrupted()

    # ---- machinery ---------------------------------------------------------------------------------
    def _undo(self, batch_id: str, progress: Progress | None) -> Report:
        batch = self.journal.find(batch_id)
        if batch is None:
            what = "no tag write left to undo" if batch_id == "last" else f"no tag batch {batch_id!r}"
            raise LookupError(f"{what} in {self.journal.path}")
        remove_leftovers({Path(p).parent for p in batch.files})
        ops, skipped = [], []
        paths = batch.files if not batch.ended else [p for p in batch.files if p in batch.written]
        for path in paths:
            planned = batch.fields_of(path)
            state, current = _state(path, planned)
            if state == "new":
                ops.append(FileOp(path, [(p.field, p.new, p.old) for p in planned], current))
            elif state == "old":
                skipped.append(Outcome(path, "already"))
            else:
                skipped.append(Outcome(path, "refused", state))
        report = self._run({"kind": "undo", "undoes": batch.batch}, ops, progress)
        if not batch.ended:
            self.journal.end(batch.batch, f"interrupted; undone by {report.batch}")
        report.outcomes += skipped
        return report

    def _finish(self, batch_id: str, progress: Progress | None) -> Report:
        batch = self.journal.find(batch_id)
        if batch is None:
            raise LookupError(f"no tag batch {batch_id!r} in {self.journal.path}")
        if batch.ended:
            raise LookupError(f"tag batch {batch.batch} is complete: nothing to finish")
        remove_leftovers({Path(p).parent for p in batch.files})
        report = Report(batch.batch)
        todo = [p for p in batch.files if p not in batch.written and p not in batch.refused]
        for index, path in enumerate(todo):
            planned = batch.fields_of(path)
            state, current = _state(path, planned)
            before = (planned[0].size, planned[0].mtime_ns)
            if state == "new":  # replaced before the kill, not yet recorded
                self._rekey(path, before, current)
                self.journal.written(batch.batch, path, current)
                outcome = Outcome(path, "already")
            elif state == "old":
                op = FileOp(path, [(p.field, p.old, p.new) for p in planned], before)
                outcome = self._write_one(batch.batch, op)
            else:
                self.journal.refused(batch.batch, path, state)
                outcome = Outcome(path, "refused", state)
            report.outcomes.append(outcome)
            if progress:
                progress(index, len(todo), outcome)
        sync_folders({Path(o.path).resolve().parent for o in report.outcomes if o.status == "written"})
        self.journal.end(batch.batch, "interrupted; finished")
        return report

    def _run(
        self,
        info: dict[str, Any],
        ops: list[FileOp],
        progress: Progress | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Report:
        batch = new_batch_id()
        planned = [PlannedField(op.path, name, old, new, *op.expected) for op in ops for name, old, new in op.fields]
        self.journal.begin(batch, {**info, "files": len(ops)}, planned)
        report = Report(batch)
        for index, op in enumerate(ops):
            if stop is not None and stop():
                for rest in ops[index:]:
                    self.journal.refused(batch, rest.path, "stopped before this file")
                    report.outcomes.append(Outcome(rest.path, "refused", "stopped before this file"))
                break
            outcome = self._write_one(batch, op)
            report.outcomes.append(outcome)
            if progress:
                progress(index, len(ops), outcome)
        sync_folders({Path(o.path).resolve().parent for o in report.outcomes if o.status == "written"})
        self.journal.end(batch)
        return report

    def _write_one(self, batch: str, op: FileOp) -> Outcome:
        def edit(copy: Path) -> None:
            tag_file = TagFile(copy)
            for name, old, new in op.fields:
                if tag_file.get(name) != old:
                    raise Refused(f"its {name} tag changed since it was read")
                tag_file.put(name, new)
            tag_file.save()

        try:
            new_identity = rewrite(op.path, op.expected, edit, sync_folder=False)  # folders: once per batch
        except (Refused, UnsupportedFile) as exc:
            self.journal.refused(batch, op.path, str(exc))
            return Outcome(op.path, "refused", str(exc))
        except Exception as exc:  # mutagen could not save this file: that file only
            reason = f"the tags could not be written: {type(exc).__name__}: {exc}"
            self.journal.refused(batch, op.path, reason)
            return Outcome(op.path, "refused", reason)
        self._rekey(op.path, op.expected, new_identity)
        self.journal.written(batch, op.path, new_identity)
        return Outcome(op.path, "written")

    def _rekey(self, path: str, old: tuple[int, int], new: tuple[int, int]) -> None:
        if self.cache is not None and old != new:
            self.cache.rekey(path, old, new)


def _state(path: str, planned: list[PlannedField]) -> tuple[str, tuple[int, int]]:
    """``"old"`` or ``"new"`` when the file holds all of the batch's old or new values, else why not."""
    try:
        current_identity = identity(path)
        tag_file = TagFile(path)
        current = {p.field: tag_file.get(p.field) for p in planned}
    except FileNotFoundError:
        return "the file is gone (moved or deleted)", (0, 0)
    except (OSError, UnsupportedFile) as exc:
        return f"cannot read its tags: {exc}", (0, 0)
    if all(current[p.field] == p.new for p in planned):
        return "new", current_identity
    if all(current[p.field] == p.old for p in planned):
        return "old", current_identity
    return "its tags changed since the batch (they hold neither the old nor the new values)", current_identity
