"""Analysis settings and engine options.

Settings that change analysis output (:class:`AnalysisSettings`) are kept apart from
options that only change how the work is scheduled (:class:`EngineOptions`), because the
first are part of the results-cache key and the second must not be.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that changes what the analysis returns for a song.

    Defaults were chosen with ``bench/chunk_plan.py``; see ``docs/benchmarks.md``.
    """

    sample_rate: int = 22050
    chunk_seconds: float = 30.0
    overlap_seconds: float = 0.0
    max_chunks: int = 64
    min_bpm: float = 40.0
    max_bpm: float = 240.0

    def __post_init__(self) -> None:
        if self.sample_rate < 4000:
            raise ValueError(f"sample_rate {self.sample_rate} Hz is too low for analysis (min 4000)")
        if self.chunk_seconds < 2.0:
            raise ValueError(f"chunk_seconds {self.chunk_seconds} is too short (min 2 s)")
        if not 0.0 <= self.overlap_seconds < self.chunk_seconds / 2:
            raise ValueError("overlap_seconds must be >= 0 and less than half of chunk_seconds")
        if self.max_chunks < 1:
            raise ValueError("max_chunks must be at least 1")
        if not 0 < self.min_bpm < self.max_bpm:
            raise ValueError("need 0 < min_bpm < max_bpm")

    def fingerprint(self) -> str:
        """Short stable hash: part of the cache key, so changed settings never reuse old results."""
        payload = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:16]

    def to_dict(self) -> dict:
        return asdict(self)


def default_workers() -> int:
    """One worker per core: chunk analysis is CPU-bound and single-threaded per worker."""
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class EngineOptions:
    """How the work is scheduled; never changes the results."""

    workers: int = field(default_factory=default_workers)
    chunk_timeout: float | None = None
    """Seconds a chunk may run before its worker is killed; ``None`` derives it from the chunk length."""
    timeout_floor: float = 30.0
    use_cache: bool = True
    force: bool = False
    cache_path: Path | None = None
    """SQLite file; ``None`` uses the user cache folder."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.chunk_timeout is not None and self.chunk_timeout <= 0:
            raise ValueError("chunk_timeout must be positive")

    def deadline_for(self, chunk_seconds: float) -> float:
        """A generous bound: analysis runs at ~100x realtime, so one second per audio second is ample."""
        if self.chunk_timeout is not None:
            return self.chunk_timeout
        return max(self.timeout_floor, 1.0 * chunk_seconds)


@dataclass(frozen=True)
class BpmRange:
    """How the user wants tempi shown and written: the reported BPM folded by ×2 or ×½ into ``low``–``high``.

    DJ programs have this preference (Traktor 78–155 by default, Serato 68–135, older Mixxx 70–140).
    It is a display and export choice only: ``results.csv`` keeps ``bpm`` as analysed and adds
    ``bpm_in_range``; scoring and calibration never see it (the calibration learns the reference's own
    convention). Off unless the user sets it (``None`` wherever a range is optional).
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (0 < self.low < self.high):
            raise ValueError(f"BPM range {self.low:g}:{self.high:g} must have 0 < LO < HI")
        if self.high > 1.5 * 999:
            raise ValueError(f"BPM range {self.low:g}:{self.high:g}: HI is beyond any tempo")

    @classmethod
    def parse(cls, text: str) -> BpmRange:
        """``"78:155"`` (also ``78-155``); raises ``ValueError`` with a sentence for anything else."""
        parts = text.replace("–", ":").replace("-", ":").split(":")
        try:
            low, high = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"BPM range {text!r} is not LO:HI (e.g. 78:155)") from None
        return cls(low, high)

    def fold(self, bpm: float | None) -> float | None:
        """``bpm`` doubled or halved until it lies in the range.

        A range narrower than an octave (Traktor's 78–155) cannot hold every tempo; a value that
        lands in the gap takes the octave nearest the range by ratio (in 78–155: 77.95 stays, 77.0 becomes 154.0).
        """
        if bpm is None or not bpm > 0:
            return bpm
        value = float(bpm)
        while value < self.low:
            value *= 2
        while value > self.high:
            value /= 2
        if value < self.low:  # between high/2 and low: the range's gap
            up = value * 2
            return up if up / self.high < self.low / value else value
        return value

    def __str__(self) -> str:
        return f"{self.low:g}:{self.high:g}"
