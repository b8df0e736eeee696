"""How the calibration's support floor decides what it can learn, on real answers and many conventions.

    python bench/support_floor.py ANSWERS.json [--floors 5%,3%,2%,5,3] [--noise-seeds 20]

``ANSWERS.json`` comes from ``bench/accuracy.py --save-answers`` (the engine's answers with their
tempo evidence; no analysis here). The references are the dev + dev-grooves ground truth, rewritten
into conventions a reference library could follow:

- ``true``: the ground truth;
- ``halve>140`` / ``halve>150`` / ``halve>130``: a half-time DJ library (the issue's flip is 140);
- ``double<80``: a library that files slow songs at double;
- ``noiseP``: each song's reference moved to ×2 or ×½ at random with probability P % (nothing
  to learn: a floor that lets a rule through here is too low);
- ``mixed-halve>140``: half of the songs above 140 halved at random (a library that is not
  consistent either way).

For each floor (``N%`` = that share of the training songs, at least 3; ``N`` = a fixed count) it
prints the cross-validated calibrated Acc1 beside the raw one and which stages were kept.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from accuracy import GROOVES, load_answers
from calibrated import cross_validated
from common import DEFAULT_DATA, Reference, load_dev_set

import engine.calibration.fit as fit
from engine.references.scoring import score

Convention = Callable[[float, np.random.Generator], float]
CONVENTIONS: dict[str, Convention] = {
    "true": lambda bpm, rng: bpm,
    "halve>140": lambda bpm, rng: bpm / 2 if bpm > 140 else bpm,
    "halve>150": lambda bpm, rng: bpm / 2 if bpm > 150 else bpm,
    "halve>130": lambda bpm, rng: bpm / 2 if bpm > 130 else bpm,
    "double<80": lambda bpm, rng: bpm * 2 if bpm < 80 else bpm,
    "noise10": lambda bpm, rng: bpm * rng.choice([2.0, 0.5]) if rng.random() < 0.10 else bpm,
    "noise25": lambda bpm, rng: bpm * rng.choice([2.0, 0.5]) if rng.random() < 0.25 else bpm,
    "mixed-halve>140": lambda bpm, rng: bpm / 2 if bpm > 140 and rng.random() < 0.5 else bpm,
}
RANDOM = ("noise10", "noise25", "mixed-halve>140")


def rewrite(references: list[Reference], convention: Convention, seed: int) -> list[Reference]:
    rng = np.random.default_rng(seed)
    return [replace(r, bpm=None if r.bpm is None else float(convention(r.bpm, rng))) for r in references]


def acc1(answers: dict, references: list[Reference]) -> float:
    return score([(answers[r.path][0], r.bpm) for r in references if r.bpm is not None], []).acc1


def floor_songs(text: str, songs: int) -> int:
    """``5%`` → that share of the library, at least 3 (the old floor; it was taken of each fold's
    training songs, which are 10 % fewer); ``5`` → a fixed count (the floor now)."""
    return max(3, math.ceil(float(text[:-1]) / 100 * songs)) if text.endswith("%") else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("answers", type=Path)
    parser.add_argument("--floors", default="5%,3%,2%,5,3")
    parser.add_argument("--noise-seeds", type=int, default=20)
    args = parser.parse_args()
    references = [ref for data in (DEFAULT_DATA, GROOVES) for ref in load_dev_set(data)]
    answers = next(iter(load_answers(args.answers).values()))[0]
    songs = sum(r.bpm is not None for r in references)
    shipped = fit.MIN_SUPPORT
    print("| floor | convention | runs | raw Acc1 | calibrated Acc1 (CV) | runs with a stage kept | stages kept |")
    print("|---|---|---|---|---|---|---|")
    for text in args.floors.split(","):
        fit.MIN_SUPPORT = floor_songs(text, songs)
        try:
            for name, convention in CONVENTIONS.items():
                seeds = range(args.noise_seeds) if name in RANDOM else range(1)
                raw, calibrated, kept = [], [], []
                for seed in seeds:
                    rewritten = rewrite(references, convention, seed)
                    answers_cv, notes = cross_validated(answers, rewritten)
                    raw.append(acc1(answers, rewritten))
                    calibrated.append(acc1(answers_cv, rewritten))
                    kept.append([n.split(":")[0] for n in notes if n.split(":", 1)[-1].strip().startswith("kept")])
                stages = sorted({stage for run in kept for stage in run})
                print(
                    f"| {text} (= {fit.MIN_SUPPORT} songs) | {name} | {len(raw)} | {np.mean(raw):.3f} | "
                    f"{np.mean(calibrated):.3f} | {sum(bool(k) for k in kept)} | {', '.join(stages) or '–'} |"
                )
        finally:
            fit.MIN_SUPPORT = shipped


if __name__ == "__main__":
    main()
