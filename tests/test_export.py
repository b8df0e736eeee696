"""``export``: rekordbox XML and Traktor NML, read back by the libraries DJ tools use (pyrekordbox,
traktor-nml-utils) and by our own readers; merges keep the user's playlists, cues and ratings exactly;
a failed write leaves nothing behind.

The library (20 songs with awkward names, five on a second volume) and the user's own collections
come from ``tests/djcollections.py``, written by hand in the shapes those programs write.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest
from pyrekordbox import RekordboxXml
from traktor_nml_utils import TraktorCollection

from engine.frontends.cli import main as cli_main
from engine.references.matching import SongIdentity, match_songs
from engine.references.readers import load_reference
from tests import djcollections as dj
from tests.reliability import as_ordinary_user, leftover_files, permissions_can_be_denied, run_cli

OURS_IN_THEIRS = [0, 2, 7, 14, 16]
"""Songs already in the user's collection: '&', Japanese, Arabic, the tagged FLAC, one on the USB stick."""


@pytest.fixture
def library(tmp_path, monkeypatch) -> dj.Library:
    lib = dj.build(tmp_path)
    dj.second_volume(monkeypatch, lib)
    return lib


def export(*args: object) -> int:
    return cli_main(["export", *map(str, args)])


def _grid_songs(library: dj.Library) -> dict[str, float]:
    """Songs whose grid must be written: stable tempo and a measured first beat (every third song)."""
    return {
        dj.realpath(p): float(r["beat_grid_start_s"])
        for p, r in library.rows.items()
        if r["tempo_stable"] == "1" and r["beat_grid_start_s"]
    }


def _paired_by_path(library: dj.Library, collection: Path) -> int:
    reference = load_reference(collection)
    report = match_songs([SongIdentity.from_path(p) for p in library.songs], reference.rows)
    return sum(m.method == "path" for m in report.matches)


def _rekordbox_path(location: str) -> Path:
    # pyrekordbox strips "file://localhost/" and so drops a POSIX path's leading "/"
    return Path(location) if os.path.isabs(location) else Path("/") / location


def test_rekordbox_export_reads_back_in_pyrekordbox_and_our_reader(library, tmp_path):
    out = tmp_path / "out" / "rekordbox.xml"
    assert export(library.results, "--to", out) == 0

    xml = RekordboxXml(out)
    assert xml.num_tracks == 20
    grids = _grid_songs(library)
    seen = set()
    for track in xml.get_tracks():
        path = _rekordbox_path(track["Location"])
        assert path.is_file(), path
        row = library.rows[str(path)]
        seen.add(str(path))
        assert abs(track["AverageBpm"] - float(row["bpm"])) <= 0.005
        assert track["Tonality"] == dj.CLASSIC[row["key"]]
        if dj.realpath(path) in grids:
            assert len(track.tempos) == 1
            tempo = track.tempos[0]
            assert abs(float(tempo["Inizio"]) - grids[dj.realpath(path)]) < 1e-3
            assert abs(float(tempo["Bpm"]) - float(row["bpm"])) <= 0.005
            assert (tempo["Metro"], str(tempo["Battito"])) == ("4/4", "1")
        else:  # unstable tempo, or no grid measured: no TEMPO at all
            assert track.tempos == []
    assert len(seen) == 20
    names = {(t["Artist"], t["Name"]) for t in xml.get_tracks()}
    assert ("Sigur Rós", "Hoppípolla") in names  # from the FLAC's tags
    assert ("A & B", "Café del Mar") in names and ("", "Untitled track") in names  # from file names
    assert 'Location="file://localhost/' in out.read_text(encoding="utf-8")
    assert "%26" in out.read_text(encoding="utf-8")  # '&' in a path, URL-encoded as rekordbox writes it
    assert _paired_by_path(library, out) == 20


def test_traktor_export_reads_back_in_traktor_nml_utils_and_our_reader(library, tmp_path):
    out = tmp_path / "collection.nml"
    assert export(library.results, "--to", out, "--key-notation", "openkey") == 0

    entries = TraktorCollection(out).nml.collection.entry
    assert len(entries) == 20
    grids = _grid_songs(library)
    volumes = set()
    for entry in entries:
        location = entry.location
        volumes.add(location.volume)
        root = library.usb if location.volume == dj.USB else Path("/")
        path = root / location.dir.replace("/:", "/").lstrip("/") / location.file
        assert path.is_file(), path
        row = library.rows[str(path)]
        assert abs(entry.tempo.bpm - float(row["bpm"])) <= 0.005
        assert entry.musical_key.value_attribute == dj.TRAKTOR_VALUE[row["key"]]
        assert entry.info.key == dj.OPEN_KEY[row["key"]]
        grid_cues = [c for c in entry.cue_v2 if c.type == 4]
        if dj.realpath(path) in grids:
            assert len(grid_cues) == 1
            assert abs(grid_cues[0].start - grids[dj.realpath(path)] * 1000) < 1e-3  # Traktor counts ms
            assert abs(grid_cues[0].grid.bpm - float(row["bpm"])) <= 0.005
        else:
            assert grid_cues == []
    assert dj.USB in volumes and len(volumes) == 2  # the second volume's songs are on "DJ USB"
    usb_dirs = {e.location.dir for e in entries if e.location.volume == dj.USB}
    assert usb_dirs == {"/:Music/:Crates & Bins/:"}  # folders inside the stick, in Traktor's /: form
    assert _paired_by_path(library, out) == 20


def test_keys_in_the_chosen_notation(library, tmp_path):
    out = tmp_path / "camelot.xml"
    assert export(library.results, "--to", out, "--key-notation", "camelot") == 0
    keys = {str(_rekordbox_path(t["Location"])): t["Tonality"] for t in RekordboxXml(out).get_tracks()}
    assert keys == {p: dj.CAMELOT[r["key"]] for p, r in library.rows.items()}


def _canonical(element: ET.Element | None) -> str:
    assert element is not None
    return ET.canonicalize(ET.tostring(element, encoding="unicode"), strip_text=True)


def test_rekordbox_merge_keeps_playlists_cues_ratings_and_untouched_tracks(library, tmp_path):
    theirs = tmp_path / "theirs.xml"
    theirs.write_bytes(dj.rekordbox_collection(library, OURS_IN_THEIRS))
    before = theirs.read_bytes()
    out = tmp_path / "merged.xml"
    assert export(library.results, "--to", out, "--into", theirs) == 0
    assert theirs.read_bytes() == before  # the input is never written

    old, new = ET.fromstring(before), ET.parse(out).getroot()
    assert _canonical(new.find("PLAYLISTS")) == _canonical(old.find("PLAYLISTS"))
    old_tracks = {t.get("Location"): t for t in old.iter("TRACK") if t.get("Location")}
    new_tracks = {t.get("Location"): t for t in new.find("COLLECTION")}
    assert len(new_tracks) == 22 and new.find("COLLECTION").get("Entries") == "22"  # 2 theirs + our 20
    for location, track in old_tracks.items():
        merged = new_tracks[location]
        if track.get("TrackID", "").startswith("900"):  # the user's own tracks: exactly as they were
            assert _canonical(merged) == _canonical(track)
            continue
        row = library.rows[unquote(location.removeprefix("file://localhost"))]
        changed = {k for k in track.attrib if merged.get(k) != track.get(k)}
        assert changed == {"AverageBpm", "Tonality"}, changed
        assert merged.get("AverageBpm") == f"{float(row['bpm']):.2f}"
        assert [_canonical(m) for m in merged.findall("POSITION_MARK")] == [
            _canonical(m) for m in track.findall("POSITION_MARK")
        ]
    xml = RekordboxXml(out)
    friday = xml.get_playlist("Gigs", "Friday & Saturday")
    assert friday.get_tracks() == [1, 2, 3, 4, 5, 90001]
    assert xml.get_track(TrackID=90001)["Rating"] == 5
    assert xml.get_track(TrackID=3)["Rating"] == 3  # 153 in the file: pyrekordbox reads stars
    assert _paired_by_path(library, out) == 20


def test_traktor_merge_keeps_playlists_cues_ratings_and_a_locked_entry(library, tmp_path):
    locked = 2
    theirs = tmp_path / "collection.nml"
    theirs.write_bytes(dj.traktor_collection(library, OURS_IN_THEIRS, locked=locked))
    before = theirs.read_bytes()
    out = tmp_path / "merged.nml"
    assert export(library.results, "--to", out, "--into", theirs) == 0
    assert theirs.read_bytes() == before

    old, new = ET.fromstring(before), ET.parse(out).getroot()
    assert _canonical(new.find("PLAYLISTS")) == _canonical(old.find("PLAYLISTS"))
    def by_file(root: ET.Element) -> dict[str, ET.Element]:
        return {e.find("LOCATION").get("FILE"): e for e in root.find("COLLECTION").findall("ENTRY")}

    old_entries, new_entries = by_file(old), by_file(new)
    assert len(new_entries) == 22 and new.find("COLLECTION").get("ENTRIES") == "22"
    for name, entry in old_entries.items():
        merged = new_entries[name]
        ours = name in {library.songs[i].name for i in OURS_IN_THEIRS if i != locked}
        if not ours:  # the user's own entries and the locked one: exactly as they were
            assert _canonical(merged) == _canonical(entry), name
            continue
        for kept in ("LOCATION", "MODIFICATION_INFO"):
            assert _canonical(merged.find(kept)) == _canonical(entry.find(kept))
        info = {k: v for k, v in merged.find("INFO").attrib.items() if k != "KEY"}
        assert info == {k: v for k, v in entry.find("INFO").attrib.items() if k != "KEY"}  # rating, colour, comment
        cues = [_canonical(c) for c in merged.findall("CUE_V2") if c.get("TYPE") != "4"]
        assert cues == [_canonical(c) for c in entry.findall("CUE_V2") if c.get("TYPE") != "4"]
        assert merged.find("TEMPO").get("BPM") != entry.find("TEMPO").get("BPM")
    collection = TraktorCollection(out).nml
    peak = collection.playlists.node.subnodes.node[0]
    assert peak.name == "Peak & Time" and len(peak.playlist.entry) == len(OURS_IN_THEIRS) + 1
    assert _paired_by_path(library, out) == 20


def test_output_equal_to_the_input_collection_is_refused(library, tmp_path, capsys):
    theirs = tmp_path / "theirs.xml"
    theirs.write_bytes(dj.rekordbox_collection(library, OURS_IN_THEIRS))
    before = theirs.read_bytes()
    assert export(library.results, "--to", tmp_path / "." / "theirs.xml", "--into", theirs) == 2
    assert "write the merge to a new file" in capsys.readouterr().err
    assert theirs.read_bytes() == before


def test_a_read_only_output_folder_is_a_clear_error_and_nothing_is_half_written(library, tmp_path):
    if not permissions_can_be_denied():
        pytest.skip("this machine cannot run a child without root's permission override")
    folder = tmp_path / "read-only"
    folder.mkdir()
    earlier = folder / "rekordbox.xml"
    earlier.write_text("an earlier export", encoding="utf-8")
    folder.chmod(0o555)
    try:
        done = run_cli("export", str(library.results), "--to", str(earlier), preexec=as_ordinary_user(), timeout=120)
    finally:
        folder.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert "error: cannot write to" in done.stderr and "Permission denied" in done.stderr
    assert "nothing written" in done.stderr and "Traceback" not in done.stderr
    assert earlier.read_text(encoding="utf-8") == "an earlier export"
    assert sorted(p.name for p in folder.iterdir()) == ["rekordbox.xml"]
    assert not leftover_files(tmp_path)


def test_a_full_disk_mid_write_keeps_the_earlier_export_and_leaves_no_temp_file(library, tmp_path, capsys):
    from tests.reliability import fill_disk, small_tmpfs

    with small_tmpfs(tmp_path / "small", "256k") as folder:
        earlier = folder / "collection.nml"
        earlier.write_text("an earlier export", encoding="utf-8")
        fill_disk(folder, leave=2048)  # room for the temp file to start, not for a 20-song collection
        assert export(library.results, "--to", earlier) == 1
        assert "error: cannot write" in capsys.readouterr().err
        assert earlier.read_text(encoding="utf-8") == "an earlier export"
        assert sorted(p.name for p in folder.iterdir()) == ["collection.nml", "filler.bin"]
