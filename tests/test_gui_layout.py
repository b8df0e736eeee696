"""The window's shape: its layout survives a restart, and panel buttons are faces of the window's actions."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel

from gui.actions import ActionKey
from gui.main_window import MainWindow


def dock(window: MainWindow, name: str) -> QDockWidget:
    found = window.findChild(QDockWidget, name)
    assert found is not None
    return found


def test_a_restarted_window_comes_back_with_its_size_and_panels_where_they_were(qtbot, make_window):
    first = make_window()
    assert first.dockWidgetArea(dock(first, "calibrationDock")) == Qt.DockWidgetArea.RightDockWidgetArea
    assert (first.width(), first.height()) == (1360, 860)  # the default size, nothing saved yet
    first.resize(780, 590)  # within the offscreen screen (800 x 600): a saved size is fitted to the screen
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock(first, "calibrationDock"))
    qtbot.waitUntil(lambda: first.width() == 780)
    left = first.size()
    assert first.close()

    second = make_window()
    assert second.size() == left
    assert second.dockWidgetArea(dock(second, "calibrationDock")) == Qt.DockWidgetArea.LeftDockWidgetArea


def test_a_panel_added_later_is_put_back_where_it_was_left(qtbot, make_window):
    first = make_window()
    panel = first.shell.add_panel("testInspectorDock", "Inspector", QLabel("song details"))
    first.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, panel)
    assert first.close()

    second = make_window()  # restores before the panel exists, like a plug-in panel added after start-up
    again = second.shell.add_panel("testInspectorDock", "Inspector", QLabel("song details"))
    assert second.dockWidgetArea(again) == Qt.DockWidgetArea.BottomDockWidgetArea


def test_panel_buttons_are_the_window_actions(qtbot, make_window):
    window = make_window()
    export, panel = window.action(ActionKey.EXPORT), window.panel
    assert not export.isEnabled() and not panel.export_button.isEnabled()  # nothing analysed yet
    export.setEnabled(True)
    assert panel.export_button.isEnabled()  # follows the action
    assert not window.action(ActionKey.SAVE_PROFILE).isEnabled() and not panel.save_button.isEnabled()  # no profile yet
    with qtbot.waitSignal(window.action(ActionKey.FIT).triggered):
        panel.fit_button.click()  # the button runs the action, and so its one handler:
    qtbot.waitUntil(lambda: "reference" in panel.note.text(), timeout=10_000)  # the fit says what it needs
    for action, button in (
        (window.action(ActionKey.DEMO), window.drop_zone.demo_button),
        (window.action(ActionKey.LOAD_REFERENCE), panel.load_reference_button),
    ):
        action.setEnabled(False)
        assert not button.isEnabled()
    starts = [a for a in window.findChildren(type(export)) if a.text() == "Start"]
    assert starts == [window.action(ActionKey.START)]  # one Start, shown in the menu and the toolbar
