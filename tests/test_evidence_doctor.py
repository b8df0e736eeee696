"""``main.py doctor`` exit codes through the real command, on machines really broken in two ways.

* Only an optional decoder broken (PyAV, which reads m4a/AAC/ALAC, fails on import: a package that
  raises is put first on the path): every line still printed, a warning naming what to reinstall, exit 0.
* A worker pool that cannot start (the workers' librosa import fails, as in a broken install: a
  package that raises on import is put first on the workers' path): ``FAIL  worker pool``, exit 1,
  and the worker's own error is in ``worker-stderr.log`` in the log folder, as the line says.
* Nothing writable at all (the user cache folder lies under a file, and read-only file systems are
  mounted over every temporary folder in a private mount namespace): ``FAIL`` for the temporary
  folder and for the results cache, the report still comes out whole (no traceback), exit 1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.reliability import MAIN, run_cli

pytestmark = pytest.mark.usefixtures("no_stray_workers")


def warm_numba_env() -> dict[str, str]:
    """numba's compiled code stays in the working cache: a cold compile costs ~30 s."""
    from engine.cachedirs import user_cache_root

    return {
        "NUMBA_CACHE_DIR": str(user_cache_root() / "numba"),
        "LIBROSA_CACHE_DIR": str(user_cache_root() / "librosa"),
    }


def test_doctor_exits_0_with_a_warning_when_only_the_optional_m4a_decoder_is_broken(tmp_path):
    broken = tmp_path / "site" / "av"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("PyAV is broken in this install (test)")\n')
    env = dict(os.environ, PYTHONPATH=str(broken.parent), TMPDIR=str(tmp_path), **warm_numba_env())
    done = run_cli("doctor", "--workers", "1", env=env)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for name in ("m4a/AAC", "m4a/ALAC"):
        line = next(x.strip() for x in out.splitlines() if f"{name} decoding" in x)
        assert line.startswith(f"warn  {name} decoding") and "pip install -U av" in line, line
    assert "FAIL" not in out
    for name in ("wav", "flac"):
        assert f"ok    {name} decoding" in out
    assert "ok    worker pool: 1 of 1 workers started" in out
    assert out.rstrip().splitlines()[-1] == (
        "Everything the product needs works; optional: m4a/AAC decoding; m4a/ALAC decoding"
    )


def test_doctor_exits_1_when_the_worker_pool_cannot_start(tmp_path):
    broken = tmp_path / "site" / "librosa"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("librosa is broken in this install (test)")\n')
    env = dict(os.environ, PYTHONPATH=str(broken.parent), TMPDIR=str(tmp_path), **warm_numba_env())
    env["CALIBRATION_STUDIO_LOG_DIR"] = str(tmp_path / "log")
    # numba's cache counts as warm for this (broken) librosa, so the pool starts at once and its
    # workers are the ones that die (without the marker the parent's warm-up would fail first)
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")
    ask = "from engine.cachedirs import jit_marker; print(jit_marker())"
    marker = subprocess.run([sys.executable, "-c", ask], env=env, cwd=MAIN.parent, capture_output=True, text=True)
    Path(marker.stdout.strip()).parent.mkdir(parents=True, exist_ok=True)
    Path(marker.stdout.strip()).touch()
    done = run_cli("doctor", "--workers", "1", env=env)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    lines = [x.strip() for x in out.splitlines()]
    pool = next(x for x in lines if "worker pool" in x)
    assert pool.startswith("FAIL  worker pool") and "exit while starting" in pool, pool
    for name in ("wav", "flac"):  # the decoders are not the problem, and say so
        assert any(x.startswith(f"ok    {name} decoding") for x in lines), out
    assert lines[-1] == "1 problem(s) the product cannot work with: worker pool"
    assert "librosa is broken in this install (test)" in (tmp_path / "log" / "worker-stderr.log").read_text()
    assert "Traceback" not in out


@cache
def private_mounts_allowed() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    hidden = (Path("/tmp"), Path("/var/tmp"), Path("/usr/tmp"))
    if any(folder in Path(p).resolve().parents for p in (sys.executable, MAIN) for folder in hidden):
        return False  # the mounts would hide the program itself
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o ro tmpfs /tmp"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


READ_ONLY_TEMP = (
    'for d in /tmp /var/tmp /usr/tmp; do [ -d $d ] && mount -t tmpfs -o ro tmpfs $d; done; cd /tmp && exec "$0" "$@"'
)


@pytest.mark.skipif(not private_mounts_allowed(), reason="needs a private mount namespace (Linux, root)")
def test_doctor_exits_1_when_nothing_can_be_written(tmp_path):
    """Found by this test: doctor crashed with a traceback here (no temporary folder for its probe songs)."""
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "LIBROSA_CACHE_DIR")}
    env.update(
        XDG_CACHE_HOME=str(blocker / "cache"),
        CALIBRATION_STUDIO_LOG_DIR=str(blocker / "log"),
        TMPDIR=str(blocker / "tmp"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", READ_ONLY_TEMP, sys.executable, str(MAIN), "doctor", "--workers", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "Traceback" not in out + done.stderr, done.stderr
    lines = [x.strip() for x in out.splitlines()]
    temp = next(x for x in lines if "temporary folder" in x)
    assert temp.startswith("FAIL  temporary folder") and "could not be checked" in temp, temp
    cache_line = next(x for x in lines if "results cache" in x)
    assert cache_line.startswith("FAIL  results cache: no writable cache folder") and str(blocker) in cache_line
    assert any(x.startswith("warn  log file") for x in lines), out
    assert lines[-1] == "2 problem(s) the product cannot work with: temporary folder; results cache"
