"""Split a song into analysis windows."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.analysis.chunk import HOP_LENGTH
from engine.settings import AnalysisSettings


@dataclass(frozen=True)
class ChunkSpan:
    """One analysis window of a song.

    ``own_start``/``own_end`` is the part of the window that belongs to this chunk alone
    (overlap split in half with each neighbour): song-level features are stitched from these.
    """

    index: int
    start_s: float
    end_s: float
    own_start_s: float
    own_end_s: float

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s


def plan_chunks(duration_s: float, settings: AnalysisSettings) -> list[ChunkSpan]:
    """Cover ``[0, duration_s)`` with windows of about ``chunk_seconds``, equal to within one frame.

    The window count is rounded so windows are equal in length (balanced work for the pool)
    and capped at ``max_chunks``, in which case windows grow rather than audio being skipped.
    A song shorter than one window is one chunk. Every boundary (and the overlap on each side) is
    a whole number of analysis frames from the song's start, so the chunks' onset-envelope frames
    fall on the song's own frame grid and the stitched envelope has no phase jump at a seam.
    """
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise ValueError(f"cannot plan chunks for a duration of {duration_s!r} s")
    overlap = settings.overlap_seconds
    step_target = settings.chunk_seconds - overlap
    count = max(1, round((duration_s - overlap) / step_target))
    count = min(count, settings.max_chunks)
    if count == 1:
        return [ChunkSpan(0, 0.0, duration_s, 0.0, duration_s)]
    frame_s = HOP_LENGTH / settings.sample_rate

    def on_grid(seconds: float) -> float:
        return round(seconds / frame_s) * frame_s

    step = (duration_s - overlap) / count
    half = on_grid(overlap / 2)
    bounds = [0.0] + [on_grid(overlap / 2 + i * step) for i in range(1, count)] + [duration_s]
    return [
        ChunkSpan(
            i,
            0.0 if i == 0 else bounds[i] - half,
            duration_s if i == count - 1 else bounds[i + 1] + half,
            bounds[i],
            bounds[i + 1],
        )
        for i in range(count)
    ]
