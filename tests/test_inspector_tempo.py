"""The inspector's tempo along the song and its grid clicks (issue 23), on generated songs through the real
window, engine and pool.

A steady click track gets a beat grid: the click track must fall on the song's real beats (known by
construction) within a few ms over the whole song, which tracked beats (frames of 23 ms) cannot do. A
song whose tempo rises must say "tempo not constant" and draw a curve that rises. The parts without Qt
(grid times, the curve's points) are tested alone first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui.inspector.clicks import BeatGrid, click_sound, grid_times
from gui.inspector.player import AUDIO_ENV, NULL_SINK, Player
from gui.inspector.song_evidence import ChunkBar, tempo_curve
from gui.main_window import MainWindow
from gui.preferences import Preferences
from gui.queue_model import Col
from tests.audio import write
from tests.test_beat_grid import clicks_at, rising_beats, steady_beats

SECONDS = 20.0
CHUNK_S = 5.0
GRID_BPM, GRID_START = 127.37, 0.123
RISE_FROM, RISE = 115.0, 0.08
"""A rise of 8 % over 20 s: 115 to 124.2 BPM, clearly beyond one grid and clearly visible per chunk."""
RUN_TIMEOUT_MS = 300_000
ON_BEAT_S = 0.004


def test_grid_times_are_start_plus_k_periods_inside_the_song():
    times = grid_times(3.0, BeatGrid(0.123, 120.0))
    assert times == pytest.approx(0.123 + 0.5 * np.arange(6))
    assert grid_times(0.1, BeatGrid(0.123, 120.0)).size == 0


def test_the_tempo_curve_has_one_point_per_chunk_with_a_tempo_at_the_song_level():
    chunks = [
        ChunkBar(0, 0.0, 5.0, "ok", 120.0, "C major", 0.9),
        ChunkBar(1, 5.0, 10.0, "ok", 242.0, "C major", 0.9),  # read at double time: drawn at the song's level
        ChunkBar(2, 10.0, 15.0, "timeout", None, "", 0.0),  # no tempo: no point
        ChunkBar(3, 15.0, 18.0, "ok", 61.5, "C major", 0.9),
    ]
    times, bpms = tempo_curve(chunks, 120.0)
    assert times == [2.5, 7.5, 16.5]
    assert bpms == pytest.approx([120.0, 121.0, 123.0])


def test_with_a_grid_the_player_clicks_the_grid_and_other_tempos_lock_to_its_first_beat(qtbot):
    player = Player()
    player.samplerate, player.audio = 1000, np.zeros(10_000, dtype=np.float32)
    player._blip = click_sound(1000)
    player.grid = BeatGrid(0.25, 120.0)
    player.beats = np.array([0.3, 0.81, 1.29])  # tracked beats, a little off: never used where there is a grid
    player.set_click(True)
    assert player.clicks_follow == "grid"
    assert player._click_samples.tolist() == list(range(250, 10_000, 500))
    player.set_click(True, 60.0)
    assert player.clicks_follow == "steady" and player._click_samples.tolist() == list(range(250, 10_000, 1000))
    player.set_click(True, None)  # the song's own beats again, as the first entry of "Click at" asks
    assert player.clicks_follow == "grid" and player._click_samples.size == 20


@pytest.fixture(scope="module")
def songs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tempo-songs")
    return {
        "steady": write(folder / "steady.wav", clicks_at(steady_beats(GRID_BPM, GRID_START, SECONDS), SECONDS)),
        "rising": write(folder / "rising.wav", clicks_at(rising_beats(RISE_FROM, RISE, SECONDS), SECONDS)),
    }


@pytest.fixture
def window(make_window, qtbot, monkeypatch) -> MainWindow:
    """A real window on two workers, 5 s chunks (four per song), no cache (every run analyses), the null audio
    sink, active (Space needs that)."""
    Preferences(workers=2, chunk_seconds=CHUNK_S, use_cache=False).save()
    monkeypatch.setenv(AUDIO_ENV, NULL_SINK)
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    yield window
    window.inspector.close()


def analyse(qtbot, window: MainWindow, paths: list[Path]) -> None:
    """Both songs in one run: one pool start (most of the time these tests take)."""
    with qtbot.waitSignal(window.songsAdded, timeout=60_000):
        window.add_paths(paths)
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        assert window.start(force=True)


def select(qtbot, window: MainWindow, path: Path) -> str:
    song = str(path)
    window.table.setCurrentIndex(QModelIndex())
    row = window.model.row_of(song)
    window.table.setCurrentIndex(window.proxy.mapFromSource(window.model.index(row, int(Col.SONG))))
    qtbot.waitUntil(lambda: window.inspector.path == song, timeout=5_000)
    return song


def test_steady_and_rising_songs_say_what_they_are_and_the_steady_one_clicks_on_its_beats(qtbot, window, songs):
    """The steady song: one curve point per chunk, "steady tempo", and clicks on its true beats to 4 ms over the
    whole song; red when the player clicks tracked beats where the song has a grid (``song_grid`` not passed to
    ``Player.load``: librosa's beats sit on 23 ms frames). The rising song: "tempo not constant", tracked beats
    said as such, and a curve that rises as the song does; red when the words ignore ``tempo_stable`` or the
    curve is not the chunks' tempos (the song's BPM drawn flat)."""
    window.resize(1366, 768)
    analyse(qtbot, window, [songs["steady"], songs["rising"]])
    panel, player, tempo = window.inspector.panel, window.inspector.player, window.inspector.panel.tempo_view

    path = select(qtbot, window, songs["steady"])
    result = window.results[path]
    assert result.tempo_stable and result.chunks_total >= 4
    times, bpms = tempo.curve.getData()
    assert len(times) == len(bpms) == result.chunks_total  # one point per chunk, at its middle
    assert list(times) == pytest.approx([(c.start_s + c.end_s) / 2 for c in result.chunks])
    assert tempo.words.text().startswith("steady tempo") and tempo.band.isVisible()
    assert panel.click_tempo.itemText(0).startswith("beat grid")
    QApplication.processEvents()
    viewport = window.inspector.page.viewport()
    for widget in (tempo.words, tempo.plot):  # at a glance: on screen in the tab at 1366×768, unscrolled
        assert viewport.rect().contains(QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size()))
    QTest.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.state in ("playing", "error", "unavailable"), timeout=120_000)
    assert player.state == "playing", player.message
    panel.click_box.setChecked(True)
    assert player.clicks_follow == "grid"
    clicks = player._click_samples / player.samplerate
    assert clicks.size >= steady_beats(GRID_BPM, GRID_START, SECONDS).size  # every beat of the song clicks
    true_grid = GRID_START + np.arange(clicks.size) * 60.0 / GRID_BPM  # the song's beats (and the grid's last one)
    assert np.max(np.abs(clicks - true_grid)) < ON_BEAT_S  # on the music's beats, first to last
    QTest.keyClick(window, Qt.Key.Key_Space)

    path = select(qtbot, window, songs["rising"])
    result = window.results[path]
    assert not result.tempo_stable
    assert tempo.words.text().startswith("tempo not constant")
    assert "tracked beats, not a grid" in tempo.words.text()
    assert not tempo.band.isVisible()
    assert panel.click_tempo.itemText(0).startswith("tracked beats")
    times, bpms = tempo.curve.getData()
    assert len(bpms) == result.chunks_total
    rise = RISE_FROM * RISE * (times[-1] - times[0]) / SECONDS  # the song's true rise between those chunks
    assert bpms[-1] - bpms[0] == pytest.approx(rise, rel=0.5)
    low, high = tempo.plot.getPlotItem().vb.viewRange()[1]
    assert low <= min(bpms) and max(bpms) <= high and high - low < 0.2 * RISE_FROM  # zoomed to show it


def test_the_tempo_words_keep_their_height_so_new_words_do_not_re_lay_out_the_plots(qtbot):
    """A label that grew with its words re-laid out the inspector and every plot in it (stalls of 70-85 ms
    in bench/gui_latency.py); its height is fixed, and the whole text stays in the tooltip."""
    import pyqtgraph as pg

    from gui.inspector.tempo_view import TempoShown, TempoView

    view = TempoView(pg.PlotWidget())
    qtbot.addWidget(view)
    view.resize(300, 200)
    view.show()
    qtbot.waitExposed(view)
    view.show_tempo(TempoShown((5.0,), (120.0,), 120.0, True, 0.01, "steady tempo"))
    QApplication.processEvents()
    short = view.words.height()
    long_words = "tempo not constant — no grid (117.6 BPM is an average); the click plays tracked beats, not a grid"
    view.show_tempo(TempoShown((5.0, 15.0), (115.0, 124.0), 117.6, False, None, long_words))
    QApplication.processEvents()
    assert view.words.height() == short and view.words.toolTip() == long_words
    two_lines = 2 * view.words.fontMetrics().lineSpacing()
    assert view.words.minimumHeight() == view.words.maximumHeight() >= two_lines  # it cannot grow or shrink


def test_the_player_says_it_finds_beats_only_for_a_song_without_a_grid(qtbot, tmp_path, monkeypatch):
    """A grid song's clicks need no beat tracker, so its player must not claim to be finding beats."""
    monkeypatch.setenv(AUDIO_ENV, NULL_SINK)
    path = write(tmp_path / "steady.wav", clicks_at(steady_beats(GRID_BPM, GRID_START, 4.0), 4.0))
    player = Player()
    player.load(str(path), GRID_BPM, BeatGrid(GRID_START, GRID_BPM))
    assert player.message == "decoding…"
    qtbot.waitUntil(lambda: player.state == "ready", timeout=30_000)
    assert player.message == ""


def test_a_song_read_from_the_results_cache_draws_the_same_tempo_curve_and_words_as_when_it_was_analysed(
    qtbot, make_window, songs, monkeypatch
):
    """The results cache keeps each chunk's span, status and tempo (``SongResult.to_json``), so a song read back
    from it shows the curve it showed when it was analysed: the same points, the same words, the same chunk bars.
    Red when the cache keeps no chunks (``to_json`` writing ``"chunks": []``): no curve, and the words say
    nothing is wrong."""
    Preferences(workers=2, chunk_seconds=CHUNK_S, use_cache=True).save()
    monkeypatch.setenv(AUDIO_ENV, NULL_SINK)
    window = make_window()
    analyse(qtbot, window, [songs["rising"]])
    panel, tempo = window.inspector.panel, window.inspector.panel.tempo_view
    path = select(qtbot, window, songs["rising"])
    fresh, fresh_bars = tempo.shown, panel.view.chunks
    assert not window.results[path].cached and len(fresh.times) == window.results[path].chunks_total >= 4
    window.table.setCurrentIndex(QModelIndex())
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        assert window.start(force=False, paths=[path])  # read back from the database, not re-analysed
    select(qtbot, window, songs["rising"])
    assert window.results[path].cached
    assert tempo.shown == fresh and list(tempo.curve.getData()[1]) == pytest.approx(fresh.bpms)
    assert panel.view.chunks == fresh_bars
    window.inspector.close()


def test_the_players_beat_tracker_waits_for_the_numba_cache_lock(qtbot, tmp_path, monkeypatch):
    """librosa's tracker compiles into numba's cache on first use, in the window's process: it must not
    write while another process warms up (a corrupted cache segfaults every later process). Red when the
    player tracks beats without the lock."""
    from filelock import FileLock

    from gui.inspector.clicks import detect_beats

    monkeypatch.setenv(AUDIO_ENV, NULL_SINK)
    y = clicks_at(steady_beats(GRID_BPM, GRID_START, 4.0), 4.0)
    detect_beats(y.astype(np.float32), 22050)  # numba loaded (its cache folder fixed) and the tracker compiled
    cache = tmp_path / "numba"  # only the lock's folder: numba reads its own setting once, at import
    cache.mkdir()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    path = write(tmp_path / "steady.wav", y)
    held = FileLock(str(cache / ".workers-warming-up.lock"))
    held.acquire()
    player = Player()
    try:
        player.load(str(path), GRID_BPM, None)
        qtbot.wait(2500)
        assert player.state == "loading"  # still waiting for the other process's lock
        held.release()
        qtbot.waitUntil(lambda: player.state == "ready", timeout=60_000)
    finally:
        if held.is_locked:
            held.release()
