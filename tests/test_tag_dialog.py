"""The window's tag writing, driven with qtbot: Tags menu on a real MainWindow, the preview dialog,
a write off the GUI thread, Undo Last Write, and the offer to finish a batch a crash interrupted."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.references.tags import read_tags
from engine.tagging.journal import Journal, PlannedField
from engine.tagging.tag_plan import Wanted, build_plan
from gui.actions import ActionKey
from gui.main_window import MainWindow
from tests.tagfiles import journal_held_elsewhere, make


@pytest.fixture
def window(make_window):
    return make_window


def answer_next_box(qtbot, button_text: str) -> None:
    """Click ``button_text`` on the next modal message box, from inside its own event loop."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        for button in box.buttons():
            if button.text().replace("&", "") == button_text:
                button.click()
                return
        raise AssertionError(f"no {button_text!r} in {[b.text() for b in box.buttons()]}")

    QTimer.singleShot(20, click)


def finished_songs(w: MainWindow, paths: list[Path]) -> None:
    """Rows as an analysis leaves them: done, with a BPM and a key."""
    w.model.add_paths([str(p) for p in paths])
    for row, bpm in enumerate((101.0, 102.0, 103.0)[: len(paths)]):
        w.model.update(row, status="done", bpm=bpm, key="G major")


def test_write_tags_for_the_selection_previews_writes_off_thread_and_undoes(window, qtbot, tmp_path) -> None:
    from engine.results import SongResult, SongStatus
    from engine.run.cache import ResultsCache

    songs = [make(tmp_path / "m" / f"{i}.flac") for i in range(3)]
    cache = ResultsCache(tmp_path / "cache.sqlite3")  # knows song 0 only: the others are not checked
    cache.put(SongResult(path=str(songs[0]), status=SongStatus.DONE, bpm=101.0, key="G major"), "fp")
    w = window()
    finished_songs(w, songs)
    w.table.selectionModel().select(
        w.proxy.mapFromSource(w.model.index(1, 0)),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    w.action(ActionKey.WRITE_TAGS).trigger()
    dialog = w.tag_dialog
    qtbot.waitUntil(lambda: dialog.write_button.isEnabled(), timeout=10_000)
    shown = [[dialog.table.item(r, c).text() for c in range(4)] for r in range(dialog.table.rowCount())]
    assert shown == [["1.flac", "bpm", "(none)", "102"], ["1.flac", "key", "(none)", "G"]]
    # the File column shows the name (not the path), elided in the middle when long, and has the room
    assert dialog.table.textElideMode() == Qt.TextElideMode.ElideMiddle
    widths = [dialog.table.columnWidth(c) for c in range(4)]
    assert widths[0] == max(widths), widths
    assert read_tags(songs[1]).bpm == "", "written before the user confirmed"
    dialog.notation.setCurrentText("camelot")
    qtbot.waitUntil(lambda: dialog.write_button.isEnabled() and dialog.table.item(1, 3).text() == "9B", timeout=10_000)
    dialog.write_button.click()
    qtbot.waitUntil(lambda: "1 file written" in dialog.summary.text(), timeout=20_000)  # one, not "1 files"
    assert (read_tags(songs[1]).bpm, read_tags(songs[1]).key) == ("102", "9B")
    assert [read_tags(p).bpm for p in (songs[0], songs[2])] == ["", ""], "an unselected song was written"
    assert cache.get(songs[0], "fp") is not None
    dialog.close()

    answer_next_box(qtbot, "Yes")
    w.action(ActionKey.UNDO_TAGS).trigger()
    qtbot.waitUntil(lambda: read_tags(songs[1]).key == "", timeout=20_000)
    assert read_tags(songs[1]).bpm == ""


def test_an_interrupted_batch_is_offered_at_start_and_finished(window, qtbot, tmp_path) -> None:
    songs = [make(tmp_path / "m" / f"{i}.mp3") for i in range(2)]
    plan = build_plan([Wanted(str(p), 88.0, "D minor") for p in songs])
    Journal(tmp_path / "data" / "tag-journal.csv").begin(
        "crashed",
        {"kind": "write"},
        [PlannedField(f.path, c.field, c.old, c.new, *f.identity) for f in plan.files for c in f.changes],
    )
    answer_next_box(qtbot, "Finish Writing")
    w = window()
    qtbot.waitUntil(lambda: all(read_tags(p).key == "Dm" for p in songs), timeout=20_000)
    assert [read_tags(p).bpm for p in songs] == ["88", "88"]
    qtbot.waitUntil(lambda: w.message_label.text().startswith("Tags: finish: 2 files written"), timeout=10_000)
    assert not w.tagger.interrupted()


def test_stop_during_a_write_stops_between_files(qtbot, tmp_path) -> None:
    from engine.tagging.batch import Tagger
    from gui.queue_model import SongRow
    from gui.tag_dialog import TagDialog

    template = make(tmp_path / "t.wav")
    songs = []
    for i in range(60):
        songs.append(tmp_path / "m" / f"{i}.wav")
        songs[-1].parent.mkdir(exist_ok=True)
        songs[-1].write_bytes(template.read_bytes())
    rows = [SongRow(str(p), status="done", bpm=111.0, key="B minor") for p in songs]
    dialog = TagDialog(rows, Tagger(Journal(tmp_path / "journal.csv")))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.write_button.isEnabled(), timeout=10_000)
    dialog.write_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() >= 3, timeout=20_000)
    dialog.reject()  # Esc while writing: stops instead of closing
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: "files written" in dialog.summary.text(), timeout=20_000)
    states = [(read_tags(p).bpm, read_tags(p).key) for p in songs]
    done = states.count(("111", "Bm"))
    assert 3 <= done < 60 and states.count(("", "")) == 60 - done, states
    assert f"{done} files written, {60 - done} refused" in dialog.summary.text()


def test_the_tags_menu_sits_before_help(window) -> None:
    from gui.about import install_help_menu

    w = window()
    install_help_menu(w)  # as gui.app does once the window exists
    titles = [a.text().replace("&", "") for a in w.menuBar().actions()]
    assert titles[-1] == "Help" and "Tags" in titles, titles
    tags_menu = w.menuBar().actions()[titles.index("Tags")].menu()
    assert [a.text() for a in tags_menu.actions() if a.text()] == [
        "Write Tags for Selected Songs…",
        "Write Tags for All Songs…",
        "Undo Last Write",
    ]


def test_a_write_while_a_tag_command_runs_writes_nothing_and_says_so(window, qtbot, tmp_path) -> None:
    songs = [make(tmp_path / "m" / f"{i}.flac") for i in range(2)]
    w = window()
    finished_songs(w, songs)
    w.action(ActionKey.WRITE_ALL_TAGS).trigger()
    dialog = w.tag_dialog
    qtbot.waitUntil(lambda: dialog.write_button.isEnabled(), timeout=10_000)
    with journal_held_elsewhere(w.tagger.journal.path):  # a 'tag' command mid-batch on the same journal
        dialog.write_button.click()
        qtbot.waitUntil(lambda: "Nothing was written" in dialog.summary.text(), timeout=20_000)
    assert "another tag write is running" in dialog.summary.text()
    assert [read_tags(p).bpm for p in songs] == ["", ""]
    dialog.close()
