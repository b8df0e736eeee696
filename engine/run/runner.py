"""The sequential runner: one song at a time, its chunks in parallel in the one pool.

The engine's own thread (the window's process) only schedules: a song's chunks run in the pool,
and so does combining them into the song's result (the consensus and the beat-grid fit, issue 23),
one more task once the chunks are back. Songs are reported strictly one after another, but a worker
that the current song leaves idle (its last chunk runs alone, or only its combine is left) starts
the next song's chunks early: most songs are one or two chunks, so without that one worker of two
would idle through much of a run. Those chunks are announced when their song's turn comes.

Every wait here is bounded. pebble enforces each task's deadline by killing its worker; a watchdog
above it rebuilds the whole pool if even that does not come back, so no failure of a worker can
stall the run. The runner is a generator of events, safe to drive from any single thread (the CLI's
main thread or the GUI's QThread); ``cancel``/``pause``/``resume`` may be called from any other thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from engine.analysis.chunking import ChunkSpan, plan_chunks
from engine.errors import AudioDecodeError, EngineError, NestedPoolError
from engine.results import ChunkFeatures, ChunkResult, ChunkStatus, SongResult, SongStatus, error_result
from engine.run import events as ev
from engine.run.cache import SessionCache, file_identity
from engine.settings import AnalysisSettings, EngineOptions

log = logging.getLogger(__name__)

ChunkFunction = Callable[[str, float, float, AnalysisSettings], ChunkFeatures]
CombineFunction = Callable[[str, float, list[ChunkSpan], list[ChunkResult], AnalysisSettings, float], SongResult]
"""``engine.analysis.consensus.combine``'s signature: (path, duration, spans, chunks, settings, analysis seconds)."""

POLL_SECONDS = 0.1
WARM_UP_TIMEOUT = 300.0
"""Cold numba compilation on a slow machine takes minutes; later warm-ups take seconds."""
WATCHDOG_GRACE = 60.0
"""Past deadline + grace a chunk is taken as lost even if pebble did not report it: rebuild the pool."""
MAX_ATTEMPTS = 2
MAX_FAILED_WORKER_STARTS = 4
"""Workers that may die during their warm-up before the engine gives up starting the pool."""
FILE_CHANGED = "the file changed while it was being analysed; analyse it again"
COMBINE_FAILED = "its chunks were analysed, but combining them into the song's tempo and key failed"


class _Cancelled(Exception):
    pass


@dataclass
class _InFlight:
    span: ChunkSpan
    attempt: int
    token: int
    submitted: float
    started: float | None = None
    pid: int | None = None
    announced: bool = False
    """Its ChunkStarted was yielded (a chunk started early, for the next song, waits for its song's turn)."""
    ahead: int = 0
    """How much :class:`~engine.run.events.WorkerAhead` said of a chunk started early: 1 began, 2 finished."""


@dataclass
class _SongRun:
    """One song's chunks while they run: what waits, what runs (by future and by token), what came back."""

    index: int
    path: str
    pending: deque[tuple[ChunkSpan, int]]  # (span, attempt), next first
    inflight: dict[Any, _InFlight] = field(default_factory=dict)
    by_token: dict[int, _InFlight] = field(default_factory=dict)
    chunks: dict[int, ChunkResult] = field(default_factory=dict)

    def track(self, future: Any, item: _InFlight) -> None:
        self.inflight[future] = item
        self.by_token[item.token] = item

    def take(self, future: Any) -> _InFlight:
        item = self.inflight.pop(future)
        self.by_token.pop(item.token, None)
        return item

    def requeue_unfinished(self) -> None:
        """The pool is being replaced under chunks that started early: those without an answer run again."""
        for future, item in list(self.inflight.items()):
            if not future.done():
                future.cancel()
                self.take(future)
                self.pending.appendleft((item.span, item.attempt))

    def abandon_inflight(self, keep: list[_InFlight]) -> None:
        """Cancel every running chunk; all but ``keep`` (lost ones, reported) go back to the front of the queue."""
        for future, item in list(self.inflight.items()):
            future.cancel()
            if item not in keep:
                self.pending.appendleft((item.span, item.attempt))
        self.inflight.clear()
        self.by_token.clear()


@dataclass
class _Prepared:
    """A song probed and planned, before its turn (early, for idle workers) or at it.

    ``song`` is None when there is nothing to run: ``error`` holds the song's result (it could not be
    probed), or, for a song looked at early, neither is set (its result is in the cache, or it is not
    to be started early) and its turn proceeds as usual.
    """

    index: int
    path: str
    identity: tuple[str | bytes, int, int] | None
    began: float
    duration_s: float = 0.0
    spans: list[ChunkSpan] = field(default_factory=list)
    song: _SongRun | None = None
    error: SongResult | None = None


@dataclass(frozen=True)
class _Failure:
    """Why a task in the pool gave no answer, and what the engine does about it."""

    status: ChunkStatus
    text: str
    retry: bool
    """Worth a second attempt (the worker died, or the task raised), if it has one left."""
    recovery: ev.PoolRecovered | None
    pid: int | None


@dataclass
class _Tally:
    done: int = 0
    partial: int = 0
    failed: int = 0
    cached: int = 0
    timeouts: int = 0
    chunk_failures: int = 0
    replacements: int = 0
    audio_s: float = 0.0
    results: list[SongResult] = field(default_factory=list)


def _name(result: SongResult) -> None:
    """Title and artist for people (tags, else the file name): read in the parent, metadata only."""
    from engine.references.tags import title_and_artist

    result.title, result.artist = title_and_artist(result.path)


def _signal_name(exitcode: int | None) -> str:
    if exitcode is None:
        return "unknown exit"
    if exitcode < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _default_chunk_function() -> ChunkFunction:
    from engine.analysis.chunk import analyse_chunk

    return analyse_chunk


def _default_combine_function() -> CombineFunction:
    from engine.analysis.consensus import combine

    return combine


def combine_in_worker(combine: CombineFunction, args: tuple) -> SongResult:
    """The task a song's last step runs as, in a pool worker: ``combine(*args)``, returned without its chunks.

    The engine still holds the chunks it sent (with their onset envelopes and beats); sending them back
    would double what crosses the pipe for nothing, so it puts its own back on the result.
    """
    result = combine(*args)
    result.chunks = []
    return result


class Engine:
    """Analyses songs; owns the pool (created once, reused for every run) and the results cache."""

    def __init__(
        self,
        settings: AnalysisSettings | None = None,
        options: EngineOptions | None = None,
        chunk_function: ChunkFunction | None = None,
        warm_up: Callable[[], None] | None = None,
        combine_function: CombineFunction | None = None,
    ):
        self.settings = settings or AnalysisSettings()
        self.options = options or EngineOptions()
        self._chunk_function = chunk_function or _default_chunk_function()
        self._combine_function = combine_function or _default_combine_function()
        if warm_up is None and chunk_function is None:
            from engine.analysis.chunk import warm_up as default_warm_up

            warm_up = default_warm_up
        self._warm_up = warm_up
        self._pool: Any = None
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._tokens = count(1)
        self._queue: list[str] = []
        self._force = False
        self._next: _Prepared | None = None
        """The song after the current one, once looked at; its chunks may already run."""
        self._cache_set_aside = False
        """numba's cache was set aside once after workers died warming up (:meth:`_set_aside_compiled_code`)."""
        self._cache = SessionCache(self.options.cache_path, enabled=self.options.use_cache)

    # -- control, callable from any thread ------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def pool_rebuilds(self) -> int:
        return self._pool.rebuilds if self._pool is not None else 0

    def worker_pids(self) -> list[int]:
        return self._pool.worker_pids() if self._pool is not None else []

    def close(self) -> None:
        """Stop the workers and close the cache. Safe to call twice."""
        if self._pool is not None:
            self._pool.stop(kill=True)
            self._pool = None
        self._cache.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the run ---------------------------------------------------------------------------------
    def run(self, paths: Sequence[str | os.PathLike[str]], force: bool | None = None) -> Iterator[ev.Event]:
        """Analyse ``paths`` in order, yielding events; ends with exactly one :class:`RunFinished`."""
        force = self.options.force if force is None else force
        self._cancel.clear()
        started = time.monotonic()
        tally = _Tally()
        yield ev.RunStarted(total_songs=len(paths), workers=self.options.workers)
        cancelled = False
        self._queue, self._force, self._next = [str(p) for p in paths], force, None
        try:
            for index, path in enumerate(self._queue):
                self._check_cancel()
                self._wait_while_paused()
                early = self._prepared_early(index)
                cached = None if force or early is not None else self._cache.get(path, self.settings.fingerprint())
                if cached is not None:
                    self._next = None
                    _name(cached)
                    tally.cached += 1
                    self._count(tally, cached)
                    yield ev.SongFinished(index, cached)
                    continue
                yield from self._ensure_pool()  # a pool pebble gave up on: its early chunks go back on the queue
                prepared, self._next = early or self._prepare(index, path), None
                result = yield from self._analyse_song(prepared, tally)
                if result.analysed and file_identity(path) != prepared.identity:
                    # Chunks may mix old and new audio, and the cache would file it under the new file.
                    result = error_result(path, FILE_CHANGED, result.duration_s)
                _name(result)
                self._count(tally, result)
                if result.analysed:
                    self._cache.put(result, self.settings.fingerprint())
                    yield ev.SongFinished(index, result)
                else:
                    yield ev.SongFailed(index, path, result.error, result)
        except _Cancelled:
            cancelled = True
            if self._pool is not None:
                self._pool.stop(kill=True)  # leaves no child process; the next run starts a fresh pool
                self._pool = None
        finally:
            self._queue, self._next = [], None
        summary = ev.RunSummary(
            songs_total=len(paths),
            songs_done=tally.done,
            songs_partial=tally.partial,
            songs_failed=tally.failed,
            songs_cached=tally.cached,
            songs_skipped=len(paths) - len(tally.results),
            chunks_timed_out=tally.timeouts,
            chunks_failed=tally.chunk_failures,
            worker_replacements=tally.replacements,
            audio_seconds=tally.audio_s,
            wall_seconds=time.monotonic() - started,
            cancelled=cancelled,
        )
        yield ev.RunFinished(summary, tally.results)

    def warm_up(self) -> Iterator[ev.WarmUp]:
        """Start and warm the pool now (a UI may call this at launch); a no-op when it is ready."""
        yield from self._ensure_pool()

    # -- internals ---------------------------------------------------------------------------------
    @staticmethod
    def _count(tally: _Tally, result: SongResult) -> None:
        tally.results.append(result)
        if not result.analysed:
            tally.failed += 1
        else:
            tally.audio_s += result.duration_s
            if result.status is SongStatus.PARTIAL:
                tally.partial += 1
            else:
                tally.done += 1

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise _Cancelled

    def _wait_while_paused(self) -> None:
        while not self._running.wait(POLL_SECONDS):
            self._check_cancel()
        self._check_cancel()

    def _ensure_pool(self) -> Iterator[ev.WarmUp]:
        if self._pool is not None and self._pool.running and len(self._pool.ready_pids) >= self.options.workers:
            return
        if self._pool is not None and not self._pool.running:
            self._requeue_early_chunks()  # pebble gave up on the pool: they will never answer
        from engine.run.pool import AnalysisPool, warm_up_alone

        began = time.monotonic()
        if self._pool is None:
            from engine.cachedirs import jit_marker, prepare_compute_caches

            yield ev.WarmUp("parent", 0, 1, 0.0)
            prepare_compute_caches()
            if self._warm_up is not None:
                marker = jit_marker(self._warm_up)
                if not marker.exists():
                    # numba compiles and writes its cache here, once, before any worker reads it, and
                    # under the same lock as the workers' warm-ups: another app or command starting at
                    # the same moment must not write it at once (concurrent writers corrupt it, and a
                    # corrupted entry segfaults every later process that loads it: librosa issue 1998).
                    warm_up_alone(self._warm_up, os.environ.get("NUMBA_CACHE_DIR"))
                    marker.touch()
            yield ev.WarmUp("parent", 1, 1, time.monotonic() - began)
            self._pool = AnalysisPool(self.options.workers, self._warm_up, os.environ.get("NUMBA_CACHE_DIR"))
        self._pool.start()
        total = self.options.workers
        yield ev.WarmUp("workers", len(self._pool.ready_pids), total, time.monotonic() - began)
        deadline = time.monotonic() + WARM_UP_TIMEOUT
        while len(self._pool.ready_pids) < total:
            self._check_cancel()
            if time.monotonic() > deadline:
                raise EngineError(f"the analysis workers did not start within {WARM_UP_TIMEOUT:.0f} s")
            died = len(self._pool.born_pids - self._pool.ready_pids - set(self._pool.worker_pids()))
            if died >= MAX_FAILED_WORKER_STARTS or not self._pool.running:
                # pebble replaces a worker that dies in its initializer, forever: stop instead of waiting out the limit
                if self._set_aside_compiled_code():
                    yield from self._ensure_pool()  # a new pool, once, with numba's cache cold
                    return
                raise EngineError(
                    f"the analysis workers exit while starting ({max(died, 1)} died); "
                    "worker-stderr.log in the log folder may say why, and `main.py doctor` checks the set-up"
                )
            before = len(self._pool.ready_pids)
            self._pool.poll_notices(POLL_SECONDS)
            if len(self._pool.ready_pids) != before:
                yield ev.WarmUp("workers", min(len(self._pool.ready_pids), total), total, time.monotonic() - began)
        yield ev.WarmUp("done", total, total, time.monotonic() - began)

    def _set_aside_compiled_code(self) -> bool:
        """Workers that die while warming up, once per engine: set numba's cache aside and start cold.

        A damaged entry in numba's cache (two processes once wrote it at the same moment) segfaults every
        process that loads it, so every new worker dies in its warm-up and no run could ever start until
        someone deleted the folder by hand. The folder is renamed (kept, for a report), an empty one takes
        its place, and the pool starts again: the workers compile afresh, one at a time under the warm-up
        lock. Whether a second pool fails too (a broken install) is then said as before.
        """
        folder = os.environ.get("NUMBA_CACHE_DIR")
        if self._cache_set_aside or not folder or not os.path.isdir(folder):
            return False
        self._cache_set_aside = True
        aside = f"{folder}.set-aside-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        try:
            os.replace(folder, aside)
            os.makedirs(folder, exist_ok=True)
        except OSError:
            return False
        log.warning("analysis workers died while starting: numba's compiled-code cache set aside as %s", aside)
        from engine.run.pool import AnalysisPool

        self._pool.stop(kill=True)
        self._pool = AnalysisPool(self.options.workers, self._warm_up, folder)
        return True

    def _prepare(self, index: int, path: str) -> _Prepared:
        """Probe and plan a song (in this process: a header read), or say why it cannot be analysed."""
        prepared = _Prepared(index, path, file_identity(path), time.monotonic())
        try:
            from engine.analysis.chunk import MIN_SECONDS
            from engine.analysis.decoding import probe

            info = probe(path)
            if info.duration_s < MIN_SECONDS:
                raise AudioDecodeError(
                    f"too short to analyse: {info.duration_s:.2f} s of audio (at least {MIN_SECONDS:g} s needed)"
                )
            prepared.spans = plan_chunks(info.duration_s, self.settings)
        except (AudioDecodeError, ValueError) as exc:
            prepared.error = error_result(path, str(exc))
            return prepared
        prepared.duration_s = info.duration_s
        prepared.song = _SongRun(index, path, deque((span, 1) for span in prepared.spans))
        return prepared

    def _prepared_early(self, index: int) -> _Prepared | None:
        """The song whose turn it is, if it was prepared early (with or without chunks already running)."""
        prepared = self._next
        if prepared is None or prepared.index != index or (prepared.song is None and prepared.error is None):
            return None
        return prepared

    def _next_song(self, index: int) -> _Prepared | None:
        """The song after the current one, looked at once: prepared, or marked as not to start early."""
        if self._next is not None and self._next.index == index:
            return self._next
        if index >= len(self._queue):
            return None
        path = self._queue[index]
        if not self._force and self._cache.get(path, self.settings.fingerprint()) is not None:
            self._next = _Prepared(index, path, None, time.monotonic())  # its turn serves it from the cache
        else:
            self._next = self._prepare(index, path)
        return self._next

    def _use_idle_workers(self, current: _SongRun, combining: bool = False) -> None:
        """Start the next song's chunks on workers the current song no longer needs.

        Only once every chunk of the current song was handed out, and never while paused; the next
        song's chunks are announced (ChunkStarted) when its turn comes, so events stay song by song.
        """
        if current.pending or not self._running.is_set():
            return
        upcoming = self._next_song(current.index + 1)
        if upcoming is None or upcoming.song is None:
            return
        song = upcoming.song
        free = self.options.workers - len(current.inflight) - int(combining) - len(song.inflight)
        if free > 0 and song.pending and not song.inflight and not song.chunks:
            upcoming.began = time.monotonic()  # its analysis_s counts from its first chunk
        while free > 0 and song.pending:
            span, attempt = song.pending.popleft()
            song.track(*self._submit(song.path, span, attempt))
            free -= 1

    def _requeue_early_chunks(self) -> None:
        if self._next is not None and self._next.song is not None:
            self._next.song.requeue_unfinished()

    def _rebuild_pool(self) -> None:
        """Replace the whole pool; the next song's early chunks run again in the new one."""
        self._requeue_early_chunks()
        self._pool.rebuild()

    def _note_starts(self, current: _SongRun | None) -> list[Any]:
        """Drain the pool's notices; a chunk of the current or the next song that began gets its start."""
        notices = self._pool.poll_notices()
        songs = [s for s in (current, self._next.song if self._next is not None else None) if s is not None]
        for notice in notices:
            if notice.kind != "start":
                continue
            for song in songs:
                item = song.by_token.get(notice.token)
                if item is not None and item.started is None:
                    item.started, item.pid = time.monotonic(), notice.pid
        return notices

    @staticmethod
    def _announce(song: _SongRun) -> Iterator[ev.ChunkStarted]:
        for item in song.inflight.values():
            if item.started is not None and item.pid is not None and not item.announced:
                item.announced = True
                yield ev.ChunkStarted(
                    song.index, item.span.index, item.pid, item.span.start_s, item.span.end_s, item.started
                )

    def _ahead(self) -> Iterator[ev.WorkerAhead]:
        """What the workers do for the next song before its turn: each early chunk's start, then its end."""
        upcoming = self._next
        if upcoming is None or upcoming.song is None:
            return
        for future, item in upcoming.song.inflight.items():
            if item.started is None or item.pid is None:
                continue
            stage = 2 if future.done() else 1
            if item.ahead < stage:
                item.ahead = stage
                yield ev.WorkerAhead(
                    item.pid,
                    upcoming.index,
                    upcoming.path,
                    item.span.index,
                    len(upcoming.spans),
                    item.started,
                    finished=stage == 2,
                )

    def _analyse_song(self, prepared: _Prepared, tally: _Tally) -> Generator[ev.Event, None, SongResult]:
        if prepared.error is not None or prepared.song is None:
            return prepared.error or error_result(prepared.path, "it could not be prepared for analysis")
        song = prepared.song
        if not song.inflight and not song.chunks:  # nothing started early: it starts now
            prepared.began = time.monotonic()
        yield ev.SongStarted(song.index, song.path, prepared.duration_s, len(prepared.spans))
        yield from self._announce(song)
        yield from self._run_chunks(song, tally)
        result = yield from self._combine(song, prepared.duration_s, prepared.spans, tally)
        result.analysis_s = time.monotonic() - prepared.began
        return result

    def _combine(
        self, song: _SongRun, duration_s: float, spans: list[ChunkSpan], tally: _Tally
    ) -> Generator[ev.Event, None, SongResult]:
        """The song's result from its chunks, computed in the pool like them, under the same rules.

        A deadline (a chunk's), pebble's kill and replacement of a worker that passes it, one retry for a
        worker that dies or a combine that raises, the watchdog, cancel at every poll, and no new task
        while paused. A combine that fails for good fails this song alone, with its chunks kept.
        """
        chunks = sorted(song.chunks.values(), key=lambda c: c.index)
        if not any(c.status is ChunkStatus.OK for c in chunks):
            # nothing to combine: the song's error is its chunks' errors, worded where combine words them
            return self._combine_function(song.path, duration_s, spans, chunks, self.settings, 0.0)
        args = (song.path, duration_s, spans, chunks, self.settings, 0.0)
        deadline = self.options.deadline_for(max(span.seconds for span in spans))
        attempt = 1
        while True:
            self._wait_while_paused()
            if not self._pool.running:
                yield from self._ensure_pool()
            token = next(self._tokens)
            submitted, pid = time.monotonic(), None
            future = self._pool.submit(token, combine_in_worker, (self._combine_function, args), timeout=deadline)
            while not future.done():
                self._check_cancel()
                self._use_idle_workers(song, combining=True)
                wait([future], timeout=POLL_SECONDS)
                for notice in self._note_starts(song):
                    if notice.kind == "start" and notice.token == token:
                        pid = notice.pid
                yield from self._ahead()
                if not future.done() and time.monotonic() - submitted > deadline + WATCHDOG_GRACE:
                    future.cancel()
                    self._rebuild_pool()
                    tally.replacements += 1
                    text = "no answer from its worker after its deadline; pool rebuilt"
                    yield ev.PoolRecovered(ev.RecoveryReason.POOL_REBUILT, pid, text)
                    return self._combine_failed(song.path, duration_s, spans, chunks, text)
            value, failure = self._outcome(future, pid)
            if failure is None:
                result: SongResult = value[0]
                result.chunks = chunks
                return result
            if failure.recovery is not None:
                tally.replacements += 1
                yield failure.recovery
            if not (failure.retry and attempt < MAX_ATTEMPTS):
                text = failure.text + (f" ({attempt} attempts)" if attempt > 1 else "")
                return self._combine_failed(song.path, duration_s, spans, chunks, text)
            attempt += 1

    @staticmethod
    def _combine_failed(
        path: str, duration_s: float, spans: list[ChunkSpan], chunks: list[ChunkResult], text: str
    ) -> SongResult:
        """The song fails with the step named; its chunks stay on it (the inspector and chunks.csv show them)."""
        return SongResult(
            path=path,
            status=SongStatus.ERROR,
            error=f"{COMBINE_FAILED}: {text}",
            duration_s=duration_s,
            chunks_ok=sum(1 for c in chunks if c.status is ChunkStatus.OK),
            chunks_total=len(spans),
            chunks=chunks,
        )

    def _submit(self, path: str, span: ChunkSpan, attempt: int) -> tuple[Any, _InFlight]:
        token = next(self._tokens)
        args = (path, span.start_s, span.end_s, self.settings)
        deadline = self.options.deadline_for(span.seconds)
        future = self._pool.submit(token, self._chunk_function, args, timeout=deadline)
        return future, _InFlight(span, attempt, token, time.monotonic())

    def _run_chunks(self, song: _SongRun, tally: _Tally) -> Iterator[ev.Event]:
        while song.pending or song.inflight:
            self._check_cancel()
            while song.pending and len(song.inflight) < self.options.workers and self._running.is_set():
                span, attempt = song.pending.popleft()
                song.track(*self._submit(song.path, span, attempt))
            self._use_idle_workers(song)
            if song.inflight:
                done, _ = wait(list(song.inflight), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            else:  # paused with nothing running
                done = set()
                self._running.wait(POLL_SECONDS)
            self._note_starts(song)
            yield from self._announce(song)
            yield from self._ahead()
            for future in done:
                item = song.take(future)
                result, retry, recovery = self._classify(song.path, item, future)
                if recovery is not None:
                    tally.replacements += 1
                    yield recovery
                if retry:
                    song.pending.appendleft((item.span, item.attempt + 1))
                    continue
                if result.status is ChunkStatus.TIMEOUT:
                    tally.timeouts += 1
                elif result.status is ChunkStatus.FAILED:
                    tally.chunk_failures += 1
                song.chunks[item.span.index] = result
                yield ev.ChunkFinished(song.index, result)
            yield from self._watchdog(song, tally)

    def _watchdog(self, song: _SongRun, tally: _Tally) -> Iterator[ev.Event]:
        """Last line of defence: a chunk far past its deadline that pebble never reported."""
        now = time.monotonic()
        lost = [
            item
            for item in song.inflight.values()
            if now - item.submitted > self.options.deadline_for(item.span.seconds) + WATCHDOG_GRACE
        ]
        if not lost:
            return
        song.abandon_inflight(keep=lost)
        self._rebuild_pool()
        tally.replacements += 1
        yield ev.PoolRecovered(ev.RecoveryReason.POOL_REBUILT, None, "a chunk was not returned after its deadline")
        for item in lost:
            result = ChunkResult(
                song.path,
                item.span.index,
                item.span.start_s,
                item.span.end_s,
                ChunkStatus.TIMEOUT,
                seconds=now - item.submitted,
                worker_pid=item.pid,
                attempts=item.attempt,
                error="no answer from its worker; pool rebuilt",
            )
            tally.timeouts += 1
            song.chunks[item.span.index] = result
            yield ev.ChunkFinished(song.index, result)
        yield from self._ensure_pool()

    def _classify(self, path: str, item: _InFlight, future: Any) -> tuple[ChunkResult, bool, ev.PoolRecovered | None]:
        """Turn a finished future into a chunk result; say whether to retry and what the pool went through."""
        span = item.span
        elapsed = time.monotonic() - (item.started or item.submitted)

        def make(status: ChunkStatus, error: str = "", **extra: Any) -> ChunkResult:
            return ChunkResult(
                path,
                span.index,
                span.start_s,
                span.end_s,
                status,
                seconds=elapsed,
                worker_pid=extra.pop("pid", item.pid),
                error=error,
                attempts=item.attempt,
                **extra,
            )

        value, failure = self._outcome(future, item.pid)
        if failure is not None:
            retry = failure.retry and item.attempt < MAX_ATTEMPTS
            return make(failure.status, failure.text, pid=failure.pid), retry, failure.recovery
        features, pid, seconds = value
        result = make(ChunkStatus.OK, pid=pid, features=features)
        result.seconds = seconds
        return result, False, None

    def _outcome(self, future: Any, pid: int | None) -> tuple[Any, _Failure | None]:
        """A finished task's ``(value, pid, seconds)``, or why it has none: the same rules for every task."""
        from pebble import ProcessExpired

        try:
            return future.result(timeout=0), None
        except TimeoutError as exc:
            if not exc.args or exc.args[0] != "Task timeout":  # raised by the task itself
                return None, _Failure(ChunkStatus.FAILED, f"TimeoutError: {exc}", True, None, pid)
            limit = exc.args[1] if len(exc.args) > 1 else None
            text = f"timed out after {limit:.0f} s; worker replaced" if limit else "timed out; worker replaced"
            return None, _Failure(
                ChunkStatus.TIMEOUT, text, False, ev.PoolRecovered(ev.RecoveryReason.TIMEOUT, pid, text), pid
            )
        except ProcessExpired as exc:
            text = f"worker process died ({_signal_name(exc.exitcode)})"
            recovery = ev.PoolRecovered(ev.RecoveryReason.WORKER_DIED, exc.pid, text)
            return None, _Failure(ChunkStatus.FAILED, text, True, recovery, exc.pid)
        except AudioDecodeError as exc:
            return None, _Failure(ChunkStatus.ERROR, str(exc), False, None, pid)
        except NestedPoolError as exc:
            return None, _Failure(ChunkStatus.FAILED, str(exc), False, None, pid)
        except Exception as exc:  # MemoryError, a bug in analysis, a broken pool: retry once
            text = f"{type(exc).__name__}: {exc}".rstrip(": ")
            if not self._pool.running:
                self._rebuild_pool()
            return None, _Failure(ChunkStatus.FAILED, text, True, None, pid)
