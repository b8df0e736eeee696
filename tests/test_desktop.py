"""Desktop integration of the window: Finder/Dock drops (QFileOpenEvent), Help menu, --version/--help."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest
from PySide6.QtCore import QObject, QSettings, QUrl, Signal, Slot, qVersion
from PySide6.QtGui import QDesktopServices, QFileOpenEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from engine import logs
from engine.version import APP_VERSION, ENGINE_VERSION
from gui import about
from gui.fileopen import FileOpenQueue
from tests.audio import song


@pytest.fixture
def settings_dir(tmp_path):
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    return tmp_path


def send_open(app: QApplication, path) -> None:
    QApplication.sendEvent(app, QFileOpenEvent(str(path)))


def test_file_open_events_before_the_window_are_kept_and_delivered_as_one_batch(qtbot, tmp_path):
    app = QApplication.instance()
    queue = FileOpenQueue(app, batch_ms=20)
    try:
        batches: list[list[str]] = []
        for name in ("a.wav", "b.flac", "a.wav"):  # Finder sends one event per item; a repeat is ignored
            send_open(app, tmp_path / name)
        qtbot.wait(60)
        assert batches == [] and queue.pending == [str(tmp_path / "a.wav"), str(tmp_path / "b.flac")]
        queue.deliver_to(batches.append)
        qtbot.waitUntil(lambda: len(batches) == 1, timeout=2000)
        assert batches == [[str(tmp_path / "a.wav"), str(tmp_path / "b.flac")]]
        send_open(app, tmp_path / "c.wav")
        qtbot.waitUntil(lambda: len(batches) == 2, timeout=2000)
        assert batches[1] == [str(tmp_path / "c.wav")] and queue.pending == []
    finally:
        app.removeEventFilter(queue)
        queue.deleteLater()


def test_a_folder_dropped_on_the_dock_icon_queues_its_songs_in_the_window(qtbot, settings_dir):
    from gui.desktop import attach_window, prepare_application
    from gui.main_window import MainWindow

    folder = settings_dir / "dropped"
    song(folder / "one.wav", 120, 3.0)
    song(folder / "sub" / "two.wav", 100, 3.0)
    (folder / "notes.txt").write_text("not audio")
    app = QApplication.instance()
    file_opens = prepare_application(app)
    window = MainWindow(data_dir=settings_dir / "data", cache_path=settings_dir / "cache.sqlite3")
    qtbot.addWidget(window)
    try:
        attach_window(window, file_opens)
        send_open(app, folder)
        qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10_000)
        assert sorted(Path(p).name for p in window.model.paths()) == ["one.wav", "two.wav"]
    finally:
        app.removeEventFilter(file_opens)
        window.controller.shutdown()
        logs.stop_logging()


class _UrlCatcher(QObject):
    def __init__(self):
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_help_menu_shows_the_log_file_and_an_about_box_with_versions(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(logs.ENV_DIR, str(tmp_path / "logs"))
    logs.stop_logging()
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = about.install_help_menu(window)
    help_menu = window.menuBar().actions()[-1]
    assert help_menu.text() == "&Help"
    assert {a.text() for a in help_menu.menu().actions() if a.text()} == {
        "Show Log File",
        "Run Diagnostics…",
        "About Calibration Studio",
    }

    catcher = _UrlCatcher()  # instead of launching the system's viewer
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        told: list[str] = []
        monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: told.append(text))
        actions["log"].trigger()  # no log yet: says where it will be, opens nothing
        assert catcher.urls == [] and str(logs.log_file()) in told[0]
        logs.setup_logging("test")
        actions["log"].trigger()
        assert catcher.urls == [QUrl.fromLocalFile(str(logs.log_file()))]
    finally:
        QDesktopServices.unsetUrlHandler("file")
        logs.stop_logging()

    actions["about"].trigger()
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    text = box.text()
    import librosa

    for expected in (APP_VERSION, qVersion(), numpy.__version__, librosa.__version__, str(logs.log_file())):
        assert expected in text
    assert "Python" in text
    import av  # the licence line is what the loaded FFmpeg libraries say of themselves

    assert f"FFmpeg {av.ffmpeg_version_info} ({av._core.library_meta['libavcodec']['license']})" in text
    assert "GNU LGPL" in text and "replace" in text
    box.close()


def test_versions_never_import_what_is_missing():
    assert about.library_version("no_such_library_here") == "not installed"
    assert about.library_version("numpy") == numpy.__version__


def test_window_version_and_help_need_no_display(capsys):
    from gui.app import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"Calibration Studio {APP_VERSION} (engine {ENGINE_VERSION})"
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    text = capsys.readouterr().out
    assert done.value.code == 0
    for option in ("--reference", "--profile", "--autostart", "--export-dir", "--quit-when-done", "--version"):
        assert option in text
    assert "analyze" in text


class _Controller(QObject):
    """The engine controller's run signals, nothing else."""

    poolRecovered = Signal(object)
    songFailed = Signal(object)
    runCrashed = Signal(str)
    runFinished = Signal(object)


def test_run_problems_reach_the_log_file(tmp_path, monkeypatch):
    from engine.results import error_result
    from engine.run import events as ev
    from gui.desktop import log_run_events

    monkeypatch.setenv(logs.ENV_DIR, str(tmp_path / "logs"))
    logs.stop_logging()
    logs.setup_logging("test")
    controller = _Controller()
    log_run_events(controller)
    try:
        controller.poolRecovered.emit(
            ev.PoolRecovered(ev.RecoveryReason.TIMEOUT, 4242, "timed out after 30 s; worker replaced")
        )
        controller.songFailed.emit(ev.SongFailed(0, "/music/bad.mp3", "cannot decode", error_result("/x", "e")))
        controller.runCrashed.emit("EngineError: the analysis workers did not start")
        controller.runFinished.emit(ev.RunFinished(ev.RunSummary(songs_total=3, songs_done=2, songs_failed=1)))
        text = logs.log_file().read_text(encoding="utf-8")
    finally:
        logs.stop_logging()
    assert "WARNING gui.run: timeout (worker 4242): timed out after 30 s; worker replaced" in text
    assert "WARNING gui.run: /music/bad.mp3: cannot decode" in text
    assert "ERROR gui.run: the run stopped: EngineError: the analysis workers did not start" in text
    assert "INFO gui.run: run finished: RunSummary(songs_total=3, songs_done=2" in text
