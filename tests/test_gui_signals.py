"""The window sent SIGTERM or SIGINT mid-run (a logout, ``kill``, Ctrl+C in its terminal).

A real ``main.py`` process, offscreen, analysing generated songs with ``--autostart``, signalled
once some songs are in the results cache. It must stop its pool, keep what finished, exit with
the conventional status (128 + the signal), leave no process behind and have the resource
tracker report nothing leaked; a second launch then finds the finished songs in the cache.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.audio import song

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name == "nt", reason="POSIX signals")]
REPO = Path(__file__).resolve().parent.parent
SONGS = 8


def environment(tmp_path: Path) -> dict[str, str]:
    from platformdirs import user_cache_dir

    config = tmp_path / "config"
    (config / "CalibrationStudio").mkdir(parents=True)
    (config / "CalibrationStudio" / "CalibrationStudio.ini").write_text(
        "[engine]\nworkers=1\n\n[analysis]\nchunk_seconds=4.0\n", encoding="utf-8"
    )
    # results cache in a temp folder; numba's compiled cache shared, or the child would JIT from cold
    shared = Path(user_cache_dir("CalibrationStudio", appauthor=False)) / "numba"
    numba = os.environ.get("NUMBA_CACHE_DIR") or str(shared)
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(config),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "NUMBA_CACHE_DIR": numba,
        "CALIBRATION_STUDIO_LOG_DIR": str(tmp_path / "logs"),
    }


def cached_paths(database: Path) -> set[str]:
    if not database.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return {row[0] for row in db.execute("SELECT path FROM songs")}
    except sqlite3.Error:  # not created yet
        return set()


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signalled_window_stops_its_pool_keeps_results_and_exits_conventionally(tmp_path, signum, status):
    folder = tmp_path / "songs"
    for i in range(SONGS):
        song(folder / f"song {i}.wav", 90.0 + 5 * i, 24.0)
    env = environment(tmp_path)
    database = tmp_path / "cache" / "CalibrationStudio" / "results.sqlite3"
    command = [sys.executable, str(REPO / "main.py"), str(folder), "--autostart"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not cached_paths(database) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        children = psutil.Process(process.pid).children(recursive=True)
        finished_before = cached_paths(database)
        assert finished_before, "no song finished in time"
        assert len(finished_before) < SONGS, "the run ended before the signal: make the songs longer"
        assert any("multiprocessing" in " ".join(c.cmdline()) for c in children), "no pool worker running"
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == status, stderr[-2000:]
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left behind: {[p.pid for p in alive]}"
    assert "leaked" not in stderr and "resource_tracker" not in stderr, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]
    kept = cached_paths(database)
    assert finished_before <= kept and len(kept) < SONGS

    out = tmp_path / "export"  # the next launch: finished songs come from the cache, the rest are analysed
    command += ["--export-dir", str(out), "--quit-when-done"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "results.csv", newline="", encoding="utf-8-sig") as handle:
        rows = {Path(r["path"]).name: r for r in csv.DictReader(handle)}
    assert len(rows) == SONGS and all(r["status"] == "done" for r in rows.values())
    assert {name for name, r in rows.items() if r["cached"] == "1"} == {Path(p).name for p in kept}
