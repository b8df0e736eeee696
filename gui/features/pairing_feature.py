"""The pairing-review feature: the *Pairing Review* panel and its *Calibration ▸ Review Pairing…* command."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt

from gui.actions import ActionDef, ActionKey, Menu, Place, Section
from gui.pairing_decisions import PairingReview
from gui.shell import Shell
from gui.widgets.pairing_panel import PairingReviewPanel
from gui.workspace import Workspace


class PairingFeature(QObject):
    def __init__(self, workspace: Workspace, shell: Shell) -> None:
        super().__init__(workspace)
        self.ws = workspace
        self.review = PairingReview(workspace.session)
        if workspace.prefs.export_dir:
            self.review.export_dir = Path(workspace.prefs.export_dir)
        self.panel = PairingReviewPanel(self.review)
        self.panel.pairsChanged.connect(workspace.calibration.rematch)
        workspace.referenceLoaded.connect(lambda _path: self.review.load_beside_reference())
        workspace.calibrationChanged.connect(self.panel.refresh)
        self.dock = shell.add_panel(
            "pairingReviewDock", "Pairing Review", self.panel, Qt.DockWidgetArea.BottomDockWidgetArea, closable=True
        )
        self.dock.hide()
        toggle = self.dock.toggleViewAction()
        shell.adopt_action(
            ActionDef(
                ActionKey.PAIRING_REVIEW,
                "Review Pairing…",
                None,
                Place(Menu.CALIBRATION, Section.SECOND),
                "Ctrl+Shift+P",
            ),
            toggle,
        )
        toggle.setText("Review Pairing…")
