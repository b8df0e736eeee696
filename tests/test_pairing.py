"""Pairing as a careful person would: versions vs editions, credits, folding, duration, ambiguity
listed with reasons, hand-made pairs in pairs.csv, several reference files, path first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from mutagen.flac import FLAC

from engine.calibration.dataset import AnalysedSong
from engine.calibration.workflow import match_reference
from engine.references.matching import SongIdentity, match_songs
from engine.references.pairs import decision, load_pairs, save_pairs
from engine.references.readers import ReferenceRow, load_reference, load_references

DATA = Path(__file__).parent / "data" / "references"
RATE = 4000  # FLAC at a low rate: real files with real lengths, a few kB each


def flac(path: Path, seconds: float, title: str = "", artist: str = "") -> Path:
    sf.write(str(path), np.zeros(int(seconds * RATE), dtype=np.int16), RATE, subtype="PCM_16")
    if title:
        tags = FLAC(path)
        tags.update({"TITLE": title, **({"ARTIST": artist} if artist else {})})
        tags.save()
    return path


PLAYLIST = (
    "Song,Artist,BPM,Key,Mode,Time\n"
    "Levels - Skrillex Remix,Avicii,128,C#,minor,4:40\n"  # line 2
    "Blinding Lights,The Weeknd,171,F,Minor,3:20\n"  # line 3: the original only
    "Eple,Røyksopp,108,A,Minor,3:40\n"  # line 4
    'Get Lucky,"Daft Punk, Pharrell Williams",116,F#,m,4:08\n'  # line 5
    "Hey Jude - Remastered 2015,The Beatles,74,F,Major,7:11\n"  # line 6
    'Naatu Naatu - From "RRR",Rahul Sipligunj x Kaala Bhairava,148,Ab,1,3:35\n'  # line 7
    "Dreams,Fleetwood Mac,120,F,Major,4:17\n"  # line 8
    "Halo,Beyoncé,80,A,Major,4:21\n"  # line 9
    "Halo - Live,Beyoncé,78,A,Major,4:40\n"  # line 10
)


def test_a_real_playlist_export_pairs_like_a_careful_person(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    paths = [
        flac(music / "a.flac", 280, "Levels (Skrillex Remix)", "Avicii"),
        flac(music / "b.flac", 260, "Blinding Lights (Chromatics Remix)", "The Weeknd"),
        flac(music / "c.flac", 220, "Eple", "Royksopp"),
        flac(music / "d.flac", 248, "Get Lucky (feat. Pharrell Williams)", "Daft Punk"),
        flac(music / "The Beatles - Hey Jude.flac", 431),  # untagged: named Artist - Title
        flac(music / "f.flac", 215, "Naatu Naatu", "Rahul Sipligunj & Kaala Bhairava"),
        flac(music / "g.flac", 540, "Dreams", "Fleetwood Mac"),  # far longer than the row: another recording
        flac(music / "h.flac", 30, "Halo", "Beyonce"),  # a 30 s preview clip of the studio version
    ]
    csv_path = tmp_path / "playlist.csv"
    csv_path.write_text(PLAYLIST, encoding="utf-8")
    reference = load_reference(csv_path)
    assert reference.errors == []
    assert {r.line: r.key for r in reference.rows}[3] == "F minor"  # Key + Mode columns: minor is minor
    songs = [AnalysedSong(str(p), "done", 120.0, "C major") for p in paths]
    matched = match_reference(songs, reference)
    got = {Path(matched.songs[m.song].path).name: (matched.rows[m.row].line, m.method) for m in matched.report.matches}
    assert got == {
        "a.flac": (2, "title and artist"),  # bracket remix == dash remix
        "c.flac": (4, "title and artist"),  # ø folds
        "d.flac": (5, "title and artist"),  # feat. credit moved from title to artists
        "The Beatles - Hey Jude.flac": (6, "title and artist"),
        "f.flac": (7, "title and artist"),  # "x" and "&" join artists; From "RRR" is an edition
        "h.flac": (9, "title and artist"),  # preview clip: its length is no evidence; the live row is a version
    }
    why = {
        Path(matched.songs[s].path).name: [c.why for _, c in matched.candidates_for(s)]
        for s in matched.report.unmatched_songs
    }
    assert why["b.flac"] == ["different version: remix (chromatics) vs original"]
    assert why["g.flac"] == ["duration 9:00 vs 4:17"]


def candidates(report, song: int, rows) -> list[tuple[int, str]]:
    return [(rows[c.row].line, c.why) for c in report.candidates[song]]


def test_two_remixes_of_one_song_are_two_songs_and_duration_settles_a_vague_one():
    rows = [
        ReferenceRow(2, "r.csv", title="Song (Kaskade Remix)", artist="Band", bpm=120.0, duration_s=300),
        ReferenceRow(3, "r.csv", title="Song - Four Tet Remix", artist="Band", bpm=122.0, duration_s=420),
    ]
    named = SongIdentity("/m/1.flac", "Song (Four Tet Remix)", "Band", "tags", 419)
    vague = SongIdentity("/m/2.flac", "Song (Remix)", "Band", "tags", 301)
    report = match_songs([named, vague], rows)
    assert [(m.song, rows[m.row].line) for m in report.matches] == [(0, 3), (1, 2)]
    alone = match_songs([SongIdentity("/m/2.flac", "Song (Remix)", "Band", "tags", None)], rows)
    assert alone.matches == []  # nothing tells the two remixes apart: not guessed
    assert [why for _, why in candidates(alone, 0, rows)] == [
        "ambiguous: r.csv line 3 scores within 0.03",
        "ambiguous: r.csv line 2 scores within 0.03",
    ]


def test_feat_credit_moves_from_artist_to_title_and_lists_join_every_way():
    rows = [ReferenceRow(2, "r.csv", title="Titanium (feat. Sia)", artist="David Guetta", bpm=126.0)]
    for artist in (
        "David Guetta feat. Sia",
        "David Guetta, Sia",
        "David Guetta & Sia",
        "David Guetta x Sia",
        "David Guetta with Sia",
        "David Guetta vs Sia",
        "David Guetta and Sia",
    ):
        report = match_songs([SongIdentity("/m/t.flac", "Titanium", artist, "tags")], rows)
        assert [m.method for m in report.matches] == ["title and artist"], artist


def test_folding_transliterates_beyond_accents():
    from engine.references.textnorm import fold

    assert fold("Røyksopp Œuvre Straße Łódź Đorđe Æther “Don’t”") == "royksopp oeuvre strasse lodz dorde aether dont"


def test_a_feat_credit_in_the_title_counts_as_an_artist():
    rows = [ReferenceRow(2, "r.csv", title="Get Lucky", artist="Pharrell Williams", bpm=116.0)]
    song = SongIdentity("/m/g.flac", "Get Lucky (feat. Pharrell Williams)", "Daft Punk", "tags")
    assert [m.method for m in match_songs([song], rows).matches] == ["title and artist"]


def test_another_artists_song_and_a_sequel_are_never_taken():
    rows = [
        ReferenceRow(2, "r.csv", title="Hallelujah", artist="Leonard Cohen", bpm=60.0),
        ReferenceRow(3, "r.csv", title="Song Pt. 1", artist="Band", bpm=90.0),
    ]
    songs = [
        SongIdentity("/m/1.flac", "Hallelujah", "Jeff Buckley", "tags"),
        SongIdentity("/m/2.flac", "Song Pt. 2", "Band", "tags"),
    ]
    report = match_songs(songs, rows, fuzzy_threshold=0.5)
    assert report.matches == []
    assert candidates(report, 0, rows) == [(2, 'artist differs: "Jeff Buckley" vs "Leonard Cohen"')]
    assert candidates(report, 1, rows)[0][1].startswith("numbers differ")


def test_fuzzy_score_is_recorded_and_a_fuzzy_pair_needs_artists():
    rows = [
        ReferenceRow(2, "r.csv", title="Teenage Dreem", artist="Katy Perry", bpm=120.0),
        ReferenceRow(3, "r.csv", title="Bad Romanse", bpm=119.0),
    ]
    songs = [
        SongIdentity("/m/1.flac", "Teenage Dream", "Katy Perry", "tags"),
        SongIdentity("/m/2.flac", "Bad Romance", "Lady Gaga", "tags"),
    ]
    report = match_songs(songs, rows)
    (match,) = report.matches
    assert (match.song, match.method) == (0, "fuzzy") and 0.9 <= match.score < 1.0
    assert candidates(report, 1, rows) == [(3, "a fuzzy match needs an artist on both sides")]


def test_the_window_queue_says_a_fuzzy_pairs_score_and_row(tmp_path):
    from engine.calibration.session import CalibrationSession, song_for

    path = tmp_path / "ref.csv"
    path.write_text("Title,Artist,BPM\nTeenage Dreem,Katy Perry,120\n", encoding="utf-8")
    session = CalibrationSession()
    session.load_reference(path)
    session.adopt_match(session.match([song_for("/m/Katy Perry - Teenage Dream.flac", None)]))
    (values,) = session.reference_values().values()
    assert values.method.startswith("fuzzy (score 0.9") and values.method.endswith("ref.csv line 2")


def test_path_first_then_names_across_several_reference_files(tmp_path):
    """A rekordbox row names its file: it pairs by path even though the song's tags say something else."""
    ref = load_references([DATA / "rekordbox.xml", DATA / "collection.nml"])
    songs = [
        SongIdentity("/Users/dj/Music/Avicii - Levels.mp3", "Totally different", "Tag", "tags"),
        SongIdentity("/other/eple.flac", "Eple", "Royksopp", "tags"),
    ]
    report = match_songs(songs, ref.rows)
    got = {m.song: (Path(ref.rows[m.row].source).name, ref.rows[m.row].line, m.method) for m in report.matches}
    assert got == {0: ("rekordbox.xml", 6, "path"), 1: ("collection.nml", 4, "title and artist")}


def test_the_same_song_in_two_files_pairs_with_the_first_file_listed(tmp_path):
    first = tmp_path / "first.csv"
    first.write_text("Title,Artist,BPM\nEple,Røyksopp,108\n", encoding="utf-8")
    second = tmp_path / "second.csv"
    second.write_text("Track Name,Artist Name(s),Tempo\nEple,Royksopp,108.2\n", encoding="utf-8")
    for order in ([first, second], [second, first]):
        ref = load_references(order)
        (match,) = match_songs([SongIdentity("/m/e.flac", "Eple", "Röyksopp", "tags")], ref.rows).matches
        assert Path(ref.rows[match.row].source) == order[0]


def test_pairs_csv_round_trip_and_it_overrides_automatic_pairing(tmp_path):
    csv_path = tmp_path / "playlist.csv"
    csv_path.write_text(PLAYLIST, encoding="utf-8")
    reference = load_reference(csv_path)
    row_of = {r.line: r for r in reference.rows}
    songs = [
        AnalysedSong("/m/mystery.flac", "done", 120.0, "C major"),
        AnalysedSong("/m/Fleetwood Mac - Dreams.flac", "done", 120.0, "C major"),
    ]
    pairs_path = tmp_path / "out" / "pairs.csv"
    pairs_path.parent.mkdir()
    save_pairs(
        pairs_path,
        [
            decision("/m/mystery.flac", row_of[10], who="ana"),
            decision("/m/Fleetwood Mac - Dreams.flac", None, who="ana"),
        ],
    )
    header = pairs_path.read_text(encoding="utf-8-sig").splitlines()[0]  # BOM: Excel opens it as UTF-8
    assert header == "song_path,reference_file,line,decided_by,decided_at"
    manual, errors = load_pairs(pairs_path)
    assert errors == [] and [(p.song_path, p.line, p.decided_by) for p in manual] == [
        ("/m/mystery.flac", 10, "ana"),
        ("/m/Fleetwood Mac - Dreams.flac", None, "ana"),
    ]
    automatic = match_reference(songs, reference, read_song_tags=False)
    assert [(m.song, automatic.rows[m.row].line) for m in automatic.report.matches] == [(1, 8)]
    by_hand = match_reference(songs, reference, read_song_tags=False, manual=manual)
    assert [(m.song, by_hand.rows[m.row].line, m.method) for m in by_hand.report.matches] == [(0, 10, "manual")]
    assert by_hand.report.unmatched_songs == [1] and 1 in by_hand.report.declined


def test_a_bad_pairs_line_is_an_error_and_the_rest_load(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "song_path,reference_file,line,decided_by,decided_at\n"
        "/m/a.flac,/r/ref.csv,seven,me,2025-01-01T00:00:00+00:00\n"
        "/m/b.flac,/r/ref.csv,7,me,2025-01-01T00:00:00+00:00\n",
        encoding="utf-8",
    )
    manual, errors = load_pairs(path)
    assert [p.song_path for p in manual] == ["/m/b.flac"]
    assert [(e.line, e.message) for e in errors] == [(2, 'line "seven" is not a line number; ignored')]


def test_every_row_with_a_close_title_is_weighed_not_only_the_first_few():
    """Common titles: the right row is found among many, and a second right row is still seen as a rival."""
    rows = [ReferenceRow(i + 2, "r.csv", title="Intro", artist=f"Band {chr(65 + i)}", bpm=100.0) for i in range(12)]
    song = SongIdentity("/m/intro.flac", "Intro", "Band L", "tags")
    (match,) = match_songs([song], rows).matches
    assert rows[match.row].artist == "Band L"
    twice = [
        *rows,
        ReferenceRow(20, "r.csv", title="Intro (Live)", artist="Band L", bpm=90.0),
        ReferenceRow(21, "r.csv", title="intro", artist="band l", bpm=99.0),
    ]
    report = match_songs([song], twice)
    assert [twice[m.row].line for m in report.matches] == []  # lines 13 and 21 of one file tie: not guessed


def test_two_remixers_remixes_of_one_song_never_pair_even_when_artist_and_length_agree():
    """Only the remixer tells these apart: same base title, same artist, same length (issue 26)."""
    rows = [ReferenceRow(2, "r.csv", title="Levels (Avicii Remix)", artist="Avicii", bpm=126.0, duration_s=200)]
    other_remixer = SongIdentity("/m/levels.flac", "Levels (Skrillex Remix)", "Avicii", "tags", 200)
    report = match_songs([other_remixer], rows, fuzzy_threshold=0.5)
    assert report.matches == []
    assert candidates(report, 0, rows) == [(2, "different version: remix (skrillex) vs remix (avicii)")]
    same_remixer = SongIdentity("/m/levels.flac", "Levels - Avicii Remix", "Avicii", "tags", 200)
    assert [m.method for m in match_songs([same_remixer], rows).matches] == ["title and artist"]


def test_a_pair_must_lead_every_rival_by_the_margin_not_merely_win():
    """Two rows of one song told apart only by length: a row 11.2 s off scores 0.028 below one of the song's
    length (evidence.py: -0.05 x gap / 20 s), inside the 0.03 margin, so neither is taken; 12.8 s off (0.032) is
    outside it. The same holds for two songs competing for one row."""
    song = SongIdentity("/m/1.flac", "Song", "Band", "tags", 180)

    def rows(gap: float) -> list[ReferenceRow]:
        return [
            ReferenceRow(2, "r.csv", title="Song", artist="Band", bpm=120.0, duration_s=180),
            ReferenceRow(3, "r.csv", title="Song", artist="Band", bpm=124.0, duration_s=180 + gap),
        ]

    close = match_songs([song], rows(11.2))
    assert close.matches == []
    assert [c.score for c in close.candidates[0]] == [1.0, 0.972]
    assert candidates(close, 0, rows(11.2))[0] == (2, "ambiguous: r.csv line 3 scores within 0.03")
    clear = match_songs([song], rows(12.8))
    assert [(m.row, m.method) for m in clear.matches] == [(0, "title and artist")]

    row = [ReferenceRow(2, "r.csv", title="Song", artist="Band", bpm=120.0, duration_s=180)]
    for gap, expected in ((11.2, []), (12.8, [(0, 0)])):
        rival = SongIdentity("/m/2.flac", "Song", "Band", "tags", 180 + gap)
        report = match_songs([song, rival], row)
        assert [(m.song, m.row) for m in report.matches] == expected, gap
