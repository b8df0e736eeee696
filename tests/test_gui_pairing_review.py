"""The Pairing Review panel driven with qtbot on real files: tagged FLAC songs and a playlist export."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from engine.calibration.session import CalibrationSession, song_for
from engine.references.pairs import load_pairs
from gui.main_window import MainWindow
from gui.pairing_decisions import PairingReview
from gui.preferences import Preferences
from gui.widgets.pairing_panel import PairingReviewPanel
from tests.test_pairing import PLAYLIST, flac


@pytest.fixture
def library(tmp_path) -> tuple[Path, Path]:
    music = tmp_path / "music"
    music.mkdir()
    flac(music / "levels.flac", 280, "Levels (Skrillex Remix)", "Avicii")
    flac(music / "lights.flac", 260, "Blinding Lights (Chromatics Remix)", "The Weeknd")
    flac(music / "eple.flac", 220, "Eple", "Royksopp")
    flac(music / "dreams.flac", 540, "Dreams", "Fleetwood Mac")
    reference = tmp_path / "refs" / "playlist.csv"
    reference.parent.mkdir()
    reference.write_text(PLAYLIST, encoding="utf-8")
    return music, reference


def song_items(panel: PairingReviewPanel) -> dict[str, list[tuple[str, str]]]:
    shown = {}
    for i in range(panel.songs.topLevelItemCount()):
        item = panel.songs.topLevelItem(i)
        shown[item.text(0)] = [(item.child(j).text(0), item.child(j).text(2)) for j in range(item.childCount())]
    return shown


def paired_items(panel: PairingReviewPanel) -> dict[str, tuple[str, str]]:
    return {
        panel.paired.topLevelItem(i).text(0): (
            panel.paired.topLevelItem(i).text(1),
            panel.paired.topLevelItem(i).text(2),
        )
        for i in range(panel.paired.topLevelItemCount())
    }


def rematch(session: CalibrationSession, music: Path) -> None:
    """What the window does on pairsChanged: match again (with the hand-made pairs) and show it."""
    songs = [song_for(str(p), None) for p in sorted(music.glob("*.flac"))]
    session.adopt_match(session.match(songs))


def test_review_pair_unpair_and_reload(qtbot, library):
    music, reference = library
    session = CalibrationSession()
    session.load_reference(reference)
    rematch(session, music)
    panel = PairingReviewPanel(PairingReview(session, who="tester"))
    qtbot.addWidget(panel)
    panel.pairsChanged.connect(lambda: (rematch(session, music), panel.refresh()))
    panel.show()

    shown = song_items(panel)
    assert set(shown) == {"lights.flac", "dreams.flac"}
    assert shown["lights.flac"] == [
        (
            "playlist.csv line 3: The Weeknd - Blinding Lights (171 BPM, F minor)",
            "different version: remix (chromatics) vs original",
        )
    ]
    assert shown["dreams.flac"][0][1] == "duration 9:00 vs 4:17"
    assert paired_items(panel)["eple.flac"] == (
        "playlist.csv line 4: Røyksopp - Eple (108 BPM, A minor)",
        "title and artist",
    )
    assert str(reference.parent / "pairs.csv") in panel.where.text()

    # pair the remix with the original's row by hand (the user knows better): select the candidate, click Pair
    assert not panel.pair_button.isEnabled()
    candidate = panel.songs.topLevelItem(
        [panel.songs.topLevelItem(i).text(0) for i in range(2)].index("lights.flac")
    ).child(0)
    panel.songs.setCurrentItem(candidate)
    assert panel.pair_button.isEnabled()
    with qtbot.waitSignal(panel.pairsChanged):
        qtbot.mouseClick(panel.pair_button, Qt.MouseButton.LeftButton)
    saved, errors = load_pairs(reference.parent / "pairs.csv")  # written at once
    assert errors == [] and [(Path(p.song_path).name, p.line, p.decided_by) for p in saved] == [
        ("lights.flac", 3, "tester")
    ]
    assert paired_items(panel)["lights.flac"][1] == "manual"
    assert "lights.flac" not in song_items(panel)

    # unpair an automatic pair: Eple has no row now
    eple = next(
        panel.paired.topLevelItem(i)
        for i in range(panel.paired.topLevelItemCount())
        if panel.paired.topLevelItem(i).text(0) == "eple.flac"
    )
    panel.paired.setCurrentItem(eple)
    with qtbot.waitSignal(panel.pairsChanged):
        qtbot.mouseClick(panel.unpair_button, Qt.MouseButton.LeftButton)
    assert "eple.flac" not in paired_items(panel)
    assert panel.songs.findItems("eple.flac", Qt.MatchFlag.MatchExactly)[0].text(2) == "you said: no row"
    assert {Path(p.song_path).name: p.line for p in load_pairs(reference.parent / "pairs.csv")[0]} == {
        "lights.flac": 3,
        "eple.flac": None,
    }

    # a new session (the window opened again) picks the review work up from beside the reference
    again = CalibrationSession()
    again.load_reference(reference)
    review = PairingReview(again)
    assert review.load_beside_reference() == []
    rematch(again, music)
    methods = {Path(p.path).name: p.method for p in review.paired()}
    assert methods["lights.flac"] == "manual" and "eple.flac" not in methods


def test_pair_with_any_unmatched_row_and_add_a_second_reference(qtbot, library, tmp_path):
    music, reference = library
    session = CalibrationSession()
    session.load_reference(reference)
    rematch(session, music)
    panel = PairingReviewPanel(PairingReview(session))
    qtbot.addWidget(panel)
    panel.pairsChanged.connect(lambda: (rematch(session, music), panel.refresh()))
    nml = tmp_path / "collection.nml"
    nml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<NML VERSION="19"><COLLECTION ENTRIES="1">\n'
        '<ENTRY TITLE="Dreams" ARTIST="Fleetwood Mac"><LOCATION DIR="/:elsewhere/:" FILE="dreams.flac" '
        'VOLUME="Macintosh HD"></LOCATION><TEMPO BPM="120.000000"></TEMPO><MUSICAL_KEY VALUE="5"></MUSICAL_KEY>'
        "</ENTRY></COLLECTION></NML>\n",
        encoding="utf-8",
    )
    with qtbot.waitSignal(panel.pairsChanged):
        assert panel.add_reference(nml)
    assert paired_items(panel)["dreams.flac"] == (
        "collection.nml line 3: Fleetwood Mac - Dreams (120 BPM, F major)",
        "file name",
    )
    # any unmatched row can be chosen on the right, not only a listed candidate
    rows = [panel.rows.topLevelItem(i) for i in range(panel.rows.topLevelItemCount())]
    target = next(item for item in rows if "line 7:" in item.text(0))  # Naatu Naatu
    panel.songs.setCurrentItem(panel.songs.findItems("lights.flac", Qt.MatchFlag.MatchExactly)[0])
    panel.rows.setCurrentItem(target)
    with qtbot.waitSignal(panel.pairsChanged):
        qtbot.mouseClick(panel.pair_button, Qt.MouseButton.LeftButton)
    assert paired_items(panel)["lights.flac"][0].startswith("playlist.csv line 7:")


def test_window_opens_the_review_from_the_calibration_menu(qtbot, tmp_path, library, no_stray_workers):
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    Preferences(workers=1, chunk_seconds=4.0, use_cache=False).save()
    music, reference = library
    window = MainWindow(None, data_dir=tmp_path / "data", cache_path=tmp_path / "cache.sqlite3")
    window.confirm_close_during_run = lambda: True
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.load_reference(reference)
        window.add_paths([music])
        qtbot.waitUntil(lambda: window.session.counts() == (2, 2, 7), timeout=20_000)
        action = next(
            a
            for m in window.menuBar().actions()
            if m.menu()
            for a in m.menu().actions()
            if a.text() == "Review Pairing…"
        )
        action.trigger()
        panel = window.pairing_review.panel
        assert window.pairing_review.dock.isVisible()
        assert set(song_items(panel)) == {"lights.flac", "dreams.flac"}
        panel.songs.setCurrentItem(panel.songs.findItems("lights.flac", Qt.MatchFlag.MatchExactly)[0].child(0))
        qtbot.mouseClick(panel.pair_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.session.counts()[0] == 3, timeout=20_000)
        by_song = {Path(r.path).name: r.match_method for r in window.model.rows}
        assert by_song["lights.flac"] == "manual"
        assert by_song["eple.flac"] == "title and artist"
        assert paired_items(panel)["lights.flac"][1] == "manual"
    finally:
        window.controller.shutdown()
