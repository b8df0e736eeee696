"""Every way to start the program answers --version and --help under its own name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.version import APP_VERSION

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize(
    ("command", "prog"),
    [
        ((sys.executable, "main.py"), "main.py"),
        ((sys.executable, "-m", "main"), "main.py"),
        ((sys.executable, "-m", "engine"), "python -m engine"),
    ],
)
def test_version_and_command_help(command, prog):
    version = run(*command, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith(f"Calibration Studio {APP_VERSION} ")
    for sub in ("analyze", "calibrate", "doctor"):
        helped = run(*command, sub, "--help")
        assert helped.returncode == 0, helped.stderr
        assert helped.stdout.startswith(f"usage: {prog} {sub} ")


@pytest.mark.parametrize("script", ["calibration-studio", "calibration-studio-cli"])
def test_installed_entry_points(script):
    path = shutil.which(script, path=str(BIN))
    if path is None:
        pytest.skip(f"{script} is not installed in this environment (pip install -e .)")
    version = run(path, "--version")
    assert version.returncode == 0 and version.stdout.startswith(f"Calibration Studio {APP_VERSION} ")
    helped = run(path, "analyze", "--help")
    assert helped.returncode == 0 and helped.stdout.startswith(f"usage: {script} analyze ")


def test_a_mistyped_command_gets_usage_and_a_suggestion_instead_of_the_window():
    typo = run(sys.executable, "main.py", "analyse", "songs", "--out", "x")
    assert typo.returncode == 2, typo.stderr
    assert typo.stderr.startswith("usage: main.py ")
    assert "error: 'analyse' is not a command, nor an existing file or folder; did you mean 'analyze'?" in typo.stderr
    assert typo.stdout == ""
    unknown = run(sys.executable, "main.py", "zzqx")
    assert unknown.returncode == 2 and "'zzqx' is not a command" in unknown.stderr
    assert "did you mean" not in unknown.stderr


def _without_display() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return env


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="only X11/Wayland name their display in the environment"
)
@pytest.mark.parametrize("platform", [None, "xcb", "wayland"])
def test_the_window_without_a_display_says_so_in_one_line_instead_of_aborting(tmp_path, platform):
    env = _without_display()
    if platform:
        env["QT_QPA_PLATFORM"] = platform
    done = subprocess.run(
        [sys.executable, "main.py", str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env
    )
    assert done.returncode == 1, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no display to open the window on"), done.stderr
    assert "main.py analyze --help" in lines[0]
