"""*File ▸ Export to rekordbox… / Traktor…*: choose the values, preview what changes, then save.

The choices are the ``export`` command's (:class:`engine.selection.Choice`: values, only, key notation,
``--into`` their collection) and the songs are chosen by the same code from the same ``results.csv``
the window would export (:meth:`~engine.calibration.session.CalibrationSession.export_window` into a
temporary folder, then :func:`engine.selection.select`), so the window and the command cannot
disagree. The preview is the writer's own dry run (:func:`engine.references.writers.preview.preview_export`);
both it and the write run off the GUI thread (``run_task`` / ``run_write``). The writers write
atomically and never overwrite the collection merged into: a failed save leaves any earlier file as it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.references.writers import export_collection
from engine.references.writers.preview import ExportPreview, preview_export
from engine.results import SongResult
from engine.selection import Choice, Selection, select
from engine.settings import BpmRange
from engine.wording import plural
from gui.tasks import run_task, run_write

PROGRAMS = {
    "rekordbox": ("rekordbox", "rekordbox XML (*.xml)", ".xml"),
    "traktor": ("Traktor", "Traktor NML (*.nml)", ".nml"),
}
VALUE_CHOICES = (
    ("analysed", "Analysed values"),
    ("calibrated", "Calibrated values"),
    ("verified", "Verified: your verdicts, else analysed"),
)
ONLY_CHOICES = (
    ("all", "All songs"),
    ("agreeing", "Songs agreeing with the reference"),
    ("verified", "Songs you verified"),
)
NOTATION_CHOICES = (("classic", "Classic (Am, F#)"), ("camelot", "Camelot (8A)"), ("openkey", "Open Key (1m)"))
WINDOW_NOTATIONS = {"classic": "classic", "camelot": "camelot", "open key": "openkey"}
"""The window's key notation preference → the writers' name for it (the dialog's default)."""


@dataclass
class ExportSource:
    """What the export is made from, captured on the GUI thread when the dialog opens."""

    results: list[SongResult]
    session: Any
    """The window's :class:`~engine.calibration.session.CalibrationSession` (reference, fit, verdicts)."""
    settings: Any
    summary: Any
    bpm_range: BpmRange | None = None
    before: dict[str, tuple[float | None, str]] = field(default_factory=dict)
    """Each song's reference BPM and key, by path: what it has "now" when there is no collection to merge into."""


def choose_songs(source: ExportSource, values: str, only: str) -> Selection:
    """The songs and values the ``export`` command would choose from the window's results (off the GUI thread)."""
    with tempfile.TemporaryDirectory(prefix="calibration-studio-export-") as folder:
        source.session.export_window(folder, source.results, source.settings, source.summary)
        return select(folder, Choice(values=values, only=only, bpm_range=source.bpm_range))


class DjExportDialog(QDialog):
    """``exported(report, error)``: the save finished (``error`` empty) or failed (nothing was written)."""

    exported = Signal(object, str)
    previewed = Signal()

    def __init__(
        self,
        fmt: str,
        source: ExportSource,
        notation: str = "classic",
        start_dir: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.fmt, self.source, self.start_dir = fmt, source, start_dir
        program, self.file_filter, self.suffix = PROGRAMS[fmt]
        self.setWindowTitle(f"Export to {program}")
        self.resize(900, 560)
        self.preview: ExportPreview | None = None
        self.selection: Selection | None = None
        self.error = ""
        self.writing = False
        self._generation = 0
        self.ask_path: Callable[[], str] = self._ask_path
        """Where to save (a save dialog; tests replace it)."""
        self.ask_collection: Callable[[], str] = self._ask_collection
        self.values = _combo(VALUE_CHOICES)
        self.only = _combo(ONLY_CHOICES)
        self.notation = _combo(NOTATION_CHOICES, WINDOW_NOTATIONS.get(notation, notation))
        self.merge = QCheckBox("Merge into my collection:")
        self.merge.setToolTip(
            f"Start from your own exported {program} collection: only the BPM, key and grid of these songs change;\n"
            "playlists, cues, ratings, colours, comments and other tracks are kept. Your file is never overwritten."
        )
        self.collection = QLineEdit()
        self.collection.setPlaceholderText(f"your exported {program} collection ({self.suffix})")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_collection)
        merge_row = QHBoxLayout()
        merge_row.addWidget(self.merge)
        merge_row.addWidget(self.collection, 1)
        merge_row.addWidget(choose)
        form = QFormLayout()
        form.addRow("Values:", self.values)
        form.addRow("Songs:", self.only)
        form.addRow("Key notation:", self.notation)
        form.addRow("", merge_row)
        if source.bpm_range is not None:
            form.addRow("BPM range:", QLabel(f"{source.bpm_range.low:g}–{source.bpm_range.high:g} (Settings)"))
        self.table = QTableWidget(0, 5)
        now = "now: the value in your collection when merging, else the loaded reference's; — for none"
        headers = (
            ("Song", "title and artist (the path is in each song's tooltip)"),
            ("BPM now → written", now),
            ("Key now → written", now),
            ("Grid", "a beat grid is written only where one was measured"),
            ("Change", "for a merge: updated in your collection, or added to it"),
        )
        for column, (text, tip) in enumerate(headers):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            self.table.setHorizontalHeaderItem(column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.summary = QLabel("Choosing the songs…")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("Save As…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        for combo in (self.values, self.only, self.notation):
            combo.currentIndexChanged.connect(self.refresh)
        self.merge.toggled.connect(self.refresh)
        self.collection.editingFinished.connect(self.refresh)
        self.refresh()

    # -- choices and preview ---------------------------------------------------------------------
    def into(self) -> Path | None:
        text = self.collection.text().strip()
        return Path(text) if self.merge.isChecked() and text else None

    def set_collection(self, path: str | Path) -> None:
        """Merge into ``path`` (the Choose… button, and tests)."""
        self.collection.setText(str(path))
        if self.merge.isChecked():
            self.refresh()
        else:
            self.merge.setChecked(True)

    def refresh(self) -> None:
        """Choose the songs and dry-run the export off the GUI thread; a newer request wins."""
        self._generation += 1
        generation = self._generation
        self.save_button.setEnabled(False)
        self.summary.setText("Choosing the songs…")
        source, fmt, into = self.source, self.fmt, self.into()
        values, only, notation = self.values.currentData(), self.only.currentData(), self.notation.currentData()

        def work() -> tuple[Selection, ExportPreview]:
            selection = choose_songs(source, values, only)
            return selection, preview_export(selection.songs, fmt, into, notation, source.before)

        def done(result: Any, error: BaseException | None) -> None:
            if generation == self._generation:
                self._show(result, error)

        run_task(work, done, owner=self)

    def _show(self, result: tuple[Selection, ExportPreview] | None, error: BaseException | None) -> None:
        self.table.setRowCount(0)
        self.preview = self.selection = None
        if error is not None or result is None:
            self.error = str(error)
            self.summary.setText(f"Cannot export: {error}")
            self.previewed.emit()
            return
        self.error = ""
        self.selection, self.preview = result
        rows = self.preview.changes
        self.table.setRowCount(len(rows))
        for number, change in enumerate(rows):
            song = f"{change.artist} – {change.title}" if change.artist else change.title
            action = ("updated" if change.in_collection else "added") if self.preview.merge else "new"
            cells = (
                song,
                _arrow(_bpm(change.old_bpm), _bpm(change.new_bpm)),
                _arrow(change.old_key, change.new_key),
                "yes" if change.grid else "no",
                action,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setToolTip(change.path)
                self.table.setItem(number, column, item)
        self.summary.setText(self._summary_text())
        self.save_button.setEnabled(bool(rows) and not self.writing)
        self.previewed.emit()

    def _summary_text(self) -> str:
        assert self.preview is not None and self.selection is not None and self.preview.report is not None
        report = self.preview.report
        notes = [*self.selection.notes, *report.notes]  # report.notes: songs a collection cannot name
        chosen = "".join(f"Note: {note}. " for note in notes) + self.selection.summary()
        if not self.preview.merge:
            return f"{chosen}. A new collection of {plural(report.added, 'track')}, {report.grids} with a beat grid."
        parts = [
            f"In your collection: {plural(report.updated, 'track')} updated (BPM, key, grid)",
            f"{report.added} added",
            f"{report.kept} kept exactly as they were",
            f"{plural(report.playlists, 'playlist')} kept",
        ]
        if report.locked:
            parts.append(f"{report.locked} locked in {PROGRAMS[self.fmt][0]} and left alone")
        return f"{chosen}. " + ", ".join(parts) + "."

    # -- saving ----------------------------------------------------------------------------------
    def save(self) -> None:
        if self.preview is None or self.writing:
            return
        target = self.ask_path()
        if not target:
            return
        to = Path(target)
        if not to.suffix:
            to = to.with_suffix(self.suffix)
        songs, fmt, into, notation = list(self.preview.songs), self.fmt, self.into(), self.notation.currentData()
        self.writing = True
        self.save_button.setEnabled(False)
        self.summary.setText(f"Writing {to}…")
        run_write(lambda _progress: export_collection(songs, to, fmt, into, notation), self._written, owner=self)

    def _written(self, report: Any, error: BaseException | None) -> None:
        self.writing = False
        self.save_button.setEnabled(self.preview is not None)
        if error is not None:
            self.summary.setText(f"Not written: {error}")
            self.exported.emit(None, str(error))
            return
        self.exported.emit(report, "")
        self.accept()

    def _ask_path(self) -> str:
        program = PROGRAMS[self.fmt][0]
        start = str(Path(self.start_dir or Path.home()) / f"Calibration Studio {program}{self.suffix}")
        path, _ = QFileDialog.getSaveFileName(self, f"Save the {program} collection", start, self.file_filter)
        return path

    def _ask_collection(self) -> str:
        path, _ = QFileDialog.getOpenFileName(
            self, "Your exported collection", self.start_dir or str(Path.home()), self.file_filter
        )
        return path

    def _choose_collection(self) -> None:
        path = self.ask_collection()
        if path:
            self.set_collection(path)

    def reject(self) -> None:
        if not self.writing:  # the write finishes (it is atomic): closing now would hide its outcome
            super().reject()


def _combo(choices: tuple[tuple[str, str], ...], current: str | None = None) -> QComboBox:
    combo = QComboBox()
    for value, text in choices:
        combo.addItem(text, value)
    if current is not None:
        combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


def _bpm(value: float | None) -> str:
    return f"{value:.2f}" if value else ""


def _arrow(old: str, new: str) -> str:
    """``"83.00 → 166.00"``; ``"—"`` stands for nothing (no value before, or the field is left as it is)."""
    if not new:
        return f"{old or '—'} (kept)" if old else "—"
    return f"{old or '—'} → {new}"
