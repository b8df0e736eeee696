"""The queue feature: adding songs (files, folders, the demo set), clearing, and commands on the selected rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog

from engine.run.discovery import AUDIO_EXTENSIONS
from engine.wording import plural
from gui.actions import ActionDef, ActionKey, Menu, Place, Section, bind_button, reveal_text
from gui.queue_model import KEY_COLOURS, KEY_LEGEND, TEMPO_COLOURS, TEMPO_LEGEND
from gui.shell import Shell
from gui.tasks import run_task
from gui.widgets.colour_legend import ColourLegend
from gui.workspace import Workspace


class QueueFeature(QObject):
    def __init__(self, workspace: Workspace, shell: Shell) -> None:
        super().__init__(workspace)
        self.ws = workspace
        self.shell = shell
        table = shell.queue_view
        table.setModel(workspace.proxy)
        table.configure_columns()
        self._follow_bpm_range()
        workspace.preferencesChanged.connect(self._follow_bpm_range)
        table.customContextMenuRequested.connect(self.context_menu)
        add = shell.add_action
        file_clear = Place(Menu.FILE, Section.THIRD)
        add(
            ActionDef(
                ActionKey.ADD_FOLDER,
                "Add Folder…",
                self.choose_folder,
                Place(Menu.FILE, Section.FIRST, 0),
                QKeySequence.StandardKey.Open,
                "Add a folder of songs",
            )
        )
        add(
            ActionDef(
                ActionKey.ADD_FILES,
                "Add Files…",
                self.choose_files,
                Place(Menu.FILE, Section.FIRST, 1),
                "Ctrl+Shift+O",
                "Add song files",
            )
        )
        self.demo_action = add(
            ActionDef(
                ActionKey.DEMO,
                "Try with Demo Songs",
                self.try_demo,
                Place(Menu.FILE, Section.FIRST, order=2),
                None,
                "Analyse synthetic songs with a reference",
            )
        )
        self.clear_action = add(
            ActionDef(
                ActionKey.CLEAR,
                "Clear",
                self.clear_queue,
                file_clear,
                "Ctrl+Shift+Backspace",
                "Remove every song from the queue",
            )
        )
        self.copy_action = add(
            ActionDef(
                ActionKey.COPY,
                "Copy Rows as TSV",
                self.copy_selection,
                Place(queue_context=1),
                QKeySequence.StandardKey.Copy,
                in_queue=True,
            )
        )
        self.remove_action = add(
            ActionDef(
                ActionKey.REMOVE,
                "Remove",
                self.remove_selection,
                Place(queue_context=3),
                QKeySequence.StandardKey.Delete,
                in_queue=True,
            )
        )
        self.reanalyse_action = add(
            ActionDef(
                ActionKey.REANALYSE,
                "Re-analyse (Force)",
                self.reanalyse_selection,
                Place(queue_context=2),
                "Ctrl+Shift+R",
                in_queue=True,
            )
        )
        add(ActionDef(ActionKey.REVEAL, reveal_text(), self.reveal_selection, Place(queue_context=0)))
        self.legend = ColourLegend(
            [(TEMPO_COLOURS[k], text) for k, text in TEMPO_LEGEND], [(KEY_COLOURS[k], text) for k, text in KEY_LEGEND]
        )
        shell.add_queue_footer(self.legend)
        bind_button(shell.drop_zone.demo_button, self.demo_action)
        bind_button(shell.drop_zone.add_folder_button, shell.action(ActionKey.ADD_FOLDER))
        workspace.queueChanged.connect(self._on_queue_changed)
        workspace.engine.runningChanged.connect(lambda _running: self.update_actions())
        workspace.message.connect(shell.say)
        self.update_actions()

    def update_actions(self) -> None:
        running, has_rows = self.ws.running, self.ws.model.rowCount() > 0
        self.clear_action.setEnabled(not running and has_rows)
        for action in (self.remove_action, self.reanalyse_action, self.demo_action):
            action.setEnabled(not running)

    def _on_queue_changed(self) -> None:
        self.shell.show_queue(self.ws.model.rowCount() > 0)
        self.update_actions()

    # -- adding ----------------------------------------------------------------------------------
    def _follow_bpm_range(self) -> None:
        """The BPM (range) column shows the user's range, and only while it is on."""
        self.ws.model.set_bpm_range(self.ws.prefs.bpm_range)
        self.shell.queue_view.show_bpm_in_range(self.ws.prefs.bpm_range is not None)

    def choose_folder(self) -> None:
        prefs = self.ws.prefs
        folder = QFileDialog.getExistingDirectory(
            self.shell.window, "Add Folder", prefs.last_folder or str(Path.home())
        )
        if folder:
            self._remember_folder(folder)
            self.ws.add_paths([folder])

    def choose_files(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(AUDIO_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(
            self.shell.window,
            "Add Files",
            self.ws.prefs.last_folder or str(Path.home()),
            f"Audio ({patterns});;All files (*)",
        )
        if files:
            self._remember_folder(str(Path(files[0]).parent))
            self.ws.add_paths(files)

    def _remember_folder(self, folder: str) -> None:
        self.ws.prefs.last_folder = folder
        self.ws.prefs.save()

    def try_demo(self) -> None:
        """Write the synthetic demo songs and their reference (off the GUI thread), then analyse them."""
        from engine.frontends.demo import write_demo_set

        if self.ws.running:
            return
        folder = self.ws.data_dir / "demo"
        self.shell.say("Writing demo songs…")

        def done(written: tuple[list[Path], Path] | None, error: BaseException | None) -> None:
            if error is not None or written is None:
                self.shell.show_error("Cannot write demo songs", str(error))
                return
            songs, reference = written
            self.shell.note("info", f"demo songs written to {folder}")
            self.ws.calibration.load_reference(reference)
            self.ws.add_paths(songs, start=True)

        run_task(lambda: write_demo_set(folder), done, owner=self)

    # -- removing --------------------------------------------------------------------------------
    def clear_queue(self) -> None:
        self.ws.clear()

    # -- the selection ---------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        selection = self.shell.queue_view.selectionModel().selectedRows()
        return sorted({self.ws.proxy.mapToSource(i).row() for i in selection})

    def context_menu(self, pos: QPoint) -> None:
        table = self.shell.queue_view
        if not self.selected_rows():
            index = table.indexAt(pos)
            if index.isValid():
                table.selectRow(index.row())
        if not self.selected_rows():
            return
        self.shell.queue_context_menu(self.shell.window).exec(table.viewport().mapToGlobal(pos))

    def copy_selection(self) -> None:
        rows = self.selected_rows()
        if rows:
            QApplication.clipboard().setText(self.ws.model.rows_as_tsv(rows))
            self.shell.say(f"Copied {plural(len(rows), 'row')}")

    def remove_selection(self) -> None:
        if not self.ws.running:
            self.ws.remove_rows(self.selected_rows())

    def reanalyse_selection(self) -> None:
        paths = [self.ws.model.song(r).path for r in self.selected_rows()]
        if paths:
            refused = self.ws.start_run(force=True, paths=paths)
            if refused is not None:
                self.shell.say(refused.value)

    def reveal_selection(self) -> None:
        rows = self.selected_rows()
        if rows:
            reveal_in_file_manager(Path(self.ws.model.song(rows[0]).path))


def reveal_in_file_manager(path: Path) -> None:
    """Select the file in Finder/Explorer; elsewhere open its folder."""
    try:
        if sys.platform == "darwin":
            subprocess.Popen(["open", "-R", str(path)])
            return
        if os.name == "nt":
            subprocess.Popen(["explorer", "/select,", str(path)])
            return
    except OSError:
        pass
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
