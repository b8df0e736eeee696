"""``rewrite`` on its own: every refusal's exact words, the folder's fsync, the temporary copy's failures.

Written for the survivors of the mutation run on ``engine/tagging/safewrite.py`` (docs/reliability.md):
the batch tests checked that files were refused, rarely with which words, which is what a user reads.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

import pytest

from engine.tagging.formats import TagFile
from engine.tagging.safewrite import TEMP_PREFIX, Refused, identity, remove_leftovers, rewrite
from tests.tagfiles import make


def set_bpm(value: str):
    def edit(copy: Path) -> None:
        tag_file = TagFile(copy)
        tag_file.put("bpm", tag_file.raw_for("bpm", value))
        tag_file.save()

    return edit


def refusal(path, expected=None, edit=None) -> str:
    with pytest.raises(Refused) as refused:
        rewrite(path, expected, edit or set_bpm("99"))
    return str(refused.value)


def test_each_refusal_says_why_in_its_own_words(tmp_path: Path) -> None:
    song = make(tmp_path / "a.flac")
    assert refusal(tmp_path / "gone.flac") == "the file is gone (moved or deleted)"
    assert refusal(tmp_path / "a.flac" / "x.flac") == "cannot read the file: Not a directory"
    assert refusal(tmp_path) == "not a regular file"
    assert refusal(song, (1, 2)) == "the file changed since it was read (size or modification time differ)"
    os.chmod(song, 0o444)
    assert refusal(song) == "the file is read-only"
    os.chmod(song, 0o644)
    os.link(song, tmp_path / "b.flac")
    assert refusal(song) == "the file has 2 hard links; replacing it would split them"
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_a_file_changed_or_deleted_during_the_edit_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    song = make(tmp_path / "a.flac")

    def another_program_writes(copy: Path) -> None:
        set_bpm("99")(copy)
        with open(song, "ab") as original:
            original.write(b"\0")

    before = song.read_bytes()
    assert refusal(song, edit=another_program_writes) == "another program changed the file while its tags were written"
    assert song.read_bytes() == before + b"\0"

    def another_program_deletes(copy: Path) -> None:
        song.unlink()

    assert refusal(song, edit=another_program_deletes) == (
        "the file is gone (moved or deleted while its tags were written)"
    )
    assert not song.exists() and not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_no_temporary_copy_no_write_and_the_reason(tmp_path: Path, monkeypatch) -> None:
    song = make(tmp_path / "a.flac")
    before = song.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert refusal(song) == "cannot create a temporary copy: Permission denied"
    monkeypatch.undo()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert refusal(song) == "the file is on a read-only volume"
    monkeypatch.undo()

    def broken(copy: Path) -> None:
        raise OSError(errno.EIO, "Input/output error")

    assert refusal(song, edit=broken) == "the write failed: Input/output error"

    def folder_gone(copy: Path) -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    assert refusal(song, edit=folder_gone) == "the file is gone (moved or deleted)"
    assert song.read_bytes() == before and not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_an_edit_that_fails_otherwise_raises_its_own_error_and_leaves_no_copy(tmp_path: Path) -> None:
    song = make(tmp_path / "a.flac")

    def bug(copy: Path) -> None:
        raise ValueError("a bug in the tag code")

    with pytest.raises(ValueError, match="a bug in the tag code"):
        rewrite(song, None, bug)
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


def test_the_rename_is_made_durable_by_fsyncing_the_folder_unless_the_caller_does(tmp_path: Path, monkeypatch) -> None:
    song = make(tmp_path / "a.flac")
    folders: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            folders.append(st.st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    new = rewrite(song, identity(song), set_bpm("99"))
    assert folders == [tmp_path.stat().st_ino] and new == identity(song)
    rewrite(song, new, set_bpm("100"), sync_folder=False)
    assert folders == [tmp_path.stat().st_ino]


def test_without_statvfs_as_on_windows_files_are_still_written(tmp_path: Path, monkeypatch) -> None:
    song = make(tmp_path / "a.flac")
    monkeypatch.delattr(os, "statvfs")
    rewrite(song, None, set_bpm("99"))
    assert TagFile(song).get("bpm") is not None


def test_leftover_copies_are_removed_and_counted(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{TEMP_PREFIX}abc.flac").write_bytes(b"x")
    (tmp_path / "two" / f"{TEMP_PREFIX}def.mp3").write_bytes(b"x")
    (tmp_path / "two" / "keep.flac").write_bytes(b"x")
    assert remove_leftovers({tmp_path / "missing", tmp_path / "one", tmp_path / "two"}) == 3
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["keep.flac"]
