"""Pool status: each worker process, what it is working on and for how long, and the run's
pool rebuilds and timeouts. This is the monitoring the system we replace never had: a stuck
chunk shows here as a growing "for" time long before its deadline kills it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.wording import file_name
from gui.run_stats import RunStats
from gui.widgets.plot_style import WorkerPalette

COLUMNS = ("Worker pid", "Song", "Chunk", "For")


class PoolView(QWidget):
    def __init__(self, palette: WorkerPalette, parent: QWidget | None = None):
        super().__init__(parent)
        self._palette = palette
        self.summary = QLabel("Pool not started")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (0, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)

    def refresh(self, pids: Sequence[int], stats: RunStats, rebuilds: int, now: float) -> None:
        """Redraw from the live worker list and the run's numbers (called a few times a second)."""
        known = sorted(set(pids) | set(stats.tasks))
        if self.table.rowCount() != len(known):
            self.table.setRowCount(len(known))
        for row, pid in enumerate(known):
            task = stats.tasks.get(pid)
            name = file_name(task.song) if task else "idle"
            if task and stats.current_index is not None and task.song_index > stats.current_index:
                name += " (next song, started early)"
            chunk = f"{task.chunk + 1}/{task.chunks_total}" if task and task.chunks_total else ""
            since = f"{now - task.since:.1f} s" if task else ""
            for column, text in enumerate((str(pid), name, chunk, since)):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, column, item)
                if item.text() != text:
                    item.setText(text)
            first = self.table.item(row, 0)
            if first is not None:
                first.setForeground(QBrush(self._palette.colour(pid)))
        state = "warming up" if stats.warming else ("running" if stats.started_at and not stats.finished_at else "idle")
        self.summary.setText(
            f"{len(pids)} worker process{'es' if len(pids) != 1 else ''} ({state}) · "
            f"busy {stats.busy_workers} · pool rebuilds {rebuilds} · workers replaced {stats.replacements} · "
            f"timeouts {stats.timeouts} · failed chunks {stats.chunk_failures}"
        )
