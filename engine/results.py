"""Result records the engine hands out: one per chunk, one per song."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum, StrEnum
from typing import Any

import numpy as np


class ChunkStatus(str, Enum):
    OK = "ok"
    TIMEOUT = "timeout"  # passed its deadline; the worker was killed
    FAILED = "failed"  # the worker died or raised twice
    ERROR = "error"  # the audio of this chunk could not be decoded


class SongStatus(StrEnum):
    """Where a song is, the one status enum of the engine and of every front end.

    The engine's results are ``DONE``, ``PARTIAL`` or ``ERROR``; a front end's queue also shows the
    states before a result (``QUEUED`` … ``CANCELLED``). Its value is the text a Status column shows.
    """

    QUEUED = "queued"
    WARMING_UP = "warming up"
    ANALYSING = "analysing"
    DONE = "done"
    PARTIAL = "partial"  # some chunks failed; the result comes from the others
    ERROR = "error"
    CANCELLED = "cancelled"
    """In a run that was cancelled before it finished this song; the next run analyses it."""

    @property
    def analysed(self) -> bool:
        """The one meaning of "analysed": the song has a tempo/key answer to score (done, or partial)."""
        return self in (SongStatus.DONE, SongStatus.PARTIAL)

    @property
    def in_progress(self) -> bool:
        """The running song (or the first, while the workers warm up)."""
        return self in (SongStatus.WARMING_UP, SongStatus.ANALYSING)

    @classmethod
    def from_text(cls, text: str | None) -> SongStatus | None:
        """The status a ``results.csv`` cell names, or ``None`` for one this engine never writes."""
        try:
            return cls(str(text or "").strip())
        except ValueError:
            return None


@dataclass
class ChunkFeatures:
    """What a worker computes for one chunk (a pure function of samples and settings).

    ``onset_envelope``, ``onset_envelope_high`` (flux of the bands above 2 kHz), ``chroma_sum``
    and ``chroma_tail`` (pitch-class energy of the chunk's last seconds, for final-cadence
    weighting of the song key) let the parent form
    whole-song estimates without any audio crossing a pipe; they are not cached or exported.
    """

    bpm: float
    bpm_confidence: float
    tempo_candidates: list[tuple[float, float]]
    key: str
    key_confidence: float
    key_scores: list[float]
    loudness_db: float
    onset_envelope: np.ndarray | None = None
    chroma_sum: np.ndarray | None = None
    seconds_of_audio: float = 0.0
    chroma_tail: np.ndarray | None = None
    onset_envelope_high: np.ndarray | None = None
    onset_frames: np.ndarray | None = None
    """Frames of the onsets picked in this chunk (its start is frame 0), for the song's onset rate."""
    beat_frames: np.ndarray | None = None
    """Beats tracked in this chunk at its own tempo, in frames from its start to a fraction of a frame,
    for the song's beat grid (:mod:`engine.analysis.grid`)."""


@dataclass
class ChunkResult:
    song_path: str
    index: int
    start_s: float
    end_s: float
    status: ChunkStatus
    seconds: float = 0.0
    worker_pid: int | None = None
    features: ChunkFeatures | None = None
    error: str = ""
    attempts: int = 1

    def to_row(self) -> dict[str, Any]:
        f = self.features
        return {
            "path": self.song_path,
            "chunk": self.index,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "status": self.status.value,
            "seconds": round(self.seconds, 4),
            "worker_pid": self.worker_pid or "",
            "bpm": round(f.bpm, 2) if f else "",
            "bpm_confidence": round(f.bpm_confidence, 3) if f else "",
            "key": f.key if f else "",
            "key_confidence": round(f.key_confidence, 3) if f else "",
            "loudness_db": round(f.loudness_db, 2) if f else "",
            "attempts": self.attempts,
            "error": self.error,
        }


@dataclass
class SongResult:
    path: str
    status: SongStatus
    error: str = ""
    duration_s: float = 0.0
    bpm: float | None = None
    bpm_confidence: float = 0.0
    tempo_candidates: list[tuple[float, float]] = field(default_factory=list)
    key: str = ""
    key_confidence: float = 0.0
    key_scores: list[float] = field(default_factory=list)
    loudness_db: float | None = None
    key_modulation: bool = False
    tempo_unstable: bool = False
    onset_rate: float | None = None
    onset_high_share: float | None = None
    bpm_chunk_spread: float | None = None
    tempo_stable: bool = False
    """One constant beat grid explains the song (``engine.analysis.grid``); ``bpm`` is then the grid's."""
    beat_grid_start_s: float | None = None
    """The first beat of that grid at or after 0 s; ``None`` where the tempo is not stable."""
    bpm_error: float | None = None
    """Standard error of the grid's tempo in BPM; ``None`` where the tempo is not stable."""
    chunks_ok: int = 0
    chunks_total: int = 0
    analysis_s: float = 0.0
    cached: bool = False
    chunks: list[ChunkResult] = field(default_factory=list)
    title: str = ""
    artist: str = ""
    """From the song's tags, else its file name (:func:`engine.references.tags.title_and_artist`)."""

    @property
    def analysed(self) -> bool:
        """Done or partial: the song has a tempo/key answer."""
        return self.status.analysed

    @property
    def file(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]

    def to_row(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "file": self.file,
            "title": self.title,
            "artist": self.artist,
            "status": self.status.value,
            "error": self.error,
            "duration_s": round(self.duration_s, 3),
            "bpm": round(self.bpm, 2) if self.bpm is not None else "",
            "bpm_confidence": round(self.bpm_confidence, 3),
            "key": self.key,
            "key_confidence": round(self.key_confidence, 3),
            "loudness_db": round(self.loudness_db, 2) if self.loudness_db is not None else "",
            "key_modulation": int(self.key_modulation),
            "tempo_unstable": int(self.tempo_unstable),
            "bpm_candidates": format_candidates(self.tempo_candidates),
            "onset_rate": _rounded(self.onset_rate, 3),
            "onset_high_share": _rounded(self.onset_high_share, 4),
            "bpm_chunk_spread": _rounded(self.bpm_chunk_spread, 4),
            "beat_grid_start_s": _rounded(self.beat_grid_start_s, 4),
            "tempo_stable": int(self.tempo_stable) if self.analysed else "",
            "bpm_error": _rounded(self.bpm_error, 4),
            "chunks_ok": self.chunks_ok,
            "chunks_total": self.chunks_total,
            "analysis_s": round(self.analysis_s, 3),
            "cached": int(self.cached),
        }

    def to_json(self) -> dict[str, Any]:
        """Cacheable form: everything but the per-chunk arrays."""
        data = asdict(self)
        data["status"] = self.status.value
        data["chunks"] = [
            {
                **{k: v for k, v in asdict(c).items() if k != "features"},
                "status": c.status.value,
                "features": _features_json(c.features),
            }
            for c in self.chunks
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SongResult:
        chunks = [
            ChunkResult(
                **{
                    **c,
                    "status": ChunkStatus(c["status"]),
                    "features": ChunkFeatures(**c["features"]) if c.get("features") else None,
                }
            )
            for c in data.get("chunks", [])
        ]
        fields_ = {**data, "status": SongStatus(data["status"]), "chunks": chunks}
        fields_["tempo_candidates"] = [tuple(t) for t in data.get("tempo_candidates", [])]
        return cls(**fields_)


def format_candidates(candidates: list[tuple[float, float]]) -> str:
    """``bpm:strength`` pairs joined by ``;``, strongest first, as ``results.csv`` stores them."""
    return ";".join(f"{bpm:.2f}:{strength:.4f}" for bpm, strength in candidates)


def parse_candidates(text: str | None) -> list[tuple[float, float]]:
    """Inverse of :func:`format_candidates`; raises ``ValueError`` naming the bad pair."""
    pairs = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        bpm, sep, strength = part.partition(":")
        try:
            pair = (float(bpm), float(strength))
        except ValueError:
            pair = None
        if not sep or pair is None or not all(np.isfinite(pair)) or pair[0] <= 0:
            raise ValueError(f"bad tempo candidate {part.strip()!r} (expected bpm:strength)")
        pairs.append(pair)
    return pairs


def _rounded(value: float | None, digits: int) -> float | str:
    return "" if value is None else round(float(value), digits)


def _features_json(features: ChunkFeatures | None) -> dict[str, Any] | None:
    if features is None:
        return None
    data = asdict(features)
    data["onset_envelope"] = None
    data["chroma_sum"] = None
    data["chroma_tail"] = None
    data["onset_envelope_high"] = None
    data["onset_frames"] = None
    data["beat_frames"] = None
    return data


def error_result(path: str, message: str, duration_s: float = 0.0) -> SongResult:
    return SongResult(path=path, status=SongStatus.ERROR, error=message, duration_s=duration_s)
