"""The inspector loop in the real window on generated songs: look (evidence), listen (playback, click
track), correct (verdicts with undo/redo, saved, reloaded after a restart, respected by the fit)."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import soundfile as sf
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.calibration.corrections import FILE_NAME
from engine.frontends.demo import DemoSong, render_song, write_reference_csv
from gui.actions import ActionKey
from gui.inspector.panel import NO_POSITION
from gui.inspector.player import AUDIO_ENV, NULL_SINK
from gui.main_window import MainWindow
from gui.preferences import Preferences
from gui.queue_model import DISAGREE_ROLE, Col

SR = 22050
RUN_TIMEOUT_MS = 300_000
KEYS = ("C major", "G major", "A minor", "D major", "E minor", "F major")
SONGS = tuple(
    DemoSong(f"s{i:02d}.wav", bpm, KEYS[i % len(KEYS)], "straight", 6.0)
    for i, bpm in enumerate((96, 120, 128, 100, 110, 124, 90, 105, 115, 126, 98, 118, 108))
)
"""Thirteen one-chunk songs: one more than the fewest the window fits on (MIN_SONGS), so one can be excluded."""
DOUBLED = SONGS[0]  # its reference row says 192: a double-time reference the user halves


@pytest.fixture(scope="module")
def song_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inspector-songs")
    for s in SONGS:
        sf.write(folder / s.file, render_song(s.bpm, s.key, s.seconds, SR, s.style), SR)
    return folder


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory) -> Path:
    """One results cache for the module: each song is analysed once, later windows read it back."""
    return tmp_path_factory.mktemp("inspector-cache") / "cache.sqlite3"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def write_reference(path: Path) -> Path:
    """The songs' true values, except DOUBLED's tempo given at double (a half-time reading to correct)."""
    given = [replace(s, bpm=s.bpm * 2) if s is DOUBLED else s for s in SONGS]
    return write_reference_csv(path, given)


@pytest.fixture
def make_window(make_window, qtbot, cache_file, monkeypatch):
    """The shared window fixture with the inspector's needs: two workers, a cache kept across these
    tests, the null audio sink, and an active window (its shortcuts, Space, H…, need that)."""
    Preferences(workers=2, chunk_seconds=6.0, use_cache=True).save()
    monkeypatch.setenv(AUDIO_ENV, NULL_SINK)
    windows: list[MainWindow] = []

    def make() -> MainWindow:
        window = make_window(cache=cache_file)
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
        windows.append(window)
        return window

    yield make
    for window in windows:  # before the shared fixture shuts the engines down
        window.inspector.close()


def analyse(qtbot, window: MainWindow, folder: Path, reference: Path) -> None:
    """Load the reference, queue the songs, run, and wait for the automatic fit after the run."""
    assert window.load_reference(reference)
    with qtbot.waitSignal(window.songsAdded, timeout=60_000):
        window.add_paths([folder])
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        assert window.start()
    qtbot.waitUntil(lambda: window.session.calibration is not None, timeout=120_000)


def select(qtbot, window: MainWindow, name: str) -> str:
    path = next(p for p in window.model.paths() if Path(p).name == name)
    row = window.model.row_of(path)
    window.table.setCurrentIndex(QModelIndex())  # Qt may have made the first row current already
    window.table.setCurrentIndex(window.proxy.mapFromSource(window.model.index(row, int(Col.SONG))))
    qtbot.waitUntil(lambda: window.inspector.path == path, timeout=5_000)
    return path


def wait_loaded(qtbot, player) -> None:
    """Decoding and beat tracking (numba compiles librosa's beat tracker once: slow on a loaded machine)."""
    qtbot.waitUntil(lambda: player.state not in ("idle", "loading"), timeout=240_000)
    assert player.state != "error", player.message


def fitted_with(qtbot, window: MainWindow, path: str, ref_bpm: float):
    """The fit that the verdicts started, once it has the song at ``ref_bpm``."""

    def done() -> bool:
        calibration = window.session.calibration
        found = [o for o in calibration.observations if o.path == path] if calibration else []
        return bool(found) and found[0].row.bpm == ref_bpm and not window.inspector.refit_timer.isActive()

    qtbot.waitUntil(done, timeout=120_000)
    return window.session.calibration


def tempo_acc1(calibration) -> float:
    return next(r["raw"] for r in calibration.metrics if r["metric"] == "tempo_acc1")


def test_look_listen_halve_undo_redo_restart_and_fit(qtbot, make_window, song_folder, tmp_path):
    reference = write_reference(tmp_path / "reference.csv")
    window = make_window()
    analyse(qtbot, window, song_folder, reference)
    inspector, panel = window.inspector, window.inspector.panel

    # look: the evidence of a finished one-chunk song, and its reference
    path = select(qtbot, window, DOUBLED.file)
    assert window.tabs.currentWidget() is window.inspector.page
    result = window.results[path]
    assert len(panel.view.chunks) == result.chunks_total == 1
    assert panel.tempo_table.rowCount() == min(8, len(result.tempo_candidates)) > 0
    assert panel.key_table.rowCount() == 5
    assert panel.view.ref_bpm == DOUBLED.bpm * 2 and panel.view.match_method == "file name"
    assert "paired by file name" in panel.summary.text()
    detected_ok = abs(result.bpm / DOUBLED.bpm - 1) < 0.04
    if detected_ok:  # detected 96 against 192: a disagreement the review filter and navigation find
        assert window.proxy.index(window.proxy.mapFromSource(window.model.index(0, 0)).row(), 0).isValid()
        assert window.model.data(window.model.index(window.model.row_of(path), 0), DISAGREE_ROLE) == "1"
        inspector.filter_action.setChecked(True)
        assert 1 <= window.proxy.rowCount() < len(SONGS)
        inspector.filter_action.setChecked(False)
        assert window.proxy.rowCount() == len(SONGS)
        window.table.setCurrentIndex(QModelIndex())
        QTest.keyClick(window, Qt.Key.Key_N)  # next disagreement: the first one in table order
        first = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(DISAGREE_ROLE) == "1")
        assert window.table.currentIndex().row() == first
        assert inspector.path == window.model.song(window.proxy.mapToSource(window.proxy.index(first, 0)).row()).path
        QTest.keyClick(window, Qt.Key.Key_P)  # no disagreement before the first: stays
        assert window.table.currentIndex().row() == first
        path = select(qtbot, window, DOUBLED.file)

    # listen: nothing is decoded until asked; Space decodes off the GUI thread, then plays into the null sink
    assert inspector.player.state == "idle"
    QTest.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: inspector.player.state in ("playing", "error", "unavailable"), timeout=240_000)
    assert inspector.player.state == "playing", inspector.player.message
    assert inspector.player.duration_s == pytest.approx(DOUBLED.seconds, abs=0.05)
    qtbot.waitUntil(lambda: inspector.player.position_s > 0.3, timeout=10_000)
    panel.click_box.setChecked(True)
    assert inspector.player.click_count >= int(DOUBLED.seconds * (result.bpm or DOUBLED.bpm) / 60) - 2
    reference_index = panel.click_tempo.findData(float(DOUBLED.bpm * 2))
    panel.click_tempo.setCurrentIndex(reference_index)
    assert inspector.player.click_bpm == DOUBLED.bpm * 2
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert inspector.player.state == "paused"
    position = inspector.player.position_s
    qtbot.wait(300)
    assert inspector.player.position_s == position  # paused means paused
    panel.seekRequested.emit(2.0)  # a click on the timeline plays from there
    assert inspector.player.state == "playing" and inspector.player.position_s >= 2.0
    QTest.keyClick(window, Qt.Key.Key_Space)

    # another song: its player line shows no position and no length until it is decoded, never this one's
    assert panel.position_label.text() != NO_POSITION
    select(qtbot, window, next(s.file for s in SONGS if s.file != DOUBLED.file))
    assert panel.position_label.text() == NO_POSITION and inspector.player.state == "idle"
    path = select(qtbot, window, DOUBLED.file)

    # correct: halve the reference BPM with its key, undo, redo
    acc_before = tempo_acc1(window.session.calibration)
    QTest.keyClick(window, Qt.Key.Key_H)
    corrections = tmp_path / FILE_NAME
    assert corrections.is_file()
    assert panel.view.ref_bpm == DOUBLED.bpm and panel.view.ref_bpm_given == DOUBLED.bpm * 2
    assert window.model.song(window.model.row_of(path)).ref_bpm == DOUBLED.bpm
    assert "reference BPM corrected to 96" in panel.summary.text()
    inspector.actions[ActionKey.VERDICT_UNDO].trigger()
    assert panel.view.ref_bpm == DOUBLED.bpm * 2 and "bpm" not in panel.view.verdicts
    inspector.actions[ActionKey.VERDICT_REDO].trigger()
    assert panel.view.ref_bpm == DOUBLED.bpm
    rows = read_csv(corrections)
    assert [(r["field"], r["reference"], r["corrected"]) for r in rows] == [
        ("bpm", "192", "96"),
        ("bpm", "192", ""),
        ("bpm", "192", "96"),
    ]
    calibration = fitted_with(qtbot, window, path, DOUBLED.bpm)
    if detected_ok:
        assert tempo_acc1(calibration) == pytest.approx(acc_before + 1 / len(SONGS), abs=1e-3)

    # restart: a new window reads the verdict back and the fit counts it
    window.close()
    again = make_window()
    analyse(qtbot, again, song_folder, reference)  # songs come from the cache
    path = select(qtbot, again, DOUBLED.file)
    assert again.inspector.panel.view.ref_bpm == DOUBLED.bpm
    assert "bpm" in again.inspector.panel.view.verdicts
    assert next(o for o in again.session.calibration.observations if o.path == path).row.bpm == DOUBLED.bpm
    if detected_ok:
        assert tempo_acc1(again.session.calibration) == pytest.approx(tempo_acc1(calibration), abs=1e-3)


def test_an_excluded_song_leaves_the_fit_and_the_export_says_so(qtbot, make_window, song_folder, tmp_path):
    reference = write_reference(tmp_path / "reference.csv")
    window = make_window()
    analyse(qtbot, window, song_folder, reference)
    n_before = window.session.calibration.profile.n_songs
    path = select(qtbot, window, SONGS[3].file)
    window.inspector.panel.reason_edit.setText("a medley: two tempos")
    QTest.keyClick(window.inspector.panel.reason_edit, Qt.Key.Key_X, Qt.KeyboardModifier.NoModifier)
    assert window.inspector.panel.reason_edit.text().endswith("x")  # typing in the reason is not a verdict
    window.inspector.panel.reason_edit.setText("a medley: two tempos")
    window.inspector.actions[ActionKey.VERDICT_EXCLUDE].trigger()
    assert "excluded from calibration" in window.inspector.panel.summary.text()
    qtbot.waitUntil(lambda: window.session.calibration.profile.n_songs == n_before - 1, timeout=120_000)
    assert path not in {o.path for o in window.session.calibration.observations}
    export = tmp_path / "export"
    with qtbot.waitSignal(window.exportFinished, timeout=60_000):
        window.export_to(export)
    rows = {r["path"]: r for r in read_csv(export / "comparison.csv")}
    assert rows[path]["excluded"] == "1" and rows[path]["verdict_reason"] == "exclude: a medley: two tempos"
    metrics = {r["metric"]: r for r in read_csv(export / "metrics.csv")}
    assert metrics["tempo_acc1"]["n"] == str(len(SONGS) - 1) and metrics["tempo_acc1"]["n_as_given"] == str(len(SONGS))


def test_without_an_audio_device_playback_says_so_and_the_inspector_still_works(
    qtbot, make_window, song_folder, tmp_path, monkeypatch
):
    shutil.copy(song_folder / SONGS[1].file, tmp_path / SONGS[1].file)
    window = make_window()
    monkeypatch.setenv(AUDIO_ENV, "")
    monkeypatch.setitem(__import__("sys").modules, "sounddevice", None)  # as if PortAudio were missing
    with qtbot.waitSignal(window.songsAdded, timeout=60_000):
        window.add_paths([tmp_path / SONGS[1].file])
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        assert window.start()
    select(qtbot, window, SONGS[1].file)
    assert not window.inspector.toggle_play()  # said at once: nothing is decoded for a machine that cannot play
    assert window.inspector.player.state == "unavailable"
    assert "no audio output" in window.inspector.panel.player_note.text()
    assert window.inspector.panel.tempo_table.rowCount() > 0  # the evidence is still there
    assert not window.inspector.exclude("no reference loaded")  # no file to keep verdicts in: refused
    assert "load a reference first" in window.inspector.panel.player_note.text()


def test_the_inspector_shows_each_chunk_as_it_finishes(qtbot, make_window, tmp_path):
    # twelve chunks on two workers: six waves, so the run spans several event batches (at most one per
    # 50 ms) even on a fast machine; with three chunks all could land in a single batch
    song = DemoSong("long.wav", 110.0, "D major", "straight", 60.0)
    sf.write(tmp_path / song.file, render_song(song.bpm, song.key, song.seconds, SR, song.style), SR)
    window = make_window()
    window.prefs.chunk_seconds = 5.0
    window.tabs.setCurrentWidget(window.inspector.page)
    finished = [0]  # chunks the engine has reported so far
    seen: list[tuple[int, int, str]] = []  # after each batch of events: reported, shown, status shown
    window.controller.chunkFinished.connect(lambda _e: finished.__setitem__(0, finished[0] + 1))
    window.controller.batchDone.connect(
        lambda: seen.append((finished[0], len(window.inspector.panel.view.chunks), window.inspector.panel.view.status))
    )
    with qtbot.waitSignal(window.songsAdded, timeout=60_000):
        window.add_paths([tmp_path / song.file])
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        assert window.start(force=True)
    total = window.results[str(tmp_path / song.file)].chunks_total
    assert total >= 10
    live = [(reported, shown) for reported, shown, status in seen if status == "analysing"]
    assert all(shown == reported for reported, shown in live)  # never a chunk behind after a batch
    assert any(0 < shown < total for _, shown in live)  # drawn while the song is still being analysed
    assert window.inspector.panel.view.status == "done" and len(window.inspector.panel.view.chunks) == total


def test_a_verdict_with_only_disagreements_shown_moves_on_to_the_song_below(qtbot, make_window, song_folder, tmp_path):
    """A verdict that makes a song agree hides it under *Show Only Disagreements*: the selection must go
    to the song that was below it (never the one above, which the next key press would then correct),
    and stay empty after the last one."""
    halved = {SONGS[i].file for i in (0, 2, 4, 6, 8)}
    reference = write_reference_csv(
        tmp_path / "reference.csv", [replace(s, bpm=s.bpm * 2) if s.file in halved else s for s in SONGS]
    )
    window = make_window()
    analyse(qtbot, window, song_folder, reference)
    proxy, model = window.proxy, window.model
    window.inspector.filter_action.setChecked(True)

    def song_at(r: int):
        return model.song(proxy.mapToSource(proxy.index(r, 0)).row())

    def fixable(r: int) -> bool:  # only its tempo disagrees: a BPM verdict equal to the detection hides it
        song = song_at(r)
        return song.key_class() in (None, "same") and song.tempo_class() not in (None, "same")

    def judge(r: int) -> str:
        song = song_at(r)
        select(qtbot, window, song.name)
        assert window.inspector.correct_bpm(song.bpm, "typed")
        qtbot.waitUntil(
            lambda: not proxy.mapFromSource(model.index(model.row_of(song.path), 0)).isValid(), timeout=5_000
        )
        return song.path

    middle = next(r for r in range(proxy.rowCount() - 1) if fixable(r))
    below = song_at(middle + 1).path
    judge(middle)
    assert window.table.currentIndex().isValid() and song_at(window.table.currentIndex().row()).path == below
    assert window.inspector.path == below

    last = proxy.rowCount() - 1
    if fixable(last):
        judge(last)
        assert not window.table.currentIndex().isValid()  # nothing below: nothing selected
        assert not window.table.selectionModel().selectedRows()


def test_at_1366_by_768_play_every_verdict_button_and_the_chunk_plot_show_without_scrolling(
    qtbot, make_window, song_folder, tmp_path
):
    reference = write_reference(tmp_path / "reference.csv")
    window = make_window()
    window.resize(1366, 768)
    analyse(qtbot, window, song_folder, reference)
    path = select(qtbot, window, DOUBLED.file)
    assert window.inspector.correct_bpm(DOUBLED.bpm, "×½")  # a verdict adds its line to the summary
    window.inspector.panel.reason_edit.setText("halved")
    qtbot.waitUntil(lambda: "bpm" in window.inspector.panel.view.verdicts, timeout=5_000)
    QApplication.processEvents()
    assert window.inspector.path == path and window.size().height() <= 768
    page, panel = window.inspector.page, window.inspector.panel
    viewport = page.viewport()
    assert page.verticalScrollBar().value() == 0
    assert window.rect().contains(QRect(viewport.mapTo(window, QPoint(0, 0)), viewport.size()))
    wanted = {"Play": panel.play_button, **{f"verdict {k}": b for k, b in panel.verdict_buttons.items()}}
    wanted["chunk plot"] = panel.plot  # whole, its seconds axis too: the panel takes the tab's height
    for name, widget in wanted.items():
        shown = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
        assert widget.isVisible() and viewport.rect().contains(shown), (name, shown, viewport.rect())
