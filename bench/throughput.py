"""Engine throughput against the naive single-process librosa script, on the same files in the same run.

    python bench/throughput.py [FOLDER] [--workers N] [--chunk-seconds S] [--overlap S] [--no-baseline]

Prints both speeds as multiples of realtime and their ratio; the time from pressing Start to the
first chunk result, with a new pool (numba cache warm, but the workers must start) and with a
pool already warm (the pool is created once and reused for every run); the peak memory of parent
plus workers; and how long a cancel mid-chunk takes and whether any worker survives it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import psutil
from common import DEFAULT_DATA, PeakMemory, Reference, run_naive

from engine.analysis.decoding import probe
from engine.run.discovery import discover
from engine.run.events import ChunkFinished, ChunkStarted, RunFinished
from engine.run.pool import worker_processes
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions


def run_engine(paths: list[Path], settings: AnalysisSettings, workers: int) -> dict[str, float]:
    """Times a cold start (new pool) to the first chunk, then the whole set on the warm pool."""
    options = EngineOptions(workers=workers, use_cache=False)
    with Engine(settings, options) as engine:
        started = time.perf_counter()
        first_chunk = None
        for event in engine.run(paths[:1]):
            if isinstance(event, ChunkFinished) and first_chunk is None:
                first_chunk = time.perf_counter() - started
        warm_started = time.perf_counter()
        warm_first = None
        with PeakMemory() as memory:
            for event in engine.run(paths):
                if isinstance(event, ChunkFinished) and warm_first is None:
                    warm_first = time.perf_counter() - warm_started
                if isinstance(event, RunFinished):
                    summary = event.summary
            wall = time.perf_counter() - warm_started
        cancel_s, left = time_cancel(engine, paths)
    return {
        "cancel_s": cancel_s,
        "workers_left": left,
        "wall": wall,
        "first_chunk_cold": first_chunk or 0.0,
        "first_chunk_warm": warm_first or 0.0,
        "peak_mb": memory.peak_mb,
        "failed": summary.songs_failed,
    }


def time_cancel(engine: Engine, paths: list[Path]) -> tuple[float, int]:
    """Cancel mid-chunk, as a user presses Cancel: seconds until the run ends, and workers left then."""
    cancelled_at = None
    for event in engine.run(paths):
        if isinstance(event, ChunkStarted) and cancelled_at is None:
            time.sleep(0.05)  # the chunk is now running in a worker
            cancelled_at = time.perf_counter()
            engine.cancel()
        if isinstance(event, RunFinished):
            return time.perf_counter() - (cancelled_at or time.perf_counter()), len(worker_processes())
    return 0.0, len(worker_processes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DATA / "audio")
    parser.add_argument("--workers", type=int, default=EngineOptions().workers)
    parser.add_argument("--chunk-seconds", type=float, default=AnalysisSettings().chunk_seconds)
    parser.add_argument("--overlap", type=float, default=AnalysisSettings().overlap_seconds)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    paths = discover([args.folder]).songs
    audio_s = sum(probe(p).duration_s for p in paths)
    settings = AnalysisSettings(chunk_seconds=args.chunk_seconds, overlap_seconds=args.overlap)
    print(
        f"{len(paths)} songs, {audio_s / 60:.1f} min of audio; {args.workers} workers, "
        f"chunks {settings.chunk_seconds:g} s, overlap {settings.overlap_seconds:g} s; {psutil.cpu_count()} cores"
    )
    engine = run_engine(paths, settings, args.workers)
    engine_speed = audio_s / engine["wall"]
    print(f"engine:   {engine_speed:7.1f}× realtime ({engine['wall']:.1f} s), {engine['failed']} songs failed")
    print(
        f"          first chunk result after Start: {engine['first_chunk_cold']:.2f} s with a new pool, "
        f"{engine['first_chunk_warm']:.2f} s with a warm pool"
    )
    print(f"          peak memory, parent + workers: {engine['peak_mb']:.0f} MB")
    print(
        f"          cancel mid-chunk: run ended {engine['cancel_s']:.2f} s after cancel(), "
        f"{engine['workers_left']} worker processes left"
    )
    if not args.no_baseline:
        _, naive_wall = run_naive([Reference(p, "", 0.0, None, None) for p in paths])
        naive_speed = audio_s / naive_wall
        print(f"naive:    {naive_speed:7.1f}× realtime ({naive_wall:.1f} s, 1 process)")
        print(f"ratio:    {engine_speed / naive_speed:.2f}× the naive baseline's throughput")


if __name__ == "__main__":
    main()
