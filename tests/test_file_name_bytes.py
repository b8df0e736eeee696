"""A Linux file name that is not UTF-8 is analysed, cached, exported, tagged and undone like any other.

On Linux a file name is bytes. A collection copied from an old Windows disk or a FAT stick mounted with
the wrong code page holds names such as ``caf\\xe9.flac`` (Latin-1), which Python gives as a string with a
lone surrogate. Such a song once broke the whole run ("the run could not complete"), losing every other
song's results: SQLite, libsndfile and the CSV writer each refused the name. Here it runs the whole way
through the command line, as a user runs it, beside a song with an ordinary name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import mutagen
import pytest

from engine.csv_io import read_csv_rows
from tests.audio import song

MAIN = Path(__file__).resolve().parent.parent / "main.py"
LATIN1_NAME = b"caf\xe9 au lait.flac"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MAIN), *args], capture_output=True, encoding="utf-8", errors="replace", timeout=240
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two songs: one with a Latin-1 file name, one plain; skipped where the file system wants Unicode names."""
    music = tmp_path / "music"
    song(music / "plain.flac", bpm=120.0, seconds=8.0)
    odd = os.path.join(os.fsencode(music), LATIN1_NAME)
    try:
        os.rename(os.fsencode(song(music / "odd.flac", bpm=100.0, seconds=8.0)), odd)
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8 (macOS, Windows)")
    return music


def test_a_file_name_that_is_not_utf8_goes_through_analysis_cache_export_tags_and_undo(folder, tmp_path):
    odd = os.fsdecode(os.path.join(os.fsencode(folder), LATIN1_NAME))
    out, cache, journal = tmp_path / "out", tmp_path / "cache.sqlite3", tmp_path / "journal.csv"
    first = run_cli("analyze", str(folder), "--out", str(out), "--workers", "2", "--cache-file", str(cache))
    assert first.returncode == 0, first.stderr
    _header, rows = read_csv_rows(out / "results.csv")
    by_path = {row["path"]: row for row in rows}
    assert set(by_path) == {odd, str(folder / "plain.flac")}  # read back as the very path on disk
    assert by_path[odd]["status"] == "done", by_path[odd]["error"]
    assert abs(float(by_path[odd]["bpm"]) - 100.0) < 1.0
    assert {row["path"] for row in read_csv_rows(out / "chunks.csv")[1]} == set(by_path)

    again = run_cli("analyze", str(folder), "--out", str(out), "--cache-file", str(cache))
    assert again.returncode == 0 and "(2 from cache)" in again.stderr, again.stderr

    tag = ("--fields", "bpm", "--unstable-bpm", "--journal", str(journal), "--cache-file", str(cache))
    written = run_cli("tag", str(out), "--yes", *tag)
    assert written.returncode == 0 and "2 files written" in written.stdout, written.stdout + written.stderr
    assert abs(float(mutagen.File(odd)["BPM"][0]) - float(by_path[odd]["bpm"])) < 0.01
    undone = run_cli("tag", "--undo", "last", "--journal", str(journal), "--cache-file", str(cache))
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert "BPM" not in mutagen.File(odd)

    # a DJ collection is Unicode XML and cannot name the file: that song is left out, said, and the rest exported
    collection = tmp_path / "rekordbox.xml"
    exported = run_cli("export", str(out), "--to", str(collection))
    assert exported.returncode == 0, exported.stderr
    assert "caf\ufffd au lait.flac left out: its file name is not UTF-8" in exported.stderr
    tracks = ET.parse(collection).getroot().findall("COLLECTION/TRACK")
    assert [Path(track.get("Location", "")).name for track in tracks] == ["plain.flac"]
