"""The tempo along the song: one point per chunk, the song's tempo as a reference, and in words whether it is steady.

A small pyqtgraph plot above the chunk timeline (its time axis linked to it), zoomed around the song's
tempo so that a drift of a few percent is visible at a glance, which the chunk bars, drawn from 0 BPM,
cannot show. Where the engine fitted one constant beat grid (``tempo_stable=1``) the grid's BPM ± its
standard error is drawn as a band; where it did not, the words say the tempo is not constant and that the
click plays tracked beats, not a grid. It draws; the values come from
:func:`gui.inspector.song_evidence.tempo_curve` and :func:`~gui.inspector.song_evidence.tempo_words`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.widgets.plot_style import make_plot

CURVE_COLOUR = QColor(201, 209, 217)
STEADY_COLOUR = QColor(63, 185, 80)
DRIFT_COLOUR = QColor(227, 179, 65)
MIN_SPAN = 0.03
"""The plot shows at least the song's tempo ± 3 %: a steady song's chunk-to-chunk jitter (a few tenths of a
BPM) stays flat, a 4 % rise fills the plot."""
PLOT_HEIGHT = 64
AXIS_WIDTH = 56
"""Both plots' left axes get this width, so that their x-linked time axes also line up on screen."""
"""Small, so that the chunk plot under it still shows its bars and labels in the tab at 1366×768."""


@dataclass(frozen=True)
class TempoShown:
    """What the tempo view shows (plain values, compared to skip redraws)."""

    times: tuple[float, ...] = ()
    bpms: tuple[float, ...] = ()
    song_bpm: float | None = None
    stable: bool | None = None
    bpm_error: float | None = None
    words: str = ""


class TempoView(QWidget):
    """The tempo curve and its words, above the inspector's chunk timeline."""

    def __init__(self, timeline: pg.PlotWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = make_plot("", "BPM", "")
        self.plot.setMinimumHeight(PLOT_HEIGHT)
        self.plot.setMaximumHeight(PLOT_HEIGHT + 16)
        self.plot.setAcceptDrops(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setXLink(timeline)
        for plot in (self.plot, timeline):
            plot.getPlotItem().getAxis("left").setWidth(AXIS_WIDTH)
        self.plot.setToolTip(
            "Tempo along the song: one point per chunk (moved by octaves to the song's level).\n"
            "Line: the song's BPM; green band: the beat grid's BPM ± its error, where the song has one."
        )
        self.curve = pg.PlotDataItem([], [], pen=pg.mkPen(CURVE_COLOUR, width=1.5), symbol="o", symbolSize=5)
        self.curve.setSymbolBrush(pg.mkBrush(CURVE_COLOUR))
        self.song_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(STEADY_COLOUR, width=1))
        band_colour = QColor(STEADY_COLOUR)
        band_colour.setAlpha(70)
        self.band = pg.LinearRegionItem(orientation="horizontal", movable=False, brush=pg.mkBrush(band_colour))
        for item in (self.band, self.song_line, self.curve):
            self.plot.addItem(item)
        self.song_line.hide()
        self.band.hide()
        self.words = QLabel("")
        self.words.setWordWrap(True)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Two lines, always: a label that grows or shrinks with its words re-lays out the inspector, and
        # every pyqtgraph view in it re-computes its range on the resize (a 30-80 ms stall, measured).
        self.words.setFixedHeight(2 * self.words.fontMetrics().lineSpacing() + 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.words)
        layout.addWidget(self.plot)
        self.shown = TempoShown()

    def show_tempo(self, shown: TempoShown) -> None:
        """Redraw only what changed (this runs after every batch of engine events while a song is analysed)."""
        if shown == self.shown:
            return
        self.shown = shown
        self.curve.setData(list(shown.times), list(shown.bpms))
        reference = shown.song_bpm
        self.song_line.setVisible(bool(reference))
        if reference:
            self.song_line.setValue(reference)
            self.song_line.setPen(pg.mkPen(STEADY_COLOUR if shown.stable else DRIFT_COLOUR, width=1))
        error = shown.bpm_error
        self.band.setVisible(bool(shown.stable and reference and error is not None))
        if shown.stable and reference is not None and error is not None:
            self.band.setRegion((reference - error, reference + error))
        centre = reference or (sum(shown.bpms) / len(shown.bpms) if shown.bpms else 120.0)
        far = max([abs(b - centre) for b in shown.bpms] + [0.0])
        half = max(MIN_SPAN * centre, 1.25 * far)
        self.plot.setYRange(centre - half, centre + half, padding=0)
        colour = STEADY_COLOUR if shown.stable else DRIFT_COLOUR
        self.words.setText(shown.words)
        self.words.setToolTip(shown.words)  # all of it, should two lines not hold it
        self.words.setStyleSheet(f"color: {colour.name()}" if shown.words else "")
