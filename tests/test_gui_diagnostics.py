"""Help ▸ Run Diagnostics on the real window: the doctor's checks in a dialog, through the engine thread.

The checks start a pool of their own. They used to run beside the window's pre-warmed pool and,
when they stopped theirs, SIGKILLed the window's idle workers too: the window then believed in
workers that were dead. Now they run through the engine thread's one boundary, with the window's
pool closed first and warmed again after.
"""

from __future__ import annotations

import psutil
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from engine.run import events as ev
from gui import about
from gui.diagnostics import DiagnosticsDialog
from gui.main_window import MainWindow
from gui.preferences import Preferences
from tests.audio import song

pytestmark = pytest.mark.usefixtures("no_stray_workers")
WARM_MS = 240_000


@pytest.fixture
def window(qtbot, tmp_path) -> MainWindow:
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    Preferences(workers=1, chunk_seconds=4.0, use_cache=False).save()
    window = MainWindow(data_dir=tmp_path / "data", cache_path=tmp_path / "cache.sqlite3")
    window.confirm_close_during_run = lambda: True
    qtbot.addWidget(window)
    window.show()
    yield window
    window.controller.shutdown()


def ready_pids(window: MainWindow) -> set[int]:
    """The workers the window's pool believes are ready (what it will hand chunks to)."""
    engine = window.controller._worker.engine
    return set(engine._pool.ready_pids) if engine is not None and engine._pool is not None else set()


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def warm(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.warmUp, timeout=WARM_MS, check_params_cb=lambda e: e.stage == "done"):
        window.prewarm_engine()


@pytest.mark.slow
def test_diagnostics_leave_the_windows_pool_alive_and_its_next_run_works(qtbot, window, tmp_path):
    actions = about.install_help_menu(window)
    warm(qtbot, window)
    before = ready_pids(window)
    assert len(before) == 1 and all(alive(p) for p in before)

    warm_ups: list[ev.WarmUp] = []
    window.controller.warmUp.connect(warm_ups.append)
    actions["diagnostics"].trigger()
    dialog = window.findChild(DiagnosticsDialog)
    assert dialog is not None and dialog.isVisible() and dialog.running
    verdicts: list[bool] = []
    dialog.finished_checks.connect(verdicts.append)
    qtbot.waitUntil(lambda: "decoding" in dialog.text.toPlainText(), timeout=60_000)  # the GUI thread stays free
    qtbot.waitUntil(lambda: not dialog.running, timeout=WARM_MS)
    assert verdicts == [True]
    report = dialog.text.toPlainText()
    for line in ("ok    wav decoding", "ok    worker pool", "ok    nested pools refused", "ok    chunk deadline"):
        assert line in report
    assert "ok    workers stopped: no process left behind" in report
    assert report.rstrip().splitlines()[-1].startswith("Everything")
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == report

    # The window's pool was closed for the checks and warmed again: the workers it counts on are alive.
    # (Before the fix it kept the pid of the worker the checks had SIGKILLed, and waited here forever.)
    def live_and_known() -> bool:
        pids = ready_pids(window)
        return len(pids) == 1 and all(alive(p) for p in pids) and pids == set(window.controller.worker_pids())

    qtbot.waitUntil(live_and_known, timeout=120_000)
    after = ready_pids(window)
    qtbot.waitUntil(lambda: any(e.stage == "done" for e in warm_ups), timeout=10_000)  # and the window was told
    assert window.message_label.text() == "Analysis engine ready"

    chunks: list[ev.ChunkFinished] = []
    window.controller.chunkFinished.connect(chunks.append)
    with qtbot.waitSignal(window.songsAdded, timeout=30_000):
        window.add_paths([song(tmp_path / "songs" / "after.wav", 120, 6.0)])
    with qtbot.waitSignal(window.controller.runFinished, timeout=WARM_MS) as finished:
        assert window.start()
    assert finished.args[0].summary.songs_done == 1
    assert [r.status for r in window.model.rows] == ["done"]
    assert chunks and {c.result.worker_pid for c in chunks} <= after  # served by the re-warmed workers


def test_diagnostics_are_refused_while_a_run_is_going(qtbot, window, tmp_path, monkeypatch):
    actions = about.install_help_menu(window)
    with qtbot.waitSignal(window.songsAdded, timeout=30_000):
        window.add_paths([song(tmp_path / "songs" / "long.wav", 120, 6.0)])
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: told.append(text))
    with qtbot.waitSignal(window.controller.runFinished, timeout=WARM_MS):
        assert window.start()
        actions["diagnostics"].trigger()
        assert "wait for the run to finish" in told[0]
        assert window.findChild(DiagnosticsDialog) is None
        window.cancel()
