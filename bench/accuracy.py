"""Accuracy of the engine beside the naive librosa baseline, per source, on the dev set.

    python bench/accuracy.py [--data DIR] [--workers N] [--no-baseline] [--no-essentia] [--no-calibration]

Prints a markdown table (Acc1, Acc2, MAE, key exact, MIREX; n songs) per system and source,
each system raw and calibrated (cross-validated: every song's answer from a profile fitted
on the other folds), then what each calibration kept and why. When the ``essentia`` package is
importable (benchmark only, AGPL), Essentia's RhythmExtractor2013 + KeyExtractor (``edma`` and
``temperley`` profiles) run on the same files in the same run. Speed is per system: the engine
with its worker pool, the others in one process.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import DEFAULT_DATA, Reference, load_dev_set, run_engine_on, run_naive

from engine.references.scoring import score
from engine.settings import EngineOptions


def run_engine(references: list[Reference], workers: int) -> tuple[dict[Path, tuple[float | None, str]], float]:
    results, wall = run_engine_on(references, workers=workers)
    return {path: (r.bpm, r.key) for path, r in results.items()}, wall


def table(systems: dict[str, tuple[dict[Path, tuple[float | None, str]], float]], references: list[Reference]) -> str:
    audio_s = sum(ref.duration_s for ref in references)
    lines = [
        "| system | source | n tempo | Acc1 | Acc2 | MAE BPM | n key | key exact | MIREX | × realtime |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    sources = [*sorted({ref.source for ref in references}), "all"]
    for name, (results, wall) in systems.items():
        for source in sources:
            subset = [r for r in references if source == "all" or r.source == source]
            scores = score(
                [(results[r.path][0], r.bpm) for r in subset if r.bpm is not None],
                [(results[r.path][1], r.key) for r in subset if r.key is not None],
            )
            cells = [_fmt(v) for v in (scores.acc1, scores.acc2, scores.bpm_mae)]
            key_cells = [_fmt(v) for v in (scores.key_exact, scores.mirex)]
            speed = f"{audio_s / wall:.0f}×" if source == "all" and wall else ""
            lines.append(
                f"| {name} | {source} | {scores.n_tempo} | {' | '.join(cells)} | {scores.n_key} | "
                f"{' | '.join(key_cells)} | {speed} |"
            )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-calibration", action="store_true", help="raw answers only")
    parser.add_argument("--no-essentia", action="store_true", help="skip Essentia even when it is installed")
    args = parser.parse_args()
    references = load_dev_set(args.data)
    workers = args.workers or EngineOptions().workers
    systems = {f"engine ({workers} workers)": run_engine(references, workers)}
    if not args.no_baseline:
        systems["naive librosa (1 process)"] = run_naive(references)
    if not args.no_essentia:
        import essentia_systems

        if essentia_systems.available():
            systems.update(essentia_systems.run_essentia(references))
    notes = {}
    if not args.no_calibration:
        from calibrated import cross_validated, straight_line

        raw, systems = systems, {}
        for name, (results, wall) in raw.items():
            systems[name] = (results, wall)
            answers, notes[name] = cross_validated(results, references)
            notes[name].append(straight_line(results, references))
            systems[f"{name} + calibration (cross-validated)"] = (answers, 0.0)
    print(table(systems, references))
    for name, lines in notes.items():
        print(f"\nCalibration of {name}:")
        for line in lines:
            print(f"- {line}")


if __name__ == "__main__":
    main()
