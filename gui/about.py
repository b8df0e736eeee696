"""The Help menu: "Show Log File" and an About box that says which libraries this copy runs on.

A bug report about tempo or key numbers is only useful with the versions of librosa and numpy
that produced them, so the About box lists them, selectable, with the log file's location.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from html import escape

from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from engine.analysis.pyav_decoding import ffmpeg_licence
from engine.licences import gpl_notice
from engine.logs import log_file, system_description
from engine.version import APP_VERSION, ENGINE_VERSION
from gui.actions import ActionDef, ActionKey, Menu, Place, Section
from gui.engine_thread import EngineController

LIBRARIES = ("PySide6", "librosa", "numpy", "numba", "scipy", "soundfile", "av", "pyqtgraph", "pebble")
LGPL_TERMS = (
    "Audio other than wav/flac/aiff/ogg/mp3 is decoded by FFmpeg's libraries, used under the GNU LGPL: "
    "they are separate shared libraries in this app that you may replace with your own build, and their "
    "source code is available from ffmpeg.org (the version is shown above)."
)


def library_version(name: str) -> str:
    """A library's version without importing it (librosa takes seconds to import)."""
    module = sys.modules.get(name)
    found = getattr(module, "__version__", None)
    if found:
        return str(found)
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:  # a frozen app may carry a package without its metadata: import it after all
        return str(getattr(__import__(name), "__version__", "unknown"))
    except ImportError:
        return "not installed"


def versions() -> dict[str, str]:
    found = {
        "Calibration Studio": APP_VERSION,
        "Analysis engine": ENGINE_VERSION,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "Qt": qVersion(),
    }
    found.update({name: library_version(name) for name in LIBRARIES})
    found["System"] = system_description()
    return found


def about_text() -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>&nbsp;&nbsp;{escape(value)}</td></tr>" for name, value in versions().items()
    )
    frozen = " (app bundle)" if getattr(sys, "frozen", False) else ""
    return (
        f"<h3>Calibration Studio {escape(APP_VERSION)}</h3>"
        "<p>Calibrates a tempo (BPM) and key analysis engine against reference values.</p>"
        f"<table>{rows}</table>"
        f"<p>{escape(ffmpeg_licence())}.<br>{escape(LGPL_TERMS)}<br>{escape(gpl_notice())}.</p>"
        f"<p>Log file{frozen}:<br><code>{escape(str(log_file()))}</code></p>"
    )


def show_about(parent: QWidget | None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle("About Calibration Studio")
    box.setText(about_text())
    box.setIconPixmap(box.windowIcon().pixmap(64, 64))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()  # not exec(): the run goes on behind it
    return box


def show_log_file(parent: QWidget | None) -> bool:
    """Open the log in the system's viewer (Console on macOS); say so if there is none yet."""
    path = log_file()
    if path.is_file() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return True
    folder = path.parent
    if folder.is_dir() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return True
    QMessageBox.information(parent, "Log file", f"There is no log file yet. It will be written to:\n{path}")
    return False


def help_actions(parent: QWidget, engine: EngineController | None) -> list[ActionDef]:
    """The *Help* menu's commands; on macOS Qt moves "About" into the application menu, as Mac apps have it."""
    from gui.diagnostics import run_diagnostics

    place, about_place = Place(Menu.HELP), Place(Menu.HELP, Section.LAST)
    return [
        ActionDef(ActionKey.SHOW_LOG, "Show Log File", lambda: show_log_file(parent), place),
        ActionDef(
            ActionKey.DIAGNOSTICS,
            "Run Diagnostics…",
            lambda: engine is not None and run_diagnostics(parent, engine),
            place,
        ),
        ActionDef(ActionKey.ABOUT, "About Calibration Studio", lambda: show_about(parent), about_place),
    ]


def install_help_menu(window: QMainWindow, engine: EngineController | None = None) -> dict[str, QAction]:
    """The Help menu on a window without features of its own (tests, a bare window); the main window
    declares the same commands through its shell."""
    from gui.shell import Shell

    shell = Shell(window)
    for definition in help_actions(window, engine if engine is not None else getattr(window, "controller", None)):
        shell.add_action(definition)
    shell.build_menus()
    shell.action(ActionKey.ABOUT).setMenuRole(QAction.MenuRole.AboutRole)
    return {
        "log": shell.action(ActionKey.SHOW_LOG),
        "diagnostics": shell.action(ActionKey.DIAGNOSTICS),
        "about": shell.action(ActionKey.ABOUT),
    }
