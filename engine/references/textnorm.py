"""Normalise song titles and artist names so that two spellings of one song compare equal.

A playlist export says ``One More Time - Radio Edit`` by ``Daft Punk``; the file's tag says
``One More Time (Radio Edit)``; a third tool writes ``Café Del Mar (feat. X) [2011 Remaster]``.
Matching on the normalised form pairs them without a fuzzy guess.
"""

from __future__ import annotations

import re
import unicodedata

EDITION_WORDS = (
    "remastered",
    "remaster",
    "radio edit",
    "radio version",
    "single version",
    "album version",
    "original version",
    "live version",
    "mono version",
    "stereo version",
    "mono",
    "stereo",
    "live",
    "edit",
    "explicit",
    "clean",
    "deluxe edition",
    "deluxe",
    "bonus track",
    "version",
    "remastered version",
)
"""Words that name an edition of a song, not a different song (``remix`` is deliberately absent)."""

_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_FEAT = re.compile(r"\s(?:feat\.?|ft\.|featuring)\s.*$", re.IGNORECASE)
_DASH_SUFFIX = re.compile(r"\s[-–—]\s(.*)$")
_EDITION = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(EDITION_WORDS, key=len, reverse=True)) + r")\b")
_TRAILING_EDITION = re.compile(
    r"\s(?:\d{4}\s)?(?:remastered|remaster|radio edit|(?:single|album|live|mono|stereo|original|remastered) version)"
    r"(?:\s\d{4})?$"
)
"""Edition words that end a title without brackets or a dash: only unambiguous phrases, never "live" alone."""
_ARTIST_SPLIT = re.compile(r"\s*(?:,|;|/|&|\band\b|\bx\b|\bfeat\.?|\bft\.?|\bfeaturing\b|\bwith\b|\bvs\.?)\s*")


def fold(text: str) -> str:
    """Lower case without accents, ``&`` spelled ``and``, punctuation as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("&", " and ").replace("+", " and ")
    text = re.sub(r"['’`´]", "", text)  # "don't" == "dont"
    text = re.sub(r"[^\w\s]|_", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def normalise_title(title: str) -> str:
    """Title without bracketed text, ``feat.`` credits and edition words (remaster, radio edit, live version)."""
    text = unicodedata.normalize("NFKC", title or "").strip()
    previous = None
    while previous != text:  # nested brackets
        previous, text = text, _BRACKETS.sub(" ", text)
    suffix = _DASH_SUFFIX.search(text)
    if suffix and _EDITION.search(fold(suffix.group(1))):
        text = text[: suffix.start()]
    text = _FEAT.sub("", text)
    folded = fold(text)
    stripped = _TRAILING_EDITION.sub("", folded).strip()
    return stripped or folded  # a song called "Remastered" stays "remastered"


def normalise_artist(artist: str) -> str:
    """The whole credit, folded: ``Simon & Garfunkel`` == ``Simon and Garfunkel``."""
    return fold(unicodedata.normalize("NFKC", artist or ""))


def artist_names(artist: str) -> frozenset[str]:
    """Each credited artist, folded, so ``A feat. B`` and ``A, B`` share ``a``."""
    text = unicodedata.normalize("NFKC", artist or "")
    text = _BRACKETS.sub(" ", text)
    parts = (fold(p) for p in _ARTIST_SPLIT.split(text.lower()))
    return frozenset(p for p in parts if p)


def artists_agree(left: str, right: str) -> bool:
    """True when the two credits name at least one artist in common (or both are the same string)."""
    if normalise_artist(left) == normalise_artist(right):
        return True
    return bool(artist_names(left) & artist_names(right))


def split_stem(stem: str) -> tuple[str, str]:
    """``"Artist - Title"`` → (artist, title); a stem without the separator is all title.

    Only used to match songs that carry no tags; it never feeds an analysis answer.
    """
    parts = re.split(r"\s+[-–—]\s+", stem, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        artist, title = parts
        if re.fullmatch(r"\d{1,3}", artist.strip()):  # "01 - Title": a track number, not an artist
            return "", title.strip()
        return artist.strip(), title.strip()
    return "", re.sub(r"^\d{1,3}[.\s_-]+", "", stem).strip() or stem
