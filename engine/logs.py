"""The log file: one rotating file in the user log folder, written by the window and the command line.

A double-clicked app has no terminal, so its warnings and crashes must land somewhere a user can
find and send ("Help ▸ Show Log File"). Plain ``logging`` (the engine never imports Qt). Pool
workers do not write here: their failures come back to the parent as results and are logged there,
and several processes rotating one file would race. What C libraries print in a worker goes to
``worker-stderr.log`` beside it (``engine.run.pool``); what they print in the app's own process while
it reads a song (probing it, the inspector's player) becomes a record here (``engine.native_stderr``).
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

APP_DIR_NAME = "CalibrationStudio"
LOG_NAME = "calibration-studio.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
ENV_DIR = "CALIBRATION_STUDIO_LOG_DIR"
"""Overrides the folder (tests, or a user who wants the log elsewhere)."""
QUIET_LIBRARIES = ("numba", "llvmlite", "PIL", "matplotlib", "urllib3")
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("calibration_studio")
_saved_hooks: tuple | None = None  # (sys.excepthook, threading.excepthook) before ours


def log_dir() -> Path:
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_DIR_NAME, appauthor=False))


def log_file() -> Path:
    """Where the log is (or will be): what "Show Log File" opens."""
    return log_dir() / LOG_NAME


def _our_handler() -> RotatingFileHandler | None:
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_calibration_studio", False):
            return handler  # type: ignore[return-value]
    return None


def setup_logging(component: str, level: int = logging.INFO, max_bytes: int = MAX_BYTES) -> Path | None:
    """Send log records to the rotating file; returns it, or None if the folder cannot be written.

    Safe to call more than once. A log that cannot be written never stops the program.
    """
    existing = _our_handler()
    if existing is not None:
        return Path(existing.baseFilename)
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=BACKUPS, encoding="utf-8", errors="backslashreplace"
        )  # errors: a non-UTF-8 file name in a message must not lose the message
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    handler._calibration_studio = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    _log_uncaught_exceptions()
    from engine.version import APP_VERSION, ENGINE_VERSION

    log.info(
        "%s started: Calibration Studio %s (engine %s), Python %s on %s%s",
        component,
        APP_VERSION,
        ENGINE_VERSION,
        platform.python_version(),
        system_description(),
        ", frozen" if getattr(sys, "frozen", False) else "",
    )
    return path


def system_description() -> str:
    """OS, release and machine, without starting a process.

    ``platform.platform()`` reads every field of ``uname()``, and on Linux the processor field runs
    ``uname -p`` as a child process: a start-up log line must not start processes (the frozen-app
    test counts every child of the app, and saw it as a stray).
    """
    return f"{platform.system()}-{platform.release()}-{platform.machine()}"


def stop_logging() -> None:
    """Detach and close the file handler (tests; a clean shutdown)."""
    handler = _our_handler()
    global _saved_hooks
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
    if _saved_hooks is not None:
        sys.excepthook, threading.excepthook = _saved_hooks
        _saved_hooks = None


def _log_uncaught_exceptions() -> None:
    """A crash in a windowed app shows nothing: put its traceback in the log, then behave as before."""
    global _saved_hooks
    if _saved_hooks is not None:
        return
    previous_hook, previous_thread_hook = _saved_hooks = sys.excepthook, threading.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("uncaught exception", exc_info=(kind, value, tb))
        previous_hook(kind, value, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit and args.exc_value is not None:
            name = args.thread.name if args.thread else "?"
            log.critical(
                "uncaught exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
            )
        previous_thread_hook(args)

    sys.excepthook = hook
    threading.excepthook = thread_hook
