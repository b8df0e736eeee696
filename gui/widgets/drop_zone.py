"""The empty state: a large drop target that says what to do, and a way in without any music."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class DropZone(QFrame):
    """Its buttons are bound to the window's actions (``gui.actions.bind_button``)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setStyleSheet(
            "#dropZone { border: 2px dashed palette(mid); border-radius: 14px; }"
            '#dropZone[hover="true"] { border-color: palette(highlight); }'
        )
        title = QLabel("Drop song folders here")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        hint = QLabel(
            "Folders are scanned recursively for audio (wav, flac, aiff, ogg, opus, mp3, m4a …).\n"
            "Drop a reference .csv (file, bpm, key) too, to score and calibrate the results."
        )
        hint.setEnabled(False)  # the palette's dimmed text
        for label in (title, hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.demo_button = QPushButton("Try with demo songs")
        self.demo_button.setDefault(True)
        self.demo_button.setToolTip("Synthesise 14 short songs with known tempo and key, and their reference CSV")
        self.add_folder_button = QPushButton("Add Folder…")
        self.load_reference_button = QPushButton("Load Reference…")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.demo_button, self.add_folder_button, self.load_reference_button):
            button.setMinimumHeight(32)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(title)
        layout.addSpacing(8)
        layout.addWidget(hint)
        layout.addSpacing(18)
        layout.addLayout(buttons)
        layout.addStretch(3)

    def set_hover(self, hover: bool) -> None:
        self.setProperty("hover", hover)
        self.style().unpolish(self)
        self.style().polish(self)
