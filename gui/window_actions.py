"""Every command of the window as one ``QAction``, and the menus, toolbar and context menu built from them.

Modelled on MusicBrainz Picard's main window, which creates its actions in one place and lays
menus and toolbar out from lists of names: a command exists once, so its shortcut, tooltip and
enabled state are the same wherever it shows. Buttons inside panels (the drop zone's, the
calibration panel's) are bound to the same actions with :func:`bind_button` instead of having
slots of their own, so disabling an action disables its buttons too.

To add a command: add an :class:`ActionSpec` to :data:`ACTIONS` (its ``slot`` is a dotted path
from the window, e.g. ``"calibration.fit_calibration"``), then put its key in :data:`MENUS`,
:data:`TOOLBAR` or :data:`QUEUE_CONTEXT`. When it depends on the window's state, give it a rule
in :meth:`WindowActions.update`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QMainWindow, QMenu, QToolBar, QWidget

Shortcut = QKeySequence.StandardKey | str | None


def reveal_text() -> str:
    """What the file manager is called on this system."""
    if sys.platform == "darwin":
        return "Reveal in Finder"
    if os.name == "nt":
        return "Show in Explorer"
    return "Show in File Manager"


@dataclass(frozen=True)
class ActionSpec:
    """One command: its key (attribute ``<key>_action`` on the window), text, handler, shortcut and tip."""

    key: str
    text: str
    slot: str
    shortcut: Shortcut = None
    tip: str = ""
    in_queue: bool = False
    """Also a shortcut of the queue table while it has focus (Delete, Copy…)."""


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "add_folder", "Add Folder…", "queue.choose_folder", QKeySequence.StandardKey.Open, "Add a folder of songs"
    ),
    ActionSpec("add_files", "Add Files…", "queue.choose_files", "Ctrl+Shift+O", "Add song files"),
    ActionSpec("load_reference", "Load Reference…", "calibration.choose_reference", "Ctrl+R", "Load a reference CSV"),
    ActionSpec("clear", "Clear", "queue.clear_queue", "Ctrl+Shift+Backspace", "Remove every song from the queue"),
    ActionSpec("start", "Start", "run.start", "Ctrl+Return", "Analyse the queued songs"),
    ActionSpec("pause", "Pause", "run.toggle_pause", "Ctrl+P", "Pause between chunks, or resume"),
    ActionSpec("cancel", "Cancel", "run.cancel", "Ctrl+.", "Stop the run; finished songs are kept"),
    ActionSpec(
        "export", "Export Calibration CSVs…", "calibration.choose_export", "Ctrl+E", "Write the calibration CSV files"
    ),
    ActionSpec("open_export", "Open Export Folder", "calibration.open_export_folder", None, "Show the last export"),
    ActionSpec(
        "settings", "Settings…", "show_settings", QKeySequence.StandardKey.Preferences, "Workers, chunks, cache"
    ),
    ActionSpec("demo", "Try with Demo Songs", "try_demo", None, "Analyse synthetic songs with a reference"),
    ActionSpec("fit", "Fit Calibration", "calibration.fit_calibration", "Ctrl+F", "Fit a calibration profile"),
    ActionSpec("save_profile", "Save Profile…", "calibration.choose_save_profile"),
    ActionSpec("load_profile", "Load Profile…", "calibration.choose_profile"),
    ActionSpec("copy", "Copy Rows as TSV", "queue.copy_selection", QKeySequence.StandardKey.Copy, in_queue=True),
    ActionSpec("remove", "Remove", "queue.remove_selection", QKeySequence.StandardKey.Delete, in_queue=True),
    ActionSpec("reanalyse", "Re-analyse (Force)", "queue.reanalyse_selection", "Ctrl+Shift+R", in_queue=True),
    ActionSpec("reveal", reveal_text(), "queue.reveal_selection"),
    ActionSpec("quit", "Quit", "close", QKeySequence.StandardKey.Quit),
)

MENUS: dict[str, tuple[str | None, ...]] = {
    "&File": (
        "add_folder",
        "add_files",
        "load_reference",
        "demo",
        None,
        "export",
        "open_export",
        None,
        "clear",
        "settings",
        None,
        "quit",
    ),
    "&Run": ("start", "pause", "cancel"),
    "&Calibration": ("fit", "save_profile", "load_profile"),
}
"""Menu bar layout; ``None`` is a separator. The Help menu is added by ``gui.about``."""
TOOLBAR: tuple[str | None, ...] = (
    "add_folder",
    "add_files",
    "load_reference",
    None,
    "start",
    "pause",
    "cancel",
    None,
    "export",
    "settings",
)
QUEUE_CONTEXT: tuple[str, ...] = ("reveal", "copy", "reanalyse", "remove")


def _make_action(spec: ActionSpec, handler: Callable[[], Any], parent: QObject) -> QAction:
    action = QAction(spec.text, parent)
    action.setObjectName(f"{spec.key}_action")
    # triggered(bool) would hand `checked` to a handler with an optional first argument (run.start's force)
    action.triggered.connect(lambda _checked=False: handler())
    if spec.shortcut is not None:
        action.setShortcut(QKeySequence(spec.shortcut))
    if spec.tip:
        action.setStatusTip(spec.tip)
        action.setToolTip(f"{spec.tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
    return action


def bind_button(button: QAbstractButton, action: QAction) -> None:
    """Make a panel's push button a second face of ``action``: it triggers it and follows its enabled state."""
    button.clicked.connect(action.trigger)
    button.setEnabled(action.isEnabled())
    action.enabledChanged.connect(button.setEnabled)
    if action.statusTip() and not button.toolTip():
        button.setToolTip(action.statusTip())


def _fill(target: QMenu | QToolBar, keys: Sequence[str | None], actions: dict[str, QAction]) -> None:
    for key in keys:
        if key is None:
            target.addSeparator()
        else:
            target.addAction(actions[key])


class WindowActions:
    """Creates the actions on ``window`` (as ``window.<key>_action``) and lays out menus and toolbar."""

    def __init__(self, window: QMainWindow, specs: Sequence[ActionSpec] = ACTIONS):
        self.window = window
        self.by_key: dict[str, QAction] = {}
        for spec in specs:
            action = _make_action(spec, attrgetter(spec.slot)(window), window)
            self.by_key[spec.key] = action
            setattr(window, f"{spec.key}_action", action)
        self.menus: dict[str, QMenu] = {}
        self.toolbar: QToolBar | None = None

    def __getitem__(self, key: str) -> QAction:
        return self.by_key[key]

    def install(self, queue_view: QWidget) -> None:
        """Menus, toolbar, and the queue's keyboard shortcuts (active while the table has focus)."""
        for title, keys in MENUS.items():
            menu = self.window.menuBar().addMenu(title)
            _fill(menu, keys, self.by_key)
            self.menus[title] = menu
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        _fill(toolbar, TOOLBAR, self.by_key)
        self.window.addToolBar(toolbar)
        self.toolbar = toolbar
        for spec in ACTIONS:
            if spec.in_queue:
                action = self.by_key[spec.key]
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                queue_view.addAction(action)
        self["open_export"].setEnabled(False)

    def context_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        _fill(menu, QUEUE_CONTEXT, self.by_key)
        return menu

    def update(self, *, running: bool, has_rows: bool, has_results: bool, has_profile: bool) -> None:
        """Enable what makes sense in the window's current state."""
        rules = {
            "start": not running and has_rows,
            "pause": running,
            "cancel": running,
            "clear": not running and has_rows,
            "reanalyse": not running,
            "remove": not running,
            "settings": not running,
            "demo": not running,
            "export": has_results,
            "save_profile": has_profile,
        }
        for key, enabled in rules.items():
            self.by_key[key].setEnabled(enabled)
