"""Help ▸ Run Diagnostics: the ``main.py doctor`` checks in a window, for users who never open a terminal.

The checks start a pool of their own and take several seconds. They run through the window's
one threading boundary, :meth:`gui.engine_thread.EngineController.run_exclusive`: on the
engine thread, with the window's pre-warmed pool closed first and warmed again afterwards, so
the checks' pool never lives beside the window's (stopping it once killed the window's idle
workers). Each line reaches the dialog through a queued signal; the dialog never waits on the
checks. They are refused while a run is going (their workers would compete with it).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QPlainTextEdit, QVBoxLayout, QWidget

from gui.engine_thread import EngineController


class _Lines(QObject):
    """Carries report lines from the engine thread to the GUI thread (queued across threads)."""

    line = Signal(str)


class DiagnosticsDialog(QDialog):
    """Runs the checks once and shows the plain report, with a Copy button for bug reports."""

    finished_checks = Signal(bool)
    """True when everything the product needs works (the doctor's exit status 0)."""

    def __init__(self, controller: EngineController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
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
        self.running = False

    def start(self) -> bool:
        """Queue the checks on the engine thread; False when they cannot run now (a run is going)."""
        if self.running:
            return True
        from engine.frontends.doctor import header

        lines = self._lines

        def checks() -> list:
            from engine.frontends.doctor import run_checks

            return run_checks(lambda check: lines.line.emit(check.line()))

        if not self.controller.run_exclusive(checks, self._finish):
            return False
        self.running = True
        self.text.setPlainText(header())
        self.text.appendPlainText("Checking decoders and starting a worker pool (this takes a few seconds)…")
        return True

    def _finish(self, checks: list | None, error: BaseException | None) -> None:
        from engine.frontends.doctor import verdict

        self.running = False
        if error is not None or checks is None:  # the report must come out whatever broke
            self.text.appendPlainText(f"error: the checks stopped: {type(error).__name__}: {error}")
            self.finished_checks.emit(False)
            return
        self.text.appendPlainText(verdict(checks))
        self.finished_checks.emit(not any(check.failed for check in checks))


def run_diagnostics(window: QWidget, controller: EngineController) -> DiagnosticsDialog | None:
    """Open the dialog and start the checks (through the engine ``controller``), unless a run is going on."""
    if controller.running:
        QMessageBox.information(
            window, "Diagnostics", "Diagnostics start workers of their own: wait for the run to finish, or cancel it."
        )
        return None
    dialog = DiagnosticsDialog(controller, window)
    dialog.show()
    dialog.start()
    return dialog
