"""A pool stopped while a worker is still being spawned prints nothing (issue 26, part 2).

``doctor`` sometimes printed a worker's bootstrap traceback (``SemLock._rebuild ...
FileNotFoundError``) between two checks: pebble unlinks its channel's semaphores before it
terminates the workers, and a worker still starting (the replacement of the one whose chunk
passed its deadline) unpickled its state after the unlink. ``tests/spawn_race.py`` makes that
window certain: new workers are held before they unpickle, and the parent stalls right after
pebble's unlink. Each scenario runs in its own process so that the workers' stderr is captured.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("scenario", "held"),
    [
        ("replacement", 1),  # doctor: a chunk past its deadline, then the pool stops while its replacement starts
        ("cancel", 2),  # the window: a run cancelled (Engine.cancel) while both workers start
    ],
)
def test_a_pool_stopped_while_a_worker_starts_prints_no_traceback(tmp_path, scenario, held, no_stray_workers):
    done = subprocess.run(
        [sys.executable, "-m", "tests.spawn_race", scenario, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"
    assert len(list(tmp_path.glob("held-*"))) == held, "the workers were not held: the race was not reproduced"
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
