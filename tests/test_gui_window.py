"""The window with real widgets, the real engine and its real process pool on generated songs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.frontends.demo import DemoSong, render_song, write_reference_csv
from engine.results import SongStatus
from engine.run import events as ev
from engine.run.pool import worker_processes
from gui.actions import ActionKey
from gui.features.launch_feature import LaunchOptions
from gui.main_window import MainWindow
from gui.preferences import Preferences

SR = 22050
SONGS = (
    DemoSong("a 120.wav", 120.0, "C major", "straight", 12.0),
    DemoSong("b 96.wav", 96.0, "G major", "straight", 12.0),
    DemoSong("c 128.wav", 128.0, "A minor", "straight", 12.0),
)
RUN_TIMEOUT_MS = 240_000


def write_songs(folder: Path, songs=SONGS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in songs:
        path = folder / s.file
        sf.write(path, render_song(s.bpm, s.key, s.seconds, SR, s.style), SR)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def song_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("songs")
    write_songs(folder)
    write_reference_csv(folder / "reference.csv", SONGS)
    return folder


def drop(window: MainWindow, paths: list[Path]) -> None:
    """A real drag-enter + drop event pair carrying file URLs, as the OS would deliver it."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(
        pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)


def queue_folder(qtbot, window: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(window.songsAdded, timeout=30_000):
        drop(window, [folder])


def test_dropping_folders_adds_their_songs_once_and_counts_non_audio(qtbot, make_window, tmp_path):
    first = write_songs(tmp_path / "one", SONGS[:2])
    write_songs(tmp_path / "two" / "deeper", SONGS[2:])
    (tmp_path / "one" / "notes.txt").write_text("not audio")
    (tmp_path / "one" / "cover.jpg").write_bytes(b"\xff\xd8")
    window = make_window()
    assert window.stack.currentWidget() is window.drop_zone
    with qtbot.waitSignal(window.songsAdded, timeout=30_000) as added:
        drop(window, [tmp_path / "one", tmp_path / "two"])
    assert added.args == [3]
    assert sorted(Path(p).name for p in window.model.paths()) == sorted(s.file for s in SONGS)
    assert "skipped 2 non-audio files" in window.message_label.text()
    assert window.stack.currentWidget() is window.shell.queue_page
    with qtbot.waitSignal(window.songsAdded, timeout=30_000) as again:  # the same songs again: duplicates
        drop(window, [tmp_path / "one", first[0]])
    assert again.args == [0] and window.model.rowCount() == 3
    assert "duplicate" in window.message_label.text()


def test_dropping_a_csv_loads_it_as_the_reference(qtbot, make_window, song_folder):
    window = make_window()
    with qtbot.waitSignal(window.referenceLoaded, timeout=10_000):
        drop(window, [song_folder / "reference.csv"])
    assert window.session.reference is not None and len(window.session.reference.rows) == 3
    assert "reference.csv" in window.panel.reference_label.text()
    assert window.model.rowCount() == 0  # a reference is not a song
    queue_folder(qtbot, window, song_folder)
    qtbot.waitUntil(lambda: window.session.counts()[0] == 3, timeout=20_000)
    assert {r.ref_key for r in window.model.rows} == {"C major", "G major", "A minor"}


@pytest.mark.parametrize("name", ["collection.nml", "rekordbox.xml", "Library.xml"])
def test_dropping_a_dj_library_file_loads_it_as_the_reference(qtbot, make_window, name):
    """A Traktor, rekordbox or iTunes library dropped on the window is a reference, not a folder of songs."""
    window = make_window()
    with qtbot.waitSignal(window.referenceLoaded, timeout=10_000):
        drop(window, [Path(__file__).parent / "data" / "references" / name])
    assert window.session.reference is not None and len(window.session.reference.rows) > 0
    assert window.model.rowCount() == 0


def test_a_run_over_three_songs_emits_events_in_order_and_fills_rows_and_plots(qtbot, make_window, song_folder):
    window = make_window()
    queue_folder(qtbot, window, song_folder)
    seen: list[object] = []
    controller = window.controller
    for signal in (
        controller.runStarted,
        controller.warmUp,
        controller.songStarted,
        controller.chunkStarted,
        controller.chunkFinished,
        controller.songFinished,
        controller.songFailed,
        controller.runFinished,
    ):
        signal.connect(seen.append)
    with qtbot.waitSignal(controller.runFinished, timeout=RUN_TIMEOUT_MS):
        assert window.start()
        assert not window.start()  # one run at a time
    kinds = [type(e) for e in seen]
    assert kinds[0] is ev.RunStarted and kinds[-1] is ev.RunFinished
    assert kinds.index(ev.WarmUp) < kinds.index(ev.SongStarted)
    song_events = [e for e in seen if isinstance(e, ev.SongStarted | ev.SongFinished)]
    assert [(type(e).__name__, e.index) for e in song_events] == [
        (name, i) for i in range(3) for name in ("SongStarted", "SongFinished")
    ]
    for i in range(3):  # each song's chunks finish between its start and its finish
        start = next(n for n, e in enumerate(seen) if isinstance(e, ev.SongStarted) and e.index == i)
        end = next(n for n, e in enumerate(seen) if isinstance(e, ev.SongFinished) and e.index == i)
        chunks = [e for e in seen[start:end] if isinstance(e, ev.ChunkFinished)]
        assert len(chunks) == seen[start].chunks_total == 3
    assert [r.status for r in window.model.rows] == ["done"] * 3
    assert all(r.bpm and r.key and r.duration_s == pytest.approx(12.0, abs=0.1) for r in window.model.rows)
    assert window.chunk_plot.bar_count == 3  # the last song's chunks
    window.tabs.setCurrentWidget(window.run_plot)  # hidden plots catch up when shown
    assert window.run_plot.point_count == 9  # every chunk of the run
    assert window.stats.songs_finished == 3 and window.stats.fraction_done == 1.0
    assert "3/3 songs" in window.songs_label.text()
    assert worker_processes(), "the pool stays warm between runs"


def test_pause_holds_new_chunks_and_resume_finishes_the_run(qtbot, make_window, tmp_path):
    # the first song is long (15 chunks), so chunks keep starting after the pause if it does not hold
    write_songs(tmp_path / "pause", (DemoSong("a long.wav", 120.0, "C major", "straight", 60.0), *SONGS[1:]))
    window = make_window()
    queue_folder(qtbot, window, tmp_path / "pause")
    started: list[ev.ChunkStarted] = []
    window.controller.chunkStarted.connect(started.append)
    with qtbot.waitSignal(window.controller.chunkFinished, timeout=RUN_TIMEOUT_MS):
        window.start()
    window.toggle_pause()
    assert window.controller.paused and window.action(ActionKey.PAUSE).text() == "Resume"
    at_pause = len(started)
    qtbot.wait(3000)
    # A paused engine starts no chunk. The chunks already handed to the pool (one per worker, two here)
    # may still report: one can start in the instant between the first chunk finishing and the click.
    assert len(started) <= at_pause + 2
    assert window.controller.running
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        window.toggle_pause()
    assert not finished.args[0].summary.cancelled
    assert [r.status for r in window.model.rows] == ["done"] * 3


def test_cancel_mid_run_keeps_finished_songs_and_leaves_no_child_process(qtbot, make_window, tmp_path):
    # the second song is long (30 chunks), so the cancel always lands while it is being analysed
    songs = (SONGS[0], DemoSong("b long.wav", 96.0, "G major", "straight", 120.0), SONGS[2])
    write_songs(tmp_path / "cancel", songs)
    window = make_window()
    queue_folder(qtbot, window, tmp_path / "cancel")
    with qtbot.waitSignal(window.controller.songFinished, timeout=RUN_TIMEOUT_MS):
        window.start(paths=window.model.paths()[:2])  # the third song stays out of this run
    with qtbot.waitSignal(window.controller.runFinished, timeout=30_000) as finished:
        window.cancel()
    summary = finished.args[0].summary
    assert summary.cancelled
    statuses = [r.status for r in window.model.rows]
    assert statuses == [SongStatus.DONE, SongStatus.CANCELLED, SongStatus.QUEUED]  # queued: not in the run
    assert worker_processes() == []
    assert window.action(ActionKey.START).isEnabled() and not window.action(ActionKey.CANCEL).isEnabled()
    started: list[ev.SongStarted] = []
    window.controller.songStarted.connect(started.append)
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        assert window.start()  # Start takes the cancelled song and the queued one, not the finished one
    assert sorted(Path(e.path).name for e in started) == sorted(Path(p).name for p in window.model.paths()[1:])
    assert all(r.status is SongStatus.DONE and r.analysed for r in window.model.rows)


def test_pause_and_cancel_before_the_engine_exists_are_kept_for_it(qtbot, make_window, song_folder):
    """Start queues the run on the engine thread; a Cancel pressed before it builds the engine still counts."""
    window = make_window()
    queue_folder(qtbot, window, song_folder)
    controller = window.controller
    with qtbot.waitSignal(controller.runFinished, timeout=RUN_TIMEOUT_MS) as finished:
        assert window.start()
        controller.pause()
        assert controller.paused
        controller.cancel()
    summary = finished.args[0].summary
    assert summary.cancelled and summary.songs_done == 0
    assert [r.status for r in window.model.rows] == [SongStatus.CANCELLED] * 3
    controller.resume()
    assert not controller.paused
    assert worker_processes() == []


def test_closing_during_a_run_asks_then_stops_every_worker(qtbot, make_window, song_folder):
    window = make_window()
    queue_folder(qtbot, window, song_folder)
    with qtbot.waitSignal(window.controller.songStarted, timeout=RUN_TIMEOUT_MS):
        window.start()
    asked: list[bool] = []
    window.confirm_close_during_run = lambda: asked.append(True) or False
    assert not window.close()  # "No": the run goes on
    assert window.isVisible() and window.controller.running and asked == [True]
    window.confirm_close_during_run = lambda: asked.append(True) or True
    assert window.close()
    assert len(asked) == 2 and not window.isVisible()
    assert worker_processes() == []


def run_to_end(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        window.start()
    qtbot.waitUntil(lambda: window.session.matched is not None and window.session.counts()[0] == 3, timeout=30_000)


def read_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle))


def test_export_writes_the_calibration_files_with_their_columns(qtbot, make_window, song_folder, tmp_path):
    window = make_window(cache=tmp_path / "shared-cache.sqlite3")
    window.load_reference(song_folder / "reference.csv")
    queue_folder(qtbot, window, song_folder)
    run_to_end(qtbot, window)
    out = tmp_path / "export"
    with qtbot.waitSignal(window.exportFinished, timeout=60_000) as done:
        window.export_to(out)
    assert done.args == [str(out), ""]
    for name in ("results.csv", "chunks.csv", "comparison.csv", "metrics.csv", "run.json", "history.csv"):
        assert (out / name).is_file(), name
    results = read_header(out / "results.csv")
    for column in ("path", "file", "status", "bpm", "key", "ref_bpm", "ref_key", "match_method", "bpm_calibrated"):
        assert column in results
    assert {"ref_bpm", "bpm", "ratio_class", "ref_key", "key", "key_relation"} <= set(
        read_header(out / "comparison.csv")
    )
    assert read_header(out / "metrics.csv")[:3] == ["metric", "n", "raw"]
    with open(out / "results.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 and {r["ref_key"] for r in rows} == {"C major", "G major", "A minor"}
    with open(out / "chunks.csv", newline="", encoding="utf-8-sig") as handle:
        assert len(list(csv.DictReader(handle))) == 9
    assert Preferences.load().export_dir == str(out)  # remembered
    assert window.action(ActionKey.OPEN_EXPORT).isEnabled()


def test_an_unwritable_export_folder_shows_an_error_and_loses_nothing(qtbot, make_window, song_folder, tmp_path):
    window = make_window(cache=tmp_path / "shared-cache.sqlite3")
    window.load_reference(song_folder / "reference.csv")
    queue_folder(qtbot, window, song_folder)
    run_to_end(qtbot, window)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export folder should be")  # fails even for root, unlike chmod
    with qtbot.waitSignal(window.exportFinished, timeout=60_000) as done:
        window.export_to(blocker / "export")
    assert done.args[1], "an error message"
    assert "Nothing was lost" in window.last_error
    box = window.error_box
    assert isinstance(box, QMessageBox) and box.isVisible() and "Export failed" in box.windowTitle()
    box.close()
    assert len(window.results) == 3 and Preferences.load().export_dir == ""
    with qtbot.waitSignal(window.exportFinished, timeout=60_000) as retry:
        window.export_to(tmp_path / "elsewhere")
    assert retry.args[1] == "" and (tmp_path / "elsewhere" / "results.csv").is_file()


def test_settings_persist_across_a_new_window(qtbot, make_window):
    first = make_window()
    from gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(first.prefs, first)
    dialog.workers.setValue(3)
    dialog.chunk.setValue(12.0)
    dialog.overlap.setValue(1.5)
    dialog.timeout.setValue(45.0)
    dialog.cache.setChecked(False)
    first.apply_preferences(dialog.values())
    first.close()
    second = make_window()
    prefs = second.prefs
    assert (prefs.workers, prefs.chunk_seconds, prefs.overlap_seconds, prefs.chunk_timeout, prefs.use_cache) == (
        3,
        12.0,
        1.5,
        45.0,
        False,
    )
    options = prefs.engine_options()
    assert options.workers == 3 and options.chunk_timeout == 45.0 and not options.use_cache
    assert SettingsDialog(prefs, second).timeout.value() == 45.0


def test_invalid_chunk_settings_are_refused_by_the_dialog(qtbot, make_window):
    window = make_window()
    from gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.prefs, window)
    dialog.chunk.setValue(4.0)
    dialog.overlap.setValue(3.0)  # more than half the chunk
    dialog.accept()
    assert dialog.result() == 0 and "overlap" in dialog.error.text()


def test_launch_options_analyse_export_and_finish_with_status_zero(qtbot, make_window, song_folder, tmp_path):
    out = tmp_path / "auto-export"
    launch = LaunchOptions(
        paths=[str(song_folder)],
        reference=str(song_folder / "reference.csv"),
        autostart=True,
        export_dir=str(out),
        quit_when_done=True,
    )
    window = make_window(launch)
    with qtbot.waitSignal(window.finishedLaunch, timeout=RUN_TIMEOUT_MS) as finished:
        pass
    assert finished.args == [0]
    assert (out / "results.csv").is_file() and (out / "comparison.csv").is_file()
    assert not window.isVisible()


def test_main_py_autostart_export_quit_exits_zero_in_a_real_process(song_folder, tmp_path, no_stray_workers):
    """The scripted path end to end: a real process, window offscreen, status 0 and the files written."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    out = tmp_path / "scripted"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    from platformdirs import user_cache_dir

    # results cache in a temp folder; numba's compiled cache shared, or the child would JIT from cold
    numba = os.environ.get("NUMBA_CACHE_DIR") or str(
        Path(user_cache_dir("CalibrationStudio", appauthor=False)) / "numba"
    )
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), NUMBA_CACHE_DIR=numba)
    command = [
        sys.executable,
        str(repo / "main.py"),
        str(song_folder),
        "--reference",
        str(song_folder / "reference.csv"),
    ]
    command += ["--autostart", "--export-dir", str(out), "--quit-when-done"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_MS / 1000, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Fatal Python error" not in done.stderr
    with open(out / "results.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["file"] for r in rows) == sorted(s.file for s in SONGS)
    assert all(r["status"] == "done" for r in rows)
    assert (out / "run.json").is_file() and (out / "history.csv").is_file()


def test_prewarmed_pool_serves_the_first_run_without_warming_again(qtbot, make_window, song_folder):
    window = make_window()
    with qtbot.waitSignal(
        window.controller.warmUp, timeout=240_000, check_params_cb=lambda event: event.stage == "done"
    ):
        window.prewarm_engine()
    warm_pids = set(window.controller.worker_pids())
    assert len(warm_pids) == window.prefs.workers
    assert window.message_label.text() == "Analysis engine ready"

    warm_ups: list[ev.WarmUp] = []
    chunks: list[ev.ChunkFinished] = []
    window.controller.warmUp.connect(warm_ups.append)
    window.controller.chunkFinished.connect(chunks.append)
    with qtbot.waitSignal(window.songsAdded, timeout=60_000):
        window.add_paths([song_folder])
    with qtbot.waitSignal(window.controller.runFinished, timeout=240_000):
        assert window.start()
    assert warm_ups == []  # the run found the pool ready
    assert chunks and {c.result.worker_pid for c in chunks} <= warm_pids


def test_a_results_cache_that_cannot_be_opened_is_a_warning_in_the_log_and_songs_still_run(
    qtbot, make_window, song_folder, tmp_path, monkeypatch
):
    from engine import cachedirs

    monkeypatch.setattr(cachedirs, "_notices", [])
    broken = tmp_path / "cache.sqlite3"
    broken.mkdir()  # SQLite cannot open a folder as its database
    Preferences(workers=1, chunk_seconds=4.0, use_cache=True).save()
    window = make_window(cache=broken)
    with qtbot.waitSignal(
        window.controller.warmUp, timeout=240_000, check_params_cb=lambda event: event.stage == "done"
    ):
        window.prewarm_engine()
    warnings = [line for line in window.log.lines if "WARNING" in line and "results are not cached" in line]
    assert len(warnings) == 1, window.log.lines
    with qtbot.waitSignal(window.songsAdded, timeout=60_000):
        window.add_paths([song_folder])
    with qtbot.waitSignal(window.controller.runFinished, timeout=240_000):
        assert window.start()
    statuses = {window.model.song(row).status for row in range(window.model.rowCount())}
    assert statuses == {"done"}, statuses
    assert sum("results are not cached" in line for line in window.log.lines) == 1  # said once


def test_metrics_fill_in_song_by_song_during_a_run_with_a_reference(qtbot, make_window, song_folder):
    window = make_window()
    assert window.load_reference(song_folder / "reference.csv")
    window.live_metrics_interval_ms = 0  # refresh after every song (the product waits 1.5 s between)
    seen_during_run: list[int] = []

    def record() -> None:
        if window.controller.running:
            seen_during_run.append(max((row.n for row in window.session.metrics_view()), default=0))

    window.calibrationUpdated.connect(record)

    # Analysis runs at ~100x realtime, so the run is paused after its first song to look at it mid-run.
    def pause_after_a_song(_event: ev.SongFinished) -> None:
        window.controller.pause()

    window.controller.songFinished.connect(pause_after_a_song)
    with qtbot.waitSignal(window.songsAdded, timeout=60_000):
        window.add_paths([song_folder])
    assert window.start()
    qtbot.waitUntil(lambda: any(1 <= n < len(SONGS) for n in seen_during_run), timeout=RUN_TIMEOUT_MS)
    assert window.controller.running and window.panel.metrics.rowCount() > 0
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        window.controller.songFinished.disconnect(pause_after_a_song)
        window.controller.resume()
    qtbot.waitUntil(lambda: max(row.n for row in window.session.metrics_view()) == len(SONGS), timeout=30_000)
    assert not window.live_metrics_timer.isActive()
