"""The engine's event stream: small typed records, safe to pass between threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from engine.results import ChunkResult, SongResult


@dataclass(frozen=True)
class RunStarted:
    total_songs: int
    workers: int


@dataclass(frozen=True)
class WarmUp:
    """Pool preparation, reported so a UI can show it instead of looking frozen."""

    stage: Literal["parent", "workers", "done"]
    """"parent": imports and JIT in this process; "workers": the pool's workers warming; "done"."""
    done: int
    total: int
    seconds: float


@dataclass(frozen=True)
class SongStarted:
    index: int
    path: str
    duration_s: float
    chunks_total: int


@dataclass(frozen=True)
class ChunkStarted:
    index: int  # song index
    chunk_index: int  # the chunk's index in its song (ChunkResult.index once it finishes)
    worker_pid: int
    start_s: float
    end_s: float
    started_at: float | None = None
    """When its worker began it, in ``time.monotonic()`` of the engine's process. A chunk that a free
    worker started early, for the next song, is announced when that song starts, so this can be earlier
    than the event; ``None`` means "now"."""

    def began(self, now: float) -> float:
        """When the chunk began, as seen at ``now`` (a clock read after the event): never later than ``now``."""
        return now if self.started_at is None else min(self.started_at, now)


@dataclass(frozen=True)
class WorkerAhead:
    """A free worker began (or finished) a chunk of the song after the current one, before that song's turn.

    Song events stay song by song: the chunk's :class:`ChunkStarted` and :class:`ChunkFinished` come at its
    song's turn. This event is about the worker, not the song (so it has no ``index``): a view of the workers
    shows the worker busy while it is, instead of idle until the next song's turn.
    """

    worker_pid: int
    song_index: int
    path: str
    chunk_index: int
    chunks_total: int
    started_at: float
    """When the worker began the chunk, in ``time.monotonic()`` of the engine's process."""
    finished: bool = False
    """The chunk's answer is back: the worker is free again (its song's events will say what it found)."""


@dataclass(frozen=True)
class ChunkFinished:
    index: int  # song index
    result: ChunkResult


class RecoveryReason(StrEnum):
    """Why the pool had to replace workers (a ``StrEnum``: its value is the text logs show)."""

    TIMEOUT = "timeout"
    """A task (a chunk, or a song's combine) passed its deadline; pebble killed its worker and started a new one."""
    WORKER_DIED = "worker died"
    """A worker exited on its own (SIGKILL, a segfault, an abort); pebble started a new one."""
    POOL_REBUILT = "pool rebuilt"
    """The watchdog: a task far past its deadline that pebble never reported; the whole pool was rebuilt."""


@dataclass(frozen=True)
class PoolRecovered:
    """A worker was killed or died and the pool replaced it; the run goes on."""

    reason: RecoveryReason
    worker_pid: int | None
    detail: str = ""


@dataclass(frozen=True)
class SongFinished:
    index: int
    result: SongResult


@dataclass(frozen=True)
class SongFailed:
    index: int
    path: str
    error: str
    result: SongResult


@dataclass(frozen=True)
class RunSummary:
    songs_total: int = 0
    songs_done: int = 0
    songs_partial: int = 0
    songs_failed: int = 0
    songs_cached: int = 0
    songs_skipped: int = 0
    chunks_timed_out: int = 0
    chunks_failed: int = 0
    worker_replacements: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    cancelled: bool = False

    @property
    def realtime_factor(self) -> float:
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0


@dataclass(frozen=True)
class RunFinished:
    summary: RunSummary
    results: list[SongResult] = field(default_factory=list)


Event = (
    RunStarted
    | WarmUp
    | SongStarted
    | ChunkStarted
    | WorkerAhead
    | ChunkFinished
    | PoolRecovered
    | SongFinished
    | SongFailed
    | RunFinished
)
