"""What the status bar, the run plot and the pool view show, computed from engine events.

Plain Python (no Qt) so the arithmetic (ETA, × realtime, who is busy) is tested on its own,
and the widgets only draw numbers they are given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.results import ChunkStatus, SongStatus
from engine.run import events as ev
from engine.wording import plural


@dataclass
class WorkerTask:
    """What one worker process is doing: a chunk of a song, since a moment (monotonic seconds)."""

    song_index: int
    song: str
    chunk: int
    chunks_total: int
    since: float


@dataclass
class ChunkPoint:
    """One finished chunk for the run plot: when it finished (run seconds), its wall time, its worker."""

    at: float
    seconds: float
    pid: int | None
    status: str
    song_index: int
    chunk: int


@dataclass
class RunStats:
    total: int = 0
    workers: int = 0
    started_at: float | None = None
    analysis_started_at: float | None = None
    finished_at: float | None = None
    warming: bool = False
    warm_up_text: str = ""
    songs_finished: int = 0
    songs_failed: int = 0
    audio_done_s: float = 0.0
    current_index: int | None = None
    current_path: str = ""
    current_chunks_total: int = 0
    current_chunks_done: int = 0
    timeouts: int = 0
    chunk_failures: int = 0
    replacements: int = 0
    tasks: dict[int, WorkerTask] = field(default_factory=dict)
    chunk_points: list[ChunkPoint] = field(default_factory=list)
    progress_points: list[tuple[float, float]] = field(default_factory=list)
    song_paths: dict[int, str] = field(default_factory=dict)
    cancelled: bool = False

    def reset(self, paths: list[str], now: float) -> None:
        self.__init__()  # type: ignore[misc]
        self.song_paths = dict(enumerate(paths))
        self.total = len(paths)
        self.started_at = now
        self.progress_points = [(0.0, 0.0)]

    # -- events ---------------------------------------------------------------------------------
    def on_event(self, event: object, now: float) -> None:
        """Fold one engine event into the numbers (call in event order)."""
        if isinstance(event, ev.RunStarted):
            self.total, self.workers = event.total_songs, event.workers
            self.started_at = self.started_at or now
        elif isinstance(event, ev.WarmUp):
            self.warming = event.stage != "done"
            if event.stage == "parent":
                self.warm_up_text = "Preparing analysis engine… (loading and compiling the analysis code)"
            elif event.stage == "workers":
                self.warm_up_text = f"Preparing analysis engine… (workers ready: {event.done}/{event.total})"
            else:
                self.warm_up_text = ""
        elif isinstance(event, ev.SongStarted):
            self.warming = False
            self.analysis_started_at = self.analysis_started_at or now
            self.current_index, self.current_path = event.index, event.path
            self.current_chunks_total = event.chunks_total
            self.current_chunks_done = 0
        elif isinstance(event, ev.ChunkStarted):
            path = self.song_paths.get(event.index, self.current_path)
            since = event.began(now)  # started early: began then
            task = WorkerTask(event.index, path, event.chunk_index, self.current_chunks_total, since)
            self.tasks[event.worker_pid] = task
        elif isinstance(event, ev.WorkerAhead):
            self._worker_ahead(event, now)
        elif isinstance(event, ev.ChunkFinished):
            self._chunk_finished(event, now)
        elif isinstance(event, ev.PoolRecovered):
            self.replacements += 1
            if event.reason is ev.RecoveryReason.POOL_REBUILT:
                self.tasks.clear()  # every worker was replaced, those working ahead too
            elif event.worker_pid is not None:
                self.tasks.pop(event.worker_pid, None)
        elif isinstance(event, ev.SongFinished | ev.SongFailed):
            self._song_finished(event, now)
        elif isinstance(event, ev.RunFinished):
            self.finished_at = now
            self.cancelled = event.summary.cancelled
            self.tasks.clear()
            self.warming = False

    def _worker_ahead(self, event: ev.WorkerAhead, now: float) -> None:
        """A worker busy with the next song's chunk before that song's turn, or free again after it."""
        task = self.tasks.get(event.worker_pid)
        if not event.finished:
            since = min(event.started_at, now)
            self.tasks[event.worker_pid] = WorkerTask(
                event.song_index, event.path, event.chunk_index, event.chunks_total, since
            )
        elif task is not None and (task.song_index, task.chunk) == (event.song_index, event.chunk_index):
            del self.tasks[event.worker_pid]

    def _chunk_finished(self, event: ev.ChunkFinished, now: float) -> None:
        chunk = event.result
        for pid, task in list(self.tasks.items()):
            if task.song_index == event.index and task.chunk == chunk.index:
                del self.tasks[pid]
        if chunk.status is ChunkStatus.TIMEOUT:
            self.timeouts += 1
        elif chunk.status is not ChunkStatus.OK:
            self.chunk_failures += 1
        self.current_chunks_done += 1
        self.audio_done_s += chunk.end_s - chunk.start_s if chunk.status is ChunkStatus.OK else 0.0
        self.chunk_points.append(
            ChunkPoint(
                self.run_seconds(now), chunk.seconds, chunk.worker_pid, chunk.status.value, event.index, chunk.index
            )
        )
        self.progress_points.append((self.run_seconds(now), self.fraction_done))

    def _song_finished(self, event: ev.SongFinished | ev.SongFailed, now: float) -> None:
        self.analysis_started_at = self.analysis_started_at or now
        result = event.result
        if result.status is SongStatus.ERROR:
            self.songs_failed += 1
        if event.index == self.current_index:
            # chunks already counted their audio; swap in the song's exact duration
            counted = sum(c.end_s - c.start_s for c in result.chunks if c.status is ChunkStatus.OK)
            self.audio_done_s -= min(counted, self.audio_done_s)
            self.current_index, self.current_chunks_total, self.current_chunks_done = None, 0, 0
        if result.status is not SongStatus.ERROR and not result.cached:
            self.audio_done_s += result.duration_s  # a cached song took no analysis: no throughput to claim
        self.songs_finished += 1
        self.progress_points.append((self.run_seconds(now), self.fraction_done))

    # -- derived numbers ------------------------------------------------------------------------
    def run_seconds(self, now: float) -> float:
        return 0.0 if self.started_at is None else now - self.started_at

    def elapsed(self, now: float) -> float:
        end = self.finished_at if self.finished_at is not None else now
        return 0.0 if self.started_at is None else end - self.started_at

    @property
    def fraction_done(self) -> float:
        if not self.total:
            return 0.0
        partial = self.current_chunks_done / self.current_chunks_total if self.current_chunks_total else 0.0
        return min(1.0, (self.songs_finished + partial) / self.total)

    def realtime_factor(self, now: float) -> float:
        """Seconds of audio analysed per wall second since analysis began (warm-up excluded)."""
        if self.analysis_started_at is None:
            return 0.0
        end = self.finished_at if self.finished_at is not None else now
        wall = end - self.analysis_started_at
        return self.audio_done_s / wall if wall > 0.05 else 0.0

    def eta(self, now: float) -> float | None:
        """Seconds left at the pace so far; None until there is a pace to go by."""
        if self.finished_at is not None:
            return 0.0
        done = self.fraction_done
        if self.analysis_started_at is None or done <= 0.0:
            return None
        wall = now - self.analysis_started_at
        return wall * (1.0 - done) / done

    @property
    def busy_workers(self) -> int:
        return len(self.tasks)


STARTUP_WORTH_SAYING_S = 2.0
"""Start-up shorter than this goes unmentioned at the end of a run."""


def finished_text(summary: ev.RunSummary, elapsed: float) -> str:
    """The status line at the end of a run.

    ``summary.wall_seconds`` counts from when the engine began the songs; the window's elapsed clock
    (``elapsed``) also counts the engine's start-up before that (the pool, and numba's first
    compile, tens of seconds on a fresh install), so the line names both when they differ.
    """
    word = "cancelled" if summary.cancelled else "finished"
    text = (
        f"Run {word}: {summary.songs_done} done, {summary.songs_partial} partial, {summary.songs_failed} failed"
        f" ({summary.songs_cached} from cache) in {format_seconds(summary.wall_seconds)}"
    )
    if elapsed - summary.wall_seconds >= STARTUP_WORTH_SAYING_S:
        text += f", after {format_seconds(elapsed - summary.wall_seconds)} starting the engine"
    if summary.chunks_timed_out or summary.worker_replacements:
        text += (
            f"; {plural(summary.chunks_timed_out, 'chunk timeout')}, "
            f"{plural(summary.worker_replacements, 'worker')} replaced"
        )
    return text


def format_seconds(seconds: float | None) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``; None -> ``–``."""
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
