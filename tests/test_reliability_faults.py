"""Faults around the process tree: the main process killed mid-run, and workers it leaves behind.

Faults inside workers (a chunk that never returns, SIGKILL, segfault, MemoryError, a nested
pool) are tested in ``tests/test_engine_runner.py`` through the same real pool; the soak
(``bench/soak.py``) adds ``os.abort()`` and random mixes of all of them.
"""

from __future__ import annotations

import csv
import re
import signal
import subprocess
import sys

import pytest

from tests.audio import song
from tests.reliability import MAIN, LineReader, cli, descendants, kill_all, leftover_files, run_cli, wait_gone

pytestmark = pytest.mark.slow

ORPHAN_GRACE_S = 10.0
"""How long workers may take to notice their parent is gone (they watch it; it takes well under 1 s)."""


def test_hung_workers_exit_when_the_main_process_is_killed(tmp_path):
    """Without a watch on the parent, a worker stuck in a chunk outlives a SIGKILLed app forever."""
    path = song(tmp_path / "hangs.wav", 120, 6.0)  # two 4 s chunks: both workers hang
    parent = subprocess.Popen(
        [sys.executable, "-m", "tests.hang_parent", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(MAIN.parent),
    )
    lines = LineReader(parent.stdout)
    children: set[int] = set()
    try:
        both_hung = lines.wait_for(lambda got: sum(line.startswith("started") for line in got) >= 2, timeout=180)
        children = descendants(parent.pid)
        assert both_hung, f"the workers never started their chunks:\n{parent.stderr.read() if parent.poll() else ''}"
        hung = {int(line.split()[1]) for line in lines.lines if line.startswith("started")}
        assert hung <= children
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        left = wait_gone(children, ORPHAN_GRACE_S)
        assert not left, f"processes outlived their killed parent: {left}"
    finally:
        kill_all(descendants(parent.pid) | children)
        if parent.poll() is None:
            parent.kill()
        parent.communicate(timeout=10)


def _results(path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def _eight_songs(tmp_path):
    """Eight 6 s songs and the ``analyze`` arguments for them, with a private cache."""
    folder = tmp_path / "songs"
    names = [f"song {i:02d}.wav" for i in range(1, 9)]
    for i, name in enumerate(names):
        song(folder / name, 90 + 7 * i, 6.0)
    out = tmp_path / "out"
    args = ("analyze", str(folder), "--out", str(out), "--workers", "2", "--chunk-seconds", "4")
    return names, out, (*args, "--cache-file", str(tmp_path / "cache.sqlite3"))


def _signal_mid_run(args, after: int, signum: int) -> tuple[int, list[str]]:
    """Run ``main.py analyze``, send ``signum`` once ``after`` songs are reported; its status and stderr lines.

    Fails if a worker (or the resource tracker) outlives the process.
    """
    proc = cli(*args)
    progress = LineReader(proc.stderr)
    children: set[int] = set()
    try:
        reached = progress.wait_for(lambda got: any(line.startswith(f"[{after}/8]") for line in got), timeout=180)
        children = descendants(proc.pid)
        assert reached, f"the run never finished {after} songs:\n" + "\n".join(progress.lines)
        proc.send_signal(signum)
        proc.wait(timeout=30)
        progress.rest()
        assert not wait_gone(children, ORPHAN_GRACE_S), "workers or the resource tracker outlived the run"
    finally:
        kill_all(descendants(proc.pid) | children)
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    return proc.returncode, progress.lines


def _reported(lines: list[str]) -> int:
    return sum(bool(re.match(r"\[\d+/8\] ", line)) for line in lines)


def test_killed_run_resumes_from_the_cache(tmp_path):
    """SIGKILL the app mid-run: its workers exit, finished songs come back from the cache on restart."""
    names, out, args = _eight_songs(tmp_path)
    _, lines = _signal_mid_run(args, 3, signal.SIGKILL)
    done_before_kill = _reported(lines)
    assert 3 <= done_before_kill < 8
    assert not (out / "results.csv").exists()  # CSVs are written at the end; the cache holds the work

    second = run_cli(*args)
    assert second.returncode == 0, second.stderr
    cached = int(re.search(r"\((\d+) from cache\)", second.stderr).group(1))
    assert done_before_kill <= cached < 8  # a song may finish between the last line and the kill
    rows = _results(out / "results.csv")
    assert list(rows) == names
    assert all(row["status"] == "done" for row in rows.values())
    # The run resumes where it stopped: the first songs come from the cache, the rest are analysed.
    assert [row["cached"] for row in rows.values()] == ["1"] * cached + ["0"] * (8 - cached)
    assert not leftover_files(tmp_path)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signalled_run_stops_its_pool_saves_what_finished_and_resumes(tmp_path, signum):
    """`kill` or Ctrl-C mid-run: the shell's status, finished songs written, nothing leaked or left running."""
    names, out, args = _eight_songs(tmp_path)
    status, lines = _signal_mid_run(args, 2, signum)
    stderr = "\n".join(lines)
    assert status == 128 + signum, stderr
    assert "leaked" not in stderr and "resource_tracker" not in stderr and "Traceback" not in stderr, stderr
    assert f"interrupted ({signal.Signals(signum).name})" in stderr
    reported = _reported(lines)
    assert 2 <= reported < 8
    rows = _results(out / "results.csv")
    assert len(rows) == reported and set(rows) <= set(names)
    assert all(row["status"] == "done" for row in rows.values())

    second = run_cli(*args)
    assert second.returncode == 0, second.stderr
    cached = int(re.search(r"\((\d+) from cache\)", second.stderr).group(1))
    assert cached == reported  # every song written above was cached, nothing half-done was
    rows = _results(out / "results.csv")
    assert list(rows) == names and all(row["status"] == "done" for row in rows.values())
    assert [row["cached"] for row in rows.values()] == ["1"] * cached + ["0"] * (8 - cached)
    assert not leftover_files(tmp_path)
