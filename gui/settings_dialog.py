"""Settings: workers, chunk length and overlap, chunk timeout, cache on/off, clear cache, key notation, BPM range."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.references.keynotation import NOTATIONS, format_key
from engine.settings import default_workers
from gui.preferences import Preferences


class SettingsDialog(QDialog):
    clearCacheRequested = Signal()

    def __init__(self, prefs: Preferences, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.workers = QSpinBox()
        self.workers.setRange(1, max(64, default_workers()))
        self.workers.setValue(prefs.workers)
        self.workers.setToolTip(f"Worker processes (this machine has {default_workers()} cores)")
        self.chunk = QDoubleSpinBox()
        self.chunk.setRange(2.0, 600.0)
        self.chunk.setSuffix(" s")
        self.chunk.setValue(prefs.chunk_seconds)
        self.overlap = QDoubleSpinBox()
        self.overlap.setRange(0.0, 299.0)
        self.overlap.setSuffix(" s")
        self.overlap.setValue(prefs.overlap_seconds)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0.0, 3600.0)
        self.timeout.setSuffix(" s")
        self.timeout.setSpecialValueText("automatic")
        self.timeout.setValue(prefs.chunk_timeout or 0.0)
        self.timeout.setToolTip("A chunk running longer than this is stopped and its worker replaced")
        self.cache = QCheckBox("Reuse results of songs analysed before")
        self.cache.setChecked(prefs.use_cache)
        clear = QPushButton("Clear Cache")
        clear.clicked.connect(self.clearCacheRequested)
        self.notation = QComboBox()
        for notation in NOTATIONS:
            example = f"{format_key('A minor', notation)}, {format_key('Bb major', notation)}"
            self.notation.addItem(f"{notation.capitalize()} ({example})", notation)
        self.notation.setCurrentIndex(max(0, self.notation.findData(prefs.key_notation)))
        self.notation.setToolTip("How keys are written in the table, the inspector and comparison.csv")
        self.range_on = QCheckBox("Fold into")
        self.range_on.setChecked(prefs.bpm_range_on)
        self.range_low, self.range_high = QDoubleSpinBox(), QDoubleSpinBox()
        for box, value in ((self.range_low, prefs.bpm_low), (self.range_high, prefs.bpm_high)):
            box.setRange(20.0, 400.0)
            box.setDecimals(0)
            box.setValue(value)
            box.setEnabled(prefs.bpm_range_on)
            self.range_on.toggled.connect(box.setEnabled)
        self.range_on.setToolTip(
            "Show and write the BPM doubled or halved into this range, as DJ programs do (Traktor 78–155,\n"
            "Serato 68–135). The analysed BPM stays as it is; scoring and calibration ignore the range."
        )
        range_row = QHBoxLayout()
        range_row.addWidget(self.range_on)
        range_row.addWidget(self.range_low)
        range_row.addWidget(QLabel("to"))
        range_row.addWidget(self.range_high)
        range_row.addWidget(QLabel("BPM"))
        range_row.addStretch(1)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #f85149")
        cache_row = QHBoxLayout()
        cache_row.addWidget(self.cache)
        cache_row.addStretch(1)
        cache_row.addWidget(clear)
        form = QFormLayout()
        form.addRow("Workers:", self.workers)
        form.addRow("Chunk length:", self.chunk)
        form.addRow("Chunk overlap:", self.overlap)
        form.addRow("Chunk timeout:", self.timeout)
        form.addRow("Cache:", cache_row)
        form.addRow("Key notation:", self.notation)
        form.addRow("BPM range:", range_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._prefs = prefs

    def values(self) -> Preferences:
        """The edited preferences (folders carried over unchanged)."""
        return Preferences(
            workers=self.workers.value(),
            chunk_seconds=self.chunk.value(),
            overlap_seconds=self.overlap.value(),
            chunk_timeout=self.timeout.value() or None,
            use_cache=self.cache.isChecked(),
            export_dir=self._prefs.export_dir,
            last_folder=self._prefs.last_folder,
            key_notation=self.notation.currentData(),
            bpm_range_on=self.range_on.isChecked(),
            bpm_low=self.range_low.value(),
            bpm_high=self.range_high.value(),
        )

    def accept(self) -> None:
        try:
            values = self.values()
            values.analysis_settings()
            values.bpm_range  # noqa: B018 (raises for LO >= HI)
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        super().accept()
