"""The queue: one row per song, as a ``QAbstractTableModel`` that stays smooth with 10,000 rows.

Rows are plain dataclasses in a list plus a path → row index, so lookups from engine events
are O(1), and every update signals ``dataChanged`` for just the cells that changed. Sorting
is done by a ``QSortFilterProxyModel`` on :data:`SORT_ROLE` (raw numbers, not display text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from engine.references.keynotation import format_key
from engine.references.scoring import key_relation, tempo_ratio_class
from engine.results import SongStatus
from engine.settings import BpmRange
from engine.wording import file_name, readable
from gui.inspector.song_evidence import LOW_CONFIDENCE, confidence_text, disagrees
from gui.widgets.colour_legend import CORRECTED_MARK

__all__ = ["PROGRESS_ROLE", "SORT_ROLE", "Col", "QueueModel", "SongRow"]

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2
"""Status column: fraction 0..1 while analysing, else -1 (the delegate draws a bar from it)."""
DISAGREE_ROLE = Qt.ItemDataRole.UserRole + 3
"""Any column: ``"1"`` when the tempo class or key relation is known and not ``same`` (review filter)."""


class Col(IntEnum):
    SONG = 0
    DURATION = 1
    STATUS = 2
    BPM = 3
    KEY = 4
    REF_BPM = 5
    REF_KEY = 6
    CAL_BPM = 7
    CAL_KEY = 8
    TIME = 9
    CONF = 10
    BPM_IN_RANGE = 11
    """The BPM folded into the user's range (Settings); the queue view shows it beside BPM, only while on."""


HEADERS = {
    Col.SONG: "Song",
    Col.DURATION: "Duration",
    Col.STATUS: "Status",
    Col.BPM: "BPM",
    Col.KEY: "Key",
    Col.REF_BPM: "Ref BPM",
    Col.REF_KEY: "Ref key",
    Col.CAL_BPM: "Cal. BPM",
    Col.CAL_KEY: "Cal. key",
    Col.TIME: "Time",
    Col.CONF: "Conf.",
    Col.BPM_IN_RANGE: "BPM (range)",
}

# Match colours: readable on light and dark palettes (tinted backgrounds, not saturated fills).
TEMPO_COLOURS = {
    "same": QColor(46, 160, 67, 70),
    "double": QColor(227, 179, 65, 80),
    "half": QColor(227, 179, 65, 80),
    "triple": QColor(227, 179, 65, 80),
    "third": QColor(227, 179, 65, 80),
    "other": QColor(218, 54, 51, 70),
}
KEY_COLOURS = {
    "same": QColor(46, 160, 67, 70),
    "fifth": QColor(88, 166, 255, 70),
    "relative": QColor(227, 179, 65, 80),
    "parallel": QColor(188, 140, 255, 70),
    "other": QColor(218, 54, 51, 70),
}
TEMPO_WORDS = {"same": "exact", "double": "octave (×2)", "half": "octave (×½)", "triple": "×3", "third": "×⅓"}
TEMPO_LEGEND = (("same", "exact"), ("double", "octave or ×3 off"), ("other", "wrong"))
"""The colours of the BPM cells as the legend under the queue explains them (one entry per colour)."""
KEY_LEGEND = (
    ("same", "same"),
    ("fifth", "fifth"),
    ("relative", "relative"),
    ("parallel", "parallel"),
    ("other", "other"),
)
FIELD_COLUMNS: dict[str, tuple[Col, ...]] = {
    "path": (Col.SONG,),
    "status": (Col.STATUS,),
    "duration_s": (Col.DURATION,),
    "chunks_done": (Col.STATUS,),
    "chunks_total": (Col.STATUS,),
    "bpm": (Col.BPM, Col.BPM_IN_RANGE),
    "tempo_stable": (Col.BPM, Col.BPM_IN_RANGE, Col.CAL_BPM),  # two decimals where the tempo is exact
    "title": (Col.SONG,),
    "artist": (Col.SONG,),
    "key": (Col.BPM, Col.KEY),  # the disagreements filter reads the BPM column
    "ref_bpm": (Col.REF_BPM, Col.BPM, Col.CAL_BPM),  # the match colours depend on the reference
    "ref_key": (Col.BPM, Col.REF_KEY, Col.KEY, Col.CAL_KEY),
    "match_method": (Col.REF_BPM, Col.REF_KEY),
    "ref_corrected": (Col.REF_BPM, Col.REF_KEY),
    "cal_bpm": (Col.CAL_BPM,),
    "cal_key": (Col.CAL_KEY,),
    "analysis_s": (Col.TIME,),
    "error": (Col.STATUS,),
    "cached": (Col.STATUS,),
    "confidence": (Col.CONF,),
}
"""The cells that show each field. ``dataChanged`` names only those columns, so a sorted table
re-sorts only when the sort column is among them (marking 10,000 rows queued no longer re-sorts
a table sorted by name)."""
STATUS_COLOURS = {
    SongStatus.ERROR: QColor(218, 54, 51),
    SongStatus.PARTIAL: QColor(200, 140, 20),
    SongStatus.CANCELLED: QColor(128, 128, 128),
}


@dataclass
class SongRow:
    path: str
    status: SongStatus = SongStatus.QUEUED
    duration_s: float | None = None
    chunks_done: int = 0
    chunks_total: int = 0
    bpm: float | None = None
    key: str = ""
    ref_bpm: float | None = None
    ref_key: str = ""
    match_method: str = ""
    ref_corrected: frozenset[str] = frozenset()
    """The reference fields (``bpm``, ``key``) a verdict in the inspector corrected: their cells are marked."""
    cal_bpm: float | None = None
    cal_key: str = ""
    analysis_s: float | None = None
    error: str = ""
    cached: bool = False
    confidence: float | None = None  # the lower of the BPM and key confidences
    tempo_stable: bool = False
    """One constant beat grid explains the song: its BPM is exact and shown to two decimals, as DJ software does."""
    title: str = ""
    artist: str = ""
    """From the song's tags once it is analysed (``SongResult``); until then the queue shows the file name."""

    @property
    def name(self) -> str:
        """The file name (always available: the Song cell's tooltip, copy, the inspector)."""
        return file_name(self.path)

    @property
    def display_name(self) -> str:
        """``Artist – Title`` where the tags give them, else the file name."""
        if self.title and self.artist:
            return f"{self.artist} – {self.title}"
        return self.title or self.name

    @property
    def analysed(self) -> bool:
        """It has a result (done or partial): Start skips it, the calibration scores it."""
        return self.status.analysed

    def tempo_class(self, calibrated: bool = False) -> str | None:
        value = self.cal_bpm if calibrated else self.bpm
        if value is None or self.ref_bpm is None:
            return None
        return tempo_ratio_class(value, self.ref_bpm)

    def key_class(self, calibrated: bool = False) -> str | None:
        value = self.cal_key if calibrated else self.key
        if not value or not self.ref_key:
            return None
        return key_relation(self.ref_key, value)


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _fmt_bpm(bpm: float | None, exact: bool = False) -> str:
    """Two decimals for a tempo measured exactly (a steady beat grid), one where a second would look
    more precise than the number is."""
    if bpm is None or bpm <= 0:
        return ""
    return f"{bpm:.2f}" if exact else f"{bpm:.1f}"


def _fmt_reference_bpm(bpm: float | None) -> str:
    """A reference BPM as its source gave it, to at most two decimals (``128``, ``99.5``, ``127.37``)."""
    if bpm is None or bpm <= 0:
        return ""
    return f"{bpm:.2f}".rstrip("0").rstrip(".")


class QueueModel(QAbstractTableModel):
    """Songs in the order they were added; the engine's run index maps back to rows by path."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[SongRow] = []
        self._index: dict[str, int] = {}
        self.key_notation = "classic"
        self.bpm_range: BpmRange | None = None

    def set_bpm_range(self, bpm_range: BpmRange | None) -> None:
        """Fill the BPM (range) column with each BPM folded into ``bpm_range`` (``None``: the column is empty)."""
        self.bpm_range = bpm_range
        if self._rows:
            column = int(Col.BPM_IN_RANGE)
            self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))

    def bpm_in_range(self, row: SongRow) -> float | None:
        return self.bpm_range.fold(row.bpm) if self.bpm_range is not None and row.bpm else None

    def set_key_notation(self, notation: str) -> None:
        """Show keys in ``notation`` (see :data:`engine.references.keynotation.NOTATIONS`)."""
        format_key("C major", notation)  # raises for an unknown notation
        self.key_notation = notation
        if self._rows:
            self.dataChanged.emit(self.index(0, int(Col.KEY)), self.index(len(self._rows) - 1, int(Col.CAL_KEY)))

    # -- Qt model interface ---------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Col)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Col(section)]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_TIPS.get(Col(section))
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = _COLUMNS[index.column()]  # not Col(n): an Enum call per cell and role adds up in every repaint
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == SORT_ROLE:
            return self._sort_value(row, col)
        if role == PROGRESS_ROLE:
            if col == Col.STATUS and row.status is SongStatus.ANALYSING and row.chunks_total:
                return row.chunks_done / row.chunks_total
            return -1.0
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(row, col)
        if role == Qt.ItemDataRole.ForegroundRole and col == Col.STATUS and row.status in STATUS_COLOURS:
            return QBrush(STATUS_COLOURS[row.status])
        if role == Qt.ItemDataRole.ForegroundRole and col == Col.CONF and _low(row.confidence):
            return QBrush(STATUS_COLOURS[SongStatus.PARTIAL])
        if role == DISAGREE_ROLE:
            return "1" if disagrees(row.bpm, row.key, row.ref_bpm, row.ref_key) else "0"
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in _NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: SongRow, col: Col) -> str:
        if col == Col.SONG:
            return readable(row.display_name)
        if col == Col.BPM_IN_RANGE:
            return _fmt_bpm(self.bpm_in_range(row), row.tempo_stable)
        if col == Col.DURATION:
            return _fmt_duration(row.duration_s)
        if col == Col.STATUS:
            if row.status is SongStatus.ANALYSING and row.chunks_total:
                return f"analysing {row.chunks_done}/{row.chunks_total}"
            return f"{row.status.value} (cached)" if row.cached and row.analysed else row.status.value
        if col == Col.BPM:
            return _fmt_bpm(row.bpm, row.tempo_stable)
        if col == Col.KEY:
            return self._key(row.key)
        if col == Col.REF_BPM:
            text = _fmt_reference_bpm(row.ref_bpm)
            return f"{text} {CORRECTED_MARK}" if text and "bpm" in row.ref_corrected else text
        if col == Col.REF_KEY:
            text = self._key(row.ref_key)
            return f"{text} {CORRECTED_MARK}" if text and "key" in row.ref_corrected else text
        if col == Col.CAL_BPM:  # octave rules keep an exact tempo exact; a scaler that costs exactness is not kept
            return _fmt_bpm(row.cal_bpm, row.tempo_stable)
        if col == Col.CAL_KEY:
            return self._key(row.cal_key)
        if col == Col.CONF:
            return confidence_text(row.confidence)
        if col == Col.TIME:
            return "" if row.analysis_s is None else f"{row.analysis_s:.2f} s"
        return ""

    def _key(self, key: str) -> str:
        return key if self.key_notation == "classic" or not key else format_key(key, self.key_notation)

    def _sort_value(self, row: SongRow, col: Col) -> Any:
        numbers = {
            Col.DURATION: row.duration_s,
            Col.BPM: row.bpm,
            Col.REF_BPM: row.ref_bpm,
            Col.CAL_BPM: row.cal_bpm,
            Col.TIME: row.analysis_s,
            Col.CONF: row.confidence,
            Col.BPM_IN_RANGE: self.bpm_in_range(row),
        }
        if col in numbers:
            value = numbers[col]
            return -1.0 if value is None else float(value)
        if col == Col.STATUS:
            return _STATUS_ORDER.get(row.status, 9) + (row.chunks_done / row.chunks_total if row.chunks_total else 0)
        return self._display(row, col).casefold()

    def _background(self, row: SongRow, col: Col) -> QBrush | None:
        klass = None
        if col == Col.BPM:
            klass = TEMPO_COLOURS.get(row.tempo_class() or "")
        elif col == Col.CAL_BPM:
            klass = TEMPO_COLOURS.get(row.tempo_class(calibrated=True) or "")
        elif col == Col.KEY:
            klass = KEY_COLOURS.get(row.key_class() or "")
        elif col == Col.CAL_KEY:
            klass = KEY_COLOURS.get(row.key_class(calibrated=True) or "")
        return QBrush(klass) if klass is not None else None

    def _tooltip(self, row: SongRow, col: Col) -> str | None:
        if col == Col.SONG:
            return readable(row.path if row.display_name == row.name else f"{row.name}\n{row.path}")
        if col == Col.BPM_IN_RANGE and self.bpm_range is not None:
            low, high = self.bpm_range.low, self.bpm_range.high
            return f"BPM folded into {low:g}–{high:g} (Settings); analysed: {_fmt_bpm(row.bpm)}"
        if col == Col.STATUS and row.error:
            return row.error
        if col in (Col.BPM, Col.CAL_BPM):
            klass = row.tempo_class(calibrated=col == Col.CAL_BPM)
            return f"vs reference: {TEMPO_WORDS.get(klass, 'wrong')}" if klass else None
        if col in (Col.KEY, Col.CAL_KEY):
            klass = row.key_class(calibrated=col == Col.CAL_KEY)
            return f"vs reference: {klass}" if klass else None
        if col in (Col.REF_BPM, Col.REF_KEY) and row.match_method:
            field = "bpm" if col == Col.REF_BPM else "key"
            corrected = "; corrected by your verdict in the inspector" if field in row.ref_corrected else ""
            return f"matched by {row.match_method}{corrected}"
        return None

    # -- queue operations -----------------------------------------------------------------------
    @property
    def rows(self) -> Sequence[SongRow]:
        return self._rows

    def paths(self) -> list[str]:
        return [r.path for r in self._rows]

    def row_of(self, path: str) -> int | None:
        return self._index.get(path)

    def song(self, row: int) -> SongRow:
        return self._rows[row]

    def add_paths(self, paths: Iterable[str]) -> int:
        """Append songs not already queued; returns how many were added."""
        new = []
        seen = set(self._index)
        for path in paths:
            path = str(path)
            if path not in seen:
                seen.add(path)
                new.append(SongRow(path))
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for offset, row in enumerate(new):
                self._index[row.path] = first + offset
            self._rows.extend(new)
            self.endInsertRows()
        return len(new)

    def remove_rows(self, rows: Iterable[int]) -> None:
        doomed = set(rows)
        if not doomed:
            return
        self.beginResetModel()
        self._rows = [r for i, r in enumerate(self._rows) if i not in doomed]
        self._index = {r.path: i for i, r in enumerate(self._rows)}
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._index = [], {}
        self.endResetModel()

    def update(self, row: int, **changes: Any) -> None:
        """Change fields of one row and repaint just the cells that show them."""
        song = self._rows[row]
        for name, value in changes.items():
            setattr(song, name, _checked(name, value))
        first, last = _column_span(changes)
        self.dataChanged.emit(self.index(row, first), self.index(row, last))

    def update_many(self, changes: dict[int, dict[str, Any]]) -> None:
        """Several rows at once; only the rows whose values really change are signalled.

        Pressing Start marks every song queued, and most already are: signalling them all repainted
        the whole table (20-37 ms with the workers busy) for nothing (``bench/gui_latency.py``).
        """
        changed_rows: list[int] = []
        changed_names: set[str] = set()
        for row, values in changes.items():
            song = self._rows[row]
            changed = False
            for name, value in values.items():
                value = _checked(name, value)
                if getattr(song, name) != value:
                    setattr(song, name, value)
                    changed_names.add(name)
                    changed = True
            if changed:
                changed_rows.append(row)
        self._signal_rows(sorted(changed_rows), changed_names)

    def set_all(self, values_by_path: dict[str, dict[str, Any]], clear: Sequence[str] = ()) -> None:
        """Set fields on every row (reference or calibrated values); rows not in the map get ``clear`` reset.

        Only rows whose values really change are signalled: the calibration panel calls this every
        few seconds during a run, and repainting the whole table each time (20-70 ms for a screenful
        of rows, each cell asking the Python model for ~6 roles) was the window's largest stall.
        """
        defaults = {f.name: f.default for f in fields(SongRow)}
        changed_rows: list[int] = []
        changed_names: set[str] = set()
        for index, song in enumerate(self._rows):
            values = values_by_path.get(song.path)
            if values is None:
                values = {name: defaults[name] for name in clear}
            changed = [name for name, value in values.items() if getattr(song, name) != value]
            for name in changed:
                setattr(song, name, values[name])
            if changed:
                changed_rows.append(index)
                changed_names.update(changed)
        self._signal_rows(changed_rows, changed_names)

    def _signal_rows(self, rows: list[int], names: set[str]) -> None:
        """``dataChanged`` for the cells of ``names`` in ``rows`` (sorted), one signal per run of rows."""
        if rows:
            first, last = _column_span(names)
            for top, bottom in _runs(rows):
                self.dataChanged.emit(self.index(top, first), self.index(bottom, last))

    def rows_as_tsv(self, rows: Iterable[int]) -> str:
        """Header plus the given rows, tab-separated, as shown (for pasting into a spreadsheet)."""
        lines = ["\t".join(["Path", *(HEADERS[c] for c in Col)])]
        for row in sorted(rows):
            song = self._rows[row]
            cells = [song.path, *(self._display(song, c) for c in Col)]
            lines.append("\t".join(cell.replace("\t", " ") for cell in cells))
        return "\n".join(lines) + "\n"


def _checked(name: str, value: Any) -> Any:
    """A status given as text ("done") becomes its :class:`SongStatus`; unknown text raises ValueError."""
    return SongStatus(value) if name == "status" else value


_COLUMNS = tuple(Col)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _column_span(names: Iterable[str]) -> tuple[int, int]:
    """First and last column showing any of these fields (all columns for an unknown name)."""
    columns = [c for name in names for c in FIELD_COLUMNS.get(name, (Col.SONG, Col.TIME))]
    return (min(columns), max(columns)) if columns else (0, len(Col) - 1)


def _low(confidence: float | None) -> bool:
    return confidence is not None and confidence < LOW_CONFIDENCE


_NUMERIC_COLUMNS = frozenset({Col.DURATION, Col.BPM, Col.REF_BPM, Col.CAL_BPM, Col.TIME, Col.CONF, Col.BPM_IN_RANGE})
_STATUS_ORDER = {
    SongStatus.ANALYSING: 0,
    SongStatus.WARMING_UP: 0,
    SongStatus.QUEUED: 1,
    SongStatus.DONE: 2,
    SongStatus.PARTIAL: 3,
    SongStatus.ERROR: 4,
    SongStatus.CANCELLED: 5,
}
_HEADER_TIPS = {
    Col.BPM: "Detected tempo. Green: matches the reference; amber: an octave off (×2, ×½); red: wrong.",
    Col.KEY: "Detected key. Green: same; blue: fifth; amber: relative; purple: parallel; red: other.",
    Col.CAL_BPM: "Tempo after the calibration profile, coloured like BPM.",
    Col.CAL_KEY: "Key after the calibration profile, coloured like Key.",
    Col.BPM_IN_RANGE: "The BPM doubled or halved into your BPM range (Settings): what exports and tags write.",
    Col.TIME: "Wall time the analysis of this song took.",
    Col.CONF: 'The lower of the BPM and key confidences; "(low)" below 0.35: check these first.',
}
