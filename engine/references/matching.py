"""Pair analysed songs with reference rows.

Most certain first: the file's path, then its name, then the normalised title and artist
(from the file's tags, or its ``Artist - Title`` name when it has none), then, only when
asked, a fuzzy title match above a threshold. A reference row pairs with at most one song
and a song with at most one row; anything ambiguous is left unmatched and reported rather
than guessed. Each match records how it was made, so a user can audit the weak ones.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path, PurePath

from engine.references.reader import ReferenceRow
from engine.references.tags import read_tags
from engine.references.textnorm import artists_agree, normalise_artist, normalise_title, split_stem

FUZZY_MARGIN = 0.02
"""A fuzzy pair must beat every rival for its row and its song by this much similarity."""
METHODS = ("path", "file name", "title and artist", "title", "fuzzy")


@dataclass(frozen=True)
class SongIdentity:
    """What matching knows about an analysed song."""

    path: str
    title: str = ""
    artist: str = ""
    names_from: str = ""  # "tags" | "file name"

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], use_tags: bool = True) -> SongIdentity:
        """Title/artist from tags when present, else from an ``Artist - Title`` file name."""
        tags = read_tags(path) if use_tags and Path(path).is_file() else None
        if tags is not None and tags.title:
            return cls(str(path), tags.title, tags.artist, "tags")
        artist, title = split_stem(PurePath(str(path).replace("\\", "/")).stem)
        return cls(str(path), title, artist, "file name")


@dataclass(frozen=True)
class Match:
    song: int  # index into the songs given
    row: int  # index into the reference rows given
    method: str
    score: float = 1.0


@dataclass
class MatchReport:
    matches: list[Match] = field(default_factory=list)
    unmatched_songs: list[int] = field(default_factory=list)
    unmatched_rows: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Why some candidates were left alone (ambiguous names), for the log."""

    def by_song(self) -> dict[int, Match]:
        return {m.song: m for m in self.matches}

    def counts(self) -> dict[str, int]:
        counts = {method: 0 for method in METHODS}
        for m in self.matches:
            counts[m.method] = counts.get(m.method, 0) + 1
        return counts


def match_songs(
    songs: Sequence[SongIdentity], rows: Sequence[ReferenceRow], fuzzy_threshold: float | None = None
) -> MatchReport:
    """Pair ``songs`` with ``rows``; ``fuzzy_threshold`` (0–1, e.g. 0.9) enables the fuzzy pass."""
    if fuzzy_threshold is not None and not 0.0 < fuzzy_threshold <= 1.0:
        raise ValueError("fuzzy_threshold must be in (0, 1]")
    state = _State(songs, rows)
    state.by_path()
    state.by_file_name()
    state.by_title(with_artist=True)
    state.by_title(with_artist=False)
    if fuzzy_threshold is not None:
        state.fuzzy(fuzzy_threshold)
    report = state.report
    report.matches.sort(key=lambda m: m.song)
    report.unmatched_songs = sorted(state.free_songs)
    report.unmatched_rows = sorted(state.free_rows)
    return report


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


class _State:
    def __init__(self, songs: Sequence[SongIdentity], rows: Sequence[ReferenceRow]):
        self.songs, self.rows = songs, rows
        self.free_songs = set(range(len(songs)))
        self.free_rows = set(range(len(rows)))
        self.report = MatchReport()

    def pair(self, song: int, row: int, method: str, score: float = 1.0) -> None:
        self.free_songs.discard(song)
        self.free_rows.discard(row)
        self.report.matches.append(Match(song, row, method, round(score, 4)))

    def by_path(self) -> None:
        index = {_real(s.path): i for i, s in enumerate(self.songs)}
        for r in sorted(self.free_rows):
            row = self.rows[r]
            if not row.file:
                continue
            candidate = Path(row.file.replace("\\", "/")).expanduser()
            if not candidate.is_absolute() and row.source not in ("", "tags"):
                candidate = Path(row.source).parent / candidate
            song = index.get(_real(str(candidate)))
            if song is not None and song in self.free_songs:
                self.pair(song, r, "path")

    def by_file_name(self) -> None:
        for use_stem in (False, True):
            names: dict[str, list[int]] = defaultdict(list)
            for s in self.free_songs:
                pure = PurePath(self.songs[s].path.replace("\\", "/"))
                names[(pure.stem if use_stem else pure.name).casefold()].append(s)
            for r in sorted(self.free_rows):
                row = self.rows[r]
                if not row.file:
                    continue
                pure = PurePath(row.file.replace("\\", "/"))
                candidates = [
                    s for s in names.get((pure.stem if use_stem else pure.name).casefold(), []) if s in self.free_songs
                ]
                song = self._by_suffix(candidates, pure) if len(candidates) > 1 else (candidates or [None])[0]
                if song is None:
                    if len(candidates) > 1:
                        self.report.notes.append(
                            f"{row.describe()}: {len(candidates)} songs have this file name; left unmatched"
                        )
                    continue
                self.pair(song, r, "file name")

    def _by_suffix(self, candidates: list[int], wanted: PurePath) -> int | None:
        """Among songs sharing a file name, the one whose folders end like the row's path, if unique."""

        def common(song: int) -> int:
            parts = PurePath(self.songs[song].path.replace("\\", "/")).parts[::-1]
            n = 0
            for a, b in zip(parts, wanted.parts[::-1], strict=False):
                if a.casefold() != b.casefold():
                    break
                n += 1
            return n

        scored = sorted(((common(s), s) for s in candidates), reverse=True)
        if scored[0][0] > scored[1][0] and scored[0][0] > 1:
            return scored[0][1]
        return None

    def _row_names(self, row: ReferenceRow) -> tuple[str, str]:
        if row.title:
            return row.title, row.artist
        if row.file:
            artist, title = split_stem(PurePath(row.file.replace("\\", "/")).stem)
            return title, artist
        return "", ""

    def by_title(self, with_artist: bool) -> None:
        songs_by_title: dict[str, list[int]] = defaultdict(list)
        for s in self.free_songs:
            if self.songs[s].title:
                songs_by_title[normalise_title(self.songs[s].title)].append(s)
        rows_by_title: dict[str, list[int]] = defaultdict(list)
        for r in self.free_rows:
            title, _ = self._row_names(self.rows[r])
            if title:
                rows_by_title[normalise_title(title)].append(r)
        for title_key in sorted(rows_by_title):
            rows = sorted(rows_by_title[title_key])
            for r in rows:
                title, artist = self._row_names(self.rows[r])
                candidates = [s for s in songs_by_title.get(title_key, []) if s in self.free_songs]
                if with_artist:
                    if not artist:
                        continue
                    candidates = [
                        s for s in candidates if self.songs[s].artist and artists_agree(self.songs[s].artist, artist)
                    ]
                    method = "title and artist"
                else:
                    # Title alone only where artists cannot be compared, and only when it is unique on both sides.
                    if len(rows) > 1:
                        continue
                    candidates = [s for s in candidates if not (artist and self.songs[s].artist)]
                    method = "title"
                if len(candidates) == 1:
                    self.pair(candidates[0], r, method)
                elif len(candidates) > 1:
                    self.report.notes.append(
                        f"{self.rows[r].describe()}: {len(candidates)} songs could match; left unmatched"
                    )

    def fuzzy(self, threshold: float) -> None:
        """Best-scoring pairs first; pairs are only compared when they share a word (keeps it fast)."""
        song_text = {s: self._text(self.songs[s].title, self.songs[s].artist) for s in self.free_songs}
        index: dict[str, set[int]] = defaultdict(set)
        for s, text in song_text.items():
            for word in set(text.split()):
                index[word].add(s)
        pairs = []
        for r in self.free_rows:
            title, artist = self._row_names(self.rows[r])
            if not title:
                continue
            words = self._text(title, artist).split()
            for s in set().union(*(index.get(w, set()) for w in words)):
                song = self.songs[s]
                both = bool(artist and song.artist)
                left = self._text(title, artist if both else "")
                right = self._text(song.title, song.artist if both else "")
                matcher = SequenceMatcher(None, left, right, autojunk=False)
                if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                    continue
                ratio = matcher.ratio()
                if ratio >= threshold:
                    pairs.append((ratio, r, s))
        by_row: dict[int, list[tuple[float, int]]] = defaultdict(list)
        by_song: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for ratio, r, s in pairs:
            by_row[r].append((ratio, s))
            by_song[s].append((ratio, r))
        for ratio, r, s in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
            if r not in self.free_rows or s not in self.free_songs:
                continue
            rivals = [x for x, other in by_row[r] if other != s and other in self.free_songs]
            rivals += [x for x, other in by_song[s] if other != r and other in self.free_rows]
            if any(x >= ratio - FUZZY_MARGIN for x in rivals):  # a near tie is a guess, not a match
                self.report.notes.append(f"{self.rows[r].describe()}: fuzzy match is ambiguous; left unmatched")
                continue
            self.pair(s, r, "fuzzy", ratio)

    @staticmethod
    def _text(title: str, artist: str) -> str:
        if not title:
            return ""
        return " ".join(p for p in (normalise_artist(artist), normalise_title(title)) if p)
