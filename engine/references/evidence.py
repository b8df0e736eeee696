"""How well one song fits one reference row, and why not when it does not.

Text first: the base titles (rapidfuzz token-sort ratio on folded text), the versions (a
remix pairs only with the same remix: the kind and the remixer must agree), the artists
(``feat.`` credits count wherever they sit; lists split on ``,`` ``&`` ``and`` ``x`` ``with``
``vs``). Then duration, which playlist exports and DJ libraries carry: a row far from the
song's length is not that song, except for a preview clip (≤ 90 s cut of a longer track) or
an edition that changes the length (radio edit, single version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from engine.references.textnorm import TitleParts, Version, artist_names, parse_title

PREVIEW_MAX_S = 90.0
"""Store and streaming previews are 30–90 s cuts; a row or song this short says nothing about the other's length."""
DURATION_SLACK_S = 4.0
"""Two encodings of one recording differ by a few seconds (silence, decoder padding, rounding in exports)."""
DURATION_FAR = (20.0, 0.10)
"""Farther apart than max(20 s, 10 %) is another recording (unless an edition word explains it)."""
ARTIST_MIN = 0.80
"""Artist similarity below this rejects the pair outright (``Daft Punk`` vs ``Justice``)."""
TITLE_MIN = 0.85
"""A fuzzy pair needs base titles at least this similar on their own, whatever the artist score adds."""
REMIXER_MIN = 85.0
"""Two remixer names must be this similar (0–100): two remixes of one song are two songs."""


@dataclass(frozen=True)
class Side:
    """Title, artist and duration of one song or one row, parsed once."""

    title: str
    artist: str
    duration_s: float | None
    parts: TitleParts
    artists: frozenset[str]

    @classmethod
    def of(cls, title: str, artist: str, duration_s: float | None) -> Side:
        parts = parse_title(title)
        return cls(title, artist, duration_s, parts, artist_names(artist) | parts.featured)


@dataclass(frozen=True)
class Evidence:
    """``score`` 0–1 when the pair is possible, with ``reason`` set when it is ruled out; ``exact`` marks a
    title (and artist, when both have one) that agree after normalisation."""

    score: float
    reason: str = ""
    exact: bool = False
    with_artist: bool = False


def compare(song: Side, row: Side) -> Evidence:
    """Score ``song`` against ``row``; a ruled-out pair keeps its text score so candidates can be ranked."""
    title = fuzz.token_sort_ratio(song.parts.base, row.parts.base) / 100.0
    versions_reason, version_penalty = _versions(song.parts.versions, row.parts.versions)
    both_artists = bool(song.artists and row.artists)
    if both_artists:
        shared = bool(song.artists & row.artists)
        artist = 1.0 if shared else _artist_similarity(song.artists, row.artists)
        score = 0.7 * title + 0.3 * artist
    else:
        artist = None
        score = title * 0.97  # a title alone is weaker evidence than title and artist
    score -= version_penalty
    duration_reason, duration_bonus = _duration(song, row)
    score = max(0.0, min(1.0, score + duration_bonus))
    exact = song.parts.base == row.parts.base and not versions_reason and version_penalty == 0
    if versions_reason:
        return Evidence(score, versions_reason)
    if _numbers(song.parts.base) != _numbers(row.parts.base):
        return Evidence(score, f'numbers differ: "{song.parts.base}" vs "{row.parts.base}"')
    if not exact and title < TITLE_MIN:
        return Evidence(score, f"titles differ (title score {title:.2f})")
    if artist is not None and artist < ARTIST_MIN:
        return Evidence(score, f'artist differs: "{song.artist}" vs "{row.artist}"')
    if duration_reason:
        return Evidence(score, duration_reason)
    return Evidence(score, "", exact and (artist is None or artist == 1.0), both_artists)


def _versions(a: tuple[Version, ...], b: tuple[Version, ...]) -> tuple[str, float]:
    """A reason when the two titles name different recordings, else a penalty for a vaguer version."""
    if [v.kind for v in a] != [v.kind for v in b]:
        return f"different version: {_shown(a)} vs {_shown(b)}", 0.0
    penalty = 0.0
    for left, right in zip(a, b, strict=True):
        if left.who and right.who:
            if fuzz.token_sort_ratio(left.who, right.who) < REMIXER_MIN:
                return f"different version: {left} vs {right}", 0.0
        elif left.who or right.who:
            penalty += 0.06  # "Remix" vs "Skrillex Remix": possibly the same, never certain
    return "", penalty


def _numbers(base: str) -> list[str]:
    """``Part 2`` is not ``Part 1``, ``22`` is not ``23``: numbers in a title must agree exactly."""
    return sorted(re.findall(r"\d+", base))


def _shown(versions: tuple[Version, ...]) -> str:
    return " + ".join(str(v) for v in versions) if versions else "original"


def _artist_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    best = max(fuzz.ratio(x, y) for x in a for y in b)
    whole = fuzz.token_sort_ratio(" ".join(sorted(a)), " ".join(sorted(b)))
    return max(best, whole) / 100.0


def _duration(song: Side, row: Side) -> tuple[str, float]:
    """(reason to rule out, score adjustment): close lengths add a little, far ones rule the pair out."""
    if not song.duration_s or not row.duration_s:
        return "", 0.0
    short, long = sorted((song.duration_s, row.duration_s))
    if short <= PREVIEW_MAX_S and long - short > DURATION_SLACK_S:
        return "", 0.0  # a preview clip: its length is not the song's
    gap = long - short
    if gap <= DURATION_SLACK_S:
        return "", 0.02
    if song.parts.length_edited or row.parts.length_edited:
        return "", -0.02
    far = max(DURATION_FAR[0], DURATION_FAR[1] * long)
    if gap > far:
        return f"duration {_clock(song.duration_s)} vs {_clock(row.duration_s)}", 0.0
    return "", -0.05 * gap / far


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
