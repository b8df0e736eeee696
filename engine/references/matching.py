"""Pair analysed songs with reference rows the way a careful person would, and never wrongly in silence.

Most certain first: a decision made by hand (``pairs.csv``), the file's path, its name, then
title and artist as read from tags (or an ``Artist - Title`` file name) compared by
:mod:`engine.references.evidence`: exactly after normalisation, else fuzzily (rapidfuzz) at or
above ``fuzzy_threshold``. A row pairs with at most one song and a song with at most one row.
When another candidate scores within :data:`MARGIN` of the best, the song stays unmatched and
its ranked candidates are reported with why each was not taken; nothing is guessed.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import numpy as np
from rapidfuzz import fuzz, process

from engine.references.evidence import Evidence, Side, compare
from engine.references.pairs import ManualPair, find_row
from engine.references.readers.model import ReferenceRow
from engine.references.tags import read_tags
from engine.references.textnorm import split_stem

DEFAULT_FUZZY = 0.90
"""Fuzzy pairs need this score (0–1) with artists on both sides; the same in the window and on the command line."""
MARGIN = 0.03
"""A pair must beat every rival for its row and for its song by this much; a nearer rival leaves both unmatched."""
CANDIDATE_CUTOFF = 55.0
"""Rows whose base title scores below this (0–100) against a song's are not even listed as candidates."""
SHOW_CANDIDATES = 5
COMPARE_ALL_FROM = 80
"""Base titles this alike (0–100) are always compared in full: a fuzzy pair needs 85, so every possible pair
and every possible rival is seen; below it only the best few are kept, to explain an unmatched song."""
BLOCK = 256
"""Songs scored against all rows at once (a BLOCK × rows byte matrix)."""
METHODS = ("manual", "path", "file name", "title and artist", "title", "fuzzy")


@dataclass(frozen=True)
class SongIdentity:
    """What matching knows about an analysed song."""

    path: str
    title: str = ""
    artist: str = ""
    names_from: str = ""  # "tags" | "file name"
    duration_s: float | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], use_tags: bool = True) -> SongIdentity:
        """Title/artist from tags when present, else from an ``Artist - Title`` file name."""
        tags = read_tags(path) if use_tags and Path(path).is_file() else None
        duration = tags.duration_s if tags is not None else None
        if tags is not None and tags.title:
            return cls(str(path), tags.title, tags.artist, "tags", duration)
        artist, title = split_stem(PurePath(str(path).replace("\\", "/")).stem)
        return cls(str(path), title, artist, "file name", duration)


@dataclass(frozen=True)
class Match:
    song: int  # index into the songs given
    row: int  # index into the reference rows given
    method: str
    score: float = 1.0


@dataclass(frozen=True)
class Candidate:
    """A row an unmatched song might have been, ranked by ``score``, and why it was not taken."""

    row: int
    score: float
    why: str


@dataclass
class MatchReport:
    matches: list[Match] = field(default_factory=list)
    unmatched_songs: list[int] = field(default_factory=list)
    unmatched_rows: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Why some candidates were left alone (ambiguous names), for the log."""
    candidates: dict[int, list[Candidate]] = field(default_factory=dict)
    """Per unmatched song, its best rows with the reason each was not taken."""
    declined: set[int] = field(default_factory=set)
    """Songs a person said have no row (``pairs.csv``); they stay unmatched."""

    def by_song(self) -> dict[int, Match]:
        return {m.song: m for m in self.matches}

    def counts(self) -> dict[str, int]:
        counts = {method: 0 for method in METHODS}
        for m in self.matches:
            counts[m.method] = counts.get(m.method, 0) + 1
        return counts


def match_songs(
    songs: Sequence[SongIdentity],
    rows: Sequence[ReferenceRow],
    fuzzy_threshold: float | None = DEFAULT_FUZZY,
    manual: Sequence[ManualPair] = (),
) -> MatchReport:
    """Pair ``songs`` with ``rows``; ``fuzzy_threshold=None`` pairs only exact (normalised) names."""
    if fuzzy_threshold is not None and not 0.0 < fuzzy_threshold <= 1.0:
        raise ValueError("fuzzy_threshold must be in (0, 1]")
    state = _State(songs, rows)
    state.by_hand(manual)
    state.by_path()
    state.by_file_name()
    state.by_names(fuzzy_threshold)
    report = state.report
    report.matches.sort(key=lambda m: m.song)
    report.unmatched_songs = sorted(state.free_songs | report.declined)
    report.unmatched_rows = sorted(state.free_rows)
    return report


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def row_names(row: ReferenceRow) -> tuple[str, str]:
    """(title, artist) of a row: its own columns, else its file's ``Artist - Title`` name."""
    if row.title:
        return row.title, row.artist
    if row.file:
        artist, title = split_stem(PurePath(row.file.replace("\\", "/")).stem)
        return title, artist
    return "", ""


class _State:
    def __init__(self, songs: Sequence[SongIdentity], rows: Sequence[ReferenceRow]):
        self.songs, self.rows = songs, rows
        self.free_songs = set(range(len(songs)))
        self.free_rows = set(range(len(rows)))
        self.report = MatchReport()
        self.ambiguous: dict[tuple[int, int], str] = {}
        """(song, row) pairs left alone because a rival scored too close, with the rivals named."""

    def pair(self, song: int, row: int, method: str, score: float = 1.0) -> None:
        self.free_songs.discard(song)
        self.free_rows.discard(row)
        self.report.matches.append(Match(song, row, method, round(score, 4)))

    def by_hand(self, manual: Sequence[ManualPair]) -> None:
        index = {_real(s.path): i for i, s in enumerate(self.songs)}
        for decision in manual:
            song = index.get(_real(decision.song_path))
            if song is None or song not in self.free_songs:
                continue
            if decision.unpaired:
                self.free_songs.discard(song)
                self.report.declined.add(song)
                continue
            row = find_row(decision, self.rows)
            if row is None or row not in self.free_rows:
                self.report.notes.append(
                    f"{decision.song_path}: hand-made pair with {Path(decision.reference_file).name} line "
                    f"{decision.line} not applied (that row is not loaded or already paired)"
                )
                continue
            self.pair(song, row, "manual")

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
        ambiguous: set[int] = set()  # rows already noted: the stem pass meets them again
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
                song = (
                    self._by_suffix(candidates, pure)
                    if len(candidates) > 1
                    else (candidates[0] if candidates else None)
                )
                if song is None:
                    if len(candidates) > 1 and r not in ambiguous:
                        ambiguous.add(r)
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

    # -- names --------------------------------------------------------------------------------
    def by_names(self, threshold: float | None) -> None:
        """Score every plausible (song, row) pair, then take them best first unless a rival is too close."""
        songs = sorted(self.free_songs)
        rows = sorted(self.free_rows)
        row_sides = {r: Side.of(*row_names(self.rows[r]), self.rows[r].duration_s) for r in rows}
        rows = [r for r in rows if row_sides[r].parts.base]
        sorted_bases = [_token_sorted(row_sides[r].parts.base) for r in rows]
        evaluated: dict[int, list[tuple[int, Evidence]]] = defaultdict(list)
        acceptable: list[tuple[float, int, int, str]] = []
        named = [s for s in songs if self.songs[s].title]
        sides = {s: Side.of(self.songs[s].title, self.songs[s].artist, self.songs[s].duration_s) for s in named}
        for start in range(0, len(named), BLOCK):
            block = named[start : start + BLOCK]
            queries = [_token_sorted(sides[s].parts.base) for s in block]
            # token-sort ratio of every song in the block against every row, in C (ratio on pre-sorted tokens)
            scores = process.cdist(
                queries, sorted_bases, scorer=fuzz.ratio, score_cutoff=CANDIDATE_CUTOFF, dtype=np.uint8, workers=1
            )
            for s, line in zip(block, scores, strict=True):
                for position in _worth_comparing(line):
                    r = rows[position]
                    evidence = compare(sides[s], row_sides[r])
                    evaluated[s].append((r, evidence))
                    method = _method(evidence, threshold)
                    if method:
                        acceptable.append((evidence.score, s, r, method))
        self._assign(acceptable, row_sides)
        self._explain(evaluated, threshold)

    def _assign(self, acceptable: list[tuple[float, int, int, str]], sides: dict[int, Side]) -> None:
        by_row: dict[int, list[tuple[float, int]]] = defaultdict(list)
        by_song: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for score, s, r, _ in acceptable:
            by_row[r].append((score, s))
            by_song[s].append((score, r))
        for score, s, r, method in sorted(acceptable, key=lambda p: (-p[0], p[2], p[1])):
            if r not in self.free_rows or s not in self.free_songs:
                continue
            rival_songs = [o for x, o in by_row[r] if o != s and o in self.free_songs and x >= score - MARGIN]
            rival_rows = [
                o
                for x, o in by_song[s]
                if o != r and o in self.free_rows and x >= score - MARGIN and not self._same_song_elsewhere(r, o, sides)
            ]
            if rival_songs or rival_rows:
                rivals = [self.songs[o].path for o in rival_songs] + [self.rows[o].where() for o in rival_rows]
                self.ambiguous[(s, r)] = "ambiguous: " + ", ".join(rivals[:3]) + f" scores within {MARGIN:g}"
                self.report.notes.append(f"{self.rows[r].describe()}: {self.ambiguous[(s, r)]}; left unmatched")
                continue
            self.pair(s, r, method, 1.0 if method != "fuzzy" else score)

    def _same_song_elsewhere(self, row: int, other: int, sides: dict[int, Side]) -> bool:
        """Another reference file's row for the same song is not a rival: the first file listed wins."""
        a, b = self.rows[row], self.rows[other]
        if a.source == b.source:
            return False
        return (sides[row].parts.key(), sides[row].artists) == (sides[other].parts.key(), sides[other].artists)

    def _explain(self, evaluated: dict[int, list[tuple[int, Evidence]]], threshold: float | None) -> None:
        """Each song left free: its best candidates, each with the reason it was not taken."""
        paired_by_row = {m.row: m for m in self.report.matches}
        for s in sorted(self.free_songs):
            listed = sorted(evaluated.get(s, []), key=lambda p: (-p[1].score, p[0]))[:SHOW_CANDIDATES]
            reasons = []
            for r, evidence in listed:
                reasons.append(
                    Candidate(r, round(evidence.score, 4), self._why(s, r, evidence, threshold, paired_by_row))
                )
            self.report.candidates[s] = reasons

    def _why(self, s: int, r: int, evidence: Evidence, threshold: float | None, paired: dict[int, Match]) -> str:
        if evidence.reason:
            return evidence.reason
        if (s, r) in self.ambiguous:
            return self.ambiguous[(s, r)]
        if r in paired:
            match = paired[r]
            return f"row already paired with {Path(self.songs[match.song].path).name} ({match.method})"
        if threshold is None and not evidence.exact:
            return "names differ and fuzzy matching is off"
        if not evidence.with_artist and not evidence.exact:
            return "a fuzzy match needs an artist on both sides"
        if threshold is not None:
            return f"score {evidence.score:.2f} below the fuzzy threshold {threshold:g}"
        return "not taken"


def _token_sorted(text: str) -> str:
    return " ".join(sorted(text.split()))


def _worth_comparing(scores: np.ndarray) -> list[int]:
    """Every row whose title could pair (≥ :data:`COMPARE_ALL_FROM`), plus the best few below, for the reasons."""
    strong = np.flatnonzero(scores >= COMPARE_ALL_FROM)
    weak = np.flatnonzero((scores >= CANDIDATE_CUTOFF) & (scores < COMPARE_ALL_FROM))
    if len(weak) > SHOW_CANDIDATES:
        weak = weak[np.argsort(-scores[weak], kind="stable")[:SHOW_CANDIDATES]]
    return [*strong.tolist(), *weak.tolist()]


def _method(evidence: Evidence, threshold: float | None) -> str:
    if evidence.reason:
        return ""
    if evidence.exact:
        return "title and artist" if evidence.with_artist else "title"
    if threshold is not None and evidence.with_artist and evidence.score >= threshold:
        return "fuzzy"
    return ""
