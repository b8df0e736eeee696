#!/usr/bin/env python3
"""Calibration Studio launcher.

    python3 main.py [PATH ...] [window options]   open the window (sets itself up on first use)
    python3 main.py analyze PATH... --out DIR     analyse headless (see `analyze --help`)
    python3 main.py calibrate DIR                 refit a calibration from existing results
    python3 main.py doctor                        check this machine
    python3 main.py tag DIR                       write BPM/key tags from DIR/results.csv (previewed, undoable)
    python3 main.py export DIR --to FILE          write a rekordbox XML / Traktor NML collection from DIR
    python3 main.py test [PYTEST ARGS]            run the whole test suite

On first use (or when pyproject.toml changes) it creates ``.venv`` beside this file, installs
the project into it and re-runs itself there: nothing else needs installing by hand.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
CLI_COMMANDS = ("analyze", "calibrate", "doctor", "tag", "export")
APP_MODULES = (
    "numpy",
    "librosa",
    "soundfile",
    "av",
    "pebble",
    "mir_eval",
    "mutagen",
    "platformdirs",
    "psutil",
    "PySide6",
    "pyqtgraph",
    "rapidfuzz",
    "anyascii",
    "defusedxml",
    "sounddevice",
)
TEST_MODULES = ("pytest", "pytestqt", "pytest_timeout", "PyInstaller", "mypy")


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _stamp(extras: str) -> Path:
    digest = hashlib.sha256((HERE / "pyproject.toml").read_bytes()).hexdigest()[:12]
    return VENV / f".installed-{extras or 'app'}-{digest}"


def _missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _ensure_environment(argv: list[str], with_tests: bool) -> None:
    """Make sure the packages are importable; otherwise set up .venv and re-run this command in it."""
    if getattr(sys, "frozen", False):
        return
    in_project_venv = Path(sys.prefix).resolve() == VENV.resolve()
    needed = APP_MODULES + (TEST_MODULES if with_tests else ())
    extras = "test" if with_tests else ""
    if not _missing(needed) and (not in_project_venv or _stamp(extras).exists() or _stamp("test").exists()):
        return
    python = _venv_python()
    if not python.exists():
        print(f"Setting up Calibration Studio in {VENV} (first run only)…", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not _stamp(extras).exists() and not (extras == "" and _stamp("test").exists()):
        print("Installing dependencies…", file=sys.stderr, flush=True)
        target = f"{HERE}[{extras}]" if extras else str(HERE)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target], check=True
        )
        _stamp(extras).touch()
    if in_project_venv:
        return
    command = [str(python), str(HERE / "main.py"), *argv]
    if os.name == "nt":
        sys.exit(subprocess.call(command))
    os.execv(str(python), command)


def _run_tests(args: list[str]) -> int:
    """The type check over engine/ and gui/ (``[tool.mypy]`` in pyproject.toml), then pytest.

    The type check is skipped when the arguments pick particular tests (a path or ``-k``): that is
    someone iterating on a few tests, not the whole suite.
    """
    os.chdir(HERE)
    picked = any(a.startswith("tests") or "::" in a or a in ("-k", "--co", "--collect-only") for a in args)
    if not picked:
        print("Type check (mypy over engine/ and gui/)…", file=sys.stderr, flush=True)
        status = subprocess.call([sys.executable, "-m", "mypy"])
        if status != 0:
            return status
    return subprocess.call([sys.executable, "-m", "pytest", *args])


def _unknown_command(word: str) -> int:
    """A first word that is neither a command nor a file or folder: usage and a suggestion, status 2.

    Taken as a path it would open the window (which, without a display, aborts); a typo such as
    ``analyse`` most likely meant a command.
    """
    import difflib

    from engine.frontends.cli import program_name
    from engine.frontends.exitcodes import ExitCode

    commands = (*CLI_COMMANDS, "test")
    prog = program_name()
    close = difflib.get_close_matches(word, commands, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    print(
        f"usage: {prog} [PATH ...] [--reference CSV] [--profile JSON] [--autostart] ...   (the window)\n"
        f"       {prog} {{{','.join(commands)}}} ...   (see `{prog} analyze --help`)\n"
        f"{prog}: error: {word!r} is not a command, nor an existing file or folder{hint}",
        file=sys.stderr,
    )
    return ExitCode.USAGE


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen app's pool workers must not start a second app
    argv = sys.argv[1:] if argv is None else argv
    argv = [a for a in argv if not a.startswith("-psn_")]  # macOS Finder's process serial number
    command = argv[0] if argv else ""
    _ensure_environment(argv, with_tests=command == "test")
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    if command == "test":
        if getattr(sys, "frozen", False):  # sys.executable is the app itself: "-m pytest" would open a window
            from engine.frontends.exitcodes import ExitCode

            print("error: the tests run from a source checkout: python3 main.py test", file=sys.stderr)
            return ExitCode.USAGE
        return _run_tests(argv[1:])
    if command in CLI_COMMANDS:
        from engine.frontends.cli import main as cli_main

        return cli_main(argv)
    if command and not command.startswith("-") and not os.path.exists(command):
        return _unknown_command(command)
    from gui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
