"""The DJ export feature: *File ▸ Export to rekordbox…* and *File ▸ Export to Traktor…* (issue 24).

Not to be confused with :mod:`gui.features.export_feature`, which writes the calibration CSVs.
The dialog (:mod:`gui.dj_export_dialog`) chooses, previews and saves; this feature captures what the
export is made from (the analysed songs in queue order, the session, the user's BPM range) and tells
the user how the save went.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from engine.wording import file_name
from gui.actions import ActionDef, ActionKey, Menu, Place, Section
from gui.dj_export_dialog import PROGRAMS, DjExportDialog, ExportSource
from gui.shell import Shell
from gui.workspace import Workspace


class DjExportFeature(QObject):
    def __init__(self, workspace: Workspace, shell: Shell) -> None:
        super().__init__(workspace)
        self.ws = workspace
        self.shell = shell
        self.dialog: DjExportDialog | None = None
        """Kept after it closes: a preview or a write in flight may still report to it."""
        self.actions = [
            shell.add_action(
                ActionDef(
                    key,
                    f"Export to {PROGRAMS[fmt][0]}…",
                    partial(self.open_dialog, fmt),
                    Place(Menu.FILE, Section.SECOND, order=order),
                    None,
                    f"Write BPM, key and beat grid into a {PROGRAMS[fmt][1].split(' (')[0]} collection",
                )
            )
            for order, (key, fmt) in enumerate(
                ((ActionKey.EXPORT_REKORDBOX, "rekordbox"), (ActionKey.EXPORT_TRAKTOR, "traktor")), start=1
            )
        ]
        self.update_actions()
        workspace.resultChanged.connect(self.update_actions)
        workspace.queueChanged.connect(self.update_actions)

    def update_actions(self, *_args: object) -> None:
        for action in self.actions:
            action.setEnabled(bool(self.ws.results))

    def source(self) -> ExportSource:
        """The analysed songs in queue order, and what each has now (its reference values)."""
        ws = self.ws
        results = [ws.results[p] for p in ws.model.paths() if p in ws.results and ws.results[p].status.analysed]
        before = {r.path: (r.ref_bpm, r.ref_key) for r in ws.model.rows if r.ref_bpm or r.ref_key}
        return ExportSource(
            results=results,
            session=ws.session,
            settings=ws.prefs.analysis_settings(),
            summary=ws.last_summary,
            bpm_range=ws.prefs.bpm_range,
            before=before,
        )

    def open_dialog(self, fmt: str) -> None:
        source = self.source()
        if not source.results:
            QMessageBox.information(self.shell.window, "Export", "No analysed songs to export yet.")
            return
        start = self.ws.prefs.export_dir or self.ws.prefs.last_folder
        self.dialog = DjExportDialog(fmt, source, self.ws.prefs.key_notation, start, self.shell.window)
        self.dialog.exported.connect(self._on_exported)
        self.dialog.open()

    def _on_exported(self, report: object, error: str) -> None:
        if error:
            self.shell.show_error(
                "Export failed",
                f"{error}\n\nNothing was written: an earlier file there is as it was, "
                "and your collection is untouched.",
            )
            return
        summary = report.summary()  # type: ignore[attr-defined]
        self.shell.note("info", summary)
        self.shell.say(f"Exported to {file_name(report.path)}")  # type: ignore[attr-defined]
