"""Each reference source read in the shape its program writes: rekordbox XML, Traktor NML, iTunes
Library.xml, Exportify; keys and modes as exports spell them; malformed and hostile files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from engine.references.readers import ReferenceFileError, detect_format, load_reference, load_references

DATA = Path(__file__).parent / "data" / "references"


def rows_by_title(reference):
    return {row.title: row for row in reference.rows}


def test_rekordbox_collection():
    ref = load_reference(DATA / "rekordbox.xml")
    assert ref.formats == ["rekordbox"]
    rows = rows_by_title(ref)
    # rekordbox's Mix field joins the name (an edition like Original Mix is ignored when pairing)
    assert set(rows) == {"Levels (Original Mix)", "Blinding Lights (Chromatics Remix)", "Bad key"}
    levels = rows["Levels (Original Mix)"]
    assert (levels.artist, levels.bpm, levels.key, levels.duration_s) == ("Avicii", 126.0, "C# minor", 199.0)
    assert levels.file == "/Users/dj/Music/Avicii - Levels.mp3"  # file URL decoded
    assert levels.line == 6  # the TRACK element's line, not the playlist's TRACK Key reference
    assert rows["Blinding Lights (Chromatics Remix)"].file == "C:/Users/dj/Music/The Weeknd/Blinding Lights.m4a"
    messages = [str(e) for e in ref.errors]
    assert "rekordbox.xml: line 14: Tonality: " in messages[0] and '"Q#"' in messages[0]
    assert rows["Bad key"].bpm == 120.0 and rows["Bad key"].key is None  # the good value stays
    assert messages[1:] == ["rekordbox.xml: 1 tracks have no BPM or key (not analysed); skipped"]  # playlists skipped


def test_traktor_collection():
    ref = load_reference(DATA / "collection.nml")
    assert ref.formats == ["traktor"]
    rows = rows_by_title(ref)
    eple = rows["Eple"]
    assert (eple.artist, eple.bpm, eple.key) == ("Røyksopp", 108.0, "A minor")  # VALUE 21 and INFO KEY 1m agree
    assert eple.file == "/Users/dj/Music/Røyksopp/01 Eple.flac"
    assert eple.duration_s == pytest.approx(219.64)
    assert eple.line == 4
    strobe = rows["Strobe"]
    assert strobe.file == "D:/Music/Progressive/deadmau5 - Strobe.mp3"
    assert (strobe.key, strobe.bpm) == (None, 128.0)  # VALUE 10 = Bb major but INFO KEY says Bbm
    assert [(e.line, e.message) for e in ref.errors] == [
        (13, 'MUSICAL_KEY VALUE "10" (Bb major) and INFO KEY "Bbm" (Bb minor) disagree'),
        (18, 'TEMPO BPM "fast" is not a number'),  # the third ENTRY: both values bad, each named
        (18, 'MUSICAL_KEY VALUE "30" is not 0–23'),
    ]


def test_itunes_library():
    ref = load_reference(DATA / "Library.xml")
    assert ref.formats == ["itunes"]
    (row,) = ref.rows
    assert (row.title, row.artist, row.bpm, row.duration_s) == ("Hoppípolla", "Sigur Rós", 140.0, 268.213)
    # macOS writes decomposed (NFD) file names; the path is kept byte for byte as the file system has it
    nfd = "/Users/me/Music/Music/Media.localized/Music/Sigur Ro\u0301s/Takk.../04 Hoppi\u0301polla.m4a"
    assert row.file == nfd
    assert (row.unit, row.line) == ("entry", 1)
    messages = [str(e) for e in ref.errors]
    assert 'Library.xml: entry 3: Track ID 2421: BPM "4000" is not a tempo in range' in messages
    assert "Library.xml: 2 tracks have no BPM; skipped" in messages  # a podcast and the bad one


def test_itunes_library_saved_as_a_binary_plist(tmp_path):
    import plistlib

    library = plistlib.loads((DATA / "Library.xml").read_bytes())
    path = tmp_path / "Library.plist"
    path.write_bytes(plistlib.dumps(library, fmt=plistlib.FMT_BINARY))
    assert [(r.title, r.bpm) for r in load_reference(path).rows] == [("Hoppípolla", 140.0)]


def test_exportify_numeric_key_and_text_mode_and_ms():
    ref = load_reference(DATA / "exportify.csv")
    rows = rows_by_title(ref)
    assert rows["Levels - Radio Edit"].key == "C# minor"  # Key 1, Mode 0
    assert rows["Blinding Lights"].key == "C# major"  # Key 1, Mode 1
    lucky = rows["Get Lucky (feat. Pharrell Williams and Nile Rodgers) - Radio Edit"]
    assert (lucky.key, lucky.bpm, lucky.duration_s) == ("F# minor", 116.047, 248.413)
    assert lucky.artist == "Daft Punk,Pharrell Williams,Nile Rodgers"
    assert rows["No key yet"].key is None and rows["No key yet"].bpm == 99.5  # Key -1: Spotify's "no key"
    assert ref.errors == []


@pytest.mark.parametrize(
    ("key", "mode", "expected"),
    [
        ("A", "Minor", "A minor"),
        ("A", "minor", "A minor"),
        ("A", "min", "A minor"),
        ("A", "m", "A minor"),
        ("A", "0", "A minor"),
        ("A", "Major", "A major"),
        ("A", "1", "A major"),
        ("A", "M", "A major"),
        ("9", "Minor", "A minor"),  # numeric key, text mode
        ("9", "major", "A major"),
        ("Am", "Minor", "A minor"),  # the key cell already holds its mode; the mode column agrees
        ("F#m", "", "F# minor"),
        ("Bb", "", "Bb major"),
    ],
)
def test_key_and_mode_columns_in_any_spelling(tmp_path, key, mode, expected):
    path = tmp_path / "ref.csv"
    path.write_text(f"Title,Artist,BPM,Key,Mode\nSong,Band,120,{key},{mode}\n", encoding="utf-8")
    ref = load_reference(path)
    assert ref.errors == []
    assert ref.rows[0].key == expected


@pytest.mark.parametrize(
    ("cells", "words"),
    [
        ("Am,Major,,", ('key "Am"', 'mode "Major"')),
        ("A minor,,9A,", ('key "A minor"', 'Camelot "9A"')),
        ("C major,,,2d", ('key "C major"', 'Open Key "2d"')),
        ("A,sideways,,", ('mode "sideways"',)),
        ("14,Minor,,", ('key "14"',)),
    ],
)
def test_disagreeing_key_columns_are_a_row_error_naming_both(tmp_path, cells, words):
    path = tmp_path / "ref.csv"
    path.write_text(f"Title,BPM,Key,Mode,Camelot,Open Key\nSong,120,{cells}\nOther,121,C,,8B,1d\n", encoding="utf-8")
    ref = load_reference(path)
    (error,) = ref.errors
    assert error.line == 2
    for word in words:
        assert word in error.message
    assert {r.title: r.key for r in ref.rows} == {"Song": None, "Other": "C major"}
    assert ref.rows[0].bpm == 120.0  # the row keeps its good values


def test_malformed_xml_keeps_rows_before_the_break_and_names_the_line(tmp_path):
    text = (DATA / "rekordbox.xml").read_text(encoding="utf-8")
    broken = text.replace('<TRACK TrackID="12"', '<TRACK TrackID="12" Name="x" Name="twice"', 1)
    path = tmp_path / "broken.xml"
    path.write_text(broken, encoding="utf-8")
    ref = load_reference(path)
    assert [r.title for r in ref.rows] == ["Levels (Original Mix)"]
    assert ref.errors[-1].line == 10 and "malformed XML" in ref.errors[-1].message


def test_xml_broken_before_any_row_is_a_file_error(tmp_path):
    path = tmp_path / "collection.nml"
    path.write_text('<?xml version="1.0"?>\n<NML VERSION="19">\n<COLLECTION><ENTRY TITLE="a></COLLECTION>', "utf-8")
    with pytest.raises(ReferenceFileError, match=r"not well-formed XML: line 3"):
        load_reference(path)


@pytest.mark.parametrize("root", ["DJ_PLAYLISTS", "NML"])
def test_entity_expansion_is_refused(tmp_path, root):
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
        f'<{root}><COLLECTION><TRACK Name="&lol2;" AverageBpm="120"/></COLLECTION></{root}>\n'
    )
    path = tmp_path / "bomb.xml"
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(ReferenceFileError, match="unsafe XML"):
        load_reference(path)


def test_plist_entity_is_refused(tmp_path):
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE plist [<!ENTITY lol "lol">]>\n'
        "<plist><dict><key>Tracks</key><dict><key>1</key><dict><key>Name</key><string>&lol;</string>"
        "</dict></dict></dict></plist>\n"
    )
    path = tmp_path / "Library.xml"
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(ReferenceFileError, match="not a readable property list"):
        load_reference(path)


def test_xml_in_a_wrong_encoding_is_a_clear_error(tmp_path):
    # declared UTF-8, written by a tool in Latin-1: "Røyksopp" is one invalid byte on line 3
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<NML VERSION="19"><COLLECTION>\n<ENTRY TITLE="Eple" ARTIST="Røyksopp">'
    )
    path = tmp_path / "collection.nml"
    path.write_bytes((text + "</ENTRY></COLLECTION></NML>\n").encode("latin-1"))
    with pytest.raises(ReferenceFileError, match=r"collection.nml is not well-formed XML: line 3"):
        load_reference(path)


def test_csv_in_a_windows_encoding_is_read(tmp_path):
    path = tmp_path / "ref.csv"
    path.write_bytes("Song,Artist,BPM\nEple,Røyksopp,108\n".encode("cp1252"))
    assert load_reference(path).rows[0].artist == "Røyksopp"


def test_unknown_xml_is_refused_by_name():
    assert detect_format(b'<?xml version="1.0"?>\n<playlist/>') == "xml"
    assert detect_format(b"\xef\xbb\xbfTitle,BPM\n") == "csv"


def test_several_files_at_once_keep_their_own_lines():
    ref = load_references([DATA / "rekordbox.xml", DATA / "collection.nml", DATA / "Library.xml"])
    assert ref.formats == ["rekordbox", "traktor", "itunes"]
    assert {(Path(r.source).name, r.line) for r in ref.rows} >= {
        ("rekordbox.xml", 6),
        ("collection.nml", 4),
        ("Library.xml", 1),
    }
    assert len(ref.fingerprints) == 3


def test_an_export_of_ten_thousand_rows_loads_whole(tmp_path):
    """Load time is measured in bench/matching.py (not asserted here); this checks nothing is lost."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Track Name", "Artist Name(s)", "Duration (ms)", "Key", "Mode", "Tempo"])
    for n in range(10_000):
        writer.writerow([f"Song {n}", f"Artist {n % 97},Guest", 180_000 + n, n % 12, n % 2, 90 + n % 80])
    path = tmp_path / "big.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    ref = load_reference(path)
    assert len(ref.rows) == 10_000 and ref.errors == []
    last = ref.rows[-1]
    assert (last.line, last.title, last.bpm, last.key) == (10_001, "Song 9999", 90 + 9999 % 80, "Eb major")
