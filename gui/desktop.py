"""What makes the window behave like an installed desktop app, hooked into ``gui.app.main``.

The log file, the icon and version, songs dropped on the app or Dock icon, and the Help menu.
Two steps because macOS may deliver dropped files before the window exists.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMainWindow

from engine.logs import setup_logging
from engine.version import APP_VERSION
from gui.engine_thread import EngineController
from gui.fileopen import FileOpenQueue

log = logging.getLogger("gui.run")


def resource_path(name: str) -> Path:
    """A file from ``resources/``, in a source checkout or inside the frozen app."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base / "resources" / name


def prepare_application(app: QApplication) -> FileOpenQueue:
    """Right after the QApplication exists: start the log, set the icon, listen for file-open events."""
    setup_logging("window")
    app.setApplicationVersion(APP_VERSION)
    icon = resource_path("icon.png")
    if icon.is_file() and sys.platform != "darwin":  # a Mac app's Dock icon comes from its .icns
        app.setWindowIcon(QIcon(str(icon)))
    return FileOpenQueue(app)


def attach_window(window: QMainWindow, file_opens: FileOpenQueue) -> None:
    """Once the window exists: let dropped files reach its queue, and log what went wrong in its runs."""
    file_opens.deliver_to(window.add_paths)  # type: ignore[attr-defined]
    controller = getattr(window, "controller", None)
    if controller is not None:
        log_run_events(controller)


def log_run_events(controller: EngineController) -> None:
    """What went wrong in a run goes to the log file too: the log panel is gone when the window is."""
    controller.poolRecovered.connect(lambda e: log.warning("%s (worker %s): %s", e.reason, e.worker_pid, e.detail))
    controller.songFailed.connect(lambda e: log.warning("%s: %s", e.path, e.error))
    controller.runCrashed.connect(lambda text: log.error("the run stopped: %s", text))
    controller.runFinished.connect(lambda e: log.info("run finished: %s", e.summary))
