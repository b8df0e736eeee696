"""The pairing review's logic: what the review panel shows and what a hand-made decision does.

Plain Python over :class:`~engine.calibration.session.CalibrationSession` (no Qt), so it is tested
without a window. A decision (pair a song with a row, or say a song has no row) goes into the
session's manual pairs and is written to ``pairs.csv`` at once (atomically), so no review work
is lost if the window closes; the next match applies it before any automatic rule.
``pairs.csv`` lives in the export folder when one is set (``calibrate DIR`` finds it there),
else beside the first reference file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.calibration.session import CalibrationSession
from engine.references.pairs import PAIRS_FILE, ManualPair, decision, latest, load_pairs, save_pairs
from engine.references.readers import ReferenceRow, RowError


@dataclass(frozen=True)
class CandidateView:
    row: ReferenceRow
    score: float
    why: str


@dataclass(frozen=True)
class SongView:
    path: str
    candidates: tuple[CandidateView, ...]
    declined: bool = False
    """The user said this song has no row."""


@dataclass(frozen=True)
class PairView:
    path: str
    row: ReferenceRow
    method: str
    score: float


class PairingReview:
    def __init__(self, session: CalibrationSession, who: str = "") -> None:
        self.session = session
        self.who = who
        self.export_dir: Path | None = None
        self._pairs_path: Path | None = None

    # -- where decisions are kept ----------------------------------------------------------------
    @property
    def pairs_path(self) -> Path | None:
        """The file decisions are saved to: the one loaded, else the export folder's, else beside the reference."""
        if self._pairs_path is not None:
            return self._pairs_path
        if self.export_dir is not None:
            return self.export_dir / PAIRS_FILE
        if self.session.reference_paths:
            return self.session.reference_paths[0].parent / PAIRS_FILE
        return None

    def load(self, path: str | os.PathLike[str]) -> list[RowError]:
        """Adopt a ``pairs.csv`` (raises ReferenceFileError when it is not one); later decisions save there."""
        manual, errors = load_pairs(path)
        self.session.manual = manual
        self._pairs_path = Path(path)
        return errors

    def load_beside_reference(self) -> list[RowError]:
        """Pick up an earlier review saved beside the reference, if there is one."""
        path = self.pairs_path
        if self._pairs_path is None and path is not None and path.is_file():
            return self.load(path)
        return []

    # -- what the panel shows --------------------------------------------------------------------
    def unmatched_songs(self) -> list[SongView]:
        matched = self.session.matched
        if matched is None:
            return []
        views = []
        for index in matched.report.unmatched_songs:
            candidates = tuple(CandidateView(row, c.score, c.why) for row, c in matched.candidates_for(index))
            views.append(SongView(matched.songs[index].path, candidates, index in matched.report.declined))
        return views

    def unmatched_rows(self) -> list[ReferenceRow]:
        return self.session.matched.unmatched_rows if self.session.matched is not None else []

    def paired(self) -> list[PairView]:
        matched = self.session.matched
        if matched is None:
            return []
        return [
            PairView(matched.songs[m.song].path, matched.rows[m.row], m.method, m.score)
            for m in matched.report.matches
            if matched.rows[m.row].source != "tags"
        ]

    # -- decisions --------------------------------------------------------------------------------
    def pair(self, song_path: str, row: ReferenceRow) -> Path:
        """Pair ``song_path`` with ``row`` by hand and save at once; returns the file written."""
        return self._decide(decision(song_path, row, self.who))

    def unpair(self, song_path: str) -> Path:
        """Say ``song_path`` has no reference row (undoes an automatic or hand-made pair) and save at once."""
        return self._decide(decision(song_path, None, self.who))

    def forget(self, song_path: str) -> Path:
        """Drop any hand-made decision for ``song_path``: automatic pairing decides again."""
        self.session.manual = [p for p in self.session.manual if p.song_path != song_path]
        return self._save()

    def decision_for(self, song_path: str) -> ManualPair | None:
        return next((p for p in self.session.manual if p.song_path == song_path), None)

    def _decide(self, made: ManualPair) -> Path:
        self.session.manual = latest([*self.session.manual, made])
        return self._save()

    def _save(self) -> Path:
        path = self.pairs_path
        if path is None:
            raise ValueError("load a reference file first: pairs.csv is saved beside it or the exports")
        save_pairs(path, self.session.manual)
        return path
