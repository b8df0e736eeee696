"""The queue's commands: add songs (scanned off the GUI thread), clear, and act on the selected rows.

Part of the main window's split by concern (see ``docs/architecture.md``, "The window"). It
reaches the rest of the window only through the window's shared services: the queue model, the
results, the engine controller's task pool, the log and the status message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog

from engine.references.readers import REFERENCE_SUFFIXES
from engine.run.discovery import AUDIO_EXTENSIONS, Discovery, discover

if TYPE_CHECKING:
    from gui.main_window import MainWindow


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


class QueueController(QObject):
    """Adding and removing songs. ``songsAdded(count)`` after each scan, even when it added none."""

    songsAdded = Signal(int)

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.pending_scans = 0
        self.start_after_scan = False
        """Start a run once every scan in flight has finished (the demo and ``--autostart`` set it)."""

    # -- adding ---------------------------------------------------------------------------------
    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Queue files and folders: reference files (CSV, rekordbox/Traktor/iTunes XML) load, the rest is scanned
        off the GUI thread."""
        w = self.window
        paths = [Path(p) for p in paths]
        references = [p for p in paths if p.suffix.lower() in REFERENCE_SUFFIXES and p.is_file()]
        profiles = [p for p in paths if p.suffix.lower() == ".json" and p.is_file()]
        others = [p for p in paths if p not in references and p not in profiles]
        for reference in references[-1:]:  # one reference at a time: the last one dropped wins
            w.calibration.load_reference(reference)
        for profile in profiles[-1:]:
            w.calibration.load_profile(profile)
        if not others:
            return
        queued = w.model.paths()
        self.pending_scans += 1
        w.say("Scanning for songs…")
        w.controller.run_task(lambda: discover(others, exclude=queued), self._on_discovered)

    def _on_discovered(self, found: Discovery | None, error: BaseException | None) -> None:
        w = self.window
        self.pending_scans -= 1
        if error is not None or found is None:
            w.log.add("error", f"scanning failed: {error}")
            return
        added = w.model.add_paths(str(p) for p in found.songs)
        duplicates = found.duplicates + (len(found.songs) - added)
        parts = [f"Added {_plural(added, 'song')}"]
        if found.skipped_non_audio:
            parts.append(f"skipped {_plural(found.skipped_non_audio, 'non-audio file')}")
        if duplicates:
            parts.append(f"ignored {_plural(duplicates, 'duplicate')}")
        for missing in found.missing:
            w.log.add("warning", f"not found: {missing}")
        for folder in found.unreadable_dirs:
            w.log.add("warning", f"cannot read folder: {folder}")
        w.say(", ".join(parts))
        if added:
            w.stack.setCurrentWidget(w.table)
        w.update_actions()
        self.songsAdded.emit(added)
        if added and w.session.reference is not None:
            w.calibration.rematch()
        if self.pending_scans == 0 and self.start_after_scan:
            self.start_after_scan = False
            w.run.start()

    def choose_folder(self) -> None:
        prefs = self.window.prefs
        folder = QFileDialog.getExistingDirectory(self.window, "Add Folder", prefs.last_folder or str(Path.home()))
        if folder:
            self._remember_folder(folder)
            self.add_paths([folder])

    def choose_files(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(AUDIO_EXTENSIONS))
        files, _ = QFileDialog.getOpenFileNames(
            self.window,
            "Add Files",
            self.window.prefs.last_folder or str(Path.home()),
            f"Audio ({patterns});;All files (*)",
        )
        if files:
            self._remember_folder(str(Path(files[0]).parent))
            self.add_paths(files)

    def _remember_folder(self, folder: str) -> None:
        self.window.prefs.last_folder = folder
        self.window.prefs.save()

    # -- removing -------------------------------------------------------------------------------
    def clear_queue(self) -> None:
        w = self.window
        if w.controller.running:
            w.say("Cancel the run before clearing the queue")
            return
        w.model.clear()
        w.results.clear()
        w.stack.setCurrentWidget(w.drop_zone)
        if w.session.reference is not None:
            w.calibration.rematch()
        w.update_actions()

    # -- the selection --------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        w = self.window
        return sorted({w.proxy.mapToSource(i).row() for i in w.table.selectionModel().selectedRows()})

    def context_menu(self, pos: QPoint) -> None:
        table = self.window.table
        if not self.selected_rows():
            index = table.indexAt(pos)
            if index.isValid():
                table.selectRow(index.row())
        if not self.selected_rows():
            return
        self.window.commands.context_menu(self.window).exec(table.viewport().mapToGlobal(pos))

    def copy_selection(self) -> None:
        rows = self.selected_rows()
        if rows:
            QApplication.clipboard().setText(self.window.model.rows_as_tsv(rows))
            self.window.say(f"Copied {_plural(len(rows), 'row')}")

    def remove_selection(self) -> None:
        w = self.window
        if w.controller.running:
            return
        rows = self.selected_rows()
        for row in rows:
            w.results.pop(w.model.song(row).path, None)
        w.model.remove_rows(rows)
        if not w.model.rowCount():
            w.stack.setCurrentWidget(w.drop_zone)
        w.update_actions()

    def reanalyse_selection(self) -> None:
        paths = [self.window.model.song(r).path for r in self.selected_rows()]
        if paths:
            self.window.run.start(force=True, paths=paths)

    def reveal_selection(self) -> None:
        rows = self.selected_rows()
        if rows:
            reveal_in_file_manager(Path(self.window.model.song(rows[0]).path))


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
