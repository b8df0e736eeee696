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
