"""What a queue row says about its song, as an enum (no Qt, so the calibration session uses it too).

Row statuses are the engine's song statuses (:class:`engine.results.SongStatus`: done, partial,
error) plus the states a song passes through in the window before it has a result.
"""

from __future__ import annotations

from enum import StrEnum

from engine.results import SongStatus


class RowStatus(StrEnum):
    """A ``StrEnum``: its value is the text the Status column shows."""

    QUEUED = "queued"
    WARMING_UP = "warming up"
    ANALYSING = "analysing"
    DONE = "done"
    PARTIAL = "partial"
    ERROR = "error"
    CANCELLED = "cancelled"
    """In a run that was cancelled before it finished this song; the next Start analyses it."""

    @property
    def analysed(self) -> bool:
        """The song has a result to score: done, or partial (some chunks failed, the others agree)."""
        return self in (RowStatus.DONE, RowStatus.PARTIAL)

    @property
    def in_progress(self) -> bool:
        """The running song (or the first, while the workers warm up)."""
        return self in (RowStatus.WARMING_UP, RowStatus.ANALYSING)

    @classmethod
    def of(cls, status: SongStatus | str) -> RowStatus | None:
        """The row status for an engine status or a status read from a file; ``None`` when unknown."""
        value = status.value if isinstance(status, SongStatus) else str(status)
        try:
            return cls(value)
        except ValueError:
            return None


def is_analysed(status: SongStatus | str) -> bool:
    """True for a song status (engine enum or text from a results file) that has a result to score."""
    row = RowStatus.of(status)
    return row is not None and row.analysed
