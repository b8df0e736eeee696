"""The tags feature: the *Tags* menu (write for the selection or all songs, undo), and the interrupted-batch offer."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from gui.actions import ActionDef, ActionKey, Menu, Place, Section
from gui.queue_model import SongRow
from gui.shell import Shell
from gui.tag_dialog import TagDialog, offer_interrupted, tagger_for, undo_last
from gui.workspace import Workspace


class TagsFeature(QObject):
    def __init__(self, workspace: Workspace, shell: Shell) -> None:
        super().__init__(workspace)
        self.ws = workspace
        self.shell = shell
        self.tagger = tagger_for(workspace.data_dir, workspace.cache_path)
        self.tag_dialog: TagDialog | None = None
        """Kept (not deleted on close): a background read or write may still report to it."""
        add = shell.add_action
        add(
            ActionDef(
                ActionKey.WRITE_TAGS, "Write Tags for Selected Songs…", lambda: self.open_dialog(True), Place(Menu.TAGS)
            )
        )
        add(
            ActionDef(
                ActionKey.WRITE_ALL_TAGS, "Write Tags for All Songs…", lambda: self.open_dialog(False), Place(Menu.TAGS)
            )
        )
        add(ActionDef(ActionKey.UNDO_TAGS, "Undo Last Write", self.undo_last, Place(Menu.TAGS, Section.SECOND)))
        if not shell.quiet:  # scripted runs never block on a box
            QTimer.singleShot(0, lambda: offer_interrupted(shell.window, self.tagger, say=shell.say))

    def songs(self, selected_only: bool) -> list[SongRow]:
        model = self.ws.model
        if selected_only:
            selection = self.shell.queue_view.selectionModel().selectedRows()
            rows = sorted({self.ws.proxy.mapToSource(i).row() for i in selection})
        else:
            rows = list(range(model.rowCount()))
        return [s for s in (model.song(r) for r in rows) if s.analysed]

    def open_dialog(self, selected_only: bool) -> None:
        chosen = self.songs(selected_only)
        if not chosen:
            QMessageBox.information(self.shell.window, "Write Tags", "No analysed songs to write tags for.")
            return
        self.tag_dialog = TagDialog(chosen, self.tagger, self.shell.window, self.ws.prefs.bpm_range)
        self.tag_dialog.open()

    def undo_last(self) -> None:
        undo_last(self.shell.window, self.tagger, say=self.shell.say)
