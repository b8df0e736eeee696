"""Results cache: one SQLite row per finished song, committed the moment the song finishes.

Keyed by file identity (resolved path, size, mtime in ns), engine version and the analysis
settings fingerprint, so an edited file or changed settings never reuse an old result.
Content hashing was measured as too costly for its benefit (``docs/benchmarks.md``).

A row is the song's :meth:`~engine.results.SongResult.to_json`: its values and its chunks (span, status,
tempo, key, timing; not their arrays), so a song read back shows the same chunk bars and tempo curve in
the inspector, and the same ``chunks.csv`` rows, as when it was analysed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

from engine.filekinds import native_name
from engine.results import SongResult
from engine.version import ENGINE_VERSION

SCHEMA = """
CREATE TABLE IF NOT EXISTS songs (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    engine_version TEXT NOT NULL,
    settings TEXT NOT NULL,
    result TEXT NOT NULL,
    stored_at REAL NOT NULL DEFAULT (julianday('now')),
    PRIMARY KEY (path, size, mtime_ns, engine_version, settings)
)
"""


def default_cache_path() -> Path:
    """The results database: in the user cache folder, or its private fallback (:mod:`engine.cachedirs`)."""
    from engine.cachedirs import cache_folder

    return cache_folder("") / "results.sqlite3"


def path_key(path: str | os.PathLike[str]) -> str | bytes:
    """The resolved path as the database keys it: text, or the file system's bytes where it is not text.

    SQLite cannot store a Linux file name in another encoding (``caf\\xe9.flac``) as text, so that path is
    keyed by its bytes (a BLOB never equals a TEXT value, so it cannot meet another song's key); every other
    path stays the text it has always been, so existing caches keep their rows.
    """
    return native_name(Path(path).resolve())


def file_identity(path: str | os.PathLike[str]) -> tuple[str | bytes, int, int] | None:
    try:
        stat = Path(path).resolve().stat()
    except OSError:
        return None
    return path_key(path), stat.st_size, stat.st_mtime_ns


class ResultsCache:
    """Thread-safe; every write is its own committed transaction (WAL), so a crash loses nothing finished."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)
        self._db.commit()

    def get(self, path: str | os.PathLike[str], settings_fingerprint: str) -> SongResult | None:
        identity = file_identity(path)
        if identity is None:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT result FROM songs WHERE path=? AND size=? AND mtime_ns=? AND engine_version=? AND settings=?",
                (*identity, ENGINE_VERSION, settings_fingerprint),
            ).fetchone()
        if row is None:
            return None
        try:
            result = SongResult.from_json(json.loads(row[0]))
        except (ValueError, TypeError, KeyError):
            return None  # written by an incompatible build: analyse again
        result.path = str(path)
        result.cached = True
        return result

    def put(self, result: SongResult, settings_fingerprint: str) -> None:
        identity = file_identity(result.path)
        if identity is None:
            return
        payload = json.dumps(result.to_json())
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO songs (path, size, mtime_ns, engine_version, settings, result) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (*identity, ENGINE_VERSION, settings_fingerprint, payload),
            )

    # ---- used by tag writing (engine/tagging): a tag write changes mtime/size, never the audio ----
    def identities(self, path: str | os.PathLike[str]) -> list[tuple[int, int]]:
        """(size, mtime_ns) of every cached analysis of ``path`` by this engine version, any settings."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT size, mtime_ns FROM songs WHERE path=? AND engine_version=?",
                (path_key(path), ENGINE_VERSION),
            ).fetchall()
        return [(int(size), int(mtime)) for size, mtime in rows]

    def rekey(self, path: str | os.PathLike[str], old: tuple[int, int], new: tuple[int, int]) -> int:
        """Move the cached results of ``path`` from identity ``old`` to ``new``; how many rows moved.

        Only for a change known to leave the audio alone (a tag write), so the next run reuses them.
        """
        with self._lock, self._db:
            return self._db.execute(
                "UPDATE OR REPLACE songs SET size=?, mtime_ns=? WHERE path=? AND size=? AND mtime_ns=?",
                (*new, path_key(path), *old),
            ).rowcount

    def clear(self) -> int:
        with self._lock, self._db:
            return self._db.execute("DELETE FROM songs").rowcount

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM songs").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class SessionCache:
    """The results cache as a run sees it: a cache that fails is reported once and switched off.

    A cache that cannot be opened, read or written (a full disk, a locked or damaged file) must
    never stop a run: analysis works without it, only re-runs are slower. ``None`` as the path
    means the default location; ``enabled=False`` (``--no-cache``) never opens one.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, enabled: bool = True):
        self._cache: ResultsCache | None = None
        if enabled:
            try:
                self._cache = ResultsCache(path)
            except (OSError, sqlite3.Error) as exc:
                _report(f"results are not cached in this session: the cache cannot be opened ({exc})")

    def get(self, path: str, settings_fingerprint: str) -> SongResult | None:
        if self._cache is None:
            return None
        try:
            return self._cache.get(path, settings_fingerprint)
        except (OSError, sqlite3.Error) as exc:
            self._drop(f"the results cache cannot be read ({exc}); caching is off for this session")
            return None

    def put(self, result: SongResult, settings_fingerprint: str) -> None:
        if self._cache is None:
            return
        try:
            self._cache.put(result, settings_fingerprint)
        except (OSError, sqlite3.Error) as exc:
            self._drop(f"the results cache cannot be written ({exc}); caching is off for this session")

    def _drop(self, message: str) -> None:
        _report(message)
        self.close()

    def close(self) -> None:
        """Close the database; later gets miss and puts do nothing. Safe to call twice."""
        cache, self._cache = self._cache, None
        if cache is not None:
            try:
                cache.close()
            except (OSError, sqlite3.Error):
                pass


def _report(message: str) -> None:
    from engine.cachedirs import report

    report(message)
