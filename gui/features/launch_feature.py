"""What a scripted launch asks the window to do, as one small state machine.

``main.py SONGS --reference R --autostart --export-dir D --quit-when-done`` loads the inputs,
analyses the songs, waits for the calibration to catch up with the run, exports into D and
quits with a status. The window used to track this with one flag read and written in seven
places; here each step is a :class:`Phase` and each transition one method, driven by the
workspace's signals:

``IDLE`` ─begin()→ ``ANALYSING`` ─run_ended()→ ``CALIBRATING`` ─calibration_settled()→
``EXPORTING`` ─export_finished()→ ``DONE`` (a crashed run goes straight to ``DONE``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from gui.shell import Shell
from gui.workspace import Workspace


@dataclass
class LaunchOptions:
    """What the command line asked the window to do (see ``gui.app``)."""

    paths: list[str] = field(default_factory=list)
    reference: str | None = None
    profile: str | None = None
    autostart: bool = False
    export_dir: str | None = None
    quit_when_done: bool = False

    @property
    def scripted(self) -> bool:
        """An autostarted run with something to do after it (export, quit)."""
        return self.autostart and bool(self.export_dir or self.quit_when_done)


class Phase(Enum):
    IDLE = "idle"
    ANALYSING = "analysing"
    CALIBRATING = "calibrating"
    EXPORTING = "exporting"
    DONE = "done"


class LaunchFlow(QObject):
    """Drives one scripted launch; ``finished(status)`` at its end (0 ok, 1 run/export failed, 2 bad input)."""

    finished = Signal(int)

    def __init__(self, workspace: Workspace, shell: Shell, options: LaunchOptions):
        super().__init__(workspace)
        self.ws = workspace
        self.shell = shell
        self.options = options
        self.phase = Phase.IDLE
        workspace.runEnded.connect(lambda _summary: self.run_ended())
        workspace.engine.runCrashed.connect(lambda _error: self.run_crashed())
        workspace.calibrationSettled.connect(self.calibration_settled)
        QTimer.singleShot(0, self.begin)

    def begin(self) -> None:
        """Load the reference and profile, queue the paths, start the run if asked."""
        options = self.options
        ok = True
        if options.reference:
            ok &= self.ws.calibration.load_reference(Path(options.reference))
        if options.profile:
            ok &= self.ws.calibration.load_profile(Path(options.profile))
        if not ok and options.quit_when_done:
            self._finish(2)
            return
        if options.scripted:
            self.phase = Phase.ANALYSING
        if options.paths:
            self.ws.add_paths(options.paths, start=options.autostart)
        elif options.autostart and options.quit_when_done:
            self._finish(0)

    def run_ended(self) -> None:
        """The workspace says ``runEnded`` before the calibration's final match starts, so ``settled`` finds us
        waiting."""
        if self.phase is Phase.ANALYSING:
            self.phase = Phase.CALIBRATING

    def calibration_settled(self) -> None:
        """The final match (and fit) are shown: export, then quit if asked."""
        if self.phase is not Phase.CALIBRATING or self.ws.running or self.ws.pending_scans:
            return
        if self.options.export_dir:
            self.phase = Phase.EXPORTING
            self.ws.exportFinished.connect(self._export_finished)
            self.ws.export_to(Path(self.options.export_dir))
        else:
            self._finish(0)

    def _export_finished(self, _folder: str, error: str) -> None:
        self.ws.exportFinished.disconnect(self._export_finished)
        self._finish(1 if error else 0)

    def run_crashed(self) -> None:
        if self.phase in (Phase.ANALYSING, Phase.CALIBRATING):
            self._finish(1)

    def _finish(self, code: int) -> None:
        """Record the exit status and close if asked; ``gui.app.main`` returns it as the process status."""
        self.phase = Phase.DONE
        self.shell.exit_code = code
        self.finished.emit(code)
        if self.options.quit_when_done:
            self.shell.quit(code)
