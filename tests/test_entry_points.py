"""Every way to start the program answers --version and --help under its own name."""

from __future__ import annotations

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
