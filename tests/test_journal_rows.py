"""The tag journal's own promises: "last" skips undone batches, refusals are recorded for a person to read.

Written for the survivors of the (unfinished) mutation run on ``engine/tagging/journal.py``
(docs/reliability.md). Real files and the real writer; the journal read back as CSV.
"""

from __future__ import annotations

import csv
from pathlib import Path

from engine.tagging.batch import Tagger
from engine.tagging.journal import Journal
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
