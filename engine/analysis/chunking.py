"""Split a song into analysis windows."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    """Cover ``[0, duration_s)`` with equal windows of about ``chunk_seconds``.

    The window count is rounded so windows are equal in length (balanced work for the pool)
    and capped at ``max_chunks``, in which case windows grow rather than audio being skipped.
    A song shorter than one window is one chunk.
    """
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise ValueError(f"cannot plan chunks for a duration of {duration_s!r} s")
    overlap = settings.overlap_seconds
    step_target = settings.chunk_seconds - overlap
    count = max(1, round((duration_s - overlap) / step_target))
    count = min(count, settings.max_chunks)
    if count == 1:
        return [ChunkSpan(0, 0.0, duration_s, 0.0, duration_s)]
    step = (duration_s - overlap) / count
    spans = []
    for i in range(count):
        start = i * step
        end = duration_s if i == count - 1 else start + step + overlap
        own_start = 0.0 if i == 0 else start + overlap / 2
        own_end = duration_s if i == count - 1 else end - overlap / 2
        spans.append(ChunkSpan(i, start, end, own_start, own_end))
    return spans
