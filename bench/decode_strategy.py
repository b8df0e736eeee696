"""Should a worker read its own chunk from the file, or should the parent decode and send samples?

    python bench/decode_strategy.py [FOLDER] [--workers N] [--chunk-seconds S]

Both strategies run through the same warm pool on the same files and chunk plan, alternating
song by song so background load hits both alike. Prints wall time per strategy, the parent's
CPU time (the parent is also the GUI process, so its share matters) and the bytes pickled.
"""

from __future__ import annotations

import argparse
import pickle
import time
from concurrent.futures import wait
from pathlib import Path

import psutil
from common import DEFAULT_DATA

from engine.analysis.chunk import analyse_chunk, analyse_samples, warm_up
from engine.analysis.chunking import plan_chunks
from engine.analysis.decoding import probe, read_segment
from engine.run.discovery import discover
from engine.run.pool import AnalysisPool
from engine.settings import AnalysisSettings, EngineOptions


def worker_reads(pool: AnalysisPool, path: Path, settings: AnalysisSettings) -> int:
    spans = plan_chunks(probe(path).duration_s, settings)
    futures = [
        pool.submit(i, analyse_chunk, (str(path), s.start_s, s.end_s, settings), None) for i, s in enumerate(spans)
    ]
    wait(futures)
    return sum(len(pickle.dumps((str(path), s.start_s, s.end_s, settings))) for s in spans)


def parent_sends(pool: AnalysisPool, path: Path, settings: AnalysisSettings) -> int:
    duration = probe(path).duration_s
    spans = plan_chunks(duration, settings)
    sr = settings.sample_rate
    y = read_segment(path, 0.0, duration, sr)
    pieces = [y[int(s.start_s * sr) : int(s.end_s * sr)] for s in spans]
    futures = [pool.submit(i, analyse_samples, (piece, sr, settings), None) for i, piece in enumerate(pieces)]
    wait(futures)
    return sum(len(pickle.dumps(piece)) for piece in pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DATA / "audio")
    parser.add_argument("--workers", type=int, default=EngineOptions().workers)
    parser.add_argument("--chunk-seconds", type=float, default=AnalysisSettings().chunk_seconds)
    args = parser.parse_args()
    settings = AnalysisSettings(chunk_seconds=args.chunk_seconds)
    paths = discover([args.folder]).songs
    warm_up(settings)
    pool = AnalysisPool(args.workers, warm_up)
    pool.start()
    deadline = time.monotonic() + 300
    while len(pool.ready_pids) < pool.workers and time.monotonic() < deadline:
        pool.poll_notices(0.1)
    me = psutil.Process()
    totals = {"worker reads its slice": [0.0, 0.0, 0], "parent decodes, sends samples": [0.0, 0.0, 0]}
    strategies = {"worker reads its slice": worker_reads, "parent decodes, sends samples": parent_sends}
    try:
        for i, path in enumerate(paths):
            order = list(strategies.items()) if i % 2 == 0 else list(strategies.items())[::-1]
            for name, strategy in order:
                cpu, wall = me.cpu_times(), time.perf_counter()
                sent = strategy(pool, path, settings)
                after = me.cpu_times()
                totals[name][0] += time.perf_counter() - wall
                totals[name][1] += (after.user - cpu.user) + (after.system - cpu.system)
                totals[name][2] += sent
    finally:
        pool.stop()
    print(f"{len(paths)} songs, {args.workers} workers, chunks {settings.chunk_seconds:g} s")
    for name, (wall, cpu, sent) in totals.items():
        print(f"{name:32s} wall {wall:6.1f} s   parent CPU {cpu:5.1f} s   pickled {sent / 2**20:7.1f} MB")


if __name__ == "__main__":
    main()
