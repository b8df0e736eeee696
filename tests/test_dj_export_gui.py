"""The window's *File ▸ Export to rekordbox… / Traktor…* (issue 24), driven with qtbot on a real MainWindow.

The songs are the DJ library of ``tests/djcollections.py`` (real audio files with awkward names, one
with title/artist tags, five on a second volume); the window receives their results through the same
path a run's results take (``SongFinished`` events). The user's collection is written by hand in the
shape rekordbox writes it; what the window saves is read back with pyrekordbox and traktor-nml-utils,
never with our writers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyrekordbox import RekordboxXml
from PySide6.QtCore import Qt
from traktor_nml_utils import TraktorCollection

from engine.references.tags import title_and_artist
from engine.results import SongResult, SongStatus
from engine.run import events as ev
from engine.settings import BpmRange
from gui.actions import ActionKey
from gui.dj_export_dialog import DjExportDialog
from gui.main_window import MainWindow
from gui.preferences import Preferences
from tests import djcollections as dj
from tests.reliability import leftover_files
from tests.test_export import OURS_IN_THEIRS


@pytest.fixture
def library(tmp_path, monkeypatch) -> dj.Library:
    lib = dj.build(tmp_path)
    dj.second_volume(monkeypatch, lib)
    return lib


def analysed(w: MainWindow, library: dj.Library) -> None:
    """The library's songs queued and finished, as a run's ``SongFinished`` events finish them."""
    w.workspace.model.add_paths(str(p) for p in library.songs)  # no scan: the rows at once
    for index, path in enumerate(library.songs):
        row = library.rows[str(path)]
        title, artist = title_and_artist(path)
        result = SongResult(
            path=str(path),
            status=SongStatus.DONE,
            duration_s=0.3,
            bpm=float(row["bpm"]),
            bpm_confidence=0.8,
            key=row["key"],
            key_confidence=0.6,
            title=title,
            artist=artist,
        )
        w.workspace._on_song_finished(ev.SongFinished(index, result))


def open_export(w: MainWindow, qtbot, key: ActionKey) -> DjExportDialog:
    w.action(key).trigger()
    dialog = w.dj_export.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.preview is not None or bool(dialog.error), timeout=10_000)
    return dialog


def preview_again(dialog: DjExportDialog, qtbot, change) -> None:
    with qtbot.waitSignal(dialog.previewed, timeout=10_000):
        change()


def save(dialog: DjExportDialog, qtbot, to: Path) -> tuple[object, str]:
    dialog.ask_path = lambda: str(to)
    with qtbot.waitSignal(dialog.exported, timeout=10_000) as blocker:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    return blocker.args[0], blocker.args[1]


def cells(dialog: DjExportDialog) -> dict[str, list[str]]:
    table = dialog.table
    return {
        table.item(r, 0).toolTip(): [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    }


def test_export_to_rekordbox_previews_the_merge_and_writes_it_off_thread(make_window, qtbot, library, tmp_path):
    w = make_window()
    analysed(w, library)
    theirs = tmp_path / "theirs.xml"
    theirs.write_bytes(dj.rekordbox_collection(library, OURS_IN_THEIRS))
    before = theirs.read_bytes()

    dialog = open_export(w, qtbot, ActionKey.EXPORT_REKORDBOX)
    assert dialog.table.rowCount() == 20 and not dialog.preview.merge
    preview_again(dialog, qtbot, lambda: dialog.set_collection(theirs))
    shown = cells(dialog)
    assert len(shown) == 20
    for index, path in enumerate(library.songs):
        _song, bpm, key, grid, change = shown[str(path)]
        row = library.rows[str(path)]
        if index in OURS_IN_THEIRS:  # the collection has 99 BPM and Gm for them (written by hand above)
            assert (bpm, key, change) == (
                f"99.00 → {float(row['bpm']):.2f}",
                f"Gm → {dj.CLASSIC[row['key']]}",
                "updated",
            )
        else:
            assert (bpm, change) == (f"— → {float(row['bpm']):.2f}", "added")
        assert grid == "no"  # no beat grid was measured for these results
    assert shown[str(library.songs[14])][0] == "Sigur Rós – Hoppípolla"  # from the FLAC's tags
    assert shown[str(library.songs[0])][0] == "A & B – Café del Mar"  # from the file name
    summary = dialog.summary.text()
    assert "5 tracks updated" in summary and "15 added" in summary and "2 kept exactly" in summary, summary
    assert "2 playlists kept" in summary, summary

    out = tmp_path / "exports" / "merged.xml"
    out.parent.mkdir()
    report, error = save(dialog, qtbot, out)
    assert error == "" and report.updated == 5
    assert theirs.read_bytes() == before  # their collection is never written
    xml = RekordboxXml(out)
    assert xml.num_tracks == 22
    assert xml.get_playlist("Gigs", "Friday & Saturday").get_tracks() == [1, 2, 3, 4, 5, 90001]
    assert xml.get_track(TrackID=90001)["Rating"] == 5  # their own track, as it was
    for track in xml.get_tracks():
        location = track["Location"]
        path = Path(location if location.startswith("/") else "/" + location)
        if str(path) in library.rows:
            assert abs(track["AverageBpm"] - float(library.rows[str(path)]["bpm"])) <= 0.005
            assert track["Tonality"] == dj.CLASSIC[library.rows[str(path)]["key"]]
    names = {(t["Artist"], t["Name"]) for t in xml.get_tracks()}
    assert ("Daft Punk", "One More Time") in names  # added: named from the file name
    assert ("", "tagged") in names  # already theirs: the name they gave it is kept
    assert "merged.xml" in w.message_label.text()


def test_export_to_traktor_writes_the_bpm_range_and_the_chosen_key_notation(make_window, qtbot, library, tmp_path):
    w = make_window()
    w.workspace.set_preferences(Preferences(workers=1, chunk_seconds=4.0, bpm_range_on=True, bpm_low=60, bpm_high=100))
    analysed(w, library)
    dialog = open_export(w, qtbot, ActionKey.EXPORT_TRAKTOR)
    preview_again(dialog, qtbot, lambda: dialog.notation.setCurrentIndex(dialog.notation.findData("camelot")))
    fold = BpmRange(60, 100).fold
    shown = cells(dialog)
    for path in library.songs:
        row = library.rows[str(path)]
        assert shown[str(path)][1] == f"— → {fold(float(row['bpm'])):.2f}"  # no reference loaded: nothing before
        assert shown[str(path)][2] == f"— → {dj.CAMELOT[row['key']]}"

    out = tmp_path / "collection.nml"
    report, error = save(dialog, qtbot, out)
    assert error == "" and report.added == 20
    entries = TraktorCollection(out).nml.collection.entry
    assert len(entries) == 20
    by_name = {e.location.file: e for e in entries}
    for path in library.songs:
        entry, row = by_name[path.name], library.rows[str(path)]
        assert abs(float(entry.tempo.bpm) - fold(float(row["bpm"]))) <= 0.005  # folded into 60-100
        assert entry.musical_key.value_attribute == dj.TRAKTOR_VALUE[row["key"]]
        assert entry.info.key == dj.CAMELOT[row["key"]]


def test_a_failed_save_says_why_and_leaves_what_was_there(make_window, qtbot, library, tmp_path):
    w = make_window()
    analysed(w, library)
    dialog = open_export(w, qtbot, ActionKey.EXPORT_REKORDBOX)
    blocked = tmp_path / "blocked.xml"  # a folder where the file should go: the final rename fails, even as root
    blocked.mkdir()
    (blocked / "inside.txt").write_text("theirs", encoding="utf-8")

    report, error = save(dialog, qtbot, blocked)
    assert report is None and "cannot write" in error, error
    assert "Nothing was written" in w.last_error
    assert sorted(p.name for p in blocked.iterdir()) == ["inside.txt"]
    assert not leftover_files(tmp_path)
    assert dialog.isVisible() and dialog.save_button.isEnabled()  # the user can choose another place

    out = tmp_path / "good.xml"
    report, error = save(dialog, qtbot, out)
    assert error == "" and RekordboxXml(out).num_tracks == 20


def test_the_queue_and_inspector_show_title_and_artist_and_the_bpm_range_beside_bpm(make_window, qtbot, library):
    from gui.queue_model import Col

    w = make_window()
    analysed(w, library)
    model, tagged = w.model, library.songs[14]
    row = model.row_of(str(tagged))
    song = model.index(row, int(Col.SONG))
    assert model.data(song) == "Sigur Rós – Hoppípolla"
    assert tagged.name in model.data(song, Qt.ItemDataRole.ToolTipRole)  # the file name is still there
    assert model.data(model.index(model.row_of(str(library.songs[0])), int(Col.SONG))) == "A & B – Café del Mar"
    assert w.table.isColumnHidden(int(Col.BPM_IN_RANGE))  # off by default

    w.apply_preferences(Preferences(workers=1, chunk_seconds=4.0, bpm_range_on=True, bpm_low=60, bpm_high=100))
    assert not w.table.isColumnHidden(int(Col.BPM_IN_RANGE))
    header = w.table.horizontalHeader()
    assert header.visualIndex(int(Col.BPM_IN_RANGE)) == header.visualIndex(int(Col.BPM)) + 1
    bpm = float(library.rows[str(tagged)]["bpm"])
    shown = "{:.2f}" if library.rows[str(tagged)].get("tempo_stable") == "1" else "{:.1f}"  # exact: two decimals
    assert model.data(model.index(row, int(Col.BPM))) == shown.format(bpm)  # the analysed BPM stays visible
    assert model.data(model.index(row, int(Col.BPM_IN_RANGE))) == shown.format(bpm / 2)
    assert Preferences.load().bpm_range == BpmRange(60, 100)  # stored with the other preferences

    w.inspector.show_path(str(tagged))
    text = w.inspector.panel.summary.text()
    assert "Sigur Rós – Hoppípolla" in text and tagged.name in text
    assert "Sigur Rós – Hoppípolla" in w.inspector.panel.plot.getPlotItem().titleLabel.text  # as the header says


def test_the_settings_dialog_edits_the_bpm_range_and_refuses_lo_above_hi(qtbot, settings_dir):
    from gui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Preferences())
    qtbot.addWidget(dialog)
    assert not dialog.range_on.isChecked() and dialog.values().bpm_range is None
    dialog.range_on.setChecked(True)
    dialog.range_low.setValue(70)
    dialog.range_high.setValue(140)
    assert dialog.values().bpm_range == BpmRange(70, 140)
    dialog.range_high.setValue(60)
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted and "LO < HI" in dialog.error.text()
    prefs = dialog.values()
    prefs.bpm_high = 140
    prefs.save()
    assert Preferences.load().bpm_range == BpmRange(70, 140)


def test_the_tag_dialog_writes_the_bpm_folded_into_the_range(make_window, qtbot, library):
    w = make_window()
    analysed(w, library)
    w.action(ActionKey.WRITE_ALL_TAGS).trigger()
    analysed_bpms = [w.model.song(r).bpm for r in range(w.model.rowCount())]
    assert [wanted.bpm for wanted in w.tag_dialog.wanted()] == analysed_bpms  # no range: as analysed
    w.tag_dialog.close()

    w.apply_preferences(Preferences(workers=1, chunk_seconds=4.0, bpm_range_on=True, bpm_low=60, bpm_high=100))
    w.action(ActionKey.WRITE_ALL_TAGS).trigger()
    fold = BpmRange(60, 100).fold
    assert [wanted.bpm for wanted in w.tag_dialog.wanted()] == [fold(bpm) for bpm in analysed_bpms]
    assert w.model.song(0).bpm == 120.0  # the row keeps the analysed value
    qtbot.waitUntil(lambda: w.tag_dialog.plan is not None, timeout=10_000)  # its tag reading ends before teardown
    w.tag_dialog.close()


def test_the_calibration_csvs_of_the_window_record_bpm_in_range_beside_bpm(make_window, qtbot, library, tmp_path):
    from engine.csv_io import read_csv_rows

    w = make_window()
    w.apply_preferences(Preferences(workers=1, chunk_seconds=4.0, bpm_range_on=True, bpm_low=60, bpm_high=100))
    analysed(w, library)
    folder = tmp_path / "csvs"
    with qtbot.waitSignal(w.exportFinished, timeout=20_000) as blocker:
        w.export_to(folder)
    assert blocker.args[1] == ""
    _header, rows = read_csv_rows(folder / "results.csv")
    fold = BpmRange(60, 100).fold
    for row in rows:
        analysed_bpm = float(library.rows[row["path"]]["bpm"])
        assert float(row["bpm"]) == analysed_bpm  # as analysed
        assert abs(float(row["bpm_in_range"]) - fold(analysed_bpm)) <= 0.0051  # two decimals


def test_a_real_run_names_its_songs_by_their_tags_and_exports_what_it_measured(make_window, qtbot, tmp_path):
    """The engine's own results (two short generated songs, one tagged): titles in the queue, BPMs in the file."""
    import soundfile as sf
    from mutagen.flac import FLAC

    from engine.frontends.demo import render_song
    from gui.queue_model import Col

    folder = tmp_path / "Music"
    folder.mkdir()
    tagged, named = folder / "track01.flac", folder / "Marta & Jonas - Vuelta.wav"
    for path, bpm in ((tagged, 120.0), (named, 96.0)):
        sf.write(path, render_song(bpm, "A minor", 6.0, 22050, "straight"), 22050)
    tags = FLAC(str(tagged))
    tags["TITLE"], tags["ARTIST"] = ["Été indien"], ["Café Solaire"]
    tags.save()
    w = make_window()
    with qtbot.waitSignal(w.songsAdded, timeout=30_000):
        w.add_paths([folder])
    with qtbot.waitSignal(w.controller.runFinished, timeout=240_000):
        w.start()
    names = {w.model.data(w.model.index(r, int(Col.SONG))) for r in range(w.model.rowCount())}
    assert names == {"Café Solaire – Été indien", "Marta & Jonas – Vuelta"}

    dialog = open_export(w, qtbot, ActionKey.EXPORT_REKORDBOX)
    out = tmp_path / "rekordbox.xml"
    _report, error = save(dialog, qtbot, out)
    assert error == ""
    tracks = {(t["Artist"], t["Name"]): t for t in RekordboxXml(out).get_tracks()}
    assert set(tracks) == {("Café Solaire", "Été indien"), ("Marta & Jonas", "Vuelta")}
    for path, key in ((tagged, ("Café Solaire", "Été indien")), (named, ("Marta & Jonas", "Vuelta"))):
        assert abs(tracks[key]["AverageBpm"] - w.results[str(path)].bpm) <= 0.005


def test_the_preview_says_when_verified_values_find_no_verdicts_and_calibrated_ones_are_missing(
    make_window, qtbot, library
):
    w = make_window()
    analysed(w, library)
    dialog = open_export(w, qtbot, ActionKey.EXPORT_REKORDBOX)
    preview_again(dialog, qtbot, lambda: dialog.values.setCurrentIndex(dialog.values.findData("verified")))
    assert "no verdicts found" in dialog.summary.text() and dialog.table.rowCount() == 20
    preview_again(dialog, qtbot, lambda: dialog.values.setCurrentIndex(dialog.values.findData("calibrated")))
    assert "Cannot export" in dialog.summary.text() and "no calibrated values" in dialog.summary.text()
    assert dialog.table.rowCount() == 0 and not dialog.save_button.isEnabled()


def test_a_full_disk_keeps_the_earlier_export_as_it_was(make_window, qtbot, library, tmp_path):
    from tests.reliability import fill_disk, small_tmpfs

    w = make_window()
    analysed(w, library)
    dialog = open_export(w, qtbot, ActionKey.EXPORT_REKORDBOX)
    with small_tmpfs(tmp_path / "small", "256k") as folder:
        earlier = folder / "rekordbox.xml"
        earlier.write_text("an earlier export", encoding="utf-8")
        fill_disk(folder, leave=2048)  # room for the temporary file to start, not for 20 tracks
        report, error = save(dialog, qtbot, earlier)
        assert report is None and "cannot write" in error, error
        assert earlier.read_text(encoding="utf-8") == "an earlier export"
        assert sorted(p.name for p in folder.iterdir()) == ["filler.bin", "rekordbox.xml"]
        assert "Nothing was written" in w.last_error
