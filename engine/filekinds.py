"""What a path names, asked before anything opens it as a song, and how to spell it to C code.

Opening a named pipe for reading waits until something writes into it, which may be never; reading a
character device such as ``/dev/zero`` never ends. A folder of music can hold either under an audio name
(a pipe left by a script, a link to a device), and the engine's own thread reads tags from every song it
finishes: such a file must be refused by its kind, from ``stat``, before anyone opens it.
"""

from __future__ import annotations

import os
import stat

_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def irregular_kind(path: str | os.PathLike[str]) -> str | None:
    """``None`` for a regular file (or a path that cannot be looked at: whoever opens it says why);
    otherwise what the path is, in words: ``"a named pipe"``, ``"a device"``, ``"a socket"``, ``"a folder"``."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return None
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def has_utf8_spelling(text: str) -> bool:
    """False for a Linux file name in another encoding (``caf\\xe9.flac``), which reaches Python with lone
    surrogates: SQLite, libsndfile and XML cannot take it as text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def native_name(path: str | os.PathLike[str]) -> str | bytes:
    """``path`` as text where it has a UTF-8 spelling, else the file system's own bytes, which open the file.

    Text stays text wherever it can (Windows opens text paths as wide characters; existing cache keys stay).
    """
    name = os.fspath(path)
    return name if has_utf8_spelling(name) else os.fsencode(name)
