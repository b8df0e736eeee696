"""Every command of the window: an enum key, a handler bound by the feature that owns it, and its place.

Modelled on MusicBrainz Picard's ``ui/mainwindow/actions.py``: a command is named by a member of
:class:`ActionKey`, so "go to definition" on ``ActionKey.PAUSE`` finds it and a typo is an error,
not a silently missing menu item. A feature declares each of its commands as an :class:`ActionDef`
(the text, the bound handler, its shortcut, and where it shows: which :class:`Menu` and section,
the toolbar, the queue's context menu) and hands it to :meth:`gui.shell.Shell.add_action`. The
shell lays the menus out from the places once every feature has declared its commands.

Buttons inside panels are bound to the same actions with :func:`bind_button`, so disabling an
action disables its buttons too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton

Shortcut = QKeySequence.StandardKey | str | None


class ActionKey(Enum):
    """Every command of the window. The value is the action's object name (tests find actions by it)."""

    ADD_FOLDER = "add_folder_action"
    ADD_FILES = "add_files_action"
    LOAD_REFERENCE = "load_reference_action"
    DEMO = "demo_action"
    EXPORT = "export_action"
    OPEN_EXPORT = "open_export_action"
    EXPORT_REKORDBOX = "export_rekordbox_action"
    EXPORT_TRAKTOR = "export_traktor_action"
    CLEAR = "clear_action"
    SETTINGS = "settings_action"
    QUIT = "quit_action"
    START = "start_action"
    PAUSE = "pause_action"
    CANCEL = "cancel_action"
    FIT = "fit_action"
    SAVE_PROFILE = "save_profile_action"
    LOAD_PROFILE = "load_profile_action"
    PAIRING_REVIEW = "pairing_review_action"
    COPY = "copy_action"
    REMOVE = "remove_action"
    REANALYSE = "reanalyse_action"
    REVEAL = "reveal_action"
    WRITE_TAGS = "write_tags_action"
    WRITE_ALL_TAGS = "write_all_tags_action"
    UNDO_TAGS = "undo_tags_action"
    REVIEW_PREVIOUS = "review_previous_action"
    REVIEW_NEXT = "review_next_action"
    REVIEW_FILTER = "review_filter_action"
    VERDICT_UNDO = "verdict_undo_action"
    VERDICT_REDO = "verdict_redo_action"
    VERDICT_DOUBLE = "verdict_double_action"
    VERDICT_HALVE = "verdict_halve_action"
    VERDICT_TWO_THIRDS = "verdict_two_thirds_action"
    VERDICT_THREE_HALVES = "verdict_three_halves_action"
    VERDICT_KEY = "verdict_key_action"
    VERDICT_EXCLUDE = "verdict_exclude_action"
    VERDICT_CONFIRM = "verdict_confirm_action"
    PLAY = "play_action"
    SHOW_LOG = "show_log_action"
    DIAGNOSTICS = "diagnostics_action"
    ABOUT = "about_action"


class Menu(Enum):
    """The menu bar, in this order; the value is the menu's title."""

    FILE = "&File"
    RUN = "&Run"
    CALIBRATION = "&Calibration"
    REVIEW = "&Review"
    TAGS = "&Tags"
    HELP = "&Help"


class Section(int, Enum):
    """Groups within a menu, in this order, with a separator between them."""

    FIRST = auto()
    SECOND = auto()
    THIRD = auto()
    FOURTH = auto()
    LAST = auto()


@dataclass(frozen=True)
class Place:
    """Where a command shows: a menu and a section of it; a toolbar position; a context-menu position."""

    menu: Menu | None = None
    section: Section = Section.FIRST
    toolbar: int | None = None
    """Position on the main toolbar (a gap of 10 or more from the previous one makes a separator)."""
    queue_context: int | None = None
    """Position in the queue's context menu."""
    order: int = 0
    """Position within its menu section (declaration order breaks ties)."""


@dataclass(frozen=True)
class ActionDef:
    """One command, declared by the feature that owns it, with its handler already bound."""

    key: ActionKey
    text: str
    handler: Callable[[], object] | None
    place: Place = Place()
    shortcut: Shortcut = None
    tip: str = ""
    in_queue: bool = False
    """Also a shortcut of the queue table while it has focus (Delete, Copy…)."""
    checkable: bool = False
    toggled: Callable[[bool], object] | None = None
    """For a checkable action: called with the new state."""
    window_wide: bool = False
    """A shortcut that works wherever the focus is in the window (the inspector's single keys)."""


def reveal_text() -> str:
    """What the file manager is called on this system."""
    if sys.platform == "darwin":
        return "Reveal in Finder"
    if os.name == "nt":
        return "Show in Explorer"
    return "Show in File Manager"


def bind_button(button: QAbstractButton, action: QAction) -> None:
    """Make a panel's push button a second face of ``action``: it triggers it and follows its enabled state."""
    button.clicked.connect(action.trigger)
    button.setEnabled(action.isEnabled())
    action.enabledChanged.connect(button.setEnabled)
    if action.statusTip() and not button.toolTip():
        button.setToolTip(action.statusTip())
