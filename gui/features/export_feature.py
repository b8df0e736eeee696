"""The export feature: Export Calibration CSVs… and Open Export Folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.wording import plural
from gui.actions import ActionDef, ActionKey, Menu, Place, Section
from gui.shell import Shell
from gui.workspace import Workspace


class ExportFeature(QObject):
    def __init__(self, workspace: Workspace, shell: Shell) -> None:
        super().__init__(workspace)
        self.ws = workspace
        self.shell = shell
        self.last_export_dir: Path | None = None
        self.export_box: QMessageBox | None = None
        self.export_action = shell.add_action(
            ActionDef(
                ActionKey.EXPORT,
                "Export Calibration CSVs…",
                self.choose_export,
                Place(Menu.FILE, Section.SECOND, toolbar=20),
                "Ctrl+E",
                "Write the calibration CSV files",
            )
        )
        self.open_action = shell.add_action(
            ActionDef(
                ActionKey.OPEN_EXPORT,
                "Open Export Folder",
                self.open_export_folder,
                Place(Menu.FILE, Section.SECOND),
                None,
                "Show the last export",
            )
        )
        self.open_action.setEnabled(False)
        self.export_action.setEnabled(False)
        workspace.resultChanged.connect(self.update_actions)
        workspace.queueChanged.connect(self.update_actions)
        workspace.exportFinished.connect(self._on_export_finished)

    def update_actions(self, *_args: object) -> None:
        self.export_action.setEnabled(bool(self.ws.results))

    def choose_export(self) -> None:
        prefs = self.ws.prefs
        folder = QFileDialog.getExistingDirectory(
            self.shell.window, "Export Calibration CSVs", prefs.export_dir or prefs.last_folder or str(Path.home())
        )
        if folder:
            self.ws.export_to(Path(folder))

    def _on_export_finished(self, folder: str, error: str) -> None:
        """Remember the folder only when the export worked; say where the files are."""
        if error:
            return
        self.ws.prefs.export_dir = folder
        self.ws.prefs.save()
        self.last_export_dir = Path(folder)
        self.open_action.setEnabled(True)
        if not self.shell.quiet:
            self._show_export_done(Path(folder), self.ws.calibration.last_export)

    def _show_export_done(self, folder: Path, files: Sequence[Path]) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Export finished",
            f"Wrote {plural(len(files), 'file')} to\n{folder}",
            parent=self.shell.window,
        )
        open_button = box.addButton("Open Export Folder", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Close)
        open_button.clicked.connect(self.open_export_folder)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.export_box = box

    def open_export_folder(self) -> None:
        if self.last_export_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_export_dir)))
