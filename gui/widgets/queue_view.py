"""The queue table view: sortable, multi-select, a progress bar in the status cell while analysing."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from gui.queue_model import PROGRESS_ROLE, Col


class ProgressDelegate(QStyledItemDelegate):
    """Draws the status cell as a thin progress bar under its text while a song is being analysed."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        fraction = index.data(PROGRESS_ROLE)
        if fraction is None or fraction < 0:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(3, 3, -3, -3))
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(1000 * fraction)
        bar.text = index.data()
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Enabled
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class QueueView(QTableView):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(24)
        # Fixed row heights and no per-row size hints keep 10,000 rows smooth.
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setItemDelegateForColumn(int(Col.STATUS), ProgressDelegate(self))
        self.setAcceptDrops(False)  # drops are handled by the window
        self.viewport().setAcceptDrops(False)

    def show_bpm_in_range(self, shown: bool) -> None:
        """The BPM (range) column, beside BPM, only while the user has a BPM range on (Settings)."""
        self.setColumnHidden(int(Col.BPM_IN_RANGE), not shown)

    def configure_columns(self) -> None:
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(int(Col.SONG), QHeaderView.ResizeMode.Stretch)
        widths = {Col.DURATION: 70, Col.STATUS: 130, Col.BPM: 64, Col.KEY: 82, Col.REF_BPM: 70, Col.REF_KEY: 82}
        widths.update({Col.CAL_BPM: 72, Col.CAL_KEY: 82, Col.TIME: 70, Col.CONF: 76, Col.BPM_IN_RANGE: 82})
        for column, width in widths.items():
            self.setColumnWidth(int(column), width)
        header.moveSection(header.visualIndex(int(Col.BPM_IN_RANGE)), header.visualIndex(int(Col.BPM)) + 1)
        self.show_bpm_in_range(False)
        header.setSortIndicatorShown(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # queue order until the user sorts
