import os

from engine.run.discovery import discover


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_recursive_scan_natural_order_and_counts(tmp_path):
    for name in ["track 10.mp3", "track 2.flac", "Track 1.WAV", "cover.jpg", "notes.txt", ".hidden.mp3"]:
        touch(tmp_path / "album" / name)
    touch(tmp_path / "album" / "disc 2" / "a.ogg")
    touch(tmp_path / "album" / ".git" / "b.mp3")
    found = discover([tmp_path])
    names = [p.name for p in found.songs]
    assert names == ["a.ogg", "Track 1.WAV", "track 2.flac", "track 10.mp3"]  # "disc 2/" sorts before "track"
    assert found.skipped_non_audio == 2
    assert found.skipped_hidden == 2  # the hidden file and the hidden folder


def test_every_supported_extension(tmp_path):
    exts = ["wav", "flac", "aiff", "aif", "ogg", "oga", "opus", "mp3", "m4a", "mp4", "aac", "caf"]
    for ext in exts:
        touch(tmp_path / f"song.{ext}")
    assert sorted(p.suffix[1:] for p in discover([tmp_path]).songs) == sorted(exts)


def test_duplicates_removed_by_resolved_path(tmp_path):
    song = touch(tmp_path / "a" / "song.mp3")
    os.symlink(song, tmp_path / "a" / "link.mp3")
    found = discover([tmp_path / "a", song, tmp_path / "a" / ".." / "a"])
    assert len(found.songs) == 1
    assert found.duplicates >= 2


def test_symlink_loop_is_safe(tmp_path):
    touch(tmp_path / "root" / "sub" / "song.wav")
    os.symlink(tmp_path / "root", tmp_path / "root" / "sub" / "loop")
    found = discover([tmp_path / "root"])
    assert [p.name for p in found.songs] == ["song.wav"]


def test_folder_named_like_a_song_is_scanned_not_queued(tmp_path):
    touch(tmp_path / "x.mp3" / "inner.flac")
    assert [p.name for p in discover([tmp_path]).songs] == ["inner.flac"]


def test_missing_paths_reported_and_exclude_respected(tmp_path):
    song = touch(tmp_path / "song.mp3")
    found = discover([tmp_path / "nope", tmp_path], exclude=[song])
    assert found.missing == [tmp_path / "nope"]
    assert found.songs == [] and found.duplicates == 1


def test_argument_order_kept(tmp_path):
    b = touch(tmp_path / "b" / "1.wav")
    a = touch(tmp_path / "a" / "1.wav")
    assert discover([tmp_path / "b", tmp_path / "a"]).songs == [b, a]
