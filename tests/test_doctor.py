"""``main.py doctor``, run as a user runs it: a plain report, exit 1 only when something needed is broken."""

from __future__ import annotations

import os
import re
import sys

import pytest

from engine.frontends.doctor import FAIL, OK, WARN, Check, check_decoder, check_pyav_decoder, verdict
from tests.reliability import run_cli

pytestmark = pytest.mark.usefixtures("no_stray_workers")


@pytest.mark.slow
def test_doctor_reports_every_check_and_exits_0_on_a_working_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    done = run_cli("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for name in ("wav", "flac", "ogg", "mp3"):
        assert f"ok    {name} decoding" in out
    for name in ("m4a/AAC", "m4a/ALAC"):  # PyAV's own FFmpeg: nothing to install, so always ok
        assert re.search(
            rf"ok    {name} decoding: PyAV [\d.]+ \(FFmpeg [^)]+\): probed and read 15 s .* in \d+ ms", out
        )
    assert "install" not in out.lower()
    assert "ok    worker pool: 2 of 2 workers started with the spawn method, warm-up" in out
    assert "ok    nested pools refused" in out
    assert "ok    chunk deadline: a chunk that never returns was stopped after" in out
    assert "ok    workers stopped: no process left behind" in out
    for name in ("results cache", "log file", "numba cache"):
        assert f"info  {name}: " in out
    assert out.rstrip().splitlines()[-1].startswith("Everything")
    assert list(tmp_path.iterdir()) == []  # its probe songs were in a temp folder, now removed


@pytest.mark.skipif(sys.platform != "linux", reason="platformdirs reads XDG_CACHE_HOME on Linux only")
def test_doctor_warns_when_the_cache_folder_cannot_be_created_and_names_the_fallback(tmp_path):
    """A real breakage (the cache 'folder' is under a file): a warning naming the private fallback, exit 0."""
    from engine.cachedirs import user_cache_root

    blocker = tmp_path / "not a folder"
    blocker.write_text("x")
    env = dict(os.environ)
    # numba's compiled code stays in the working cache (a cold compile costs ~30 s); only results move
    env.update(NUMBA_CACHE_DIR=str(user_cache_root() / "numba"), LIBROSA_CACHE_DIR=str(user_cache_root() / "librosa"))
    env.update(XDG_CACHE_HOME=str(blocker / "cache"), TMPDIR=str(tmp_path))
    done = run_cli("doctor", "--workers", "1", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x.strip() for x in done.stdout.splitlines() if "results cache" in x)
    assert line.startswith("warn  results cache"), line
    assert str(tmp_path) in line and "is not writable" in line and str(blocker) in line
    assert "Traceback" not in done.stdout + done.stderr


def test_pyav_decoders_encode_and_read_back_m4a(tmp_path):
    for name in ("m4a/AAC", "m4a/ALAC"):
        check = check_pyav_decoder(name, tmp_path)
        assert check.status == OK, check.detail
        assert re.search(r"read 15 s from the middle in \d+ ms", check.detail)


def test_a_broken_optional_decoder_warns_and_a_broken_required_one_fails(tmp_path):
    """The decoder check reads the file back through the engine; a format libsndfile lacks is not fatal."""
    assert check_decoder("wav", tmp_path).status == OK
    broken = [Check(WARN, "mp3 decoding", "x"), Check(OK, "wav decoding")]
    assert verdict(broken).startswith("Everything the product needs works; optional: mp3 decoding")
    assert verdict([*broken, Check(FAIL, "worker pool", "y")]).startswith("1 problem(s)")


@pytest.mark.slow
def test_the_pool_check_leaves_another_pool_in_the_process_alone(tmp_path):
    """Help ▸ Run Diagnostics runs beside the window's warm pool: that pool keeps its workers and still works."""
    import psutil

    from engine.analysis.chunk import warm_up
    from engine.frontends.doctor import check_pool
    from engine.results import SongStatus
    from engine.run import events as ev
    from engine.run.runner import Engine
    from engine.settings import AnalysisSettings, EngineOptions
    from tests.audio import song

    (tmp_path / "probe").mkdir()
    options = EngineOptions(workers=1, use_cache=False)
    with Engine(AnalysisSettings(chunk_seconds=4.0), options, warm_up=warm_up) as window_engine:
        list(window_engine.warm_up())
        warm = set(window_engine.worker_pids())
        checks = list(check_pool(tmp_path / "probe", workers=1, deadline=3.0))
        assert [c.status for c in checks] == [OK] * 4, [c.line() for c in checks]
        alive = {p for p in warm if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE}
        assert alive == warm and set(window_engine.worker_pids()) == warm
        events = list(window_engine.run([song(tmp_path / "next.wav", 120, 5.0)]))
    assert not any(isinstance(e, ev.WarmUp) and e.stage == "parent" for e in events)
    (result,) = events[-1].results
    assert result.status is SongStatus.DONE and {c.worker_pid for c in result.chunks} <= warm
