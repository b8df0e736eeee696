"""How the product words a count a user reads, in the window and on the command line: "1 song", "2 songs"."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 song``, ``2 songs``; ``many`` for a word whose plural is not ``word + "s"``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
