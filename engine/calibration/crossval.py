"""Cross-validation: every correction is judged on songs it was not fitted on.

The system this product replaces fitted its corrections and scored them on the same songs,
and reported a gain that was not there. Here a correction's worth is its out-of-fold score:
k-fold (10 folds) from 30 songs up, leave-one-out below, where every song counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

LOO_BELOW = 30
K_FOLDS = 10
REPEATS = 5
"""k-fold is run on this many fold layouts and a stage is judged on all of them: with one layout,
a rule backed by a few songs passes or fails by where those songs happen to fall."""
SEED = 0
"""Fixed, so the same songs give the same profile. The fit puts songs in a canonical order by
their content (:func:`canonical_order`) before the seeded shuffle, so folds never depend on
names, paths or the order the songs arrive in."""

T = TypeVar("T")


@dataclass(frozen=True)
class Scheme:
    name: str  # "leave-one-out" | "10-fold"
    folds: int
    seed: int = SEED
    repeats: int = 1

    def to_dict(self) -> dict[str, object]:
        return {"scheme": self.name, "folds": self.folds, "seed": self.seed, "repeats": self.repeats}


def scheme_for(n: int) -> Scheme:
    if n < LOO_BELOW:
        return Scheme("leave-one-out", n)
    return Scheme(f"{K_FOLDS}-fold", K_FOLDS, repeats=REPEATS)


def canonical_order(*columns: Sequence[object]) -> np.ndarray:
    """Song indices sorted by what the fit sees of each song (its values in ``columns``).

    Songs that look alike to the fit are interchangeable, so any order among them gives the same
    answers; ``repr`` gives NaN and mixed types a total order.
    """
    n = len(columns[0]) if columns else 0
    keys = [tuple(repr(np.asarray(column[i]).tolist()) for column in columns) for i in range(n)]
    return np.array(sorted(range(n), key=keys.__getitem__), dtype=int)


def folds(n: int, scheme: Scheme | None = None, repeat: int = 0) -> list[np.ndarray]:
    """Test-index arrays that partition ``range(n)``; a seeded shuffle assigns songs to folds.

    The caller puts the songs in :func:`canonical_order` first; ``repeat`` picks another layout.
    """
    scheme = scheme or scheme_for(n)
    if scheme.folds >= n:
        return [np.array([i]) for i in range(n)]
    order = np.random.default_rng(scheme.seed + repeat).permutation(n)
    return [np.sort(part) for part in np.array_split(order, scheme.folds)]


def cross_val_predict(
    n: int,
    fit_predict: Callable[[np.ndarray, np.ndarray], Sequence[T]],
    scheme: Scheme | None = None,
    repeat: int = 0,
) -> list[T]:
    """Out-of-fold predictions: ``fit_predict(train, test)`` fits on ``train`` and predicts ``test``."""
    predictions: list[T | None] = [None] * n
    everyone = np.arange(n)
    for test in folds(n, scheme, repeat):
        train = np.setdiff1d(everyone, test)
        for index, value in zip(test, fit_predict(train, test), strict=True):
            predictions[int(index)] = value
    return predictions  # type: ignore[return-value]


ALPHA = 0.05
"""A correction must beat chance: one-sided sign test on the songs it changes, at 5 %."""


@dataclass(frozen=True)
class Verdict:
    better: int  # songs scoring higher out-of-fold with the correction
    worse: int  # songs scoring lower
    p_value: float

    @property
    def significant(self) -> bool:
        return self.better > self.worse and self.p_value < ALPHA

    def to_dict(self) -> dict[str, object]:
        return {"songs_better": self.better, "songs_worse": self.worse, "p_value": round(self.p_value, 4)}


def sign_test(before: Sequence[float], after: Sequence[float]) -> Verdict:
    """Per-song out-of-fold scores without and with a correction (higher is better).

    A rule fitted to noise helps some held-out songs and hurts about as many; a real pattern
    helps far more than it hurts. The p-value is the chance of at least ``better`` wins out of
    the changed songs if wins and losses were equally likely.
    """
    diff = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    better, worse = int((diff > 1e-12).sum()), int((diff < -1e-12).sum())
    changed = better + worse
    if changed == 0:
        return Verdict(0, 0, 1.0)
    tail = sum(math.comb(changed, k) for k in range(better, changed + 1))
    return Verdict(better, worse, tail / 2**changed)  # int / int: exact for any library size
