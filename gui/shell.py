"""The small face of the window that every feature receives: add an action, a panel, a tab; say; show an error.

A feature (:mod:`gui.features`) gets the :class:`~gui.workspace.Workspace` (the data) and a
:class:`Shell` (the window's furniture), never the main window and never another feature. The
shell owns the widgets every feature shares: the queue view (with its drop zone), the bottom
tabs, the log panel and the status line. It lays the menus, toolbar and queue context menu
out from the :class:`~gui.actions.ActionDef` places once every feature has declared its commands
(:meth:`build_menus`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.actions import ActionDef, ActionKey, Menu
from gui.widgets.drop_zone import DropZone
from gui.widgets.log_panel import LogPanel
from gui.widgets.queue_view import QueueView


@dataclass
class _Declared:
    definition: ActionDef
    action: QAction
    order: int


class Shell(QObject):
    """The window as features see it. ``quitRequested(code)`` when a feature asks the window to close."""

    quitRequested = Signal(int)

    def __init__(self, window: QMainWindow, quiet: bool = False) -> None:
        super().__init__(window)
        self.window = window
        """The top-level widget, only as the parent of dialogs."""
        self.quiet = quiet
        """A scripted launch that quits when done: errors go to the log, no message boxes wait for a click."""
        self.exit_code = 0
        self.closing = False
        self.last_error = ""
        self.error_box: QMessageBox | None = None
        self._declared: dict[ActionKey, _Declared] = {}
        self.menus: dict[Menu, QMenu] = {}
        self.toolbar: QToolBar | None = None
        self.drop_zone = DropZone()
        self.queue_view = QueueView()
        self.queue_page = QWidget()
        """The table with whatever features put under it (the colour legend)."""
        self._queue_layout = QVBoxLayout(self.queue_page)
        self._queue_layout.setContentsMargins(0, 0, 0, 0)
        self._queue_layout.setSpacing(0)
        self._queue_layout.addWidget(self.queue_view, 1)
        self.queue_area = QStackedWidget()
        self.queue_area.addWidget(self.drop_zone)
        self.queue_area.addWidget(self.queue_page)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.log = LogPanel()
        self.message_label = QLabel("Drop song folders on the window to begin")
        window.statusBar().addWidget(self.message_label, 1)

    # -- actions ---------------------------------------------------------------------------------
    def add_action(self, definition: ActionDef) -> QAction:
        """Create the command's ``QAction``, bound to its handler; it shows once :meth:`build_menus` runs."""
        if definition.key in self._declared:
            raise ValueError(f"{definition.key} is declared twice")
        action = QAction(definition.text, self.window)
        action.setObjectName(definition.key.value)
        if definition.checkable:
            action.setCheckable(True)
        if definition.toggled is not None:
            action.toggled.connect(definition.toggled)
        handler = definition.handler
        if handler is not None:
            # triggered(bool) would hand `checked` to a handler with an optional first argument
            action.triggered.connect(lambda _checked=False, run=handler: run())
        if definition.shortcut is not None:
            action.setShortcut(QKeySequence(definition.shortcut))
        if definition.tip:
            action.setStatusTip(definition.tip)
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{definition.tip} ({shortcut})" if shortcut else definition.tip)
        if definition.in_queue:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.queue_view.addAction(action)
        elif definition.window_wide:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.window.addAction(action)
        self._declared[definition.key] = _Declared(definition, action, len(self._declared))
        return action

    def adopt_action(self, definition: ActionDef, action: QAction) -> QAction:
        """Place an action made elsewhere (a ``QUndoStack``'s undo action) like a declared one."""
        action.setObjectName(definition.key.value)
        if definition.shortcut is not None:
            action.setShortcut(QKeySequence(definition.shortcut))
        if definition.window_wide:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.window.addAction(action)
        self._declared[definition.key] = _Declared(definition, action, len(self._declared))
        return action

    def action(self, key: ActionKey) -> QAction:
        return self._declared[key].action

    def has_action(self, key: ActionKey) -> bool:
        return key in self._declared

    def build_menus(self) -> None:
        """Menus (in :class:`Menu` order, sections separated), the toolbar and nothing else: call once."""
        bar = self.window.menuBar()
        for menu_key in Menu:
            placed = sorted(
                (d for d in self._declared.values() if d.definition.place.menu is menu_key),
                key=lambda d: (d.definition.place.section, d.definition.place.order, d.order),
            )
            if not placed:
                continue
            menu = bar.addMenu(menu_key.value)
            section = placed[0].definition.place.section
            for declared in placed:
                if declared.definition.place.section != section:
                    menu.addSeparator()
                    section = declared.definition.place.section
                menu.addAction(declared.action)
            self.menus[menu_key] = menu
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        on_toolbar = sorted(
            (d for d in self._declared.values() if d.definition.place.toolbar is not None),
            key=lambda d: d.definition.place.toolbar or 0,
        )
        previous: int | None = None
        for declared in on_toolbar:
            position = declared.definition.place.toolbar or 0
            if previous is not None and position - previous >= 10:
                toolbar.addSeparator()
            toolbar.addAction(declared.action)
            previous = position
        self.window.addToolBar(toolbar)
        self.toolbar = toolbar

    def menu(self, key: Menu) -> QMenu | None:
        return self.menus.get(key)

    def queue_context_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        placed = sorted(
            (d for d in self._declared.values() if d.definition.place.queue_context is not None),
            key=lambda d: d.definition.place.queue_context or 0,
        )
        for declared in placed:
            menu.addAction(declared.action)
        return menu

    # -- panels and tabs -------------------------------------------------------------------------
    def add_panel(
        self,
        object_name: str,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
        width: int | None = None,
        closable: bool = False,
    ) -> QDockWidget:
        """Dock ``widget`` as a movable, floatable panel; its place is saved and restored with the window's.

        ``object_name`` must be unique and stable: the saved layout finds the panel by it. A panel
        added after the window restored its layout is put back where it was (``restoreDockWidget``).
        """
        window = self.window
        dock = QDockWidget(title, window)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        features = QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        if closable:  # an on-demand panel: its toggleViewAction (enabled only when closable) shows and hides it
            features |= QDockWidget.DockWidgetFeature.DockWidgetClosable
        dock.setFeatures(features)
        if not window.restoreDockWidget(dock):  # not in the layout restored at start-up: a new panel
            window.addDockWidget(area, dock)
            if width is not None:
                window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        return dock

    def add_tab(self, widget: QWidget, title: str, index: int | None = None) -> None:
        """A page of the bottom tabs (plots, the inspector); ``index`` puts it before the others."""
        if index is None:
            self.tabs.addTab(widget, title)
        else:
            current = self.tabs.currentWidget()
            self.tabs.insertTab(index, widget, title)
            if current is not None:
                self.tabs.setCurrentWidget(current)  # a new page does not take the user's view away

    def add_queue_footer(self, widget: QWidget) -> None:
        """A line under the queue table (shown with it, hidden with it behind the drop zone)."""
        self._queue_layout.addWidget(widget)

    def add_status_widget(self, widget: QWidget) -> None:
        self.window.statusBar().addPermanentWidget(widget)

    def show_queue(self, has_rows: bool) -> None:
        """The table when there are songs, the drop zone when there are none."""
        self.queue_area.setCurrentWidget(self.queue_page if has_rows else self.drop_zone)

    # -- telling the user ------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """The status line's message."""
        self.message_label.setText(text)

    def note(self, level: str, text: str) -> None:
        """A line in the log panel (``info``, ``warning``, ``error``)."""
        self.log.add(level, text)

    def show_error(self, title: str, message: str) -> None:
        """Non-blocking error box (a modal loop would stall scripted and tested runs)."""
        self.last_error = message
        self.log.add("error", f"{title}: {message}")
        if self.quiet:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self.window)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.error_box = box

    def quit(self, code: int) -> None:
        """Record the process status and ask the window to close (without the "run in progress" question)."""
        self.exit_code = code
        self.quitRequested.emit(code)

    def call_later(self, function: Callable[[], object]) -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, function)
