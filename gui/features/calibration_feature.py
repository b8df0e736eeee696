"""The calibration feature: the Calibration panel and plots, and the reference, fit and profile commands.

The session's work (matching, fitting) runs in the workspace
(:class:`~gui.calibration_jobs.CalibrationJobs`); this feature offers the commands, and redraws
the panel and plots when the workspace says ``calibrationChanged``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from engine.calibration.session import CalibrationSession
from engine.wording import file_name, plural
from gui.actions import ActionDef, ActionKey, Menu, Place, Section, bind_button
from gui.shell import Shell
from gui.widgets.calibration_panel import CalibrationPanel
from gui.widgets.calibration_plots import CalibrationPlots
from gui.widgets.pairing_panel import REFERENCE_FILTER
from gui.workspace import Workspace


class CalibrationFeature(QObject):
    def __init__(self, workspace: Workspace, shell: Shell) -> None:
        super().__init__(workspace)
        self.ws = workspace
        self.shell = shell
        self.panel = CalibrationPanel()
        shell.add_panel("calibrationDock", "Calibration", self.panel, width=340)
        self.plots = CalibrationPlots()
        for plot in (self.plots.scatter_plot, self.plots.keys_plot):
            plot.setAcceptDrops(False)
        shell.add_tab(self.plots, "Calibration", index=2)
        add = shell.add_action
        load = add(
            ActionDef(
                ActionKey.LOAD_REFERENCE,
                "Load Reference…",
                self.choose_reference,
                Place(Menu.FILE, Section.FIRST, toolbar=2, order=1),
                "Ctrl+R",
                "Load a reference CSV",
            )
        )
        self.fit_action = add(
            ActionDef(
                ActionKey.FIT,
                "Fit Calibration",
                self.fit,
                Place(Menu.CALIBRATION),
                "Ctrl+F",
                "Fit a calibration profile",
            )
        )
        self.save_action = add(
            ActionDef(ActionKey.SAVE_PROFILE, "Save Profile…", self.choose_save_profile, Place(Menu.CALIBRATION))
        )
        load_profile = add(
            ActionDef(ActionKey.LOAD_PROFILE, "Load Profile…", self.choose_profile, Place(Menu.CALIBRATION))
        )
        bind_button(self.panel.load_reference_button, load)
        bind_button(shell.drop_zone.load_reference_button, load)
        bind_button(self.panel.fit_button, self.fit_action)
        bind_button(self.panel.save_button, self.save_action)
        bind_button(self.panel.load_profile_button, load_profile)
        if shell.has_action(ActionKey.EXPORT):  # the panel's Export button is a face of the export feature's action
            bind_button(self.panel.export_button, shell.action(ActionKey.EXPORT))
        self.panel.applyToggled.connect(workspace.calibration.set_apply_profile)
        workspace.calibrationChanged.connect(self.show)
        workspace.referenceLoaded.connect(self._on_reference_loaded)
        self.save_action.setEnabled(False)

    @property
    def session(self) -> CalibrationSession:
        return self.ws.session

    def choose_reference(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.shell.window, "Load Reference", self.ws.prefs.last_folder or str(Path.home()), REFERENCE_FILTER
        )
        if path:
            self.ws.calibration.load_reference(Path(path))

    def _on_reference_loaded(self, path: str) -> None:
        reference = self.session.reference
        if reference is not None:
            self.panel.set_reference(file_name(path), len(reference.rows), [str(e) for e in reference.errors])

    def fit(self) -> None:
        self.ws.calibration.fit()

    def choose_profile(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.shell.window, "Load Profile", self.ws.prefs.last_folder, "Profile (*.json)"
        )
        if path:
            self.ws.calibration.load_profile(Path(path))

    def choose_save_profile(self) -> None:
        prefs = self.ws.prefs
        if self.session.current_profile is None:
            return
        start = str(Path(prefs.export_dir or prefs.last_folder or Path.home()) / "profile.json")
        path, _ = QFileDialog.getSaveFileName(self.shell.window, "Save Profile", start, "Profile (*.json)")
        if path:
            try:
                self.session.save_profile(path)
                self.shell.say(f"Profile saved to {path}")
            except OSError as exc:
                self.shell.show_error("Cannot save profile", str(exc))

    # -- showing ---------------------------------------------------------------------------------
    def show(self) -> None:
        session = self.session
        counts = session.counts()
        lines = []
        if session.matched is not None:
            lines += [f"song: {s.path}" for s in session.matched.unmatched_songs]
            lines += [f"reference line {r.line}: {r.describe()}" for r in session.matched.unmatched_rows]
        self.panel.set_counts(counts.matched, counts.unmatched_songs, counts.unmatched_rows, "\n".join(lines))
        note = ""
        if session.calibration is not None:
            note = "Cal. (CV): each song predicted by a profile fitted without it."
            note += "".join(f"\n{n}" for n in session.calibration.notes)
        elif self.ws.calibration.fit_error:
            note = self.ws.calibration.fit_error
        elif session.matched is not None and not session.can_fit:
            note = f"Fitting needs at least {session.min_songs} analysed songs with a reference."
        self.panel.set_metrics(session.metrics_view(), note)
        self.panel.set_profile(describe_profile(session))
        self.plots.set_tempo(session.tempo_pairs(calibrated=False))
        has_profile = session.applied_profile is not None
        self.plots.set_keys(
            session.key_relation_counts(False), session.key_relation_counts(True) if has_profile else None
        )
        self.save_action.setEnabled(session.current_profile is not None)


def describe_profile(session: CalibrationSession) -> str | None:
    profile = session.current_profile
    if profile is None:
        return None
    loaded = session.profile is not None and session.profile_path is not None
    source = f"Loaded {session.profile_path.name}" if loaded and session.profile_path else "Fitted here"
    rules = f"{len(profile.tempo)} tempo, {len(profile.key)} key, {len(profile.features)} feature corrections"
    return f"{source} on {plural(profile.n_songs, 'song')}: {rules}"
