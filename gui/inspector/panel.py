"""The inspector panel: one song's evidence, a transport with a click track, and the verdict buttons.

It draws; it decides nothing. :class:`gui.features.inspector_feature.Inspector` feeds it a
:class:`SongView` (built on the GUI thread from engine events and the calibration session) and
wires its signals to the verdict store and the player.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.calibration.corrections import Correction
from engine.wording import file_name, readable
from gui.inspector.song_evidence import (
    LOW_CONFIDENCE,
    ChunkBar,
    TempoCandidate,
    confidence_text,
    local_time,
    show_key,
    tempo_curve,
    tempo_words,
)
from gui.inspector.tempo_view import TempoShown, TempoView
from gui.widgets.plot_style import FAILED_COLOUR, TIMEOUT_COLOUR, make_plot, set_title

OK_COLOUR = QColor(88, 166, 255)
REF_COLOUR = QColor(227, 179, 65)
MIN_TABLE_HEIGHT = 72
"""The candidate tables shrink to this (header and two rows, scrolled) before the panel scrolls."""
NO_POSITION = "–:–– / –:––"
"""The player line before a song is decoded: never the previous song's position and length."""


@dataclass
class SongView:
    """Everything the panel shows about one song (plain values; the controller fills it)."""

    path: str = ""
    status: str = ""
    duration_s: float = 0.0
    bpm: float | None = None
    bpm_confidence: float | None = None
    key: str = ""
    key_confidence: float | None = None
    chunks: list[ChunkBar] = field(default_factory=list)
    chunks_total: int = 0
    tempo: list[TempoCandidate] = field(default_factory=list)
    keys: list[tuple[str, float]] = field(default_factory=list)
    ref_bpm: float | None = None
    ref_key: str = ""
    ref_bpm_given: float | None = None
    ref_key_given: str = ""
    match_method: str = ""
    ref_source: str = ""
    verdicts: dict[str, Correction] = field(default_factory=dict)
    title: str = ""
    artist: str = ""
    tempo_stable: bool | None = None
    """One constant beat grid explains the song; ``None`` until the song's result is known."""
    beat_grid_start_s: float | None = None
    bpm_error: float | None = None

    @property
    def name(self) -> str:
        return file_name(self.path)

    @property
    def heading(self) -> str:
        """``Artist – Title`` where the tags give them, else the file name."""
        if self.title and self.artist:
            return f"{self.artist} – {self.title}"
        return self.title or self.name


class InspectorPanel(QWidget):
    seekRequested = Signal(float)  # play from here (a clicked chunk's start)
    playToggled = Signal()
    clickChanged = Signal(bool, object)  # on, bpm (None = detected)
    bpmVerdict = Signal(float, str)  # corrected reference BPM, how ("×2", "typed" …)
    keyVerdict = Signal(str)
    excludeRequested = Signal(str)  # reason
    confirmRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = SongView()
        self.notation = "classic"
        self.summary = QLabel("Select a song to inspect it")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = make_plot("Chunks along the song", "chunk BPM", "seconds")
        self.plot.setAcceptDrops(False)
        self.plot.setToolTip(
            "One bar per chunk: height = its BPM, opacity = its confidence; red/orange = timed out/failed.\n"
            "Solid line: detected BPM; dashed: reference BPM. Click to play from a chunk."
        )
        self.bars = pg.BarGraphItem(x0=[], width=[], height=[], y0=[])
        self.bad = pg.BarGraphItem(x0=[], width=[], height=[], y0=[])
        self.detected_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(OK_COLOUR, width=1.5))
        self.ref_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(REF_COLOUR, width=1.5, style=Qt.PenStyle.DashLine))
        self.playhead = pg.InfiniteLine(angle=90, pen=pg.mkPen("w", width=1))
        self.labels: list[pg.TextItem] = []
        for item in (self.bars, self.bad, self.detected_line, self.ref_line, self.playhead):
            self.plot.addItem(item)
        for line in (self.detected_line, self.ref_line, self.playhead):
            line.hide()
        self.plot.scene().sigMouseClicked.connect(self._plot_clicked)
        self.tempo_view = TempoView(self.plot)

        self.tempo_table = _table(("BPM", "strength", "vs detected"))
        self.key_table = _table(("key", "score"))
        self.tempo_table.cellDoubleClicked.connect(lambda row, _c: self._use_candidate_click(row))

        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play or pause (Space); click the timeline to play from a chunk")
        self.play_button.clicked.connect(self.playToggled)
        self.click_box = QCheckBox("Click at")
        self.click_box.toggled.connect(self._click_changed)
        self.click_tempo = QComboBox()
        self.click_tempo.currentIndexChanged.connect(lambda _i: self._click_changed())
        self.position_label = QLabel(NO_POSITION)
        self.player_note = QLabel("")
        self.player_note.setWordWrap(True)

        self.bpm_edit = QLineEdit()
        self.bpm_edit.setPlaceholderText("BPM")
        self.bpm_edit.setMaximumWidth(70)
        self.bpm_edit.returnPressed.connect(self._typed_bpm)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("reason (optional; saved with the verdict)")
        self.verdict_buttons: dict[str, QPushButton] = {}
        verdicts = QGridLayout()
        verdicts.addWidget(QLabel("Reference BPM is wrong:"), 0, 0)
        for column, (text, factor) in enumerate((("×2", 2.0), ("×½", 0.5), ("×⅔", 2 / 3), ("×3/2", 1.5)), start=1):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, f=factor, t=text: self._scaled_bpm(f, t))
            verdicts.addWidget(button, 0, column)
            self.verdict_buttons[text] = button
        verdicts.addWidget(self.bpm_edit, 0, 5)
        set_bpm = QPushButton("Set")
        set_bpm.clicked.connect(self._typed_bpm)
        verdicts.addWidget(set_bpm, 0, 6)
        key_button = QPushButton("Reference key = selected candidate")
        key_button.clicked.connect(self.pick_key)
        exclude = QPushButton("Exclude from calibration")
        exclude.clicked.connect(lambda: self.excludeRequested.emit(self.reason_edit.text().strip()))
        confirm = QPushButton("Detection confirmed")
        confirm.clicked.connect(self.confirmRequested)
        self.verdict_buttons.update(key=key_button, exclude=exclude, confirm=confirm)
        verdicts.addWidget(key_button, 1, 0, 1, 3)
        verdicts.addWidget(exclude, 1, 3, 1, 2)
        verdicts.addWidget(confirm, 1, 5, 1, 2)
        verdicts.addWidget(self.reason_edit, 2, 0, 1, 7)

        transport = QHBoxLayout()
        for widget in (self.play_button, self.click_box, self.click_tempo, self.position_label):
            transport.addWidget(widget)
        transport.addStretch(1)
        tables = QHBoxLayout()
        tables.addWidget(self.tempo_table, 3)
        tables.addWidget(self.key_table, 2)
        # What the user acts on comes first: at 1366×768 the inspector tab is ~300 px high, and Play and the
        # verdict buttons below the candidate tables were under the fold. The tables take what is left.
        for table in (self.tempo_table, self.key_table):
            table.setMinimumHeight(MIN_TABLE_HEIGHT)
        right = QVBoxLayout()
        right.setSpacing(3)
        right.addWidget(self.summary)
        right.addLayout(transport)
        right.addWidget(self.player_note)
        right.addLayout(verdicts)
        right.addLayout(tables, 1)
        layout = _TabHighLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        left = QVBoxLayout()
        left.setSpacing(2)
        # the tempo first: the right column makes the panel taller than the tab at 1366×768, and what is
        # at the bottom of this column is under the fold (the chunk plot's own seconds axis already was)
        left.addWidget(self.tempo_view)
        left.addWidget(self.plot, 1)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    # -- showing ------------------------------------------------------------------------------------
    # The inspector follows the song being analysed, so show_song runs after every batch of engine
    # events. Each part below redraws only when what it shows has changed, and the timeline reuses its
    # text items: adding and removing scene items and re-laying out a plot title per chunk were the
    # inspector's share of the GUI stalls measured by bench/gui_latency.py.
    def show_song(self, view: SongView) -> None:
        same_song = view.path == self.view.path
        self.view = view
        self._show_summary()
        self._show_timeline()
        self._show_tempo()
        self._show_candidates(keep_click=same_song)

    def set_notation(self, notation: str) -> None:
        self.notation = notation
        self.show_song(self.view)

    def _show_summary(self) -> None:
        text = self._summary_text()
        if text != self.summary.text():
            self.summary.setText(text)

    def _summary_text(self) -> str:
        v, n = self.view, self.notation
        if not v.path:
            return "Select a song to inspect it"
        shown_file = f" <small>({_html(v.name)})</small>" if v.heading != v.name else ""
        lines = [f"<b>{_html(v.heading)}</b>{shown_file} — {v.status or 'queued'}"]
        if v.chunks_total:
            done = len(v.chunks)
            lines[0] += f" ({done}/{v.chunks_total} chunks)" if done < v.chunks_total else ""
        detected = (f"{v.bpm:.2f} BPM" if v.tempo_stable else f"{v.bpm:.1f} BPM") if v.bpm else "no BPM"
        if v.bpm_confidence is not None and v.bpm:
            detected += f" (confidence {confidence_text(v.bpm_confidence)})"
        key = show_key(v.key, n) or "no key"
        if v.key and v.key_confidence is not None:
            key += f" (confidence {confidence_text(v.key_confidence)})"
        lines.append(f"Detected: {detected}, {_html(key)}")
        if v.match_method:
            ref = [f"{v.ref_bpm:g} BPM" if v.ref_bpm else "no BPM", show_key(v.ref_key, n) or "no key"]
            given = []
            if "bpm" in v.verdicts and v.ref_bpm_given:
                given.append(f"{v.ref_bpm_given:g} BPM")
            if "key" in v.verdicts and v.ref_key_given:
                given.append(show_key(v.ref_key_given, n))
            text = f"Reference: {', '.join(ref)} — paired by {v.match_method}"
            if v.ref_source:
                text += f" ({_html(v.ref_source)})"
            if given:
                text += f"; as given: {', '.join(given)}"
            lines.append(text)
        else:
            lines.append("Reference: none paired with this song")
        for name, verdict in v.verdicts.items():
            word = {
                "bpm": f"reference BPM corrected to {verdict.corrected}",
                "key": f"reference key corrected to {show_key(verdict.corrected, n)}",
                "exclude": "excluded from calibration",
                "confirmed": "detection confirmed",
            }[name]
            reason = f": {_html(verdict.reason)}" if verdict.reason else ""
            lines.append(f"<span style='color:#e3b341'>{word} by you {local_time(verdict.time)}{reason}</span>")
        return "<br>".join(lines)

    def _show_timeline(self) -> None:
        v = self.view
        shown = (tuple(v.chunks), v.bpm, v.ref_bpm, v.duration_s, v.heading, self.notation)
        if shown == self._timeline_shown:
            return
        self._timeline_shown = shown
        ok = [c for c in v.chunks if c.status == "ok" and c.bpm]
        bad = [c for c in v.chunks if c.status != "ok"]
        brushes = [pg.mkBrush(_alpha(OK_COLOUR, c.confidence)) for c in ok]
        _set_spans(self.bars, [c.start_s for c in ok], [c.end_s - c.start_s for c in ok], [c.bpm for c in ok], brushes)
        top = max([c.bpm or 0 for c in ok] + [v.bpm or 0, v.ref_bpm or 0, 60.0]) * 1.15
        bad_brushes = [pg.mkBrush(TIMEOUT_COLOUR if c.status == "timeout" else FAILED_COLOUR) for c in bad]
        _set_spans(
            self.bad, [c.start_s for c in bad], [c.end_s - c.start_s for c in bad], [top] * len(bad), bad_brushes
        )
        self._show_chunk_labels(v.chunks, top)
        for line, value in ((self.detected_line, v.bpm), (self.ref_line, v.ref_bpm)):
            line.setVisible(bool(value))
            if value:
                line.setValue(value)
        span = max([v.duration_s] + [c.end_s for c in v.chunks] + [1.0])
        ranges = (span, top)
        if ranges != self._ranges_shown:
            self._ranges_shown = ranges
            self.plot.setXRange(0, span, padding=0.02)
            self.plot.setYRange(0, top, padding=0)
        # named as the header names it; the chunk count is in the summary: no re-layout per chunk
        set_title(self.plot, v.heading or "no song")

    _timeline_shown: tuple = ()
    _ranges_shown: tuple = ()

    def _show_tempo(self) -> None:
        v = self.view
        times, bpms = tempo_curve(v.chunks, v.bpm)
        words = tempo_words(v.tempo_stable, v.bpm, v.bpm_error, v.beat_grid_start_s)
        self.tempo_view.show_tempo(TempoShown(tuple(times), tuple(bpms), v.bpm, v.tempo_stable, v.bpm_error, words))

    def _show_chunk_labels(self, chunks: list[ChunkBar], top: float) -> None:
        """One text item per chunk, reused from song to song (scene inserts are the costly part)."""
        while len(self.labels) < len(chunks):
            label = pg.TextItem("", anchor=(0.5, 1.0))
            self.plot.addItem(label)
            self.labels.append(label)
        for label, c in zip(self.labels, chunks, strict=False):
            ok = c.status == "ok" and bool(c.bpm)
            text = f"{c.bpm:.0f}\n{show_key(c.key, self.notation)}" if ok else c.status
            if label.toPlainText() != text:
                label.setText(text, color="w" if c.status == "ok" else TIMEOUT_COLOUR)
            label.setPos((c.start_s + c.end_s) / 2, (c.bpm or top * 0.5) if c.status == "ok" else top * 0.5)
            label.setVisible(True)
        for label in self.labels[len(chunks) :]:
            label.setVisible(False)

    def _show_candidates(self, keep_click: bool) -> None:
        v = self.view
        shown = (tuple(v.tempo), tuple(v.keys), v.bpm, v.ref_bpm, self.notation, v.path, v.tempo_stable)
        if shown == self._candidates_shown:
            return
        self._candidates_shown = shown
        self.tempo_table.setRowCount(len(v.tempo))
        for row, cand in enumerate(v.tempo):
            items = (f"{cand.bpm:.1f}", f"{cand.strength:.2f}", cand.relation or "—")
            for col, text in enumerate(items):
                self.tempo_table.setItem(row, col, QTableWidgetItem(text))
        self.key_table.setRowCount(len(v.keys))
        for row, (key, value) in enumerate(v.keys):
            label = QTableWidgetItem(show_key(key, self.notation))
            label.setData(Qt.ItemDataRole.UserRole, key)
            self.key_table.setItem(row, 0, label)
            self.key_table.setItem(row, 1, QTableWidgetItem(f"{value:.3f}"))
        previous = self.click_tempo.currentData() if keep_click else None
        self.click_tempo.blockSignals(True)
        self.click_tempo.clear()
        if v.bpm and v.tempo_stable:
            self.click_tempo.addItem(f"beat grid ({v.bpm:.2f})", None)
        elif v.bpm:
            self.click_tempo.addItem(f"tracked beats, no grid ({v.bpm:.1f})", None)
        if v.ref_bpm:
            self.click_tempo.addItem(f"reference ({v.ref_bpm:g})", float(v.ref_bpm))
        for cand in v.tempo:
            self.click_tempo.addItem(f"candidate {cand.bpm:.1f} {cand.relation}".strip(), float(cand.bpm))
        found = self.click_tempo.findData(previous) if previous is not None else -1
        self.click_tempo.setCurrentIndex(max(found, 0))
        self.click_tempo.blockSignals(False)

    _candidates_shown: tuple = ()

    def show_player(self, state: str, message: str, position_s: float, duration_s: float) -> None:
        self.play_button.setText("Pause" if state == "playing" else "Play")
        self.player_note.setText(message)
        if duration_s:
            self.position_label.setText(f"{_clock(position_s)} / {_clock(duration_s)}")
            self.playhead.setVisible(True)
            self.playhead.setValue(position_s)
        else:  # nothing decoded (another song was picked): no position and no length of a song not loaded
            self.position_label.setText(NO_POSITION)
            self.playhead.setVisible(False)

    # -- user input ---------------------------------------------------------------------------------
    def chunk_at(self, seconds: float) -> ChunkBar | None:
        return next((c for c in self.view.chunks if c.start_s <= seconds < c.end_s), None)

    def _plot_clicked(self, event) -> None:
        point = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        chunk = self.chunk_at(point.x())
        self.seekRequested.emit(chunk.start_s if chunk is not None else max(0.0, point.x()))

    def _click_changed(self, *_args) -> None:
        self.clickChanged.emit(self.click_box.isChecked(), self.click_tempo.currentData())

    def _use_candidate_click(self, row: int) -> None:
        index = self.click_tempo.findData(float(self.view.tempo[row].bpm))
        if index >= 0:
            self.click_tempo.setCurrentIndex(index)
        self.click_box.setChecked(True)

    def scale_reference(self, factor: float, how: str) -> None:
        self._scaled_bpm(factor, how)

    def _scaled_bpm(self, factor: float, how: str) -> None:
        if self.view.ref_bpm:
            self.bpmVerdict.emit(round(self.view.ref_bpm * factor, 2), how)

    def _typed_bpm(self) -> None:
        try:
            value = float(self.bpm_edit.text().replace(",", "."))
        except ValueError:
            self.player_note.setText(f'"{self.bpm_edit.text()}" is not a BPM')
            return
        if not 0 < value < 1000:
            self.player_note.setText(f"{value:g} is not a plausible BPM")
            return
        self.bpmVerdict.emit(value, "typed")

    def pick_key(self) -> None:
        row = self.key_table.currentRow()
        if row < 0 and self.view.keys:
            row = 0
        if 0 <= row < len(self.view.keys):
            self.keyVerdict.emit(self.view.keys[row][0])


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setMinimumHeight(90)
    return table


def _set_spans(item: pg.BarGraphItem, x0: list, width: list, height: list, brushes: list) -> None:
    if not x0:
        item.setOpts(x0=[], width=[], height=[], y0=[], brushes=None, pens=None)
        return
    item.setOpts(x0=x0, width=width, height=height, y0=[0.0] * len(x0), brushes=brushes, pens=None)


def _alpha(colour: QColor, confidence: float) -> QColor:
    shade = QColor(colour)
    shade.setAlpha(int(80 + 175 * max(0.0, min(1.0, confidence))) if confidence >= LOW_CONFIDENCE else 70)
    return shade


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _html(text: str) -> str:
    """Text for a rich-text label: escaped, and a non-UTF-8 file name's byte shown as ``�`` (Qt drops it)."""
    return readable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _TabHighLayout(QHBoxLayout):
    """The panel's layout, telling its scroll area to give it the tab's height (down to its minimum).

    Its wrapped labels ask for their height at their width, and a layout holding one says so; the scroll
    area then sized the panel to every part's *preferred* height (602 px in a 286 px tab at 1366×768), and
    the chunk plot's bars were under the fold. The labels still wrap inside the height they get.
    """

    def hasHeightForWidth(self) -> bool:
        return False
