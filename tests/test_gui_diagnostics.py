"""Help ▸ Run Diagnostics: the doctor's checks in a dialog, off the GUI thread, refused during a run."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMainWindow, QMessageBox

from gui import about
from gui.diagnostics import DiagnosticsDialog, run_diagnostics

pytestmark = pytest.mark.usefixtures("no_stray_workers")


@pytest.mark.slow
def test_help_menu_runs_the_checks_and_shows_the_report(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = about.install_help_menu(window)
    actions["diagnostics"].trigger()
    dialog = window.findChild(DiagnosticsDialog)
    assert dialog is not None and dialog.isVisible() and dialog.running
    verdicts: list[bool] = []
    dialog.finished_checks.connect(verdicts.append)  # lines arrive queued: nothing is delivered before this
    qtbot.waitUntil(lambda: "decoding" in dialog.text.toPlainText(), timeout=60_000)  # the GUI thread stays free
    qtbot.waitUntil(lambda: not dialog.running, timeout=180_000)
    assert verdicts == [True]
    report = dialog.text.toPlainText()
    for line in ("ok    wav decoding", "ok    worker pool", "ok    nested pools refused", "ok    chunk deadline"):
        assert line in report
    assert "ok    workers stopped: no process left behind" in report
    assert report.rstrip().splitlines()[-1].startswith("Everything")
    dialog.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == report


class _BusyController:
    running = True


def test_diagnostics_are_refused_while_a_run_is_going(qtbot, monkeypatch):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.controller = _BusyController()
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: told.append(text))
    assert run_diagnostics(window) is None
    assert "wait for the run to finish" in told[0]
    assert window.findChild(DiagnosticsDialog) is None
