"""Reference CSVs in the dialects people have, and reference values from the songs' own tags."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import soundfile as sf

from engine.references.readers import ReferenceFileError, load_reference, reference_from_tags
from engine.references.readers.csv_export import parse_reference_text

PLAYLIST = (
    "#,Song,Artist,Popularity,BPM,Genres,Album,Album Date,Time,Dance,Energy,Acoustic,Instrumental,Happy,Speech,"
    "Live,Loud (Db),Key,Time Signature,Added At,Spotify Track Id,Album Label,Camelot,Spotify Track Img,Song Preview\n"
    '1,One More Time - Radio Edit,Daft Punk,80,123,"filter house, french house",Discovery,2001-03-12,5:20,61,70,2,'
    "0,48,13,33,-8,F# Major,4,2024-01-01,0DiWol3AO6WpXZgp0goxAV,Parlophone,2B,,\n"
    '2,"Halo",Beyoncé,75,80,pop,I Am... Sasha Fierce,2008-11-14,4:21,51,72,27,0,47,4,6,-5,A Major,4,2024-01-01,'
    "4JehYebiI9JE8sR8MisGVb,Columbia,11B,,\n"
)


def write(tmp_path, text: str, name: str = "ref.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_playlist_export_with_every_column(tmp_path):
    ref = load_reference(write(tmp_path, PLAYLIST))
    assert ref.errors == []
    first, second = ref.rows
    assert (first.title, first.artist, first.bpm, first.key) == (
        "One More Time - Radio Edit",
        "Daft Punk",
        123.0,
        "F# major",
    )
    assert first.duration_s == 320.0
    assert first.features == {
        "popularity": 80.0,
        "danceability": 61.0,
        "energy": 70.0,
        "acousticness": 2.0,
        "instrumentalness": 0.0,
        "valence": 48.0,
        "speechiness": 13.0,
        "liveness": 33.0,
        "loudness_db": -8.0,
    }
    assert (second.artist, second.key) == ("Beyoncé", "A major")
    assert ref.columns["loudness_db"] == "Loud (Db)" and ref.columns["title"] == "Song"


def test_fingerprint_is_sha256_of_the_bytes_and_row_count(tmp_path):
    path = write(tmp_path, PLAYLIST)
    (fingerprint,) = load_reference(path).fingerprints
    assert fingerprint.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fingerprint.rows == 2


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("file;BPM;Key\nsong one.wav;120,5;Am\nsong;two.wav;130;C\n", "utf-8"),  # ; and decimal comma
        ("\ufefffile,bpm,key\nsong one.wav,120.5,Am\n", "utf-8"),  # BOM
        ("File\tTempo\tKey\nsong one.wav\t120.5\tA minor\n", "utf-8"),  # tabs, "tempo"
        ('"file","bpm","key"\n"song one.wav","120.5","8A"\n', "utf-8"),  # quoted
        ("PATH,BPM,KEY\nsong one.wav,120.5 BPM,a\n", "utf-16"),  # Excel "Unicode text"
        ("file,bpm,key\nsong one.wav,120.5,Am\n", "cp1252"),
    ],
)
def test_dialects(tmp_path, text, encoding):
    ref = load_reference(write(tmp_path, text, encoding=encoding))
    row = ref.rows[0]
    assert (row.file, row.bpm, row.key) == ("song one.wav", 120.5, "A minor")


def test_semicolon_row_with_extra_fields_is_a_row_error(tmp_path):
    ref = load_reference(write(tmp_path, "file;BPM;Key\na.wav;120;Am\nb;c.wav;130;C\nd.wav;90;G\n"))
    assert [r.file for r in ref.rows] == ["a.wav", "d.wav"]
    assert [str(e) for e in ref.errors] == ["ref.csv: line 3: 4 fields but the header has 3; row ignored"]


def test_quoted_fields_with_delimiters_and_newlines_keep_line_numbers(tmp_path):
    text = (
        'title,artist,bpm,key\n"Hello, World","A ""quoted"" artist",100,Am\n"two\nlines",B,12o,C\nlast,C,90,H minor\n'
    )
    ref = load_reference(write(tmp_path, text))
    assert ref.rows[0].title == "Hello, World" and ref.rows[0].artist == 'A "quoted" artist'
    messages = [str(e) for e in ref.errors]
    assert 'ref.csv: line 3: BPM "12o" is not a number' in messages
    assert any(m.startswith('ref.csv: line 5: key "H minor"') for m in messages)
    # a row with one bad cell keeps its good ones
    assert {r.title: (r.bpm, r.key) for r in ref.rows} == {
        "Hello, World": (100.0, "A minor"),
        "two\nlines": (None, "C major"),
        "last": (90.0, None),
    }


def test_bad_rows_are_errors_and_the_rest_load(tmp_path):
    text = (
        "file,bpm,key\n"
        "a.wav,120,Am\n"
        "b.wav,12o,C\n"  # bad BPM: the key still loads
        "c.wav,0,C\n"  # out of range
        "d.wav,-,\n"  # nothing to load
        ",100,C\n"  # no song named
        "e.wav,inf,C\n"
        "f.wav,95,Q minor\n"
        "g.wav,128,8B\n"
    )
    ref = load_reference(write(tmp_path, text))
    assert {r.file for r in ref.rows} == {"a.wav", "b.wav", "c.wav", "e.wav", "f.wav", "g.wav"}
    lines = {e.line: e.message for e in ref.errors}
    assert lines[3] == 'BPM "12o" is not a number'
    assert lines[4] == 'BPM "0" is out of range (1–999)'
    assert "no BPM, key or feature value" in lines[5]
    assert "no file name or title" in lines[6]
    assert lines[7] == 'BPM "inf" is not a finite number'
    assert {r.file: (r.bpm, r.key) for r in ref.rows}["f.wav"] == (95.0, None)
    assert "Q minor" in lines[8]
    assert 9 not in lines


def test_duplicate_rows(tmp_path):
    text = "file,bpm,key\na.wav,120,Am\nA.WAV,120,Am\nb.wav,100,C\na.wav,121,Am\n"
    ref = load_reference(write(tmp_path, text))
    assert [(r.file, r.bpm) for r in ref.rows] == [("a.wav", 120.0), ("b.wav", 100.0)]
    assert {e.line: e.message for e in ref.errors} == {
        3: "duplicate of line 2; ignored",
        5: "same song as line 2 with different values; line 2 kept",
    }


def test_duplicate_song_by_title_and_artist(tmp_path):
    text = "Song,Artist,BPM\nHalo,Beyoncé,80\nHalo (2011 Remaster),Beyonce,80\n"
    ref = load_reference(write(tmp_path, text))
    assert len(ref.rows) == 1 and "line 2" in ref.errors[0].message


def test_key_and_camelot_must_agree(tmp_path):
    ref = load_reference(write(tmp_path, "Song,Key,Camelot\nx,A minor,9A\ny,,8A\nz,C major,8B\n"))
    assert {r.title: r.key for r in ref.rows} == {"y": "A minor", "z": "C major"}
    assert ref.errors[0].message == 'key "A minor" (A minor) and Camelot "9A" (E minor) disagree'


def test_spotify_numeric_key_and_mode(tmp_path):
    ref = load_reference(write(tmp_path, "name,tempo,key,mode\nx,120,9,0\ny,100,0,1\nz,90,-1,1\n"))
    assert [(r.title, r.key) for r in ref.rows] == [("x", "A minor"), ("y", "C major"), ("z", None)]


def test_reliability_flags_drop_values(tmp_path):
    text = "file,tempo_bpm,key,tempo_reliable,key_reliable\na.wav,120,Am,1,0\nb.wav,90,C,0,1\n"
    ref = load_reference(write(tmp_path, text))
    assert [(r.bpm, r.key) for r in ref.rows] == [(120.0, None), (None, "C major")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 4, "not text"),
        (b"artist,album\nx,y\n", "no column names the song"),
        (b"file,comment\nx.wav,nice\n", "no BPM or key column"),
    ],
)
def test_unreadable_files_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ReferenceFileError, match=message):
        load_reference(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ReferenceFileError, match="not found"):
        load_reference(tmp_path / "nope.csv")
    with pytest.raises(ReferenceFileError, match="folder"):
        load_reference(tmp_path)


def test_header_only_loads_nothing_without_error():
    ref = parse_reference_text("file,bpm,key\n")
    assert ref.rows == [] and ref.errors == []


# -- tags ------------------------------------------------------------------------------------------
def _audio(path, seconds=1.0, sr=22050):
    sf.write(str(path), (0.1 * np.sin(np.arange(int(seconds * sr)) * 0.05)).astype(np.float32), sr)
    return path


def test_reference_from_tags_of_each_container(tmp_path):
    from mutagen.flac import FLAC
    from mutagen.id3 import ID3, TBPM, TIT2, TKEY, TPE1
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    flac = _audio(tmp_path / "a.flac")
    tags = FLAC(flac)
    tags.update({"TITLE": "Flac Song", "ARTIST": "Someone", "BPM": "128", "INITIALKEY": "8A"})
    tags.save()

    ogg = _audio(tmp_path / "b.ogg")
    tags = OggVorbis(ogg)
    tags.update({"title": "Ogg Song", "bpm": "99.5", "initialkey": "F#m"})
    tags.save()

    mp3 = _audio(tmp_path / "c.mp3")
    id3 = ID3()
    id3.add(TIT2(encoding=3, text="Mp3 Song"))
    id3.add(TPE1(encoding=3, text="Band"))
    id3.add(TBPM(encoding=3, text="140"))
    id3.add(TKEY(encoding=3, text="Ebm"))
    id3.save(mp3)

    wav = _audio(tmp_path / "d.wav")
    wave = WAVE(wav)
    wave.add_tags()
    wave.tags.add(TBPM(encoding=3, text="12o"))
    wave.tags.add(TKEY(encoding=3, text="C"))
    wave.save()

    untagged = _audio(tmp_path / "e.wav")
    ref = reference_from_tags([flac, ogg, mp3, wav, untagged])
    got = {r.file.rsplit("/", 1)[-1]: (r.title, r.artist, r.bpm, r.key) for r in ref.rows}
    assert got == {
        "a.flac": ("Flac Song", "Someone", 128.0, "A minor"),
        "b.ogg": ("Ogg Song", "", 99.5, "F# minor"),
        "c.mp3": ("Mp3 Song", "Band", 140.0, "Eb minor"),
        "d.wav": ("", "", None, "C major"),
    }
    assert [str(e) for e in ref.errors] == ['d.wav: tag BPM "12o" is not a number']
