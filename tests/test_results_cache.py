"""The results cache's key: a result is served only to the engine version that measured it (issue 26)."""

from __future__ import annotations

import sys

import engine.run.cache as cache_module
from engine.results import SongResult, SongStatus
from engine.run.cache import ResultsCache
from engine.version import ENGINE_VERSION

FINGERPRINT = "settings-fingerprint"


def test_a_result_stored_by_another_engine_version_is_not_served(tmp_path, monkeypatch):
    """An older engine's answers (another tempo method, another key profile) must be measured again, never reused."""
    song = tmp_path / "song.wav"
    song.write_bytes(b"RIFF" + bytes(100))
    database = tmp_path / "results.sqlite3"
    monkeypatch.setattr(cache_module, "ENGINE_VERSION", "0.0.1")  # the database as engine 0.0.1 left it
    old = ResultsCache(database)
    old.put(SongResult(str(song), SongStatus.DONE, bpm=97.0, key="C major", duration_s=1.0), FINGERPRINT)
    assert old.get(song, FINGERPRINT).bpm == 97.0  # its own version finds it: the row is there
    old.close()
    monkeypatch.undo()

    current = ResultsCache(database)
    assert ENGINE_VERSION != "0.0.1"
    assert current.get(song, FINGERPRINT) is None
    assert current.identities(song) == []  # a tag write does not take the old engine's row for an analysis
    current.put(SongResult(str(song), SongStatus.DONE, bpm=120.0, key="A minor", duration_s=1.0), FINGERPRINT)
    assert current.get(song, FINGERPRINT).bpm == 120.0
    current.close()


def test_the_cache_lives_where_it_is_told_or_in_the_user_cache_folder(tmp_path, monkeypatch):
    told = tmp_path / "nested" / "twice" / "results.sqlite3"  # folders that do not exist yet
    cache = ResultsCache(told)
    assert cache.path == told and told.is_file()
    cache.close()
    if not sys.platform.startswith("linux"):
        return  # the default folder below is Linux's (XDG); elsewhere it would be the real user cache
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = ResultsCache()
    assert default.path == tmp_path / "xdg" / "CalibrationStudio" / "results.sqlite3" and default.path.is_file()
    default.close()
    assert not (tmp_path / "None").exists()


def test_a_cached_result_is_marked_cached_under_the_path_asked_for_and_readable_from_another_thread(tmp_path):
    import threading

    song = tmp_path / "song.wav"
    song.write_bytes(b"RIFF" + bytes(100))
    link = tmp_path / "link.wav"
    link.symlink_to(song)
    cache = ResultsCache(tmp_path / "results.sqlite3")
    cache.put(SongResult(str(song), SongStatus.DONE, bpm=97.0, duration_s=1.0), FINGERPRINT)
    found: list = []
    reader = threading.Thread(target=lambda: found.append(cache.get(link, FINGERPRINT)))  # the window's engine thread
    reader.start()
    reader.join()
    (result,) = found
    assert result.cached is True and result.path == str(link) and result.bpm == 97.0
    cache.close()
