"""Test set-up shared by every test module."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import: CI has no display
_OWN_LOG_DIR = (
    None if "CALIBRATION_STUDIO_LOG_DIR" in os.environ else tempfile.mkdtemp(prefix="calibration-studio-test-logs-")
)
if _OWN_LOG_DIR:
    os.environ["CALIBRATION_STUDIO_LOG_DIR"] = _OWN_LOG_DIR


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the session's log folder, so repeated runs do not fill the temp folder; kept on failure to read."""
    if _OWN_LOG_DIR and exitstatus == 0:
        shutil.rmtree(_OWN_LOG_DIR, ignore_errors=True)


@pytest.fixture
def no_stray_workers():
    """Fail the test if it leaves a pool worker behind."""
    yield
    import psutil

    from engine.run.pool import worker_processes

    leftovers = worker_processes()
    _, alive = psutil.wait_procs(leftovers, timeout=5)
    assert not alive, f"worker processes left behind: {[p.pid for p in alive]}"


@pytest.fixture
def settings_dir(tmp_path):
    """QSettings in a temporary folder, with small, fast engine settings (1 worker, 4 s chunks)."""
    from PySide6.QtCore import QSettings

    from gui.preferences import Preferences

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    Preferences(workers=1, chunk_seconds=4.0, use_cache=False).save()
    return tmp_path


@pytest.fixture
def make_window(qtbot, settings_dir, no_stray_workers):
    """Build real main windows (``make(launch=None, cache=None)``); their engines are shut down afterwards."""
    from gui.app import build_window

    windows = []

    def make(launch=None, cache=None):
        cache_path = cache or settings_dir / "cache.sqlite3"
        window = build_window(launch, data_dir=settings_dir / "data", cache_path=cache_path)
        window.confirm_close_during_run = lambda: True  # no modal question in tests
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.controller.shutdown()
