"""The tag journal's own promises: "last" skips undone batches, refusals are recorded for a person to read,
a torn last row or an empty file loses no batch, an unknown batch is a clear error.

Written for the survivors of the (unfinished) mutation run on ``engine/tagging/journal.py``
(docs/reliability.md). Real files and the real writer; the journal read back as CSV.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.flac import FLAC

from engine.frontends.cli import main as cli_main
from engine.tagging.batch import Tagger
from engine.tagging.journal import ENV_DIR, Journal
from engine.tagging.tag_plan import Wanted, build_plan
from tests.tagfiles import make


def test_last_is_the_newest_write_not_yet_undone(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.csv")
    tagger = Tagger(journal)
    first, second = make(tmp_path / "m" / "a.flac"), make(tmp_path / "m" / "b.flac")
    batch_a = tagger.write(build_plan([Wanted(str(first), 99.0, "G major")], "classic")).batch
    batch_b = tagger.write(build_plan([Wanted(str(second), 101.0, "A minor")], "classic")).batch
    assert journal.find("last").batch == batch_b
    tagger.undo(batch_b)
    assert journal.find("last").batch == batch_a  # not batch_b again, and not the undo itself
    tagger.undo(batch_a)
    assert journal.find("last") is None


def test_a_file_refused_during_the_batch_is_recorded_with_its_reason(tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.csv"
    songs = [make(tmp_path / "m" / f"{i}.flac") for i in range(2)]
    plan = build_plan([Wanted(str(p), 99.0, "G major") for p in songs], "classic")

    def progress(index, total, outcome) -> None:
        if index == 0:
            songs[1].unlink()  # another program deletes the next file while the batch runs

    report = Tagger(Journal(journal_path)).write(plan, progress=progress)
    with open(journal_path, newline="", encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle) if r["action"] == "refused"]
    assert [(r["batch"], r["path"], r["note"]) for r in rows] == [
        (report.batch, str(songs[1]), "the file is gone (moved or deleted)")
    ]


def test_a_row_torn_by_a_power_cut_does_not_swallow_the_next_batch(tmp_path: Path) -> None:
    """The journal's last row cut by a power loss, four ways: inside a quoted cell (the ``begin`` note's
    JSON), just after a comma, inside a cell, inside a character of a path. The next batch starts on a
    row of its own, whole, and its undo restores every field it wrote."""
    journal = Journal(tmp_path / "journal.csv")
    tagger = Tagger(journal)
    songs = [make(tmp_path / "m" / f"{name}.flac") for name in ("a", "b", "c", "d", "e")]
    stamp = "2026-12-07T02:00:00+00:00"
    tears = [
        f'20261207-020000-dead,{stamp},begin,,,,,,,,,"{{""kind"": ""wri'.encode(),  # cut inside the JSON
        f"{{batch}},{stamp},written,".encode(),  # cut just after a comma: a quote here would open a cell
        f"{{batch}},{stamp},written,{songs[0]}".encode(),  # cut before its size
        f"20261207-020001-beef,{stamp},plan,{tmp_path}/Bj".encode() + "ö".encode()[:1],  # cut inside "ö"
    ]
    batches = []
    for index, song in enumerate(songs):
        batches.append(tagger.write(build_plan([Wanted(str(song), 99.0 + index, "A minor")], "classic")).batch)
        if index < len(tears):
            with open(journal.path, "ab") as handle:
                handle.write(tears[index].replace(b"{batch}", batches[-1].encode()))

    planned = {b.batch: [(p.field, p.new) for p in b.planned] for b in journal.batches()}
    for index, batch in enumerate(batches):
        assert planned[batch] == [("bpm", [str(99 + index)]), ("key", ["Am"])], f"batch {index} lost a field"
    for batch, song in zip(reversed(batches), reversed(songs), strict=True):
        tagger.undo(batch)
        assert FLAC(str(song)).tags.get("BPM") is None and FLAC(str(song)).tags.get("INITIALKEY") is None
    with open(journal.path, newline="", encoding="utf-8", errors="replace") as handle:
        times = [row["time"] for row in csv.DictReader(handle) if row["batch"] == batches[-1]]
    assert times and all(t.endswith("+00:00") for t in times), "journal times are UTC, with the offset"


def test_an_empty_journal_file_gets_its_header_and_works(tmp_path: Path) -> None:
    """A 0-byte journal (a crash before the first row, or a user who emptied it) is started afresh."""
    journal = Journal(tmp_path / "journal.csv")
    journal.path.write_bytes(b"")
    song = make(tmp_path / "m" / "a.flac")
    batch = Tagger(journal).write(build_plan([Wanted(str(song), 99.0, "G major")], "classic")).batch
    assert journal.path.read_text(encoding="utf-8").splitlines()[0].startswith("batch,time,action,path")
    assert journal.find("last").batch == batch
    with open(journal.path, newline="", encoding="utf-8") as handle:
        rows = {r["action"]: r for r in csv.DictReader(handle)}
    assert (rows["begin"]["path"], rows["begin"]["old"], rows["end"]["note"]) == ("", "", ""), "cells not left empty"


def test_the_journal_is_in_the_data_folder_unless_one_is_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "data"))
    assert Journal().path == tmp_path / "data" / "tag-journal.csv"
    assert Journal(tmp_path / "mine.csv").path == tmp_path / "mine.csv"


def test_a_relative_path_that_looks_like_a_formula_is_undone(tmp_path: Path, monkeypatch) -> None:
    """A hand-made results.csv may hold paths relative to the folder it is run from: "-intro.flac" is
    journaled as "'-intro.flac" (a spreadsheet would run it) and must be read back as the file's name."""
    monkeypatch.chdir(tmp_path)
    song = make(tmp_path / "-intro.flac")
    journal = Journal(tmp_path / "journal.csv")
    batch = Tagger(journal).write(build_plan([Wanted("-intro.flac", 99.0, "G major")], "classic")).batch
    assert journal.find(batch).files == ["-intro.flac"]
    assert [o.status for o in Tagger(journal).undo(batch).outcomes] == ["written"]
    assert FLAC(str(song)).tags.get("BPM") is None


def test_undoing_twice_records_an_empty_undo_that_breaks_nothing(tmp_path: Path) -> None:
    """The second undo finds every file already back: its batch has no file, and the journal still reads."""
    journal = Journal(tmp_path / "journal.csv")
    tagger = Tagger(journal)
    batch = tagger.write(build_plan([Wanted(str(make(tmp_path / "m" / "a.flac")), 99.0, "G major")])).batch
    tagger.undo(batch)
    again = tagger.undo(batch)
    assert [o.status for o in again.outcomes] == ["already"]
    assert journal.find(again.batch).files == []
    assert tagger.undo(again.batch).outcomes == []  # undoing the empty undo: nothing to do, no error


def test_the_journal_reads_back_under_a_locale_that_is_not_utf8(tmp_path: Path) -> None:
    """Windows opens text files in its ANSI code page unless told otherwise: a song named "Björk" must
    still be found for undo. Read in another process with an ASCII locale and UTF-8 mode off."""
    journal = Journal(tmp_path / "journal.csv")
    song = make(tmp_path / "m" / "Björk.flac")
    Tagger(journal).write(build_plan([Wanted(str(song), 99.0, "G major")], "classic"))
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    read = "import sys; "
    read += "from engine.tagging.journal import Journal as J; print(ascii(J(sys.argv[1]).batches()[0].files))"
    done = subprocess.run(
        [sys.executable, "-c", read, str(journal.path)],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == ascii([str(song)]), done.stderr


def test_undo_of_a_batch_that_is_not_in_the_journal_says_so(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.csv")
    Tagger(journal).write(build_plan([Wanted(str(make(tmp_path / "m" / "a.flac")), 99.0, "G major")], "classic"))
    with pytest.raises(LookupError, match=r"no tag batch '20990101-000000-beef' in "):
        Tagger(journal).undo("20990101-000000-beef")


def test_the_old_values_are_on_disk_before_the_first_file_is_replaced(tmp_path: Path, monkeypatch) -> None:
    """The plan rows are fsync'ed before any file is touched: a power cut after a file was replaced
    always finds its old values in the journal. ``os.fsync`` and ``os.replace`` are watched; the real
    calls are still made."""
    journal = Journal(tmp_path / "journal.csv")
    songs = [make(tmp_path / "m" / f"{i}.flac") for i in range(2)]
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}") if sys.platform == "linux" else str(fd)))
        real_fsync(fd)

    def replace(src, dst, **kwargs) -> None:
        events.append(("replace", str(dst)))
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    Tagger(journal).write(build_plan([Wanted(str(p), 99.0, "G major") for p in songs], "classic"))
    first_replace = events.index(("replace", str(songs[0])))
    if sys.platform == "linux":
        assert ("fsync", str(journal.path)) in events[:first_replace], events


def test_the_journal_list_shows_each_batch_with_its_start_time_and_state(tmp_path: Path, capsys) -> None:
    journal = Journal(tmp_path / "journal.csv")
    batch = Tagger(journal).write(build_plan([Wanted(str(make(tmp_path / "m" / "a.flac")), 99.0, "G major")])).batch
    with open(journal.path, newline="", encoding="utf-8") as handle:
        [started] = [r["time"] for r in csv.DictReader(handle) if r["batch"] == batch and r["action"] == "begin"]
    capsys.readouterr()
    assert cli_main(["tag", "--list", "--journal", str(journal.path)]) == 0
    assert f"{batch}  {started}  write" in capsys.readouterr().out
