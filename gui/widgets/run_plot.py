"""Live plot 2: the whole run. Chunk wall times as they finish (coloured by worker) above the
cumulative progress, with the throughput (× realtime) in the title."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.run_stats import RunStats
from gui.widgets.plot_style import FAILED_COLOUR, TIMEOUT_COLOUR, WorkerPalette, make_plot, set_title


class RunPlot(QWidget):
    def __init__(self, palette: WorkerPalette, parent: QWidget | None = None):
        super().__init__(parent)
        self._palette = palette
        self.durations = make_plot("Chunk durations", "seconds", "run time (s)")
        self.progress = make_plot("Progress", "% done", "run time (s)")
        self.progress.setYRange(0, 100, padding=0.02)
        self.progress.setXLink(self.durations)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.durations, 3)
        layout.addWidget(self.progress, 2)
        self.scatter = pg.ScatterPlotItem(size=7, pen=None)
        self.durations.addItem(self.scatter)
        self.curve = self.progress.plot(
            [], [], pen=pg.mkPen((88, 166, 255), width=2), fillLevel=0, brush=(88, 166, 255, 50)
        )
        self._drawn = 0

    def reset(self) -> None:
        self._drawn = 0
        self.scatter.clear()
        self.curve.setData([], [])
        set_title(self.durations, "Chunk durations")

    def redraw(self, stats: RunStats, now: float) -> None:
        """Add the chunks that finished since the last call (appending keeps this O(new points))."""
        new = stats.chunk_points[self._drawn :]
        if new:
            spots = []
            for point in new:
                if point.status == "ok":
                    colour = self._palette.colour(point.pid)
                    symbol = "o"
                else:
                    colour = TIMEOUT_COLOUR if point.status == "timeout" else FAILED_COLOUR
                    symbol = "x"
                spots.append({"pos": (point.at, point.seconds), "brush": pg.mkBrush(colour), "symbol": symbol})
            self.scatter.addPoints(spots)
            self._drawn = len(stats.chunk_points)
        if stats.progress_points:
            xs = [p[0] for p in stats.progress_points]
            ys = [100.0 * p[1] for p in stats.progress_points]
            if stats.finished_at is None and stats.started_at is not None:
                xs.append(stats.run_seconds(now))
                ys.append(100.0 * stats.fraction_done)
            self.curve.setData(xs, ys)
        rt = stats.realtime_factor(now)
        set_title(self.durations, "Chunk durations" + (f" — throughput {rt:.1f}× realtime" if rt else ""))

    @property
    def point_count(self) -> int:
        return self._drawn
