"""Tag writing on real files of every format: round trip, everything else kept, audio untouched, undo, refusals.

Files are made by ``tests/tagfiles.py`` (libsndfile and FFmpeg encoders, tags added with mutagen);
expected tag values are written out by hand here, and read back with the product's independent tag
*reader* (``engine.references.tags``) or with mutagen directly, never with the writer under test.
"""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine.csv_io import write_csv
from engine.frontends.cli import main as cli_main
from engine.references.keynotation import parse_key
from engine.references.tags import read_tags
from engine.tagging.batch import Tagger
from engine.tagging.journal import Journal
from engine.tagging.notation import format_bpm, format_key
from engine.tagging.tag_plan import Wanted, build_plan
from tests.tagfiles import FORMATS, audio_digest, journal_held_elsewhere, make, other_tags

# What each format must hold after writing bpm 127.6 and key "F# minor" (classic notation): hand-written.
EXPECTED_BPM = {
    "mp3": "128",
    "m4a": "128",
    "aiff": "128",
    "wav": "128",
    "flac": "127.6",
    "ogg": "127.6",
    "opus": "127.6",
}


def results_csv(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "results.csv", ["path", "status", "bpm", "key"], rows)
    return folder


def tag(*args: str) -> int:
    return cli_main(["tag", *map(str, args)])


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tag-journal.csv"


def test_key_notations_match_the_reference_parser_and_the_wheels() -> None:
    from engine.analysis.keys import KEY_LABELS

    for notation in ("classic", "camelot", "openkey"):
        assert [parse_key(format_key(k, notation)) for k in KEY_LABELS] == list(KEY_LABELS)
    assert [format_key(k, "camelot") for k in ("A minor", "C major", "Eb major", "F# minor")] == [
        "8A",
        "8B",
        "5B",
        "11A",
    ]
    assert [format_key(k, "openkey") for k in ("A minor", "C major", "Eb major", "F# minor")] == [
        "1m",
        "1d",
        "10d",
        "4m",
    ]
    assert [format_key(k, "classic") for k in ("A minor", "Bb major")] == ["Am", "Bb"]
    assert (format_bpm(126.5, True), format_bpm(127.6, False), format_bpm(128.0, False)) == ("127", "127.6", "128")


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_keeps_everything_else_and_undo_restores(fmt: str, tmp_path: Path, journal_path: Path) -> None:
    present = make(tmp_path / "music" / f"with_key.{fmt}", key="Dm", seed=100.0, id3v=3)
    absent = make(tmp_path / "music" / f"no_key.{fmt}", seed=130.0)
    before = {p: (audio_digest(p), other_tags(p), read_tags(p), p.stat().st_size) for p in (present, absent)}
    id3_before = {p: _id3_version(p) for p in (present, absent)}
    results = results_csv(
        tmp_path / "results",
        [{"path": str(p), "status": "done", "bpm": 127.6, "key": "F# minor"} for p in (present, absent)],
    )
    assert tag(results, "--yes", "--journal", journal_path, "--no-cache") == 0

    for p in (present, absent):
        tags = read_tags(p)
        assert (tags.bpm, tags.key) == (EXPECTED_BPM[fmt], "F#m"), p.name
        assert _raw_values(p) == {"bpm": [EXPECTED_BPM[fmt]], "key": ["F#m"]}, "not stored exactly as specified"
        assert tags.title == "Title ü" and tags.artist == "Artist"
        assert other_tags(p) == before[p][1], "another tag or the cover art changed"
        assert audio_digest(p) == before[p][0], "the audio packets or the decoded PCM changed"
        assert _id3_version(p) == id3_before[p], "the ID3 version was converted"
        if fmt == "mp3":
            assert p.read_bytes()[-128:][:3] != b"TAG", "an ID3v1 tag was added"
        if fmt in ("mp3", "aiff", "wav", "flac"):
            assert p.stat().st_size == before[p][3], "the padding was not reused"
    assert not list((tmp_path / "music").glob(".cstag-*")), "a temporary copy was left behind"

    assert tag("--undo", "last", "--journal", journal_path, "--no-cache") == 0
    assert (read_tags(present).bpm, read_tags(present).key) == ("", "Dm")  # present key back, absent BPM absent
    assert (read_tags(absent).bpm, read_tags(absent).key) == ("", "")
    for p in (present, absent):
        assert other_tags(p) == before[p][1]
        assert audio_digest(p) == before[p][0]
        assert _raw_values(p) == {"bpm": None, "key": ["Dm"] if p is present else None}, "not restored exactly"


def _id3_version(path: Path):
    """The ID3v2 version on disk for MP3, AIFF and WAV (their ID3 chunk); None for other formats."""
    import mutagen

    tags = mutagen.File(str(path)).tags
    return getattr(tags, "version", None) if hasattr(tags, "getall") else None


def _raw_values(path: Path) -> dict[str, list[str] | None]:
    """bpm/key exactly as stored (unstripped; None = no frame/atom/comment at all), read with mutagen directly."""
    import mutagen

    tags = mutagen.File(str(path)).tags
    names = {"bpm": ("TBPM", "tmpo", "bpm"), "key": ("TKEY", "----:com.apple.iTunes:initialkey", "initialkey")}
    found: dict[str, list[str] | None] = {}
    for field, (id3, mp4, vorbis) in names.items():
        if hasattr(tags, "getall"):
            frames = tags.getall(id3)
            found[field] = [str(t) for f in frames for t in f.text] if frames else None
        elif mp4 in tags or (field == "bpm" and "tmpo" in tags):
            found[field] = [x.decode() if isinstance(x, bytes) else str(x) for x in tags[mp4]]
        else:
            found[field] = list(tags[vorbis]) if vorbis in tags else None
    return found


def test_preview_hides_unchanged_and_dry_run_writes_nothing(tmp_path: Path, journal_path: Path, capsys) -> None:
    done = make(tmp_path / "m" / "done.flac")
    todo = make(tmp_path / "m" / "todo.flac")
    from mutagen.flac import FLAC

    audio = FLAC(str(done))
    audio["BPM"], audio["INITIALKEY"] = ["90"], ["Am"]
    audio.save()
    results = results_csv(
        tmp_path / "r",
        [
            {"path": str(done), "status": "done", "bpm": 90, "key": "A minor"},
            {"path": str(todo), "status": "done", "bpm": 90, "key": "A minor"},
        ],
    )
    raw = todo.read_bytes()
    assert tag(results, "--dry-run", "--journal", journal_path, "--no-cache") == 0
    out = capsys.readouterr().out
    assert "todo.flac" in out and "(none) → 90" in out and "(none) → Am" in out
    assert "done.flac" not in out and "1 file already up to date" in out
    assert todo.read_bytes() == raw and not journal_path.exists()


def test_notation_fields_and_only_empty(tmp_path: Path, journal_path: Path) -> None:
    song = make(tmp_path / "m" / "a.mp3", key="Dm")
    results = results_csv(tmp_path / "r", [{"path": str(song), "status": "done", "bpm": 100.4, "key": "A minor"}])
    assert tag(results, "--yes", "--only-empty", "--notation", "camelot", "--journal", journal_path, "--no-cache") == 0
    assert (read_tags(song).bpm, read_tags(song).key) == ("100", "Dm")  # key was not empty: kept
    assert (
        tag(results, "--yes", "--fields", "key", "--notation", "openkey", "--journal", journal_path, "--no-cache") == 0
    )
    assert (read_tags(song).bpm, read_tags(song).key) == ("100", "1m")


def test_refusals_are_per_file_and_the_rest_is_written(tmp_path: Path, journal_path: Path, capsys) -> None:
    music = tmp_path / "m"
    good, readonly, changed, gone = (make(music / f"{n}.wav") for n in ("good", "readonly", "changed", "gone"))
    results = results_csv(
        tmp_path / "r",
        [{"path": str(p), "status": "done", "bpm": 120, "key": "C major"} for p in (good, readonly, changed, gone)],
    )
    os.chmod(readonly, 0o444)
    later = (tmp_path / "r" / "results.csv").stat().st_mtime_ns + 5_000_000_000
    os.utime(changed, ns=(later, later))  # edited after the analysis
    gone.unlink()
    assert tag(results, "--yes", "--journal", journal_path, "--no-cache") == 1
    err = capsys.readouterr().out
    assert "readonly.wav" in err and "the file is read-only" in err
    assert "changed.wav" in err and "changed since it was analysed" in err
    assert "gone.wav" in err and "the file is gone" in err
    assert read_tags(good).bpm == "120"
    assert read_tags(readonly).bpm == "" and stat.S_IMODE(readonly.stat().st_mode) == 0o444
    assert read_tags(changed).bpm == ""


def test_a_file_changed_since_analysis_is_refused_by_its_cache_identity(tmp_path: Path, journal_path: Path) -> None:
    from engine.results import SongResult, SongStatus
    from engine.run.cache import ResultsCache

    song, other = make(tmp_path / "m" / "a.ogg"), make(tmp_path / "m" / "b.ogg")
    cache_file = tmp_path / "cache.sqlite3"
    cache = ResultsCache(cache_file)
    for p in (song, other):
        cache.put(SongResult(path=str(p), status=SongStatus.DONE, bpm=120.0, key="C major"), "fp")
    with open(song, "r+b") as handle:  # same size, same mtime would be a miracle: append one byte
        handle.seek(0, os.SEEK_END)
        handle.write(b"\0")
    results = results_csv(
        tmp_path / "r", [{"path": str(p), "status": "done", "bpm": 120, "key": "C major"} for p in (song, other)]
    )
    assert tag(results, "--yes", "--journal", journal_path, "--cache-file", cache_file) == 1
    assert read_tags(song).bpm == "" and read_tags(other).bpm == "120"
    # the cached analysis of the written file follows it to its new identity: the next run reuses it
    assert cache.get(other, "fp") is not None
    assert cache.get(song, "fp") is None


def test_a_file_deleted_while_its_copy_is_edited_is_not_recreated(tmp_path: Path) -> None:
    from engine.tagging.formats import TagFile
    from engine.tagging.safewrite import Refused, rewrite

    song = make(tmp_path / "m" / "a.aiff")

    def edit(copy: Path) -> None:
        song.unlink()  # another program removes the original during the edit
        tag_file = TagFile(copy)
        tag_file.put("bpm", tag_file.raw_for("bpm", "99"))
        tag_file.save()

    with pytest.raises(Refused, match="the file is gone"):
        rewrite(song, None, edit)
    assert not song.exists() and not list(song.parent.glob(".cstag-*"))


def test_a_file_that_vanishes_mid_run_is_refused(tmp_path: Path, journal_path: Path) -> None:
    songs = [make(tmp_path / "m" / f"{i}.flac") for i in range(3)]
    plan = build_plan([Wanted(str(p), 99.0, "G major") for p in songs], "classic")
    tagger = Tagger(Journal(journal_path))

    def progress(index, total, outcome) -> None:
        if index == 0:
            songs[1].unlink()  # another program deletes the next file while the batch runs

    report = tagger.write(plan, progress=progress)
    assert [o.status for o in report.outcomes] == ["written", "refused", "written"]
    assert "the file is gone" in report.outcomes[1].reason
    assert not songs[1].exists(), "the vanished file was recreated"


@pytest.mark.skipif(os.geteuid() != 0 if hasattr(os, "geteuid") else True, reason="mounting needs root")
def test_a_read_only_volume_is_refused(tmp_path: Path, journal_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        song = make(mount / "a.mp3")
        outside = make(tmp_path / "m" / "b.mp3")
        results = results_csv(
            tmp_path / "r", [{"path": str(p), "status": "done", "bpm": 120, "key": "C major"} for p in (song, outside)]
        )
        assert subprocess.run(["mount", "-o", "remount,ro", str(mount)]).returncode == 0
        plan = build_plan([Wanted(str(p), 120.0, "C major") for p in (song, outside)])
        assert [f.refusal for f in plan.files] == ["the file is on a read-only volume", ""]
        report = Tagger(Journal(journal_path)).write(plan)
        assert [o.status for o in report.outcomes] == ["written", "refused"]
        assert read_tags(outside).bpm == "120" and read_tags(song).bpm == ""
        assert results.exists()
    finally:
        subprocess.run(["umount", str(mount)])


def test_journal_is_readable_csv_with_batch_and_old_values_first(tmp_path: Path, journal_path: Path) -> None:
    song = make(tmp_path / "m" / "a.m4a", key="Ebm")
    results = results_csv(tmp_path / "r", [{"path": str(song), "status": "done", "bpm": 80, "key": "E minor"}])
    assert tag(results, "--yes", "--journal", journal_path, "--no-cache") == 0
    with open(journal_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    actions = [r["action"] for r in rows]
    assert actions == ["plan", "plan", "begin", "written", "end"]  # begin commits the plan rows
    assert len({r["batch"] for r in rows}) == 1 and all(r["time"] for r in rows)
    plan_rows = {r["field"]: r for r in rows if r["action"] == "plan"}
    assert (plan_rows["key"]["old"], plan_rows["key"]["new"]) == ("Ebm", "Em")
    assert (plan_rows["bpm"]["old"], plan_rows["bpm"]["old_raw"], plan_rows["bpm"]["new"]) == ("", "null", "80")


def test_an_interrupted_batch_blocks_new_writes_until_finished(tmp_path: Path, journal_path: Path) -> None:
    songs = [make(tmp_path / "m" / f"{i}.mp3") for i in range(2)]
    journal = Journal(journal_path)
    plan = build_plan([Wanted(str(p), 100.0, "C major") for p in songs])
    # a batch killed after its journal rows and before any file: the old values are on record
    from engine.tagging.journal import PlannedField

    journal.begin(
        "b1",
        {"kind": "write"},
        [PlannedField(f.path, c.field, c.old, c.new, *f.identity) for f in plan.files for c in f.changes],
    )
    results = results_csv(
        tmp_path / "r", [{"path": str(p), "status": "done", "bpm": 90, "key": "D major"} for p in songs]
    )
    assert tag(results, "--yes", "--journal", journal_path, "--no-cache") == 1
    assert read_tags(songs[0]).bpm == ""
    assert tag("--finish", "b1", "--journal", journal_path, "--no-cache") == 0
    assert [read_tags(p).bpm for p in songs] == ["100", "100"]
    assert not journal.interrupted()


def test_a_batch_running_in_another_process_is_neither_taken_for_interrupted_nor_written_over(
    tmp_path: Path, journal_path: Path, capsys
) -> None:
    """The window and a ``tag`` command share one journal: while one runs a batch, the other must not
    offer to undo it as "interrupted", nor write the same files; once its holder dies, it is interrupted."""
    from engine.tagging.journal import JournalBusy, PlannedField

    songs = [make(tmp_path / "m" / f"{i}.mp3") for i in range(2)]
    journal = Journal(journal_path)
    plan = build_plan([Wanted(str(p), 100.0, "C major") for p in songs])
    planned = [PlannedField(f.path, c.field, c.old, c.new, *f.identity) for f in plan.files for c in f.changes]
    journal.begin("running", {"kind": "write"}, planned)  # the other process's batch, begun and not ended
    with journal_held_elsewhere(journal_path):
        tagger = Tagger(journal)
        assert tagger.interrupted() == []  # running, not interrupted: nothing to finish or undo
        with pytest.raises(JournalBusy, match="another tag write is running"):
            tagger.write(plan)
        with pytest.raises(JournalBusy):
            tagger.undo("running")
        results = results_csv(
            tmp_path / "r", [{"path": str(p), "status": "done", "bpm": 90, "key": "D major"} for p in songs]
        )
        assert tag(results, "--yes", "--journal", journal_path, "--no-cache") == 1
        assert "another tag write is running" in capsys.readouterr().err
        assert [read_tags(p).bpm for p in songs] == ["", ""]
    # killed without releasing anything: the OS dropped the lock, and its batch is now interrupted
    assert [b.batch for b in Tagger(journal).interrupted()] == ["running"]
    assert tag("--finish", "running", "--journal", journal_path, "--no-cache") == 0
    assert [read_tags(p).bpm for p in songs] == ["100", "100"]


def test_a_tag_value_like_a_formula_is_journaled_as_text_and_restored_exactly(
    tmp_path: Path, journal_path: Path
) -> None:
    song = make(tmp_path / "m" / "a.flac", key="=HYPERLINK(1)")
    results = results_csv(tmp_path / "r", [{"path": str(song), "status": "done", "bpm": 70, "key": "C major"}])
    assert tag(results, "--yes", "--journal", journal_path, "--no-cache") == 0
    with open(journal_path, newline="", encoding="utf-8") as handle:
        olds = [r["old"] for r in csv.DictReader(handle) if r["action"] == "plan" and r["field"] == "key"]
    assert olds == ["'=HYPERLINK(1)"]  # a spreadsheet shows it as text
    assert tag("--undo", "last", "--journal", journal_path, "--no-cache") == 0
    assert _raw_values(song)["key"] == ["=HYPERLINK(1)"]


XATTR_NAME = "com.apple.metadata:kMDItemComment" if sys.platform == "darwin" else "user.calibration-studio-test"
"""An extended attribute a user's file may carry: a Spotlight comment on macOS, a user attribute on Linux."""


def set_xattr(path: Path, value: str) -> bool:
    """Set :data:`XATTR_NAME` on ``path``; False where this system has no way to (then nothing is checked)."""
    if sys.platform == "darwin":  # Python has no os.setxattr there; macOS ships the xattr tool
        subprocess.run(["xattr", "-w", XATTR_NAME, value, str(path)], check=True)
        return True
    if hasattr(os, "setxattr"):
        os.setxattr(path, XATTR_NAME, value.encode())
        return True
    return False


def get_xattr(path: Path) -> str | None:
    if sys.platform == "darwin":
        done = subprocess.run(["xattr", "-p", XATTR_NAME, str(path)], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None
    try:
        return os.getxattr(path, XATTR_NAME).decode()
    except OSError:
        return None


def test_permissions_owner_and_symlinks_are_kept_and_hard_links_refused(tmp_path: Path, journal_path: Path) -> None:
    music = tmp_path / "m"
    owned, linked, hard = make(music / "owned.mp3"), make(music / "target.flac"), make(music / "hard.wav")
    os.chmod(owned, 0o640)
    if os.geteuid() == 0:
        os.chown(owned, 1234, 2345)  # another user's file, writable by root
    link = music / "link.flac"
    link.symlink_to(linked)
    os.link(hard, music / "hard-2.wav")
    has_xattr = set_xattr(owned, "kept")
    before = owned.stat()
    songs = (owned, link, hard)
    results = results_csv(
        tmp_path / "r", [{"path": str(p), "status": "done", "bpm": 75, "key": "A minor"} for p in songs]
    )
    assert tag(results, "--yes", "--journal", journal_path, "--no-cache") == 1
    after = owned.stat()
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o640, before.st_uid, before.st_gid)
    assert read_tags(owned).bpm == "75"
    if has_xattr:
        assert get_xattr(owned) == "kept", "extended attributes (Finder tags, comments) were dropped"
    assert link.is_symlink() and read_tags(linked).bpm == "75", "the link was replaced instead of its target"
    assert read_tags(hard).bpm == "" and (music / "hard-2.wav").stat().st_nlink == 2


def test_tags_changed_by_another_program_after_the_preview_are_not_overwritten(tmp_path: Path, journal_path) -> None:
    from mutagen.oggvorbis import OggVorbis

    song = make(tmp_path / "m" / "a.ogg")
    plan = build_plan([Wanted(str(song), 99.0, "G major")])
    other = OggVorbis(str(song))
    other["BPM"] = ["100"]  # the user's DJ software writes while the preview is open
    other.save()
    report = Tagger(Journal(journal_path)).write(plan)
    assert [o.status for o in report.outcomes] == ["refused"]
    assert "changed since it was read" in report.outcomes[0].reason
    assert (read_tags(song).bpm, read_tags(song).key) == ("100", "")


def test_calibrated_values_are_written_on_request(tmp_path: Path, journal_path: Path, capsys) -> None:
    song = make(tmp_path / "m" / "a.opus")
    folder = tmp_path / "r"
    folder.mkdir()
    columns = ["path", "status", "bpm", "key", "bpm_calibrated", "key_calibrated"]
    write_csv(
        folder / "results.csv",
        columns,
        [dict(zip(columns, [str(song), "done", 64.1, "C major", 128.2, "A minor"], strict=True))],
    )
    assert tag(folder, "--calibrated", "--yes", "--journal", journal_path, "--no-cache") == 0
    assert (read_tags(song).bpm, read_tags(song).key) == ("128.2", "Am")
    assert tag(folder, "--finish", "last", "--journal", journal_path, "--no-cache") == 2
    plain = results_csv(tmp_path / "plain", [{"path": str(song), "status": "done", "bpm": 64.1, "key": "C major"}])
    assert tag(plain, "--calibrated", "--dry-run", "--journal", journal_path, "--no-cache") == 2
    assert "has no calibrated values" in capsys.readouterr().err


def test_a_file_without_tags_gets_id3v23_and_undo_leaves_no_tag_frames(tmp_path: Path, journal_path: Path) -> None:
    from tests.audio import write
    from tests.tagfiles import samples

    bare = write(tmp_path / "m" / "bare.wav", samples(1.0, 22050))
    digest = audio_digest(bare)
    results = results_csv(tmp_path / "r", [{"path": str(bare), "status": "done", "bpm": 90, "key": "D major"}])
    assert tag(results, "--yes", "--journal", journal_path, "--no-cache") == 0
    assert _id3_version(bare) == (2, 3, 0)
    assert (read_tags(bare).bpm, read_tags(bare).key) == ("90", "D")
    assert tag("--undo", "last", "--journal", journal_path, "--no-cache") == 0
    assert _raw_values(bare) == {"bpm": None, "key": None}
    assert audio_digest(bare) == digest


def test_the_tagged_copy_is_on_disk_before_it_replaces_the_file_and_a_failed_fsync_refuses_it(
    tmp_path: Path, journal_path: Path, monkeypatch
) -> None:
    """The copy is fsync'ed after its edit and before the rename; an error that only fsync reports (a full disk
    under delayed allocation, an I/O error) refuses that file, which stays as it was, and the batch goes on.

    ``os.fsync`` is wrapped to watch it (the real call still runs): without that fsync, a power cut after the
    rename could leave the new name on blocks never written, and a full disk would rename a short file in."""
    songs = [make(tmp_path / "m" / f"{n}.flac", key="Dm") for n in ("a", "b", "c")]
    before = {p: p.read_bytes() for p in songs}
    plan = build_plan([Wanted(str(p), 99.0, "G major") for p in songs], "classic")
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def copy_behind(fd: int) -> str | None:
        """The temporary tag copy ``fd`` is open on, if it is one."""
        inode = os.fstat(fd).st_ino
        return next((c.name for c in (tmp_path / "m").glob(".cstag-*") if c.stat().st_ino == inode), None)

    def fsync(fd: int) -> None:
        copy = copy_behind(fd)
        if copy is not None:
            events.append(("fsync", copy))
            if len([e for e in events if e[0] == "fsync"]) == 2:  # the second file's copy: the disk is full
                raise OSError(28, "No space left on device")
        real_fsync(fd)

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if Path(source).name.startswith(".cstag-"):
            events.append(("rename", Path(source).name))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    report = Tagger(Journal(journal_path)).write(plan)
    assert [o.status for o in report.outcomes] == ["written", "refused", "written"]
    assert report.outcomes[1].reason == "no space left for the temporary copy"
    assert [kind for kind, _ in events] == ["fsync", "rename", "fsync", "fsync", "rename"]
    assert events[0][1] == events[1][1] and events[3][1] == events[4][1]  # each copy fsync'ed, then renamed
    assert songs[1].read_bytes() == before[songs[1]]
    assert [read_tags(p).bpm for p in songs] == ["99", "", "99"]
    assert not list((tmp_path / "m").glob(".cstag-*"))
