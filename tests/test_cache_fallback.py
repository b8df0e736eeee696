"""A cache that cannot be written never stops analysis: it moves to a private folder or is switched off, and says so."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from engine import cachedirs
from engine.results import SongStatus
from engine.run.events import RunFinished
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests.audio import song
from tests.reliability import fill_disk, run_cli, small_tmpfs

pytestmark = pytest.mark.usefixtures("no_stray_workers")


@pytest.fixture
def fresh_notices(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    notices: list[str] = []
    monkeypatch.setattr(cachedirs, "_notices", notices)
    return notices


@pytest.fixture
def blocked_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user cache folder lies under a regular file, so it can never be created (even by root)."""
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    monkeypatch.setattr(cachedirs, "user_cache_root", lambda: blocker / "CalibrationStudio")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return blocker


def test_an_unwritable_user_cache_moves_to_a_private_temporary_folder(blocked_user_cache, fresh_notices, tmp_path):
    folder = cachedirs.cache_folder("numba")
    assert folder.is_dir() and folder.name == "numba"
    assert folder.parent.parent == tmp_path / "tmp"
    if hasattr(os, "getuid"):
        assert folder.parent.stat().st_mode & 0o077 == 0  # numba loads code from here: nobody else may write
    assert len(fresh_notices) == 1 and str(blocked_user_cache) in fresh_notices[0] and str(folder) in fresh_notices[0]
    cachedirs.cache_folder("numba")
    assert len(fresh_notices) == 1  # said once, not on every call


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="folder owners and modes are POSIX")
def test_a_shared_fallback_folder_that_others_can_write_is_never_used(blocked_user_cache, fresh_notices, tmp_path):
    import getpass

    shared = tmp_path / "tmp" / f"CalibrationStudio-{getpass.getuser()}"
    shared.mkdir()
    shared.chmod(0o777)
    folder = cachedirs.cache_folder("numba")
    assert shared not in folder.parents
    assert folder.parent.parent == tmp_path / "tmp" and folder.parent.stat().st_mode & 0o077 == 0


def test_no_writable_cache_folder_is_an_error_naming_both_places(blocked_user_cache, monkeypatch):
    monkeypatch.setattr(cachedirs, "private_fallback_root", lambda: blocked_user_cache / "fallback")
    with pytest.raises(OSError) as raised:
        cachedirs.cache_folder("numba")
    assert str(blocked_user_cache / "CalibrationStudio" / "numba") in str(raised.value)
    assert str(blocked_user_cache / "fallback" / "numba") in str(raised.value)


def _run(engine: Engine, paths: list[Path]) -> list:
    results: list = []
    for event in engine.run(paths):
        if isinstance(event, RunFinished):
            results = event.results
    return results


def test_a_results_cache_that_cannot_be_opened_leaves_analysis_working(tmp_path, fresh_notices):
    cache_path = tmp_path / "cache.sqlite3"
    cache_path.mkdir()  # a folder where the database file should be: SQLite cannot open it
    path = song(tmp_path / "one.wav", bpm=120.0, seconds=6.0)
    with Engine(AnalysisSettings(), EngineOptions(workers=1, cache_path=cache_path)) as engine:
        (result,) = _run(engine, [path])
    assert result.status is SongStatus.DONE and result.bpm
    assert any("results are not cached" in n and "cannot be opened" in n for n in fresh_notices), fresh_notices


def test_a_results_cache_on_a_disk_that_fills_mid_run_is_switched_off_and_the_run_goes_on(tmp_path, fresh_notices):
    paths = [song(tmp_path / f"song{i}.wav", bpm=100.0 + 10 * i, seconds=6.0) for i in range(3)]
    with small_tmpfs(tmp_path / "disk", "256k") as disk:
        options = EngineOptions(workers=1, cache_path=disk / "cache.sqlite3")
        try:
            with Engine(AnalysisSettings(), options) as engine:
                fill_disk(disk)  # the database is open; every write from now on finds the disk full
                results = _run(engine, paths)
        finally:
            for filler in disk.glob("filler.bin"):
                filler.unlink()
    assert [r.status for r in results] == [SongStatus.DONE] * 3
    assert any("cannot be written" in n and "caching is off" in n for n in fresh_notices), fresh_notices


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="platformdirs reads XDG_CACHE_HOME on Linux only")
def test_analyze_with_an_unwritable_user_cache_warns_and_still_caches_in_the_fallback(tmp_path):
    user_cache = cachedirs.user_cache_root()
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ)
    # numba's compiled code stays warm (a cold compile costs ~30 s); the results cache has to move
    env.update(NUMBA_CACHE_DIR=str(user_cache / "numba"), LIBROSA_CACHE_DIR=str(user_cache / "librosa"))
    env.update(XDG_CACHE_HOME=str(blocker / "cache"), TMPDIR=str(temp))
    path = song(tmp_path / "one.wav", bpm=120.0, seconds=6.0)
    first = run_cli("analyze", str(path), "--out", str(tmp_path / "out"), "--workers", "1", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "warning: cannot write the cache folder" in first.stderr and str(temp) in first.stderr
    assert "1 done" in first.stderr
    second = run_cli("analyze", str(path), "--out", str(tmp_path / "out"), "--workers", "1", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "(1 from cache)" in second.stderr


def test_a_second_install_of_the_same_versions_gets_its_own_warm_marker(monkeypatch, tmp_path):
    """numba files its cache by source path: another virtualenv's librosa must start cold (and warm up first)."""
    import importlib.machinery
    import importlib.util

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    here = cachedirs.jit_marker()
    real_find_spec = importlib.util.find_spec

    def elsewhere(name, *args):
        if name == "librosa":  # a new spec: the real one is librosa's own __spec__ once imported
            origin = "/another/checkout/.venv/lib/site-packages/librosa/__init__.py"
            return importlib.machinery.ModuleSpec(name, None, origin=origin)
        return real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", elsewhere)
    there = cachedirs.jit_marker()
    assert here.parent == there.parent == tmp_path
    assert here != there
