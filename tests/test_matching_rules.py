"""Pairing rules one at a time: hand-made pairs, paths, file names, the order of assignment, the reasons shown.

Written for the survivors of the mutation run on ``engine/references/matching.py`` (docs/reliability.md);
each case failed under one of them. Expected pairs and reasons are written out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from mutagen.flac import FLAC

from engine.references.matching import SongIdentity, match_songs
from engine.references.pairs import ManualPair
from engine.references.readers import ReferenceRow


def row(line: int, title: str = "", artist: str = "", file: str = "", source: str = "r.csv", **kw) -> ReferenceRow:
    return ReferenceRow(line, source, file=file, title=title, artist=artist, bpm=120.0, **kw)


def song(path: str, title: str = "", artist: str = "", duration: float | None = None) -> SongIdentity:
    return SongIdentity(path, title, artist, "tags" if title else "file name", duration)


def pairs(report, rows) -> list[tuple[int, int, str]]:
    return [(m.song, rows[m.row].line, m.method) for m in report.matches]


def why(report, s: int, rows) -> list[tuple[int, str]]:
    return [(rows[c.row].line, c.why) for c in report.candidates[s]]


def test_hand_made_pairs_each_apply_once_and_a_stale_one_does_not_stop_the_rest(tmp_path):
    rows = [row(2, "Alpha", "Band"), row(3, "Beta", "Band")]
    songs = [song("/m/a.flac"), song("/m/b.flac"), song("/m/c.flac"), song("/m/other.flac")]
    manual = [
        ManualPair("/m/other.flac", "", None),  # "this song has no row": declined, and the rest still applies
        ManualPair("/m/gone.flac", "r.csv", 2),  # a song no longer in the run
        ManualPair("/m/a.flac", "r.csv", 9),  # a row no longer in the file
        ManualPair("/m/a.flac", "r.csv", 2),
        ManualPair("/m/a.flac", "r.csv", 3),  # a second decision for the same song: the first stands
        ManualPair("/m/b.flac", "r.csv", 2),  # a row already taken by hand
        ManualPair("/m/c.flac", "r.csv", 3),
    ]
    report = match_songs(songs, rows, manual=manual)
    assert pairs(report, rows) == [(0, 2, "manual"), (2, 3, "manual")]
    assert report.notes == [
        "/m/a.flac: hand-made pair with r.csv line 9 not applied (that row is not loaded or already paired)",
        "/m/b.flac: hand-made pair with r.csv line 2 not applied (that row is not loaded or already paired)",
    ]
    assert all(m.score == 1.0 for m in report.matches)


def test_paths_pair_first_relative_ones_from_the_reference_folder_windows_separators_too(tmp_path):
    music = tmp_path / "music" / "sub"
    music.mkdir(parents=True)
    a, b = music / "a.flac", music / "b.flac"
    for p in (a, b):
        p.write_bytes(b"")
    source = str(tmp_path / "ref.csv")
    rows = [
        row(2, "No File Here", source=source),  # a row without a file first: the others still pair by path
        row(3, "Whatever", file="music\\sub\\a.flac", source=source),  # written on Windows, relative
        row(4, "Other", file=str(b), source=source),
        row(5, "Again", file=str(b), source=str(tmp_path / "second.csv")),  # the same file in a second file
    ]
    report = match_songs([song(str(a), "A", "X"), song(str(b), "B", "X")], rows)
    assert pairs(report, rows) == [(0, 3, "path"), (1, 4, "path")]
    assert all(m.score == 1.0 for m in report.matches)


def test_an_exact_file_name_wins_before_stems_and_folders_settle_only_a_clear_lead():
    rows = [row(1, "No File"), row(2, file="a.flac"), row(3, file="music/x.flac"), row(4, file="c.mp3")]
    songs = [
        song("/one/a.mp3"),
        song("/one/a.flac"),  # the exact name, though the stem "a" is shared
        song("/p/music/x.flac"),
        song("/q/music/x.flac"),  # the same folder and name: a tie, left alone with a note
        song("/p/c.flac"),  # a stem alone: a re-encoded file
    ]
    report = match_songs(songs, rows)
    assert pairs(report, rows) == [(1, 2, "file name"), (4, 4, "file name")]
    ambiguous = "music/x.flac: 2 songs have this file name; left unmatched"
    assert report.notes.count(ambiguous) == 1  # not again for the stem


def test_a_row_known_only_by_its_file_name_pairs_by_the_names_in_it():
    rows = [row(2, file="C:\\Users\\dj\\Music\\Daft Punk - One More Time.mp3")]
    report = match_songs([song("/m/01.flac", "One More Time", "Daft Punk")], rows)
    assert pairs(report, rows) == [(0, 2, "title and artist")]
    assert report.matches[0].score == 1.0


def test_the_strongest_pairs_are_taken_first_and_a_taken_song_does_not_end_the_assignment():
    """Scores (evidence.py, by hand): S0-R1 1.0 (exact, same length); S1-R2 0.983 (one letter off, 1 s apart);
    S0-R2 0.959 (23 s apart); S1-R1 0.924; S2-R3 0.954 (title and artist each a letter off). Best first:
    S0-R1, S1-R2, then S0-R2 is skipped (S0 taken) and S2-R3 still paired. Taken weakest first, or song by
    song, S1 would meet a free rival within 0.03 every time and stay unmatched."""
    rows = [
        row(2, "Wonderwall", "Oasis", duration_s=258),
        row(3, "Wonderwall", "Oasis", duration_s=281),
        row(4, "Champagne Supernova", "Oasis"),
    ]
    songs = [
        song("/m/0.flac", "Wonderwall", "Oasis", 258),
        song("/m/1.flac", "Wonderwal", "Oasis", 280),
        song("/m/2.flac", "Champagne Supernva", "Oassis"),
    ]
    report = match_songs(songs, rows, fuzzy_threshold=0.85)
    assert [(s, line) for s, line, _ in pairs(report, rows)] == [(0, 2), (1, 3), (2, 4)]


def test_unmatched_songs_list_their_candidates_best_first_with_the_right_reason():
    rows = [row(2, "Hello", "Adele"), row(3, "Hello Goodbye", "The Beatles"), row(4, "Hellow", "Adel")]
    off = match_songs([song("/m/h.flac", "Helo", "Adele")], rows, fuzzy_threshold=None)
    assert why(off, 0, rows)[0] == (2, "names differ and fuzzy matching is off")
    high = match_songs([song("/m/h.flac", "Helo", "Adele")], rows, fuzzy_threshold=1.0)
    listed = high.candidates[0]
    assert [c.score for c in listed] == sorted((c.score for c in listed), reverse=True) and listed[0].row == 0
    assert listed[0].why == f"score {listed[0].score:.2f} below the fuzzy threshold 1"
    with pytest.raises(ValueError, match=r"^fuzzy_threshold must be in \(0, 1\]$"):
        match_songs([], rows, fuzzy_threshold=0.0)


def test_a_song_with_many_weak_candidates_shows_the_five_closest_titles():
    """Token-sorted title ratios against "Moonlight Drive" (rapidfuzz): 75.9, 75.9, 75.0, 73.3, 71.4, 62.1, 58.1,
    all below the 80 that makes a row always compared; the five closest are listed, not the others."""
    titles = [
        "Moonlight Sonata",
        "Moonlight Rain",
        "Blue Moonlight",
        "Moonrise Drive",
        "Moonlight",
        "Starlight Drive",
        "Moonlight Bay",
    ]
    rows = [row(i + 2, t, "Someone Else") for i, t in enumerate(titles)]
    report = match_songs([song("/m/m.flac", "Moonlight Drive", "The Doors")], rows)
    listed = report.candidates[0]
    assert report.matches == [] and {rows[c.row].title for c in listed} == {
        "Blue Moonlight",
        "Moonrise Drive",
        "Moonlight",
        "Starlight Drive",
        "Moonlight Bay",
    }
    assert [c.score for c in listed] == sorted((c.score for c in listed), reverse=True)


def test_an_exact_title_without_artists_pairs_as_title_with_score_1():
    rows = [row(2, "Eple")]
    report = match_songs([song("/m/e.flac", "Eple")], rows)
    assert [(m.method, m.score) for m in report.matches] == [("title", 1.0)]


def test_folders_settle_a_shared_file_name_whatever_the_songs_order():
    rows = [row(2, "Zzz", file="a/b/x.flac")]
    songs = [song(f"/other/{i}.flac") for i in range(4)] + [song("/z/a/b/x.flac"), song("/y/x.flac")]
    assert pairs(match_songs(songs, rows), rows) == [(4, 2, "file name")]


def test_a_song_identity_comes_from_its_tags_or_else_its_file_name(tmp_path):
    path = tmp_path / "Daft Punk - Around the World.flac"
    sf.write(str(path), np.zeros(4000 * 3, dtype=np.int16), 4000, subtype="PCM_16")
    untitled = SongIdentity.from_path(path)  # tags without a title: names from the file name, length from the file
    assert (untitled.title, untitled.artist, untitled.names_from) == ("Around the World", "Daft Punk", "file name")
    assert untitled.duration_s == pytest.approx(3.0) and untitled.path == str(path)
    tags = FLAC(path)
    tags.update({"TITLE": "Da Funk", "ARTIST": "Daft Punk"})
    tags.save()
    tagged = SongIdentity.from_path(path)
    assert (tagged.title, tagged.names_from, tagged.path) == ("Da Funk", "tags", str(path))
    assert SongIdentity.from_path(path, use_tags=False).title == "Around the World"
    windows = SongIdentity.from_path("C:\\Music\\Justice - Genesis.mp3")
    assert (windows.title, windows.artist) == ("Genesis", "Justice")
