"""The log file: where it goes, that it rotates, and that a broken log folder never stops the program."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import logs


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    logs.stop_logging()  # an in-process CLI test may have set it up already
    folder = tmp_path / "logs"
    monkeypatch.setenv(logs.ENV_DIR, str(folder))
    yield folder
    logs.stop_logging()


def test_records_and_the_start_line_go_to_the_file(log_dir):
    path = logs.setup_logging("test")
    assert path == log_dir / logs.LOG_NAME == logs.log_file()
    logging.getLogger("engine.something").warning("a chunk timed out")
    logging.getLogger("numba.core").info("compiler chatter")  # third-party INFO stays out
    text = path.read_text(encoding="utf-8")
    assert "test started: Calibration Studio" in text
    assert "WARNING engine.something: a chunk timed out" in text
    assert "compiler chatter" not in text


def test_second_setup_adds_no_second_handler(log_dir):
    logs.setup_logging("one")
    logs.setup_logging("two")
    logging.getLogger("x").warning("once")
    assert logs.log_file().read_text(encoding="utf-8").count("once") == 1


def test_log_rotates_and_keeps_a_bounded_number_of_files(log_dir):
    logs.setup_logging("test", max_bytes=2_000)
    for i in range(400):
        logging.getLogger("x").warning("line %d %s", i, "." * 40)
    files = sorted(p.name for p in log_dir.iterdir())
    assert files == [logs.LOG_NAME, *(f"{logs.LOG_NAME}.{n}" for n in range(1, logs.BACKUPS + 1))]
    assert "line 399" in logs.log_file().read_text(encoding="utf-8")


def test_unwritable_log_folder_returns_none_and_logging_still_works(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(logs.ENV_DIR, str(blocker / "logs"))
    logs.stop_logging()
    try:
        assert logs.setup_logging("test") is None
        logging.getLogger("x").warning("goes nowhere, raises nothing")
    finally:
        logs.stop_logging()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_uncaught_exception_in_a_thread_is_logged(log_dir):
    logs.setup_logging("test")

    def boom() -> None:
        raise RuntimeError("worker thread broke")

    thread = threading.Thread(target=boom, name="engine-thread")
    thread.start()
    thread.join()
    text = logs.log_file().read_text(encoding="utf-8")
    assert "uncaught exception in thread engine-thread" in text
    assert "RuntimeError: worker thread broke" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG layout is Linux's")
def test_default_folder_is_the_platform_user_log_folder(tmp_path):
    """Without the override the file goes where platformdirs puts logs: the XDG state folder on Linux."""
    code = "from engine.logs import log_file; print(log_file())"
    env = {"PATH": "", "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=root)
    assert out.stdout.strip() == str(tmp_path / "state" / "CalibrationStudio" / "log" / logs.LOG_NAME)


NO_CHILDREN = """
import os, subprocess, sys
spawned = []
def refuse(self, args, *a, **k):
    spawned.append(args)
    raise OSError("no child processes at start-up")
subprocess.Popen.__init__ = refuse
from engine import logs
logs.setup_logging("probe")
print(repr(spawned))
print(logs.log_file().read_text(encoding="utf-8"))
"""


def test_the_start_line_starts_no_process(log_dir):
    """platform.platform() runs `uname -p` on Linux; the app's start must not spawn anything."""
    done = subprocess.run(
        [sys.executable, "-c", NO_CHILDREN],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, logs.ENV_DIR: str(log_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    spawned, _, text = done.stdout.partition("\n")
    assert spawned == "[]", f"processes started while logging started: {spawned}"
    assert f"on {logs.system_description()}" in text
