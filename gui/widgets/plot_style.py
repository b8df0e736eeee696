"""Shared look of the pyqtgraph plots: colours per worker and per status, and one axis style."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

WORKER_COLOURS = (
    QColor(88, 166, 255),
    QColor(63, 185, 80),
    QColor(210, 153, 34),
    QColor(188, 140, 255),
    QColor(57, 197, 207),
    QColor(255, 123, 114),
    QColor(219, 97, 162),
    QColor(139, 148, 158),
)
TIMEOUT_COLOUR = QColor(248, 81, 73)
FAILED_COLOUR = QColor(255, 166, 87)
BACKGROUND = QColor(22, 27, 34)
FOREGROUND = QColor(201, 209, 217)


class WorkerPalette:
    """A stable colour per worker pid, in order of first appearance (a rebuilt pool gets new colours)."""

    def __init__(self) -> None:
        self._colours: dict[int, QColor] = {}

    def colour(self, pid: int | None) -> QColor:
        if pid is None:
            return WORKER_COLOURS[-1]
        if pid not in self._colours:
            self._colours[pid] = WORKER_COLOURS[len(self._colours) % (len(WORKER_COLOURS) - 1)]
        return self._colours[pid]

    def reset(self) -> None:
        self._colours.clear()


def make_plot(title: str = "", left: str = "", bottom: str = "") -> pg.PlotWidget:
    """A plot widget in the app's dark style and no mouse-wheel surprises.

    No grid: pyqtgraph paints grid lines in every axis repaint, which measured as the window's
    largest stall during a run (p99 30-40 ms with a grid, 11 ms without; bench/gui_latency.py).
    """
    widget = pg.PlotWidget(background=BACKGROUND)
    item = widget.getPlotItem()
    if title:
        item.setTitle(title, color=FOREGROUND.name(), size="10pt")
    for name, text in (("left", left), ("bottom", bottom)):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(FOREGROUND))
        axis.setTextPen(pg.mkPen(FOREGROUND))
        axis.enableAutoSIPrefix(False)  # "seconds (x0.001)" reads worse than 0.3
        if text:
            item.setLabel(name, text)
    item.setMenuEnabled(False)
    widget.setMinimumHeight(140)
    return widget


def set_title(widget: pg.PlotWidget, text: str) -> None:
    """Change a plot's title only when it differs: ``setTitle`` re-lays out the whole plot item."""
    if getattr(widget, "_shown_title", None) != text:
        widget._shown_title = text
        widget.getPlotItem().setTitle(text, color=FOREGROUND.name(), size="10pt")
