"""Plot 3, after calibration: detected vs reference BPM (log axes, guide lines at ×1, ×2, ×½)
and a bar chart of key relations (raw next to calibrated)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from engine.references.scoring import KEY_RELATIONS, tempo_ratio_class
from gui.widgets.plot_style import FOREGROUND, make_plot

CLASS_COLOURS = {"same": (63, 185, 80), "octave": (210, 153, 34), "other": (248, 81, 73)}
RELATION_COLOURS = {
    "same": (63, 185, 80),
    "fifth": (88, 166, 255),
    "relative": (210, 153, 34),
    "parallel": (188, 140, 255),
    "other": (248, 81, 73),
}
BPM_RANGE = (30.0, 300.0)
CLASS_BRUSHES = {name: pg.mkBrush(*colour, 220) for name, colour in CLASS_COLOURS.items()}
"""One shared brush per class: the scatter is redrawn during runs, and a brush per point cost ms."""


class CalibrationPlots(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scatter_plot = make_plot("Detected vs reference BPM", "detected BPM", "reference BPM")
        self.scatter_plot.setLogMode(x=True, y=True)
        self.keys_plot = make_plot("Key relation to reference (solid: raw, outlined: calibrated)", "songs", "")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scatter_plot, 3)
        layout.addWidget(self.keys_plot, 2)
        low, high = BPM_RANGE
        for factor, style in ((1.0, (FOREGROUND, 1)), (2.0, ((210, 153, 34), 1)), (0.5, ((210, 153, 34), 1))):
            pen = pg.mkPen(style[0], width=style[1], dash=[4, 4] if factor != 1.0 else None)
            self.scatter_plot.plot([low, high], [low * factor, high * factor], pen=pen)
        for factor, label in ((2.0, "×2"), (0.5, "×½")):
            text = pg.TextItem(label, color=(210, 153, 34), anchor=(0, 1))
            text.setPos(math.log10(90), math.log10(90 * factor))
            self.scatter_plot.addItem(text)
        ticks = [[(math.log10(v), str(v)) for v in (40, 60, 80, 100, 120, 160, 200, 240)]]
        for name in ("left", "bottom"):
            self.scatter_plot.getPlotItem().getAxis(name).setTicks(ticks)
        self.scatter_plot.setXRange(math.log10(low), math.log10(high))
        self.scatter_plot.setYRange(math.log10(low), math.log10(high))
        # a PlotDataItem, not a bare ScatterPlotItem: only the former follows the plot's log mode
        self.points = self.scatter_plot.plot([], [], pen=None, symbol="o", symbolSize=8, symbolPen=(0, 0, 0, 120))
        self._count = 0
        self.raw_bars = pg.BarGraphItem(x=[], height=[], width=0.38)
        self.cal_bars = pg.BarGraphItem(x=[], height=[], width=0.38)
        self.keys_plot.addItem(self.raw_bars)
        self.keys_plot.addItem(self.cal_bars)
        axis = self.keys_plot.getPlotItem().getAxis("bottom")
        axis.setTicks([list(enumerate(KEY_RELATIONS))])

    def set_tempo(self, pairs: Sequence[tuple[float, float]]) -> None:
        """``(reference, detected)`` BPM pairs; coloured exact / octave / wrong."""
        xs, ys, brushes = [], [], []
        for reference, detected in pairs:
            if not reference or not detected or reference <= 0 or detected <= 0:
                continue
            klass = tempo_ratio_class(detected, reference)
            xs.append(reference)
            ys.append(detected)
            brushes.append(CLASS_BRUSHES["same" if klass == "same" else "other" if klass == "other" else "octave"])
        self.points.setData(xs, ys, symbolBrush=brushes)
        self._count = len(xs)

    def set_keys(self, raw: dict[str, int], calibrated: dict[str, int] | None = None) -> None:
        """Counts per relation (same, fifth, relative, parallel, other); calibrated drawn beside raw."""
        xs = list(range(len(KEY_RELATIONS)))
        raw_heights = [raw.get(r, 0) for r in KEY_RELATIONS]
        brushes = [pg.mkBrush(*RELATION_COLOURS[r], 200) for r in KEY_RELATIONS]
        if calibrated is None:
            self.raw_bars.setOpts(x=xs, height=raw_heights, width=0.7, brushes=brushes)
            self.cal_bars.setOpts(x=[], height=[])
            return
        self.raw_bars.setOpts(x=[x - 0.2 for x in xs], height=raw_heights, width=0.38, brushes=brushes)
        cal_heights = [calibrated.get(r, 0) for r in KEY_RELATIONS]
        hatched = [pg.mkBrush(*RELATION_COLOURS[r], 90) for r in KEY_RELATIONS]
        pens = [pg.mkPen(*RELATION_COLOURS[r], width=1.5) for r in KEY_RELATIONS]
        self.cal_bars.setOpts(x=[x + 0.2 for x in xs], height=cal_heights, width=0.38, brushes=hatched, pens=pens)

    @property
    def point_count(self) -> int:
        return self._count
