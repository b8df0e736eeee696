"""The songs a calibration is fitted on: each analysed song beside its matched reference row.

Analysed songs come from a live run (:class:`~engine.results.SongResult`) or from an earlier
run's ``results.csv`` (``calibrate DIR``), so both are reduced to :class:`AnalysedSong` first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from engine.calibration.octave_rules import evidence_row
from engine.calibration.profile import Profile
from engine.references.matching import MatchReport
from engine.references.readers import ReferenceRow
from engine.results import SongResult, SongStatus, parse_candidates

MEASUREMENTS = ("loudness_db",)
"""Engine measurements a feature scaler may start from."""


@dataclass(frozen=True)
class AnalysedSong:
    path: str
    status: SongStatus
    """Text (``"done"``) is turned into the enum; a status this engine never writes (a hand-edited
    results.csv) counts as ``DONE``: the row has an answer the user wants scored."""
    bpm: float | None = None
    key: str = ""
    measurements: dict[str, float] = field(default_factory=dict)
    tempo_evidence: tuple[float, ...] | None = None
    """What the octave choice decides from (:func:`octave_rules.evidence_row`); ``None`` when unknown."""

    def __post_init__(self) -> None:
        if not isinstance(self.status, SongStatus):  # "done" from a caller or a CSV cell
            object.__setattr__(self, "status", SongStatus.from_text(self.status) or SongStatus.DONE)

    @property
    def failed(self) -> bool:
        """Analysis failed (status ``error``): its tempo and key are not answers to score or calibrate."""
        return self.status is SongStatus.ERROR

    @classmethod
    def from_result(cls, result: SongResult) -> AnalysedSong:
        measurements = {"loudness_db": result.loudness_db} if result.loudness_db is not None else {}
        return cls(result.path, result.status, result.bpm, result.key, measurements, evidence_of(result))

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> AnalysedSong:
        """From a ``results.csv`` row; blank or unreadable numbers become missing, never an exception.

        Unreadable ``bpm_candidates`` leave the song without tempo evidence (the octave choice
        then leaves it alone); the caller can say so with :func:`evidence_problem`.
        """
        measurements = {name: v for name in MEASUREMENTS if (v := _number(row.get(name))) is not None}
        bpm = _number(row.get("bpm"))
        evidence = None
        if not evidence_problem(row):
            evidence = _evidence(
                bpm,
                parse_candidates(row.get("bpm_candidates")),
                _number(row.get("onset_rate")),
                _number(row.get("onset_high_share")),
                _number(row.get("bpm_chunk_spread")),
            )
        return cls(
            str(row.get("path", "")),
            SongStatus.from_text(row.get("status")) or SongStatus.DONE,
            bpm,
            row.get("key") or "",
            measurements,
            evidence,
        )


class CalibratedValue(NamedTuple):
    """A song's answer after a profile: what results.csv's and the queue's calibrated columns show."""

    bpm: float | None
    key: str


def calibrated_value(profile: Profile, song: AnalysedSong) -> CalibratedValue | None:
    """The one place a song's calibrated BPM and key are computed; ``None`` for a song that failed analysis."""
    if song.failed:
        return None
    return CalibratedValue(profile.calibrate_bpm(song.bpm, song.tempo_evidence), profile.calibrate_key(song.key))


def evidence_of(result: SongResult) -> tuple[float, ...] | None:
    """A result's tempo evidence row, or ``None`` when it has none (an error, an older engine)."""
    return _evidence(
        result.bpm, result.tempo_candidates, result.onset_rate, result.onset_high_share, result.bpm_chunk_spread
    )


def evidence_problem(row: Mapping[str, str]) -> str:
    """Why a ``results.csv`` row's ``bpm_candidates`` cannot be read ("" when it can, or is blank)."""
    try:
        parse_candidates(row.get("bpm_candidates"))
    except ValueError as exc:
        return str(exc)
    return ""


def _evidence(bpm, candidates, onset_rate, high_share, spread) -> tuple[float, ...] | None:
    if bpm is None or not candidates or onset_rate is None:
        return None
    return tuple(float(v) for v in evidence_row(bpm, candidates, onset_rate, high_share, spread))


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class Observation:
    """One matched song: what the engine said and what the reference says."""

    song: AnalysedSong
    row: ReferenceRow
    method: str
    score: float = 1.0
    """How sure the pairing is (1.0 unless ``method`` is ``fuzzy``)."""

    @property
    def path(self) -> str:
        return self.song.path

    @property
    def has_tempo(self) -> bool:
        return self.row.bpm is not None and self.song.bpm is not None and self.song.bpm > 0

    @property
    def has_key(self) -> bool:
        return self.row.key is not None and bool(self.song.key)


def observations(songs: Sequence[AnalysedSong], rows: Sequence[ReferenceRow], report: MatchReport) -> list[Observation]:
    """Matched songs in the order of ``songs``; songs that failed analysis carry no detection but stay listed."""
    return [
        Observation(songs[m.song], rows[m.row], m.method, m.score) for m in sorted(report.matches, key=lambda m: m.song)
    ]
