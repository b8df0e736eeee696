"""Each container's own ways, beyond the round trip of ``test_tagging.py``: comments, odd atoms, ID3v1, refusals.

Written for the survivors of the mutation run on ``engine/tagging/formats.py`` (docs/reliability.md):

- ``--comment-key`` in ID3 and MP4 (the FLAC case is ``test_export_choices.py``'s): the comment players
  show (ID3: empty description) gets the key in front, in the frame's language and an encoding its ID3
  version has; a described comment (iTunes' ``iTunNORM``) is left alone; undo puts back exactly the
  frames or atom that were there;
- an MP4 key atom another program wrote with bytes that are not UTF-8 and the "implicit" data type is
  given back byte for byte by undo; an MP3's existing ID3v1 tag stays;
- a tag with two values is previewed as both; each file that cannot be tagged says why.

Real files (``tests/tagfiles.py``), the real writer; read back with mutagen, never with the writer under test.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import COMM, ID3, Encoding
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, AtomDataType, MP4FreeForm

from engine.tagging.batch import Tagger
from engine.tagging.journal import Journal
from engine.tagging.tag_plan import Wanted, build_plan
from tests.tagfiles import make, samples

ITUNNORM = " 00000A2B 00000A2B 00003C3F 00003C3F 00000000"


def write_with_comment_key(journal: Journal, paths: list[Path], key: str) -> None:
    plan = build_plan([Wanted(str(p), 126.0, key) for p in paths], "classic", comment_key=True)
    report = Tagger(journal).write(plan)
    assert [o.status for o in report.outcomes] == ["written"] * len(paths), report.outcomes


def comments(path: Path) -> list[tuple[str, str, int, list[str]]]:
    """Every COMM frame as (description, language, encoding, text), sorted."""
    return sorted((f.desc, f.lang, int(f.encoding), [str(t) for t in f.text]) for f in ID3(str(path)).getall("COMM"))


@pytest.mark.parametrize(("version", "unicode_encoding"), [(3, Encoding.UTF16), (4, Encoding.UTF8)])
def test_id3_comment_key_goes_in_the_shown_comment_in_its_language_and_undo_restores_every_frame(
    tmp_path: Path, version: int, unicode_encoding: Encoding
) -> None:
    ascii_song = make(tmp_path / "m" / "ascii.mp3", id3v=version)
    accented = make(tmp_path / "m" / "accented.mp3", id3v=version)
    bare = make(tmp_path / "m" / "bare.mp3", id3v=version)
    for path, text in ((ascii_song, "warm-up"), (accented, "Café set")):
        tags = ID3(str(path))
        tags.delall("COMM")
        tags.add(COMM(encoding=Encoding.LATIN1, lang="deu", desc="", text=[text]))
        tags.add(COMM(encoding=Encoding.LATIN1, lang="eng", desc="iTunNORM", text=[ITUNNORM]))
        tags.save(v2_version=version, v1=0)
    tags = ID3(str(bare))
    tags.delall("COMM")
    tags.save(v2_version=version, v1=0)
    before = {p: comments(p) for p in (ascii_song, accented, bare)}
    journal = Journal(tmp_path / "journal.csv")

    write_with_comment_key(journal, [ascii_song, accented, bare], "A minor")

    latin1, unicode = int(Encoding.LATIN1), int(unicode_encoding)
    assert comments(ascii_song) == [("", "deu", latin1, ["8A - Am - warm-up"]), ("iTunNORM", "eng", latin1, [ITUNNORM])]
    # v2.3 has no UTF-8: a comment that is not ASCII is UTF-16 there, UTF-8 in v2.4
    assert comments(accented) == [("", "deu", unicode, ["8A - Am - Café set"]), ("iTunNORM", "eng", latin1, [ITUNNORM])]
    assert comments(bare) == [("", "eng", latin1, ["8A - Am"])]  # no comment before: English, as players expect
    assert all(ID3(str(p)).version[1] == version for p in (ascii_song, accented, bare))

    write_with_comment_key(journal, [ascii_song], "C# minor")  # a new key replaces ours, it does not stack
    assert comments(ascii_song)[0] == ("", "deu", latin1, ["12A - Dbm - warm-up"])

    Tagger(journal).undo("last")
    Tagger(journal).undo("last")
    assert {p: comments(p) for p in (ascii_song, accented, bare)} == before
    assert MP3(str(ascii_song)).tags.getall("TBPM") == []  # the BPM written with it is gone again


def test_mp4_comment_key_goes_in_the_comment_atom_and_undo_restores_or_removes_it(tmp_path: Path) -> None:
    commented = make(tmp_path / "m" / "commented.m4a")
    bare = make(tmp_path / "m" / "bare.m4a")
    audio = MP4(str(commented))
    audio["\xa9cmt"] = ["warm-up & peak"]
    audio.save()
    assert "\xa9cmt" not in MP4(str(bare)).tags
    journal = Journal(tmp_path / "journal.csv")

    write_with_comment_key(journal, [commented, bare], "A minor")

    assert MP4(str(commented)).tags["\xa9cmt"] == ["8A - Am - warm-up & peak"]
    assert MP4(str(bare)).tags["\xa9cmt"] == ["8A - Am"]
    assert MP4(str(commented)).tags["tmpo"] == [126]

    Tagger(journal).undo("last")
    assert MP4(str(commented)).tags["\xa9cmt"] == ["warm-up & peak"]
    assert "\xa9cmt" not in MP4(str(bare)).tags and "tmpo" not in MP4(str(bare)).tags


KEY_ATOM = "----:com.apple.iTunes:initialkey"


def test_an_mp4_key_atom_that_is_not_utf8_text_is_given_back_byte_for_byte_by_undo(tmp_path: Path) -> None:
    song = make(tmp_path / "m" / "old.m4a")
    audio = MP4(str(song))
    audio[KEY_ATOM] = [MP4FreeForm(b"\xe9m", dataformat=AtomDataType.IMPLICIT)]  # Latin-1 "ém", untyped
    audio.save()
    journal = Journal(tmp_path / "journal.csv")
    plan = build_plan([Wanted(str(song), 120.0, "F# minor")], "classic")
    assert [(c.field, c.old_text) for c in plan.files[0].changes] == [("bpm", ""), ("key", "\ufffdm")]

    report = Tagger(journal).write(plan)  # the journal's text column holds "�m": once it failed the whole batch
    assert [o.status for o in report.outcomes] == ["written"]
    [written] = MP4(str(song)).tags[KEY_ATOM]
    assert (bytes(written), written.dataformat) == (b"F#m", AtomDataType.UTF8)

    assert [o.status for o in Tagger(journal).undo("last").outcomes] == ["written"]
    [restored] = MP4(str(song)).tags[KEY_ATOM]
    assert (bytes(restored), restored.dataformat) == (b"\xe9m", AtomDataType.IMPLICIT)


def test_an_existing_id3v1_tag_stays_on_the_mp3(tmp_path: Path) -> None:
    song = make(tmp_path / "m" / "v1.mp3")
    MP3(str(song)).save(v1=2)  # what older taggers left: an ID3v1 tag at the end, beside the v2 tag
    assert song.read_bytes()[-128:][:8] == b"TAGTitle"
    journal = Journal(tmp_path / "journal.csv")

    Tagger(journal).write(build_plan([Wanted(str(song), 120.0, "A minor")], "classic"))
    assert song.read_bytes()[-128:][:8] == b"TAGTitle", "the ID3v1 tag was removed"
    Tagger(journal).undo("last")
    assert song.read_bytes()[-128:][:8] == b"TAGTitle"


def test_a_tag_with_two_values_is_previewed_with_both(tmp_path: Path) -> None:
    song = make(tmp_path / "m" / "two.flac")
    audio = FLAC(str(song))
    audio["INITIALKEY"] = ["Am", "C"]
    audio.save()
    [change] = build_plan([Wanted(str(song), None, "A minor")], "classic").files[0].changes
    assert (change.field, change.old_text, change.new_text) == ("key", "Am; C", "Am")


def id3v22_mp3(path: Path) -> Path:
    """An MP3 with an ID3v2.2 tag (three-letter frames), as iTunes once wrote: mutagen reads it, cannot write it."""
    make(path)
    ID3(str(path)).delete()
    body = b"TT2" + struct.pack(">I", 6)[1:] + b"\x00Title" + b"\x00" * 20
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    path.write_bytes(b"ID3\x02\x00\x00" + syncsafe + body + path.read_bytes())
    return path


def adts_aac(path: Path) -> Path:
    """A raw AAC stream (ADTS): audio the engine can analyse, in a container without tags."""
    import av

    y = samples(0.5, 22050)
    with av.open(str(path), "w", format="adts") as out:
        stream = out.add_stream("aac", rate=22050)
        stream.layout = "mono"
        for start in range(0, y.size, 1024):
            frame = av.AudioFrame.from_ndarray(y[None, start : start + 1024], format="flt", layout="mono")
            frame.sample_rate, frame.pts = 22050, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_each_file_that_cannot_be_tagged_says_why_and_nothing_is_written(tmp_path: Path) -> None:
    music = tmp_path / "m"
    music.mkdir()
    damaged = music / "damaged.mp3"
    damaged.write_bytes(b"not audio at all\n" * 64)
    unknown = music / "song.mka"
    unknown.write_bytes(b"\x1aE\xdf\xa3" + bytes(range(256)) * 2)  # Matroska's magic: mutagen has no reader
    v22, aac = id3v22_mp3(music / "v22.mp3"), adts_aac(music / "raw.aac")
    before = {p: p.read_bytes() for p in (damaged, unknown, v22, aac)}

    plan = build_plan([Wanted(str(p), 120.0, "A minor") for p in before], "classic")

    assert {Path(f.path).name: f.refusal for f in plan.files} == {
        "damaged.mp3": "tags unreadable: HeaderNotFoundError: can't sync to MPEG frame",
        "song.mka": "not an audio format with tags this program writes",
        "v22.mp3": "ID3v2.2 tag: writing would convert its version",
        "raw.aac": "AAC files are not tagged by this program",
    }
    report = Tagger(Journal(tmp_path / "journal.csv")).write(plan)
    assert {o.status for o in report.outcomes} == {"refused"}
    assert {p: p.read_bytes() for p in before} == before
