"""How the calibration's support floor decides what it can learn, on real answers and many conventions.

    python bench/support_floor.py ANSWERS.json [--floors 5%,3%,2%,5,3] [--noise-seeds 20] [--layouts 30]

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
``--layouts N`` then refits the ground truth and the 140 flip with N other fold seeds, judged on
one fold layout and on the shipped number of layouts (:data:`engine.calibration.crossval.REPEATS`),
and counts how often a stage is kept: whether learning a convention hangs on where songs fall.
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

import engine.calibration.crossval as crossval
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


def layout_draws(answers: dict, references: list[Reference], draws: int) -> None:
    """How often each convention is learned over ``draws`` fold seeds, with 1 and with REPEATS layouts."""
    shipped = fit.scheme_for
    print("\n| fold layouts per stage | convention | seeds | runs with a stage kept | calibrated Acc1 (CV), min–max |")
    print("|---|---|---|---|---|")
    try:
        for repeats in sorted({1, crossval.REPEATS}):
            for name in ("true", "halve>140"):
                rewritten = rewrite(references, CONVENTIONS[name], 0)
                kept, calibrated = 0, []
                for seed in range(draws):

                    def scheme_for(n: int, seed: int = seed, repeats: int = repeats) -> crossval.Scheme:
                        base = shipped(n)
                        return replace(base, seed=base.seed + 1000 * seed, repeats=min(base.repeats, repeats))

                    fit.scheme_for = scheme_for
                    answers_cv, notes = cross_validated(answers, rewritten)
                    calibrated.append(acc1(answers_cv, rewritten))
                    kept += any(n.startswith("tempo") and n.split(":", 1)[-1].strip().startswith("kept") for n in notes)
                print(
                    f"| {repeats} | {name} | {draws} | {kept} | {np.mean(calibrated):.3f}, "
                    f"{min(calibrated):.3f}–{max(calibrated):.3f} |"
                )
    finally:
        fit.scheme_for = shipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("answers", type=Path)
    parser.add_argument("--floors", default="5%,3%,2%,5,3")
    parser.add_argument("--noise-seeds", type=int, default=20)
    parser.add_argument(
        "--layouts", type=int, default=0, help="also count, over this many fold seeds, how often it is learned"
    )
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
    if args.layouts:
        layout_draws(answers, references, args.layouts)


if __name__ == "__main__":
    main()
