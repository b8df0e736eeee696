"""Accuracy of the engine beside the naive librosa baseline and Essentia, per source, raw and calibrated.

    python bench/accuracy.py [--data DIR ...] [--workers N] [--no-baseline] [--no-essentia]
                             [--no-calibration] [--flip-convention] [--save-answers F] [--load-answers F ...]
                             [--no-engine]

Data: ``dev/`` and ``dev-grooves/`` by default (each ``--data`` adds a set; sources are the
``source`` column of each ``ground_truth.csv``). Prints a markdown table (Acc1, Acc2, MAE, key
exact, MIREX; n songs) per system and source, each system raw and calibrated (cross-validated:
every song's answer from a profile fitted on the other folds), then what each calibration kept
and why. When the ``essentia`` package is importable (benchmark only, AGPL, ``pip install
.[bench]``), Essentia's RhythmExtractor2013 + KeyExtractor (``edma`` and ``temperley``) run on
the same files in the same run. Beside Acc1 and Acc2, each row has the precision of the hits: the median BPM error at
the level that matched and the share of hits within 0.05 BPM (``engine.references.scoring``), over
the Acc1 hits and over the Acc2 hits. Speed is per system: the engine with its worker pool, the
others in one process.

``--flip-convention`` halves every reference BPM above 140, as a "half-time" DJ library files
fast tracks; raw scores drop, and a calibration that learns the reference's convention should
follow. ``--save-answers``/``--load-answers`` keep every system's answers (the engine's with their
tempo evidence) and times in a JSON file, so calibration can be rescored, flipped or not,
without analysing again.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from common import DEFAULT_DATA, Reference, load_dev_set, run_engine_on, run_naive

from engine.calibration.dataset import evidence_of
from engine.references.scoring import score
from engine.settings import EngineOptions

GROOVES = DEFAULT_DATA.parent / "dev-grooves"
FLIP_ABOVE_BPM = 140.0


def engine_answers(results: dict) -> dict[Path, tuple]:
    return {path: (r.bpm, r.key, evidence_of(r)) for path, r in results.items()}


Systems = dict[str, tuple[dict[Path, tuple], float]]


def save_answers(systems: Systems, path: Path) -> None:
    data = {
        name: {"wall_s": wall, "answers": {str(p): list(a) for p, a in answers.items()}}
        for name, (answers, wall) in systems.items()
    }
    path.write_text(json.dumps(data), encoding="utf-8")


def load_answers(path: Path) -> Systems:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: ({Path(p): tuple(a) for p, a in item["answers"].items()}, float(item["wall_s"]))
        for name, item in data.items()
    }


def flip_convention(references: list[Reference]) -> list[Reference]:
    """Every reference BPM above :data:`FLIP_ABOVE_BPM` halved: a "half-time" DJ library's convention."""
    return [replace(r, bpm=r.bpm / 2 if r.bpm is not None and r.bpm > FLIP_ABOVE_BPM else r.bpm) for r in references]


def table(systems: dict[str, tuple[dict[Path, tuple], float]], references: list[Reference]) -> str:
    audio_s = sum(ref.duration_s for ref in references)
    lines = [
        "| system | source | n tempo | Acc1 | Acc2 | MAE BPM | median BPM error (Acc1 hits) | within 0.05 BPM "
        "(Acc1 hits) | median BPM error (Acc2 hits) | within 0.05 BPM (Acc2 hits) | n key | key exact | MIREX "
        "| × realtime |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
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
            cells += [
                _fmt(scores.bpm_error_median_acc1),
                _share(scores.bpm_precise_acc1),
                _fmt(scores.bpm_error_median_acc2),
                _share(scores.bpm_precise_acc2),
            ]
            key_cells = [_fmt(v) for v in (scores.key_exact, scores.mirex)]
            speed = f"{audio_s / wall:.0f}×" if source == "all" and wall else ""
            lines.append(
                f"| {name} | {source} | {scores.n_tempo} | {' | '.join(cells)} | {scores.n_key} | "
                f"{' | '.join(key_cells)} | {speed} |"
            )
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", help="a data set (repeatable); default dev + dev-grooves")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-engine", action="store_true", help="only the other systems (merge with --load-answers)")
    parser.add_argument("--no-calibration", action="store_true", help="raw answers only")
    parser.add_argument("--no-essentia", action="store_true", help="skip Essentia even when it is installed")
    parser.add_argument(
        "--flip-convention", action="store_true", help=f"halve reference BPMs above {FLIP_ABOVE_BPM:.0f}"
    )
    parser.add_argument("--save-answers", type=Path, help="write every system's answers to this JSON file")
    parser.add_argument(
        "--load-answers",
        type=Path,
        action="append",
        help="take systems' answers from this file (no analysis); repeatable, later files add systems",
    )
    args = parser.parse_args()
    references = [ref for data in (args.data or [DEFAULT_DATA, GROOVES]) for ref in load_dev_set(data)]
    workers = args.workers or EngineOptions().workers
    if args.load_answers:
        systems = {name: item for path in args.load_answers for name, item in load_answers(path).items()}
    else:
        systems = {}
        if not args.no_engine:
            results, wall = run_engine_on(references, workers=workers)
            systems[f"engine ({workers} workers)"] = (engine_answers(results), wall)
        if not args.no_baseline:
            systems["naive librosa (1 process)"] = run_naive(references)
        if not args.no_essentia:
            import essentia_systems

            if essentia_systems.available():
                systems.update(essentia_systems.run_essentia(references))
    if args.save_answers:
        save_answers(systems, args.save_answers)
    if args.flip_convention:
        references = flip_convention(references)
        print(f"Reference convention flipped: every reference BPM above {FLIP_ABOVE_BPM:.0f} halved.\n")
    notes = {}
    if not args.no_calibration:
        from calibrated import cross_validated, straight_line

        raw, systems = systems, {}
        for name, (answers, seconds) in raw.items():
            systems[name] = (answers, seconds)
            calibrated, notes[name] = cross_validated(answers, references)
            notes[name].append(straight_line(answers, references))
            systems[f"{name} + calibration (cross-validated)"] = (calibrated, 0.0)
    print(table(systems, references))
    for name, lines in notes.items():
        print(f"\nCalibration of {name}:")
        for line in lines:
            print(f"- {line}")


if __name__ == "__main__":
    main()
