"""Live plot 1: the current song's chunks, one bar each (wall seconds), coloured by worker.

Bars appear as chunks finish; chunks still running show as outlined bars that grow with
their elapsed time; timeouts and failures are drawn in red/orange with a cross on top.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.results import ChunkResult, ChunkStatus
from gui.widgets.plot_style import FAILED_COLOUR, TIMEOUT_COLOUR, WorkerPalette, make_plot, set_title


def set_bars(item: pg.BarGraphItem, x: list, heights: list, brushes: list, pens: list) -> None:
    """``BarGraphItem.setOpts`` with per-bar colours; pyqtgraph 0.14 fails on empty per-bar pen lists."""
    if not x:
        item.setOpts(x=[], height=[], pens=None, brushes=None)
    else:
        item.setOpts(x=x, height=heights, pens=pens, brushes=brushes)


class ChunkPlot(QWidget):
    def __init__(self, palette: WorkerPalette, parent: QWidget | None = None):
        super().__init__(parent)
        self._palette = palette
        self.plot = make_plot("Current song: chunk wall time", "seconds", "chunk")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.running_bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.marks = pg.ScatterPlotItem(symbol="x", size=12, pen=pg.mkPen(TIMEOUT_COLOUR, width=2))
        for item in (self.bars, self.running_bars, self.marks):
            self.plot.addItem(item)
        self.song = ""
        self.chunks_total = 0
        self.finished: dict[int, ChunkResult] = {}
        self.running: dict[int, tuple[int, float]] = {}  # chunk -> (pid, started monotonic)

    def start_song(self, name: str, chunks_total: int) -> None:
        self.song, self.chunks_total = name, chunks_total
        self.finished.clear()
        self.running.clear()
        if self.isVisible():  # hidden, it catches up when its tab is shown (the presenter redraws then)
            self.redraw(0.0)

    def chunk_started(self, chunk: int, pid: int, now: float) -> None:
        self.running[chunk] = (pid, now)

    def chunk_finished(self, result: ChunkResult) -> None:
        self.running.pop(result.index, None)
        self.finished[result.index] = result

    def redraw(self, now: float) -> None:
        """Rebuild the bar items from the current state (a few dozen bars: cheap)."""
        total = self.chunks_total
        set_title(self.plot, f"{self.song}: {total} chunk{'s' if total != 1 else ''}" if self.song else "")
        if getattr(self, "_x_span", None) != total:
            self._x_span = total
            self.plot.setXRange(-0.6, max(total, 1) - 0.4, padding=0)
        done = sorted(self.finished.values(), key=lambda c: c.index)
        brushes, pens = [], []
        for chunk in done:
            if chunk.status is ChunkStatus.OK:
                colour = self._palette.colour(chunk.worker_pid)
            elif chunk.status is ChunkStatus.TIMEOUT:
                colour = TIMEOUT_COLOUR
            else:
                colour = FAILED_COLOUR
            brushes.append(pg.mkBrush(colour))
            pens.append(pg.mkPen(colour.darker(140)))
        set_bars(self.bars, [c.index for c in done], [max(c.seconds, 0.001) for c in done], brushes, pens)
        bad = [c for c in done if c.status is not ChunkStatus.OK]
        self.marks.setData(x=[c.index for c in bad], y=[c.seconds for c in bad])
        running = sorted(self.running.items())
        set_bars(
            self.running_bars,
            [chunk for chunk, _ in running],
            [max(now - since, 0.001) for _, (_, since) in running],
            [pg.mkBrush(0, 0, 0, 0)] * len(running),
            [pg.mkPen(self._palette.colour(pid), width=1.5, style=Qt.PenStyle.DashLine) for _, (pid, _) in running],
        )

    @property
    def bar_count(self) -> int:
        """Finished chunks drawn (tests read this)."""
        return len(self.finished)
