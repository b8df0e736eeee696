"""Counts a user reads are grammatical on the command line too: "1 song chosen", "1 beat grid written"."""

from __future__ import annotations

from pathlib import Path

from engine.references.writers.model import ExportReport
from engine.selection import OutgoingSong, Selection


def test_one_song_and_one_grid_are_counted_in_the_singular() -> None:
    song = OutgoingSong(path="/m/a.flac", title="A", artist="B", duration_s=40.0, bpm=127.37, key="Am")
    assert Selection(songs=[song]).summary() == "1 song chosen"
    report = ExportReport(path=Path("/tmp/c.xml"), format="rekordbox", added=1, grids=1, updated=1)
    summary = report.summary()
    assert "1 track updated" in summary and "1 beat grid written" in summary, summary


def test_many_are_counted_in_the_plural() -> None:
    assert Selection(songs=[]).summary() == "0 songs chosen"
    summary = ExportReport(path=Path("/tmp/c.xml"), format="traktor", updated=2, grids=3).summary()
    assert "2 tracks updated" in summary and "3 beat grids written" in summary, summary


def test_a_file_is_named_by_its_last_part_with_an_unreadable_byte_shown_not_dropped() -> None:
    from engine.wording import file_name

    assert file_name("/music/caf\udce9 au lait.flac") == "caf\ufffd au lait.flac"  # Latin-1 on Linux
    assert file_name("C:\\Music\\a.wav") == "a.wav" and file_name(Path("/m/b.flac")) == "b.flac"
    assert file_name("/music/café.flac") == "café.flac"  # UTF-8 names are untouched



def test_the_tag_preview_counts_in_the_singular_and_the_plural() -> None:
    """The command line's tag preview once said "2 tags to write in 1 files"."""
    from engine.tagging.tag_plan import FieldChange, FileChange, Plan, preview_lines

    one = FileChange("/m/a.flac", [FieldChange("bpm", None, ["120"]), FieldChange("key", None, ["Am"])])
    said = preview_lines(Plan([one], unchanged=1))[-1]
    assert said == "2 tags to write in 1 file; 0 refused; 1 file already up to date"
    only = FileChange("/m/b.flac", [FieldChange("bpm", None, ["99"])])
    said = preview_lines(Plan([only], unchanged=2))[-1]
    assert said == "1 tag to write in 1 file; 0 refused; 2 files already up to date"
