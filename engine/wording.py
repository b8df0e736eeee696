"""How the product words what a user reads, in the window and on the command line: "1 song", "2 songs"."""

from __future__ import annotations

import os


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 song``, ``2 songs``; ``many`` for a word whose plural is not ``word + "s"``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def readable(text: str) -> str:
    r"""``text`` with every byte of a non-UTF-8 file name shown as ``�``.

    A Linux file name in another encoding reaches Python with lone surrogates (``caf\udce9.flac``): Qt drops
    them without a word (``caf.flac``, a name that does not exist) and a strict encoder refuses them. Shown as
    ``caf�.flac`` a user sees that a character is there and unreadable. Display only: the path itself keeps
    its surrogates, which open the file.
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def file_name(path: str | os.PathLike[str]) -> str:
    """The last part of ``path`` (either slash), :func:`readable`: how the window names a song's file."""
    return readable(os.fspath(path).replace("\\", "/").rsplit("/", 1)[-1])
