"""*Write Tags…*, *Undo Last Write* and the interrupted-batch offer: the window's side of ``engine.tagging``.

The dialog reads the current tags and shows file, field, current → new (unchanged files hidden,
refused ones with their reason); nothing is written until *Write* is pressed. Reading the tags of
thousands of files and writing them both run off the GUI thread; the window stays live.
Reading runs through :func:`gui.tasks.run_task`, writing and undoing through
:func:`gui.tasks.run_write` (one write at a time, waited for when the window closes). The *Tags*
menu is :mod:`gui.features.tags_feature`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from engine.settings import BpmRange
from engine.tagging.batch import Tagger
from engine.tagging.journal import Journal, JournalBusy
from engine.tagging.notation import NOTATIONS
from engine.tagging.tag_plan import Plan, Wanted, build_plan
from engine.wording import file_name, plural
from gui.tasks import run_task, run_write

PREVIEW_ROWS_SHOWN = 5000
"""Rows put in the preview table; the summary line counts all of them (a 50,000-row table is slow)."""


class LazyCache:
    """The results cache, opened on first use off the GUI thread; one that cannot be opened is skipped.

    The window must open even when the cache cannot be (a full disk, a locked file): tag writing
    then neither checks identities against it nor re-keys it.
    """

    def __init__(self, path: Path | None):
        self.path = path
        self._cache: Any = None
        self._lock = threading.Lock()
        self.error = ""

    def _get(self) -> Any:
        with self._lock:
            if self._cache is None and not self.error:
                from engine.run.cache import ResultsCache

                try:
                    self._cache = ResultsCache(self.path)
                except Exception as exc:  # sqlite3 and OS errors: tag writing goes on without the cache
                    self.error = str(exc)
            return self._cache

    def analysed(self, path: str) -> list[tuple[int, int]] | None:
        """For :func:`build_plan`: None (no check) when the cache does not know the song."""
        cache = self._get()
        return (cache.identities(path) or None) if cache is not None else None

    def rekey(self, path: str, old: tuple[int, int], new: tuple[int, int]) -> int:
        cache = self._get()
        return cache.rekey(path, old, new) if cache is not None else 0


def tagger_for(data_dir: Path, cache_path: Path | None) -> Tagger:
    return Tagger(Journal(Path(data_dir) / "tag-journal.csv"), LazyCache(cache_path))


class TagDialog(QDialog):
    """Preview and confirm; ``written(report)`` when a batch finished."""

    written = Signal(object)

    def __init__(
        self, songs: list[Any], tagger: Tagger, parent: QWidget | None = None, bpm_range: BpmRange | None = None
    ):
        super().__init__(parent)
        self.bpm_range = bpm_range
        """The user's BPM range (Settings): the BPM written is folded into it, as the queue shows it."""
        self.setWindowTitle(f"Write Tags — {plural(len(songs), 'song')}")
        self.resize(860, 520)
        self.songs, self.tagger = songs, tagger
        self.plan: Plan | None = None
        self._generation = 0
        self._stop = threading.Event()
        self.writing = False
        self.source = QComboBox()
        self.source.addItems(["Analysed values", "Calibrated values"])
        self.notation = QComboBox()
        self.notation.addItems(NOTATIONS)
        self.bpm_box, self.key_box = QCheckBox("BPM"), QCheckBox("Key")
        self.bpm_box.setChecked(True)
        self.key_box.setChecked(True)
        self.only_empty = QCheckBox("Only fill empty tags")
        fields = QHBoxLayout()
        for box in (self.bpm_box, self.key_box, self.only_empty):
            fields.addWidget(box)
        form = QFormLayout()
        form.addRow("Values", self.source)
        form.addRow("Key notation", self.notation)
        form.addRow("Tags", fields)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["File", "Tag", "Current", "New"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the file name gets the room
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # a long name keeps its start (artist) and its end (title, extension): "Artist – Long…Title.flac"
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary = QLabel("Reading the current tags…")
        self.progress = QProgressBar()
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.write_button = self.buttons.addButton("Write Tags", QDialogButtonBox.ButtonRole.AcceptRole)
        self.write_button.setEnabled(False)
        self.buttons.rejected.connect(self.reject)
        self.write_button.clicked.connect(self.write)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        for widget in (self.source, self.notation):
            widget.currentIndexChanged.connect(self.refresh)
        for box in (self.bpm_box, self.key_box, self.only_empty):
            box.toggled.connect(self.refresh)
        self.refresh()

    def wanted(self) -> list[Wanted]:
        calibrated = self.source.currentIndex() == 1
        fold = self.bpm_range.fold if self.bpm_range is not None else (lambda bpm: bpm)
        return [
            Wanted(s.path, fold(s.cal_bpm if calibrated else s.bpm), (s.cal_key if calibrated else s.key) or "")
            for s in self.songs
        ]

    def refresh(self) -> None:
        """Re-plan off the GUI thread; a newer request wins over one still reading."""
        self._generation += 1
        generation = self._generation
        self.write_button.setEnabled(False)
        self.summary.setText("Reading the current tags…")
        fields = tuple(f for f, box in (("bpm", self.bpm_box), ("key", self.key_box)) if box.isChecked())
        wanted, notation, only_empty = self.wanted(), self.notation.currentText(), self.only_empty.isChecked()
        cache = self.tagger.cache
        analysed = cache.analysed if isinstance(cache, LazyCache) else None

        def plan() -> Plan:
            return build_plan(wanted, notation, fields, only_empty, analysed)

        def done(result: Plan | None, error: BaseException | None) -> None:
            if isValid(self) and generation == self._generation:  # a newer plan or a closed window wins
                self._show_plan(result, error)

        run_task(plan, done, owner=self)

    def _show_plan(self, plan: Plan | None, error: BaseException | None) -> None:
        self.plan = plan
        self.table.setRowCount(0)
        if error is not None or plan is None:
            self.summary.setText(f"Cannot read the tags: {error}")
            return
        rows = [(f.path, "-", "", f"refused: {f.refusal}", True) for f in plan.refused]
        rows += [(f.path, c.field, c.old_text or "(none)", c.new_text, False) for f in plan.writable for c in f.changes]
        self.table.setRowCount(min(len(rows), PREVIEW_ROWS_SHOWN))
        for row, (path, name, old, new, refused) in enumerate(rows[:PREVIEW_ROWS_SHOWN]):
            for column, text in enumerate((file_name(path), name, old, new)):
                item = QTableWidgetItem(text)
                item.setToolTip(path if column == 0 else text)
                if refused:
                    item.setForeground(QColor("#b00020"))
                self.table.setItem(row, column, item)
        tags = sum(len(f.changes) for f in plan.writable)
        self.summary.setText(
            f"{plural(tags, 'tag')} to write in {plural(len(plan.writable), 'file')}; {len(plan.refused)} refused; "
            f"{plan.unchanged} already up to date. Every write is journaled and can be undone."
        )
        self.write_button.setEnabled(bool(plan.writable))

    def write(self) -> None:
        plan = self.plan
        if plan is None or not plan.writable:
            return
        for widget in (self.write_button, self.source, self.notation, self.bpm_box, self.key_box, self.only_empty):
            widget.setEnabled(False)
        self.progress.setRange(0, len(plan.writable))
        self.progress.show()
        self.writing = True
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText("Stop")  # stops between files: each file is written whole or not at all
        self.buttons.rejected.disconnect(self.reject)
        self.buttons.rejected.connect(self._stop.set)
        info = {
            "source": "window",
            "calibrated": self.source.currentIndex() == 1,
            "notation": self.notation.currentText(),
        }

        def work(report_progress):
            return self.tagger.write(
                plan, info, progress=lambda i, n, _o: report_progress(i + 1, n), stop=self._stop.is_set
            )

        def written(report, error) -> None:
            if isValid(self):
                self._written(report, error)

        def progressed(done: int, _total: int) -> None:
            if isValid(self):
                self.progress.setValue(done)

        run_write(work, written, progressed)

    def reject(self) -> None:
        if self.writing:  # Esc or the window's close button while files are written: stop, then close
            self._stop.set()
            return
        super().reject()

    def _written(self, report, error: BaseException | None) -> None:
        self.writing = False
        self.progress.hide()
        self.buttons.clear()
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close).clicked.connect(self.accept)
        if isinstance(error, JournalBusy):  # refused before the first file: nothing to undo
            self.summary.setText(f"Nothing was written: {error}.")
            return
        if error is not None:
            self.summary.setText(f"The write stopped: {error}. Files already written stay in the journal (undoable).")
            return
        refused = [o for o in report.outcomes if o.status == "refused"]
        self.summary.setText(
            f"Batch {report.batch}: {plural(report.count('written'), 'file')} written, {len(refused)} refused. "
            "Tags ▸ Undo Last Write puts the old values back."
        )
        self.table.setRowCount(len(refused))
        for row, outcome in enumerate(refused):
            for column, text in enumerate((file_name(outcome.path), "-", "", f"refused: {outcome.reason}")):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.written.emit(report)


def undo_last(
    window: QWidget, tagger: Tagger, done: Callable[[Any], None] | None = None, say: Callable[[str], None] | None = None
) -> None:
    """Ask, then undo the newest write batch off the GUI thread."""
    batch = tagger.journal.find("last")
    if batch is None:
        QMessageBox.information(window, "Undo Last Write", "No tag write to undo.")
        return
    answer = QMessageBox.question(
        window,
        "Undo Last Write",
        f"Put back the tags of {plural(len(batch.written), 'file')} written in batch {batch.batch}?",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return
    run_write(lambda _p: tagger.undo(batch.batch), lambda r, e: _tell(window, "Undo", r, e, done, say))


def offer_interrupted(
    window: QWidget, tagger: Tagger, done: Callable[[Any], None] | None = None, say: Callable[[str], None] | None = None
) -> None:
    """At start: a batch a crash interrupted can be finished or undone (or left for later)."""
    pending = tagger.interrupted()
    if not pending:
        return
    batch = pending[-1]
    box = QMessageBox(window)
    box.setWindowTitle("Interrupted tag write")
    box.setText(
        f"Writing tags (batch {batch.batch}, {batch.started}) was interrupted after {len(batch.written)} "
        f"of {plural(len(batch.files), 'file')}. Each file holds either its old or its new tags."
    )
    finish = box.addButton("Finish Writing", QMessageBox.ButtonRole.AcceptRole)
    undo = box.addButton("Undo", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    if clicked is finish:
        run_write(lambda _p: tagger.finish(batch.batch), lambda r, e: _tell(window, "Finish", r, e, done, say))
    elif clicked is undo:
        run_write(lambda _p: tagger.undo(batch.batch), lambda r, e: _tell(window, "Undo", r, e, done, say))


def _tell(
    window: QWidget,
    what: str,
    report: Any,
    error: BaseException | None,
    done: Callable[[Any], None] | None,
    say: Callable[[str], None] | None = None,
) -> None:
    if not isValid(window):  # the window closed while the batch ran: the journal has the outcome
        return
    if error is not None:
        QMessageBox.warning(window, f"{what} failed", str(error))
    else:
        refused = [f"{file_name(o.path)}: {o.reason}" for o in report.outcomes if o.status == "refused"]
        verb = "restored" if what == "Undo" else "written"  # an undo puts the old tags back
        text = f"{plural(report.count('written'), 'file')} {verb}, {len(refused)} refused."
        if say is not None:
            say(f"Tags: {what.lower()}: {text}")
        if refused:
            QMessageBox.warning(window, what, text + "\n\n" + "\n".join(refused[:20]))
    if done is not None:
        done(report)
