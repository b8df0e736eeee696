"""Test set-up shared by every test module."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import: CI has no display
os.environ.setdefault("CALIBRATION_STUDIO_LOG_DIR", tempfile.mkdtemp(prefix="calibration-studio-test-logs-"))

import pytest


@pytest.fixture
def no_stray_workers():
    """Fail the test if it leaves a pool worker behind."""
    yield
    import psutil

    from engine.pool import worker_processes

    leftovers = worker_processes()
    _, alive = psutil.wait_procs(leftovers, timeout=5)
    assert not alive, f"worker processes left behind: {[p.pid for p in alive]}"
