"""Review and fix the pairing by hand: unmatched songs beside unmatched reference rows.

Each unmatched song lists its ranked candidate rows with the reason each was not taken
("different version: remix (chromatics) vs original", "duration 9:00 vs 4:17", "ambiguous …").
The user pairs a song with a candidate (or with any unmatched row), says a song has no row, or
unpairs a pair; every decision is saved to ``pairs.csv`` at once (see :mod:`gui.pairing_decisions`)
and :attr:`PairingReviewPanel.pairsChanged` asks the window to match again.

:func:`install_pairing_review` hooks the panel into the main window as a dock with a menu
action, so the window itself needs only two lines (install, and ``refresh()`` after a match).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.errors import EngineError
from engine.references.readers import REFERENCE_SUFFIXES, ReferenceRow
from engine.wording import file_name, plural
from gui.pairing_decisions import PairingReview

SONG_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1


def row_text(row: ReferenceRow) -> str:
    values = ", ".join(v for v in (f"{row.bpm:g} BPM" if row.bpm else "", row.key or "") if v)
    return f"{row.where()}: {row.describe()}" + (f" ({values})" if values else "")


class PairingReviewPanel(QWidget):
    pairsChanged = Signal()
    """A decision was saved, or references/pairs were loaded: match again, then call :meth:`refresh`."""

    def __init__(self, review: PairingReview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review = review
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.add_reference_button = QPushButton("Add Reference File…")
        self.add_reference_button.clicked.connect(self.choose_reference)
        self.load_pairs_button = QPushButton("Load pairs.csv…")
        self.load_pairs_button.clicked.connect(self.choose_pairs)
        top = QHBoxLayout()
        top.addWidget(self.where, 1)
        top.addWidget(self.add_reference_button)
        top.addWidget(self.load_pairs_button)

        self.songs = QTreeWidget()
        self.songs.setHeaderLabels(["Unmatched song / candidate row", "Score", "Why not taken"])
        self.songs.setColumnWidth(0, 320)
        self.rows = QTreeWidget()
        self.rows.setHeaderLabels(["Unmatched reference row"])
        self.rows.setRootIsDecorated(False)
        self.paired = QTreeWidget()
        self.paired.setHeaderLabels(["Song", "Reference row", "How", "Score"])
        self.paired.setRootIsDecorated(False)
        self.paired.setColumnWidth(0, 260)
        self.paired.setColumnWidth(1, 320)
        for tree in (self.songs, self.rows, self.paired):
            tree.setAlternatingRowColors(True)
        sides = QSplitter(Qt.Orientation.Horizontal)
        sides.addWidget(self.songs)
        sides.addWidget(self.rows)
        sides.setStretchFactor(0, 3)
        sides.setStretchFactor(1, 2)
        upper_and_lower = QSplitter(Qt.Orientation.Vertical)
        upper_and_lower.addWidget(sides)
        upper_and_lower.addWidget(self.paired)

        self.pair_button = QPushButton("Pair Selected")
        self.pair_button.setToolTip("Pair the selected song with the selected candidate or unmatched row")
        self.pair_button.clicked.connect(self.pair_selected)
        self.no_row_button = QPushButton("Song Has No Row")
        self.no_row_button.clicked.connect(self.decline_selected)
        self.unpair_button = QPushButton("Unpair")
        self.unpair_button.setToolTip("Undo the selected pair: the song is kept unmatched")
        self.unpair_button.clicked.connect(self.unpair_selected)
        self.forget_button = QPushButton("Let Matching Decide")
        self.forget_button.setToolTip("Drop your decision for the selected song; automatic pairing decides again")
        self.forget_button.clicked.connect(self.forget_selected)
        buttons = QHBoxLayout()
        for button in (self.pair_button, self.no_row_button, self.unpair_button, self.forget_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(upper_and_lower, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        for tree in (self.songs, self.rows, self.paired):
            tree.itemSelectionChanged.connect(self._update_buttons)
        self.refresh()

    # -- showing ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the session's current match (call after every match)."""
        review = self.review
        path = review.pairs_path
        self.where.setText(f"Your decisions are saved to {path}" if path else "Load a reference file to review pairs")
        self.songs.clear()
        for song in review.unmatched_songs():
            item = QTreeWidgetItem([file_name(song.path), "", "you said: no row" if song.declined else ""])
            item.setToolTip(0, song.path)
            item.setData(0, SONG_ROLE, song.path)
            for candidate in song.candidates:
                child = QTreeWidgetItem([row_text(candidate.row), f"{candidate.score:.2f}", candidate.why])
                child.setToolTip(2, candidate.why)
                child.setData(0, SONG_ROLE, song.path)
                child.setData(0, ROW_ROLE, candidate.row)
                item.addChild(child)
            self.songs.addTopLevelItem(item)
            item.setExpanded(True)
        self.rows.clear()
        for row in review.unmatched_rows():
            item = QTreeWidgetItem([row_text(row)])
            item.setData(0, ROW_ROLE, row)
            self.rows.addTopLevelItem(item)
        self.paired.clear()
        for pair in review.paired():
            score = f"{pair.score:.2f}" if pair.method == "fuzzy" else ""
            item = QTreeWidgetItem([file_name(pair.path), row_text(pair.row), pair.method, score])
            item.setToolTip(0, pair.path)
            item.setData(0, SONG_ROLE, pair.path)
            self.paired.addTopLevelItem(item)
        self._update_buttons()

    def _selected(self, tree: QTreeWidget, role: int) -> Any:
        items = tree.selectedItems()
        return items[0].data(0, role) if items else None

    def _update_buttons(self) -> None:
        song = self._selected(self.songs, SONG_ROLE)
        row = self._selected(self.songs, ROW_ROLE) or self._selected(self.rows, ROW_ROLE)
        self.pair_button.setEnabled(bool(song) and row is not None)
        self.no_row_button.setEnabled(bool(song))
        paired_song = self._selected(self.paired, SONG_ROLE)
        self.unpair_button.setEnabled(bool(paired_song))
        decided = paired_song or song
        self.forget_button.setEnabled(bool(decided) and self.review.decision_for(decided) is not None)

    # -- deciding ----------------------------------------------------------------------------------
    def pair_selected(self) -> None:
        song = self._selected(self.songs, SONG_ROLE)
        row = self._selected(self.songs, ROW_ROLE) or self._selected(self.rows, ROW_ROLE)
        if song and row is not None:
            self._decide(lambda: self.review.pair(song, row), f"paired {file_name(song)} with {row.where()}")

    def decline_selected(self) -> None:
        song = self._selected(self.songs, SONG_ROLE)
        if song:
            self._decide(lambda: self.review.unpair(song), f"{file_name(song)}: no reference row")

    def unpair_selected(self) -> None:
        song = self._selected(self.paired, SONG_ROLE)
        if song:
            self._decide(lambda: self.review.unpair(song), f"unpaired {file_name(song)}")

    def forget_selected(self) -> None:
        song = self._selected(self.paired, SONG_ROLE) or self._selected(self.songs, SONG_ROLE)
        if song:
            self._decide(lambda: self.review.forget(song), f"{file_name(song)}: automatic pairing decides")

    def _decide(self, action: Any, what: str) -> None:
        try:
            path = action()
        except (OSError, ValueError) as exc:
            self.status.setText(f"Not saved: {exc}")
            return
        self.status.setText(f"{what}; saved to {path.name}")
        self.pairsChanged.emit()

    # -- files -------------------------------------------------------------------------------------
    def choose_reference(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add Reference File", "", REFERENCE_FILTER)
        if path:
            self.add_reference(Path(path))

    def add_reference(self, path: Path) -> bool:
        try:
            reference = self.review.session.add_reference(path)
        except (EngineError, OSError) as exc:
            QMessageBox.warning(self, "Cannot load reference", str(exc))
            return False
        rows, files = plural(len(reference.rows), "row"), plural(len(reference.fingerprints), "file")
        self.status.setText(f"added {path.name}: {rows} from {files}")
        self.review.load_beside_reference()
        self.pairsChanged.emit()
        return True

    def choose_pairs(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load pairs.csv", "", "Pairs (*.csv)")
        if path:
            self.load_pairs(Path(path))

    def load_pairs(self, path: Path) -> bool:
        try:
            errors = self.review.load(path)
        except (EngineError, OSError) as exc:
            QMessageBox.warning(self, "Cannot load pairs", str(exc))
            return False
        problems = f"; {len(errors)} lines ignored: {errors[0]}" if errors else ""
        self.status.setText(f"loaded {plural(len(self.review.session.manual), 'decision')} from {path.name}{problems}")
        self.pairsChanged.emit()
        return True


REFERENCE_FILTER = f"Reference files ({' '.join('*' + s for s in REFERENCE_SUFFIXES)});;All files (*)"
"""Playlist exports, rekordbox collection XML, Traktor collection.nml, iTunes/Apple Music Library.xml."""
