"""Finding what to review: a disagreements filter on the queue and previous/next disagreement.

The filter uses the window's own sort/filter proxy (filter role :data:`DISAGREE_ROLE` on the
BPM column, which every field it depends on repaints), so the table keeps its sorting and selection code untouched.
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel
from PySide6.QtWidgets import QTableView

from gui.queue_model import DISAGREE_ROLE, Col

__all__ = ["DISAGREE_ROLE", "ReviewNavigator"]


class ReviewNavigator:
    def __init__(self, table: QTableView, proxy: QSortFilterProxyModel) -> None:
        self.table, self.proxy = table, proxy

    def set_filter(self, on: bool) -> None:
        """Show only songs whose tempo class or key relation is known and not ``same``."""
        self.proxy.setFilterKeyColumn(int(Col.BPM))
        self.proxy.setFilterRole(DISAGREE_ROLE)
        self.proxy.setFilterFixedString("1" if on else "")

    def step(self, direction: int) -> bool:
        """Select the next (``+1``) or previous (``-1``) disagreement in table order; ``False`` at the end."""
        rows = self.proxy.rowCount()
        current = self.table.currentIndex().row() if self.table.currentIndex().isValid() else -1
        row = current + direction if current >= 0 else (0 if direction > 0 else rows - 1)
        while 0 <= row < rows:
            index = self.proxy.index(row, int(Col.BPM))
            if index.data(DISAGREE_ROLE) == "1":
                self.table.setCurrentIndex(self.proxy.index(row, int(Col.SONG)))
                self.table.selectRow(row)
                self.table.scrollTo(index)
                return True
            row += direction
        return False
