"""The key to the queue's cell colours and marks, shown under the table: a colour means nothing unexplained."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

CORRECTED_MARK = "✎"
"""After a reference value a verdict corrected (the inspector's ×2, ×½, typed BPM, picked key)."""


def _chip(colour: QColor) -> str:
    rgba = f"rgba({colour.red()}, {colour.green()}, {colour.blue()}, {colour.alpha() / 255:.2f})"
    return f"<span style='background-color:{rgba}'>&nbsp;&nbsp;&nbsp;&nbsp;</span>"


class ColourLegend(QWidget):
    """``entries``: (colour, what it means) for the BPM and key cells, in reading order."""

    def __init__(
        self, tempo: list[tuple[QColor, str]], key: list[tuple[QColor, str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.entries = [*tempo, *key]
        parts = [f"{_chip(c)} {text}" for c, text in tempo]
        keys = [f"{_chip(c)} {text}" for c, text in key]
        self.label = QLabel(
            "BPM vs reference: "
            + " &nbsp; ".join(parts)
            + " &nbsp;&nbsp;│&nbsp;&nbsp; Key vs reference: "
            + " &nbsp; ".join(keys)
            + f" &nbsp;&nbsp;│&nbsp;&nbsp; {CORRECTED_MARK} corrected by you"
        )
        self.label.setObjectName("colourLegend")
        self.label.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 1)
