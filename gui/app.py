"""Window entry point: ``gui.app.main(argv) -> exit code`` (``main.py`` dispatches here).

Launch options make the window scriptable (Open With, shell scripts, Automator)::

    python main.py [PATH ...] [--reference CSV] [--profile JSON] [--autostart]
                   [--export-dir DIR] [--quit-when-done]

With ``--autostart --export-dir D --quit-when-done`` the window analyses PATHs, exports the
calibration CSVs into D and quits with status 0 (1 if the run or the export failed, 2 if an
input could not be loaded). Importing this module is cheap: Qt and the engine load in ``main``.

SIGTERM (a logout, ``kill``) and SIGINT (Ctrl+C) close the window as Quit does, without asking:
the pool is stopped, finished songs stay in the results cache, and the process exits with
128 + the signal number (143, 130), as a shell expects.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication

    from gui.features.launch_feature import LaunchOptions
    from gui.main_window import MainWindow

from engine.frontends.stopsignals import STOP_SIGNALS  # the same two signals as `analyze`


class _WindowParser(argparse.ArgumentParser):
    """The window's options; ``--help`` also lists every command (the engine's parser loads only then)."""

    def format_help(self) -> str:
        from engine.frontends.cli import command_summaries

        rows = "\n".join(f"  {name:<10} {summary}" for name, summary in command_summaries().items())
        self.epilog = f"commands without a window (see `{self.prog} COMMAND --help`):\n{rows}"
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    from engine.frontends.cli import program_name
    from engine.references import REFERENCE_FORMATS
    from engine.version import APP_VERSION, ENGINE_VERSION

    parser = _WindowParser(
        prog=program_name(),
        description="Calibration Studio: analyse songs' tempo and key, and calibrate against a reference.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"Calibration Studio {APP_VERSION} (engine {ENGINE_VERSION})"
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="song files or folders to queue")
    parser.add_argument("--reference", metavar="REF", help=f"reference file to score against: {REFERENCE_FORMATS}")
    parser.add_argument("--profile", metavar="JSON", help="calibration profile to apply")
    parser.add_argument("--autostart", action="store_true", help="start analysing as soon as the songs are queued")
    parser.add_argument(
        "--export-dir", metavar="DIR", help="after an autostarted run, export the calibration CSVs here"
    )
    parser.add_argument(
        "--quit-when-done",
        action="store_true",
        help="quit after the autostarted run (and export); exit status 0 on success",
    )
    return parser


def _dark_palette():
    """A dark Fusion palette: the usual look of audio tools, and the plots are dark too."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: QColor(33, 38, 45),
        QPalette.ColorRole.WindowText: QColor(201, 209, 217),
        QPalette.ColorRole.Base: QColor(22, 27, 34),
        QPalette.ColorRole.AlternateBase: QColor(28, 33, 40),
        QPalette.ColorRole.ToolTipBase: QColor(48, 54, 61),
        QPalette.ColorRole.ToolTipText: QColor(230, 237, 243),
        QPalette.ColorRole.Text: QColor(201, 209, 217),
        QPalette.ColorRole.Button: QColor(48, 54, 61),
        QPalette.ColorRole.ButtonText: QColor(201, 209, 217),
        QPalette.ColorRole.BrightText: QColor(255, 123, 114),
        QPalette.ColorRole.Highlight: QColor(31, 111, 235),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(88, 166, 255),
        QPalette.ColorRole.Mid: QColor(72, 79, 88),
        QPalette.ColorRole.PlaceholderText: QColor(125, 133, 144),
    }
    for role, colour in colours.items():
        palette.setColor(role, colour)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(110, 118, 129))
    return palette


def create_application(argv: Sequence[str] = ()):
    """The QApplication with the app's names (used by QSettings) and style; reuses an existing one."""
    from PySide6.QtWidgets import QApplication

    from gui.preferences import APPLICATION, ORGANIZATION

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else None
    app = app or QApplication([sys.argv[0] if sys.argv else "calibration-studio", *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Calibration Studio")
    app.setStyle("Fusion")
    app.setPalette(_dark_palette())
    return app


class SignalRelay:
    """Turns SIGTERM/SIGINT into a call on the GUI thread while Qt's event loop runs.

    Python runs a signal handler only when the interpreter gets control, which it does not while
    Qt waits in C++. The usual Qt pattern: ``signal.set_wakeup_fd`` writes the signal number to a
    socket, a ``QSocketNotifier`` on the other end wakes the event loop, and its slot (Python)
    calls ``on_signal(signum)`` once; later signals are ignored while the window shuts down.
    """

    def __init__(self, on_signal: Callable[[int], None]):
        from PySide6.QtCore import QSocketNotifier

        self.on_signal = on_signal
        self.received: int | None = None
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous = {s: signal.signal(s, self._note) for s in STOP_SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._wake)

    @staticmethod
    def _note(_signum: int, _frame: Any) -> None:
        """The Python-level handler: nothing to do here, the wake-up byte carries the signal."""

    def _wake(self, *_args: Any) -> None:
        try:
            data = self._reader.recv(64)
        except OSError:  # BlockingIOError: a spurious wake-up
            return
        signals = [b for b in data if b in STOP_SIGNALS]
        if signals and self.received is None:
            self.received = signals[0]
            self.on_signal(signals[0])

    @property
    def exit_status(self) -> int | None:
        """128 + the signal number once a stop signal arrived (143 for SIGTERM, 130 for SIGINT)."""
        return None if self.received is None else 128 + self.received

    def close(self) -> None:
        """Put the previous handlers back (the process goes on, as in tests)."""
        self._notifier.setEnabled(False)
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()


def stop_on_signal(app: QCoreApplication, window: MainWindow) -> SignalRelay:
    """SIGTERM/SIGINT: close the window without asking (it stops the pool), then leave the event loop."""

    def stop(signum: int) -> None:
        window.log.add("warning", f"{signal.Signals(signum).name} received: stopping the workers and quitting")
        window.closing = True  # no "a run is in progress" question: nobody is there to answer it
        window.close()
        app.exit(128 + signum)

    return SignalRelay(stop)


HEADLESS_PLATFORMS = ("offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay")
"""Qt platform plugins that draw without a desktop session (``QT_QPA_PLATFORM``)."""


def missing_display(environ: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Why the window cannot open here, or ``None``: Qt aborts the process (SIGABRT) rather than say so.

    Only X11/Wayland systems need a display named in the environment; macOS and Windows always
    have their own.
    """
    env = os.environ if environ is None else environ
    if platform in ("darwin", "win32", "cygwin"):
        return None
    wanted = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if wanted in HEADLESS_PLATFORMS:
        return None
    needed: tuple[str, ...]
    if wanted.startswith("wayland"):
        needed = ("WAYLAND_DISPLAY",)
    elif wanted == "xcb":
        needed = ("DISPLAY",)
    else:
        needed = ("DISPLAY", "WAYLAND_DISPLAY")
    if any(env.get(name) for name in needed):
        return None
    unset = " and ".join(needed) + (" are" if len(needed) > 1 else " is")
    return (
        f"error: no display to open the window on ({unset} not set); start it from a desktop session, "
        "or use the command line without a window: `main.py analyze --help`"
    )


def build_window(
    launch: LaunchOptions | None = None, data_dir: Path | None = None, cache_path: Path | None = None
) -> MainWindow:
    """The one place the main window is built (the app below, and tests through it).

    ``launch`` is a :class:`gui.features.launch_feature.LaunchOptions`; ``data_dir`` and ``cache_path``
    default to the user's folders.
    """
    from gui.main_window import MainWindow

    return MainWindow(launch, data_dir=data_dir, cache_path=cache_path)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    problem = missing_display()
    if problem is not None:
        print(problem, file=sys.stderr)
        from engine.frontends.exitcodes import ExitCode

        return ExitCode.FAILED
    if (args.export_dir or args.quit_when_done) and not args.autostart:
        print("note: --export-dir and --quit-when-done act after an --autostart run", file=sys.stderr)
    app = create_application()
    from gui.desktop import attach_window, prepare_application
    from gui.features.launch_feature import LaunchOptions

    file_opens = prepare_application(app)  # log file, icon, Finder/Dock drops (macOS)

    window = build_window(
        LaunchOptions(
            paths=list(args.paths),
            reference=args.reference,
            profile=args.profile,
            autostart=args.autostart,
            export_dir=args.export_dir,
            quit_when_done=args.quit_when_done,
        )
    )
    attach_window(window, file_opens)  # dropped files reach the queue
    window.finishedLaunch.connect(lambda status: app.exit(status) if args.quit_when_done else None)
    signals = stop_on_signal(app, window)
    window.show()
    window.prewarm_engine()  # Start then answers at once instead of after the workers' ~3 s start-up
    code = app.exec()
    window.controller.shutdown()
    signals.close()
    if signals.exit_status is not None:
        return signals.exit_status
    return window.exit_code if args.quit_when_done else int(code)


if __name__ == "__main__":
    sys.exit(main())
