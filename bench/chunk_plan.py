"""Pick the chunk-plan defaults by measurement: throughput and accuracy per window length and overlap.

    python bench/chunk_plan.py [--data DIR] [--workers N] [--lengths 10,15,20,30,60] [--overlaps 0,2]

Runs the engine over the dev set for every combination (warm pool, no cache) and prints a table
of × realtime, tempo Acc1/Acc2 and key exact/MIREX, so the defaults in
``engine/settings.py`` are the best trade-off rather than a guess.
"""

from __future__ import annotations

import argparse

from common import DEFAULT_DATA, load_dev_set, run_engine_on

from engine.references.scoring import score
from engine.settings import AnalysisSettings, EngineOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=EngineOptions().workers)
    parser.add_argument("--lengths", default="10,15,20,30,60")
    parser.add_argument("--overlaps", default="0,2")
    args = parser.parse_args()
    references = load_dev_set(args.data)
    audio_s = sum(r.duration_s for r in references)
    print("| chunk s | overlap s | × realtime | Acc1 | Acc2 | key exact | MIREX |")
    print("|---|---|---|---|---|---|---|")
    for length in (float(x) for x in args.lengths.split(",")):
        for overlap in (float(x) for x in args.overlaps.split(",")):
            if overlap >= length / 2:
                continue
            settings = AnalysisSettings(chunk_seconds=length, overlap_seconds=overlap)
            results, wall = run_engine_on(references, settings, args.workers)
            s = score(
                [(results[r.path].bpm, r.bpm) for r in references if r.bpm is not None],
                [(results[r.path].key, r.key) for r in references if r.key is not None],
            )
            print(
                f"| {length:g} | {overlap:g} | {audio_s / wall:.0f}× | {s.acc1:.3f} | {s.acc2:.3f} | "
                f"{s.key_exact:.3f} | {s.mirex:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
