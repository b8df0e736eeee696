"""The log: warnings and per-song errors, newest last, selectable and copyable."""

from __future__ import annotations

import time

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

MAX_LINES = 20000


class LogPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)  # bounded memory on very long runs
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        copy = QPushButton("Copy all")
        copy.clicked.connect(self.copy_all)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.text.clear)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(copy)
        buttons.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.lines: list[str] = []

    def add(self, level: str, message: str) -> None:
        line = f"{time.strftime('%H:%M:%S')}  {level.upper():7s} {message}"
        self.lines.append(line)
        del self.lines[:-MAX_LINES]
        self.text.appendPlainText(line)

    def copy_all(self) -> None:
        QApplication.clipboard().setText(self.text.toPlainText())
