"""Throughput of this checkout's engine against another checkout's, alternating, in the same session.

    python bench/ab_throughput.py --baseline-tree DIR [--data DIR] [--rounds N] [--workers N]

On a shared machine a wall-clock number means little; a ratio measured in alternating rounds on
the same files does. ``DIR`` is another source tree of the app (for example
``git archive <commit> | tar -x -C /tmp/base``); each run imports its engine in a fresh process,
warms the pool, and times one pass over every audio file of ``--data`` without the cache. It also
reports the CPU time of the engine's own process during the pass (all its threads: scheduling,
pickling, whatever it computes itself), the work a run adds to the window's process; on a loaded
machine that number moves far less than the wall clock.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from common import DEFAULT_DATA, REPO, load_dev_set

RUN = """
import json, sys, time
sys.path.insert(0, {tree!r})
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
paths = json.loads(sys.stdin.read())
with Engine(AnalysisSettings(), EngineOptions(workers={workers}, use_cache=False)) as engine:
    for _ in engine.warm_up():
        pass
    started, cpu = time.perf_counter(), time.process_time()
    for _ in engine.run(paths):
        pass
    print(time.perf_counter() - started, time.process_time() - cpu)
"""


def timed_run(tree: Path, paths: list[str], workers: int) -> tuple[float, float]:
    """Wall seconds of one pass, and CPU seconds of the engine's own process during it."""
    code = RUN.format(tree=str(tree), workers=workers)
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(paths), capture_output=True, text=True, cwd=tree, check=True
    )
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-tree", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA.parent / "dev-grooves")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    references = load_dev_set(args.data)
    paths = [str(Path(r.path).resolve()) for r in references]  # the runs start in their own trees
    audio_s = sum(r.duration_s for r in references)
    times: dict[str, list[float]] = {"baseline": [], "this": []}
    cpu: dict[str, list[float]] = {"baseline": [], "this": []}
    for _ in range(args.rounds):
        for name, tree in (("baseline", args.baseline_tree.resolve()), ("this", REPO)):
            wall, engine_cpu = timed_run(tree, paths, args.workers)
            times[name].append(wall)
            cpu[name].append(engine_cpu)
            print(
                f"{name}: {wall:.1f} s ({audio_s / wall:.0f}× realtime); engine process CPU {engine_cpu:.2f} s "
                f"({1000 * engine_cpu / len(paths):.1f} ms per song)",
                flush=True,
            )
    # each round runs both trees back to back: its ratio is the paired comparison, and their median the number
    paired = [b / t for b, t in zip(times["baseline"], times["this"], strict=True)]
    ratio = statistics.median(paired)
    rounds = ", ".join(f"{r:.3f}" for r in paired)
    print(f"throughput this / baseline (median of {args.rounds} paired rounds: {rounds}): {ratio:.3f}")
    per_song = {name: 1000 * statistics.median(values) / len(paths) for name, values in cpu.items()}
    print(
        f"engine process CPU per song (median of {args.rounds} rounds): "
        f"baseline {per_song['baseline']:.1f} ms, this {per_song['this']:.1f} ms"
    )


if __name__ == "__main__":
    main()
