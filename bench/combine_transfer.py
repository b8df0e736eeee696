"""What moving a song's combine into the pool costs: the bytes and time of sending its chunks to a worker.

    python bench/combine_transfer.py [--data DIR] [--limit N]

Since issue 23 the engine's process sends each song's chunk results (onset envelopes, chroma, beats)
to a pool worker, which runs the consensus and the beat-grid fit and sends back the song's result
without the chunks. For each song of ``--data`` (its first ``--limit``), this analyses the chunks
here, one after another with the default settings, then measures what crosses the pipe: the pickled
task and result sizes, the time to pickle the task in the engine's process (what the window's process
now does instead of the combine) and to unpickle it, and the time of the combine itself (what the
window's process no longer does). Medians of five repetitions per song.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import time
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

from common import DEFAULT_DATA, load_dev_set

from engine.analysis.chunk import analyse_chunk
from engine.analysis.chunking import plan_chunks
from engine.analysis.consensus import combine
from engine.analysis.decoding import probe
from engine.results import ChunkResult, ChunkStatus
from engine.run.runner import combine_in_worker
from engine.settings import AnalysisSettings

REPEAT = 5


def median_seconds(function, repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure(path: Path, settings: AnalysisSettings) -> dict[str, float]:
    duration = probe(path).duration_s
    spans = plan_chunks(duration, settings)
    chunks = [
        ChunkResult(
            str(path),
            s.index,
            s.start_s,
            s.end_s,
            ChunkStatus.OK,
            features=analyse_chunk(str(path), s.start_s, s.end_s, settings),
        )
        for s in spans
    ]
    args = (str(path), duration, spans, chunks, settings, 0.0)
    task = bytes(ForkingPickler.dumps((combine_in_worker, (combine, args))))  # as multiprocessing sends it
    answer = bytes(ForkingPickler.dumps(combine_in_worker(combine, args)))
    return {
        "minutes": duration / 60,
        "chunks": len(spans),
        "task_kb": len(task) / 1024,
        "answer_kb": len(answer) / 1024,
        "pickle_ms": 1000 * median_seconds(lambda: ForkingPickler.dumps((combine_in_worker, (combine, args)))),
        "unpickle_ms": 1000 * median_seconds(lambda: pickle.loads(task)),
        "combine_ms": 1000 * median_seconds(lambda: combine(*args)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA.parent / "dev-tracker")
    parser.add_argument("--limit", type=int, default=8)
    args = parser.parse_args()
    settings = AnalysisSettings()
    rows = []
    for reference in load_dev_set(args.data)[: args.limit]:
        row = measure(reference.path, settings)
        rows.append(row)
        print(
            f"{reference.path.name[:40]:40s} {row['minutes']:5.2f} min {row['chunks']:2.0f} chunks  "
            f"task {row['task_kb']:6.1f} KiB  answer {row['answer_kb']:5.1f} KiB  pickle {row['pickle_ms']:5.2f} ms  "
            f"unpickle {row['unpickle_ms']:5.2f} ms  combine {row['combine_ms']:7.1f} ms",
            flush=True,
        )
    minutes = sum(r["minutes"] for r in rows)
    print(f"{len(rows)} songs, {minutes:.1f} min of audio; medians per song:")
    for key in ("task_kb", "answer_kb", "pickle_ms", "unpickle_ms", "combine_ms"):
        print(
            f"  {key}: {statistics.median(r[key] for r in rows):.2f}   per minute of audio: "
            f"{sum(r[key] for r in rows) / minutes:.2f}"
        )


if __name__ == "__main__":
    main()
