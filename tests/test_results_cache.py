"""The results cache's key: a result is served only to the engine version that measured it (issue 26)."""

from __future__ import annotations

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
