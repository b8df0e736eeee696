"""Verdicts in the window: each one a ``QUndoCommand``, saved to ``reference_corrections.csv`` at once.

Redo appends the verdict; undo appends a row that restores what was in force before (the earlier
verdict, or a withdrawal). The file therefore always holds the full history, is only ever
appended to (one ``fsync`` per row, :class:`~engine.calibration.corrections.CorrectionLog`), and
reading it back gives exactly the state the window showed, undo included.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engine.calibration.corrections import Correction, CorrectionLog, CorrectionsError, Verdicts
from engine.wording import file_name

FIELD_WORDS = {"bpm": "reference BPM", "key": "reference key", "exclude": "exclude", "confirmed": "confirm detection"}


class VerdictStore(QObject):
    """The verdicts in force for the loaded reference, the undo stack over them, and their file."""

    changed = Signal(str)  # song path ("" after a reload)
    failed = Signal(str)  # a verdict could not be saved: the message says where and why

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.log: CorrectionLog | None = None
        self.verdicts = Verdicts()

    @property
    def path(self) -> Path | None:
        return self.log.path if self.log is not None else None

    def open(self, path: Path | None) -> list[str]:
        """Use the corrections file at ``path`` (read it if it exists); returns the warnings it gave."""
        self.undo_stack.clear()
        self.log = CorrectionLog(path) if path is not None else None
        warnings: list[str] = []
        try:
            self.verdicts = self.log.verdicts() if self.log is not None else Verdicts()
            warnings = list(self.verdicts.warnings)
        except CorrectionsError as exc:
            self.verdicts = Verdicts()
            warnings = [str(exc)]
        self.changed.emit("")
        return warnings

    def record(self, path: str, field: str, reference: str, corrected: str, reason: str = "") -> bool:
        """Make a verdict (undoable); ``False`` when there is no file to keep it in."""
        if self.log is None:
            self.failed.emit("load a reference first: verdicts are kept beside it in reference_corrections.csv")
            return False
        before = self.verdicts.get(path, field)
        after = Correction(path, field, reference, corrected, reason)
        self.undo_stack.push(_VerdictCommand(self, before, after))
        return True

    def write(self, correction: Correction) -> None:
        """Append one row and apply it (called by the undo commands only)."""
        assert self.log is not None
        try:
            self.log.append(correction)
        except CorrectionsError as exc:
            self.failed.emit(str(exc))
            return
        self.verdicts.apply(correction)
        self.changed.emit(correction.path)


class _VerdictCommand(QUndoCommand):
    def __init__(self, store: VerdictStore, before: Correction | None, after: Correction) -> None:
        name = file_name(after.path)
        word = FIELD_WORDS[after.field]
        text = f"{word} {after.corrected} for {name}" if after.field in ("bpm", "key") else f"{word}: {name}"
        super().__init__(text)
        self.store, self.before, self.after = store, before, after

    def redo(self) -> None:
        self.store.write(self.after)

    def undo(self) -> None:
        if self.before is not None:
            self.store.write(Correction(**{**self.before.__dict__, "time": ""}))
        else:
            self.store.write(Correction(self.after.path, self.after.field, self.after.reference, "", "undone"))
