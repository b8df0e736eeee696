"""Calibration panel: reference file, matched/unmatched counts, metrics (cross-validated first),
and the profile commands. Its buttons are bound to the window's actions
(``gui.actions.bind_button``); the window does the work (off the GUI thread)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.calibration.metrics import MetricRow
from engine.wording import plural

METRIC_COLUMNS = ("Metric", "Raw", "Cal. (CV)", "In-sample", "n")
"""Short headers: the panel is a side column, and each header's tooltip says what it means."""


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


class CalibrationPanel(QWidget):
    applyToggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.reference_label = QLabel("No reference loaded")
        self.reference_label.setWordWrap(True)
        self.reference_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.load_reference_button = QPushButton("Load Reference…")
        self.matched_label = QLabel("–")
        self.unmatched_button = QPushButton("–")
        self.unmatched_button.setFlat(True)
        self.unmatched_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.unmatched_button.setToolTip("List the songs and reference rows that were not matched")
        self.unmatched_button.clicked.connect(self._show_unmatched)
        self._unmatched_text = ""

        reference_box = QGroupBox("Reference")
        form = QFormLayout(reference_box)
        form.addRow(self.reference_label)
        form.addRow(self.load_reference_button)
        form.addRow("Matched songs:", self.matched_label)
        form.addRow("Unmatched:", self.unmatched_button)

        self.metrics = QTableWidget(0, len(METRIC_COLUMNS))
        self.metrics.setHorizontalHeaderLabels(METRIC_COLUMNS)
        self.metrics.verticalHeader().setVisible(False)
        self.metrics.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.metrics.setTextElideMode(Qt.TextElideMode.ElideNone)  # a cut label hides which metric it is
        for column in range(1, len(METRIC_COLUMNS)):
            self.metrics.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        rows = self.metrics.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)  # eight metrics fit without a scroll bar
        tips = {
            1: "The engine's own answers",
            2: "Calibrated, cross-validated: each song predicted by a profile fitted without it: the honest number",
            3: "Fitted and scored on the same songs: optimistic",
        }
        for column, tip in tips.items():
            header = self.metrics.horizontalHeaderItem(column)
            if header is not None:
                header.setToolTip(tip)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setEnabled(False)
        metrics_box = QGroupBox("Metrics")
        metrics_layout = QVBoxLayout(metrics_box)
        metrics_layout.addWidget(self.metrics)
        metrics_layout.addWidget(self.note)

        self.fit_button = QPushButton("Fit Calibration")
        self.save_button = QPushButton("Save Profile…")
        self.load_profile_button = QPushButton("Load Profile…")
        self.apply_box = QCheckBox("Apply profile")
        self.apply_box.setChecked(True)
        self.apply_box.toggled.connect(self.applyToggled)
        self.profile_label = QLabel("No profile")
        self.profile_label.setWordWrap(True)
        self.export_button = QPushButton("Export Calibration CSVs…")
        profile_box = QGroupBox("Profile")
        profile_layout = QVBoxLayout(profile_box)
        profile_layout.addWidget(self.fit_button)
        profile_layout.addWidget(self.profile_label)
        profile_layout.addWidget(self.apply_box)
        profile_layout.addWidget(self.save_button)
        profile_layout.addWidget(self.load_profile_button)
        profile_layout.addSpacing(8)
        profile_layout.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.addWidget(reference_box)
        layout.addWidget(metrics_box, 1)
        layout.addWidget(profile_box)
        self.set_profile(None)

    def set_reference(self, name: str | None, rows: int = 0, errors: Sequence[str] = ()) -> None:
        if not name:
            self.reference_label.setText("No reference loaded")
            return
        text = f"<b>{name}</b><br>{plural(rows, 'row')}"
        if errors:
            problems = plural(len(errors), "row")
            text += f", <span style='color:#d29922'>{problems} with problems (see log)</span>"
        self.reference_label.setText(text)

    def set_counts(self, matched: int, unmatched_songs: int, unmatched_rows: int, unmatched_text: str) -> None:
        self.matched_label.setText(str(matched))
        songs, rows = plural(unmatched_songs, "song"), plural(unmatched_rows, "reference row")
        self.unmatched_button.setText(f"{songs}, {rows}")
        self.unmatched_button.setEnabled(bool(unmatched_songs or unmatched_rows))
        self._unmatched_text = unmatched_text

    def set_metrics(self, rows: Sequence[MetricRow], note: str = "") -> None:
        self.metrics.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cv = row.calibrated_cv
            cells = (row.label, _fmt(row.raw), _fmt(cv), _fmt(row.calibrated_in_sample), str(row.n))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(row.description)
                if c == 2 and cv is not None:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.metrics.setItem(r, c, item)
        self.note.setText(note)

    def set_profile(self, description: str | None) -> None:
        self.profile_label.setText(description or "No profile: fit one or load one")
        self.apply_box.setEnabled(description is not None)

    def _show_unmatched(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("Unmatched songs and reference rows")
        text = QPlainTextEdit(self._unmatched_text)
        text.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        layout.addWidget(buttons)
        dialog.resize(620, 420)
        dialog.exec()

    @property
    def unmatched_text(self) -> str:
        return self._unmatched_text
