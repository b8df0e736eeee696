"""Help ▸ Run Diagnostics: the ``main.py doctor`` checks in a window, for users who never open a terminal.

The checks start a pool of their own and take several seconds, so they run on a plain thread
and hand each line to the dialog through a signal; the dialog never waits on them. They are
refused while a run is going (their workers would compete with it and be counted with it).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMainWindow, QMessageBox, QPlainTextEdit, QVBoxLayout, QWidget


class _Lines(QObject):
    """Carries report lines from the checks' thread to the GUI thread (queued across threads)."""

    line = Signal(str)
    done = Signal(bool)


class DiagnosticsDialog(QDialog):
    """Runs the checks once and shows the plain report, with a Copy button for bug reports."""

    finished_checks = Signal(bool)
    """True when everything the product needs works (the doctor's exit status 0)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Diagnostics")
        self.resize(820, 420)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton("Copy Report", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self._lines = _Lines(self)
        self._lines.line.connect(self.text.appendPlainText)
        self._lines.done.connect(self._finish)
        self.running = False

    def start(self) -> None:
        if self.running:
            return
        from engine.frontends.doctor import header

        self.running = True
        self.text.setPlainText(header())
        self.text.appendPlainText("Checking decoders and starting a worker pool (this takes a few seconds)…")
        threading.Thread(target=self._work, name="diagnostics", daemon=True).start()

    def _work(self) -> None:
        from engine.frontends.doctor import run_checks, verdict

        try:
            checks = run_checks(lambda check: self._lines.line.emit(check.line()))
        except Exception as exc:  # the report must come out whatever broke
            self._lines.line.emit(f"error: the checks stopped: {type(exc).__name__}: {exc}")
            self._lines.done.emit(False)
            return
        self._lines.line.emit(verdict(checks))
        self._lines.done.emit(not any(check.failed for check in checks))

    def _finish(self, ok: bool) -> None:
        self.running = False
        self.finished_checks.emit(ok)


def run_diagnostics(window: QMainWindow) -> DiagnosticsDialog | None:
    """Open the dialog and start the checks, unless the window is analysing right now."""
    controller = getattr(window, "controller", None)
    if controller is not None and getattr(controller, "running", False):
        QMessageBox.information(
            window, "Diagnostics", "Diagnostics start workers of their own: wait for the run to finish, or cancel it."
        )
        return None
    dialog = DiagnosticsDialog(window)
    dialog.show()
    dialog.start()
    return dialog
