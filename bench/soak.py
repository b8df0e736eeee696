"""Soak: run the engine for N minutes over generated songs while injecting faults at random.

    python bench/soak.py [--minutes 5] [--workers 2] [--seed 1] [--fault-rate 0.4] [--deadline 4] [--json FILE]

Batches of songs go through ONE engine (its pool lives the whole soak, as in the app). Each song
may carry a fault: in its worker (a chunk that never returns, SIGKILL, a segfault, ``os.abort()``,
``MemoryError``, an exception, a kill that a retry survives) or in the file itself (empty, random
bytes, truncated, a folder, deleted after it was queued). Some batches are cancelled halfway and
run again, as a user who stops and restarts would. Prints songs processed, faults injected, faults
survived, results lost (must be 0), hangs (must be 0) and orphan processes (must be 0), and exits 1
when any of those three is not 0 or a fault was not survived.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf
from common import PeakMemory  # also puts the project on sys.path

from engine.analysis.chunk import warm_up
from engine.analysis.tempo import same_tempo_family
from engine.results import ChunkStatus, SongResult, SongStatus
from engine.run import events as ev
from engine.run.pool import worker_processes
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests.faults import named_fault_chunk

SR = 22050
BATCH = 8
WORKER_FAULTS = ("hang", "kill", "kill_once", "segfault", "abort", "memory", "raise")
FILE_FAULTS = ("empty", "random", "truncated", "folder", "deleted")
CANCEL_RATE = 0.2
"""Share of batches cancelled halfway and run again: finished songs must come back from the cache."""
HANG_GRACE_S = 120.0
"""No event for deadline + this long counts as a hang (worker warm-up after a kill takes seconds)."""


@dataclass
class Tally:
    minutes: float = 0.0
    workers: int = 0
    seed: int = 0
    batches: int = 0
    songs_processed: int = 0
    chunks: int = 0
    audio_minutes: float = 0.0
    faults_injected: int = 0
    faults_survived: int = 0
    by_fault: Counter = field(default_factory=Counter)
    not_survived: list[str] = field(default_factory=list)
    runs_cancelled: int = 0
    results_lost: int = 0
    lost: list[str] = field(default_factory=list)
    hangs: int = 0
    orphan_processes: int = 0
    worker_replacements: int = 0
    clean_songs: int = 0
    clean_tempo_right: int = 0
    peak_memory_mb: float = 0.0
    wall_s: float = 0.0


@dataclass(frozen=True)
class Planned:
    path: Path
    fault: str  # "" for a clean song
    bpm: float


def music(bpm: float, seconds: float, rng: random.Random) -> np.ndarray:
    """Clicks at ``bpm`` over a held chord: a tempo and a key to find."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    y = np.zeros(n, np.float32)
    burst = np.exp(-np.linspace(0, 8, int(0.03 * SR))).astype(np.float32)
    noise = np.random.default_rng(rng.randrange(1 << 30)).standard_normal(burst.size).astype(np.float32)
    for i, start in enumerate(np.arange(0.0, seconds - 0.05, 60.0 / bpm)):
        at = int(start * SR)
        piece = (noise * burst * (1.0 if i % 4 == 0 else 0.6))[: n - at]
        y[at : at + piece.size] += piece
    root = 110.0 * 2 ** (rng.randrange(12) / 12)
    chord = sum(0.08 * np.sin(2 * np.pi * root * r * t) for r in (1.0, 1.26, 1.5))
    return (0.5 * y / max(1e-9, float(np.abs(y).max())) + chord).astype(np.float32)


class FaultDeck:
    """Every kind of fault in turn, shuffled anew each round: random order, yet even a short soak meets all."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.cards: list[str] = []

    def draw(self) -> str:
        if not self.cards:
            self.cards = list(WORKER_FAULTS + FILE_FAULTS)
            self.rng.shuffle(self.cards)
        return self.cards.pop()


def make_batch(folder: Path, first: int, rng: random.Random, fault_rate: float, deck: FaultDeck) -> list[Planned]:
    batch = []
    for number in range(first, first + BATCH):
        fault = deck.draw() if rng.random() < fault_rate else ""
        bpm = rng.uniform(70, 170)
        seconds = rng.uniform(3.0, 10.0)
        suffix = f".{fault}" if fault in WORKER_FAULTS else ""
        path = folder / f"song {number:05d}{suffix}.wav"
        if fault == "folder":
            path.mkdir()
        elif fault == "empty":
            path.write_bytes(b"")
        elif fault == "random":
            path.write_bytes(rng.randbytes(rng.randrange(100, 50000)))
        else:
            fmt = rng.choice(("WAV", "FLAC")) if fault == "truncated" else "WAV"
            path = path.with_suffix(".flac") if fmt == "FLAC" else path
            sf.write(str(path), music(bpm, seconds, rng), SR, format=fmt)
            if fault == "truncated":
                data = path.read_bytes()
                path.write_bytes(data[: rng.randrange(len(data) // 10, len(data) // 2)])
        batch.append(Planned(path, fault, bpm))
    return batch


def survived(planned: Planned, result: SongResult) -> bool:
    """The outcome each fault must have: a clear per-song answer, never silence."""
    first = next((c for c in result.chunks if c.index == 0), None)
    if planned.fault in ("hang", "kill", "segfault", "abort", "memory", "raise"):
        expected = ChunkStatus.TIMEOUT if planned.fault == "hang" else ChunkStatus.FAILED
        return (
            result.status in (SongStatus.PARTIAL, SongStatus.ERROR)
            and bool(result.error)
            and (first is None or (first.status is expected and bool(first.error)))
        )
    if planned.fault == "kill_once":
        return result.status is SongStatus.DONE
    if planned.fault == "truncated":
        return result.status is SongStatus.DONE or bool(result.error)
    return result.status is SongStatus.ERROR and len(result.error) > 10  # a bad or missing file


class Watchdog:
    """Counts a hang when the engine says nothing for too long, and cancels the run."""

    def __init__(self, engine: Engine, limit: float):
        self.engine, self.limit = engine, limit
        self.last = time.monotonic()
        self.hung = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def beat(self) -> None:
        self.last = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            if time.monotonic() - self.last > self.limit and not self.hung:
                self.hung = True
                print(f"HANG: no engine event for {self.limit:.0f} s; cancelling", file=sys.stderr, flush=True)
                self.engine.cancel()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_batch(
    engine: Engine, batch: list[Planned], tally: Tally, seen_pids: set[int], rng: random.Random, limit: float
) -> None:
    queue = [p.path for p in batch]
    cancel_after = rng.randrange(1, BATCH - 1) if rng.random() < CANCEL_RATE else None
    finished_before_cancel: set[str] = set()
    for attempt in (1, 2):
        watchdog = Watchdog(engine, limit)
        results: list[SongResult] = []
        done_now = 0
        try:
            for event in engine.run(queue):
                watchdog.beat()
                if isinstance(event, ev.SongStarted | ev.SongFinished | ev.SongFailed):
                    for planned in batch:
                        if planned.fault == "deleted" and planned.path.exists():
                            planned.path.unlink()  # queued, then deleted once the run has begun
                if isinstance(event, ev.ChunkStarted | ev.PoolRecovered) and event.worker_pid:
                    seen_pids.add(event.worker_pid)
                elif isinstance(event, ev.SongFinished | ev.SongFailed):
                    done_now += 1
                    if attempt == 1 and event.result.status is not SongStatus.ERROR:
                        finished_before_cancel.add(event.result.path)
                    if attempt == 1 and cancel_after is not None and done_now == cancel_after:
                        engine.cancel()
                elif isinstance(event, ev.RunFinished):
                    results = event.results
                    tally.worker_replacements += event.summary.worker_replacements
        finally:
            watchdog.stop()
        tally.hangs += int(watchdog.hung)
        seen_pids.update(engine.worker_pids())
        if watchdog.hung:
            return
        if attempt == 1 and cancel_after is not None:
            tally.runs_cancelled += 1
            continue  # the user presses Start again: the whole batch, from the top
        break
    check_batch(batch, results, finished_before_cancel if cancel_after is not None else set(), tally)


def check_batch(batch: list[Planned], results: list[SongResult], before_cancel: set[str], tally: Tally) -> None:
    by_path = {r.path: r for r in results}
    for planned in batch:
        result = by_path.get(str(planned.path))
        if result is None:
            tally.results_lost += 1
            tally.lost.append(f"{planned.path.name}: no result at all")
            continue
        tally.songs_processed += 1
        tally.chunks += len(result.chunks)
        tally.audio_minutes += result.duration_s / 60
        if str(planned.path) in before_cancel and not result.cached:
            tally.results_lost += 1
            tally.lost.append(f"{planned.path.name}: finished before the cancel, not in the cache after it")
        if planned.fault:
            tally.faults_injected += 1
            tally.by_fault[planned.fault] += 1
            if survived(planned, result):
                tally.faults_survived += 1
            else:
                tally.not_survived.append(
                    f"{planned.path.name} ({planned.fault}): {result.status.value} {result.error}"
                )
            continue
        tally.clean_songs += 1
        if result.status is not SongStatus.DONE:
            tally.results_lost += 1
            tally.lost.append(f"{planned.path.name}: clean song came back {result.status.value}: {result.error}")
        elif result.bpm and same_tempo_family(result.bpm, planned.bpm):
            tally.clean_tempo_right += 1


def orphans(seen_pids: set[int]) -> list[int]:
    """Workers this soak ever saw that are still running after the engine closed."""
    alive = []
    for pid in seen_pids:
        try:
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE and "multiprocessing" in " ".join(proc.cmdline()):
                alive.append(pid)
        except psutil.Error:
            pass
    return alive


def soak(minutes: float, workers: int, seed: int, fault_rate: float, deadline: float) -> Tally:
    rng = random.Random(seed)
    tally = Tally(minutes=minutes, workers=workers, seed=seed)
    seen_pids: set[int] = set()
    deck = FaultDeck(rng)
    memory = PeakMemory(interval=0.2).start()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="calibration-soak-") as tmp:
        folder = Path(tmp)
        options = EngineOptions(workers=workers, chunk_timeout=deadline, cache_path=folder / "cache.sqlite3")
        chunk = partial(named_fault_chunk, marker_dir=str(folder))
        engine = Engine(AnalysisSettings(chunk_seconds=4.0), options, chunk_function=chunk, warm_up=warm_up)
        try:
            list(engine.warm_up())
            while time.monotonic() - started < minutes * 60 and not tally.hangs:
                batch_dir = folder / f"batch {tally.batches:04d}"
                batch_dir.mkdir()
                batch = make_batch(batch_dir, tally.batches * BATCH, rng, fault_rate, deck)
                run_batch(engine, batch, tally, seen_pids, rng, deadline + HANG_GRACE_S)
                tally.batches += 1
                shutil.rmtree(batch_dir, ignore_errors=True)
                print(
                    f"[{(time.monotonic() - started) / 60:4.1f} min] {tally.songs_processed} songs, "
                    f"{tally.faults_survived}/{tally.faults_injected} faults survived, lost {tally.results_lost}, "
                    f"hangs {tally.hangs}",
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            engine.close()
    left = orphans(seen_pids)
    if left:
        psutil.wait_procs([psutil.Process(p) for p in left if psutil.pid_exists(p)], timeout=5)
        left = orphans(seen_pids)
    tally.orphan_processes = len(left) + len(worker_processes())
    tally.peak_memory_mb = memory.stop()
    tally.wall_s = time.monotonic() - started
    return tally


def report(tally: Tally) -> str:
    faults = ", ".join(f"{kind} {n}" for kind, n in sorted(tally.by_fault.items()))
    lines = [
        f"soak: {tally.wall_s / 60:.1f} min, {tally.workers} workers, seed {tally.seed}, {tally.batches} batches",
        f"songs processed      {tally.songs_processed} ({tally.chunks} chunks, {tally.audio_minutes:.0f} min of audio)",
        f"faults injected      {tally.faults_injected} ({faults}; plus {tally.runs_cancelled} runs cancelled)",
        f"faults survived      {tally.faults_survived}",
        f"results lost         {tally.results_lost}   (must be 0)",
        f"hangs                {tally.hangs}   (must be 0)",
        f"orphan processes     {tally.orphan_processes}   (must be 0)",
        f"worker replacements  {tally.worker_replacements}",
        f"clean songs, tempo right (Acc2)  {tally.clean_tempo_right} of {tally.clean_songs}",
        f"peak memory (parent + workers)   {tally.peak_memory_mb:.0f} MB",
    ]
    lines += [f"  not survived: {x}" for x in tally.not_survived[:20]]
    lines += [f"  lost: {x}" for x in tally.lost[:20]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to run (default %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for songs and faults (default %(default)s)")
    parser.add_argument("--fault-rate", type=float, default=0.4, help="share of songs with a fault (default 0.4)")
    parser.add_argument("--deadline", type=float, default=4.0, help="chunk deadline in seconds (default 4)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    args = parser.parse_args()
    tally = soak(args.minutes, args.workers, args.seed, args.fault_rate, args.deadline)
    print(report(tally))
    if args.json:
        data = asdict(tally)
        data["by_fault"] = dict(tally.by_fault)
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    bad = tally.results_lost or tally.hangs or tally.orphan_processes
    return 1 if bad or tally.faults_survived < tally.faults_injected else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
