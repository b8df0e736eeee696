"""Pairing songs with reference rows: path, file name, normalised title/artist, fuzzy; never two to one."""

from __future__ import annotations

import pytest

from engine.references.matching import SongIdentity, match_songs
from engine.references.readers import ReferenceRow
from engine.references.readers.csv_export import parse_reference_text
from engine.references.textnorm import artists_agree, normalise_title


def songs(*paths: str) -> list[SongIdentity]:
    return [SongIdentity.from_path(p, use_tags=False) for p in paths]


def pairs(report, song_list, rows) -> dict[str, tuple[str, str]]:
    return {song_list[m.song].path: (rows[m.row].describe(), m.method) for m in report.matches}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("One More Time - Radio Edit", "One More Time (Radio Edit)"),
        ("One More Time", "One More Time - Radio Edit"),
        ("Hey Jude - Remastered 2015", "Hey Jude"),
        ("Hey Jude - 2015 Remaster", "Hey Jude [Remastered]"),
        ("Hey Jude Remastered 2015", "hey jude"),
        ("Café del Mar", "Cafe Del Mar"),
        ("Señorita (feat. Someone)", "Senorita"),
        ("Señorita feat. Someone", "Senorita ft. Other"),
        ("Rock & Roll", "Rock and Roll"),
        ("Stop!", "stop"),
        ("Song {Bonus Track}", "Song"),
        ("Song - Single Version", "Song - Album Version"),
    ],
)
def test_same_song_normalises_equal(a, b):
    assert normalise_title(a) == normalise_title(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Song - Remix", "Song"),  # a remix is a different recording
        ("Don't Stop Me Now - Live at Wembley", "Dont Stop Me Now"),  # so is a live recording
        ("Halo - Live Version", "Halo"),
        ("Levels (Skrillex Remix)", "Levels (Avicii Remix)"),  # the remixer is part of the version
        ("Live and Let Die", "And Let Die"),
        ("Live Forever", "Forever"),
        ("Song Part 2", "Song Part 1"),
    ],
)
def test_different_songs_stay_different(a, b):
    assert normalise_title(a) != normalise_title(b)


def test_artists():
    assert artists_agree("Simon & Garfunkel", "Simon and Garfunkel")
    assert artists_agree("Beyoncé", "BEYONCE")
    assert artists_agree("Daft Punk feat. Romanthony", "Daft Punk")
    assert artists_agree("A, B", "B & C")
    assert not artists_agree("Daft Punk", "Justice")


def test_methods_in_order_of_certainty(tmp_path):
    (tmp_path / "music").mkdir()
    song_list = songs(
        str(tmp_path / "music" / "exact.wav"),
        "/elsewhere/by name.mp3",
        "/m/Daft Punk - One More Time.flac",
        "/m/untitled 3.wav",
        "/m/Artist - A Very Longg Title.mp3",
        "/m/nobody.wav",
    )
    text = (
        "file,title,artist,bpm\n"
        "music/exact.wav,,,100\n"  # relative to the CSV's folder
        "C:\\Users\\me\\Music\\by name.mp3,,,101\n"  # a Windows path from another machine
        ",One More Time - Radio Edit,Daft Punk,123\n"
        ",Untitled 3,,90\n"
        ",A Very Long Title,Artist,120\n"
        ",Not Here,Nobody Else,80\n"
    )
    ref = parse_reference_text(text, source=str(tmp_path / "ref.csv"))
    report = match_songs(song_list, ref.rows, fuzzy_threshold=0.9)
    got = {song_list[m.song].path.rsplit("/", 1)[-1]: m.method for m in report.matches}
    assert got == {
        "exact.wav": "path",
        "by name.mp3": "file name",
        "Daft Punk - One More Time.flac": "title and artist",
        "untitled 3.wav": "title",
        "Artist - A Very Longg Title.mp3": "fuzzy",
    }
    assert [song_list[i].path for i in report.unmatched_songs] == ["/m/nobody.wav"]
    assert [ref.rows[i].title for i in report.unmatched_rows] == ["Not Here"]
    fuzzy = next(m for m in report.matches if m.method == "fuzzy")
    assert 0.9 <= fuzzy.score < 1.0


def test_fuzzy_is_on_by_default_and_respects_its_threshold():
    song_list = songs("/m/Artist - A Very Longg Title.mp3")
    rows = [ReferenceRow(2, "r.csv", title="A Very Long Title", artist="Artist", bpm=120.0)]
    assert match_songs(song_list, rows, fuzzy_threshold=None).matches == []
    (default,) = match_songs(song_list, rows).matches
    assert default.method == "fuzzy" and 0.9 <= default.score < 1.0
    assert match_songs(song_list, rows, fuzzy_threshold=0.99).matches == []
    assert len(match_songs(song_list, rows, fuzzy_threshold=0.95).matches) == 1
    with pytest.raises(ValueError):
        match_songs(song_list, rows, fuzzy_threshold=1.5)


def test_a_row_matches_at_most_one_song_and_a_song_one_row():
    song_list = songs("/a/Halo.wav", "/b/Halo.wav", "/c/Artist - Song.wav")
    rows = [
        ReferenceRow(2, "r.csv", title="Halo", bpm=80.0),  # two songs titled Halo, no artist: ambiguous
        ReferenceRow(3, "r.csv", title="Song", artist="Artist", bpm=100.0),
        ReferenceRow(4, "r.csv", title="Song", artist="Artist", bpm=101.0),  # a second row for the same song
    ]
    report = match_songs(song_list, rows, fuzzy_threshold=0.5)
    assert report.matches == []  # two rows fit "Artist - Song" equally: not guessed
    assert report.unmatched_rows == [0, 1, 2]
    assert any("Halo" in note and "ambiguous" in note for note in report.notes)
    whys = [c.why for c in report.candidates[2]]
    assert len(whys) == 2 and all(w.startswith("ambiguous: r.csv line") for w in whys)


def test_same_file_name_in_two_folders_is_settled_by_the_folder():
    song_list = songs("/lib/disc1/01.wav", "/lib/disc2/01.wav")
    rows = [
        ReferenceRow(2, "/elsewhere/r.csv", file="disc2/01.wav", bpm=90.0),
        ReferenceRow(3, "/elsewhere/r.csv", file="01.wav", bpm=91.0),
    ]
    report = match_songs(song_list, rows)
    assert pairs(report, song_list, rows) == {
        "/lib/disc2/01.wav": ("disc2/01.wav", "file name"),
        "/lib/disc1/01.wav": ("01.wav", "file name"),
    }


def test_file_name_without_extension_matches_a_re_encoded_file():
    song_list = songs("/m/track.flac")
    rows = [ReferenceRow(2, "r.csv", file="track.mp3", bpm=90.0)]
    assert match_songs(song_list, rows).matches[0].method == "file name"


def test_artist_must_agree_when_both_sides_name_one():
    song_list = songs("/m/Justice - Halo.wav")
    rows = [ReferenceRow(2, "r.csv", title="Halo", artist="Beyoncé", bpm=80.0)]
    assert match_songs(song_list, rows).matches == []


def test_tags_give_title_and_artist(tmp_path):
    import numpy as np
    import soundfile as sf
    from mutagen.flac import FLAC

    path = tmp_path / "track01.flac"
    sf.write(str(path), np.zeros(2205, dtype=np.float32), 22050)
    tags = FLAC(path)
    tags.update({"TITLE": "Señorita (Remastered)", "ARTIST": "Someone feat. Other"})
    tags.save()
    identity = SongIdentity.from_path(path)
    assert (identity.title, identity.artist, identity.names_from) == (
        "Señorita (Remastered)",
        "Someone feat. Other",
        "tags",
    )
    rows = [ReferenceRow(2, "r.csv", title="Senorita", artist="Someone", bpm=100.0)]
    assert match_songs([identity], rows).matches[0].method == "title and artist"


def test_tags_fill_in_only_where_no_csv_row_matched(tmp_path):
    import numpy as np
    import soundfile as sf
    from mutagen.flac import FLAC

    from engine.calibration.dataset import AnalysedSong
    from engine.calibration.workflow import match_reference
    from engine.references.readers import ReferenceSet

    paths = []
    for name, bpm in (("listed.flac", "111"), ("tagged.flac", "99")):
        path = tmp_path / name
        sf.write(str(path), np.zeros(2205, dtype=np.float32), 22050)
        tags = FLAC(path)
        tags.update({"BPM": bpm, "INITIALKEY": "Am"})
        tags.save()
        paths.append(path)
    reference = ReferenceSet(
        rows=[ReferenceRow(2, str(tmp_path / "r.csv"), file="listed.flac", bpm=120.0, key="C major")]
    )
    songs = [AnalysedSong(str(p), "done", 100.0, "C major") for p in paths]
    matched = match_reference(songs, reference, use_tags=True)
    got = {o.path.rsplit("/", 1)[-1]: (o.method, o.row.bpm, o.row.key) for o in matched.observations}
    assert got == {"listed.flac": ("path", 120.0, "C major"), "tagged.flac": ("tags", 99.0, "A minor")}
    assert matched.unmatched_songs == [] and matched.unmatched_rows == []
    assert [o.path for o in match_reference(songs, reference).observations] == [str(paths[0])]
