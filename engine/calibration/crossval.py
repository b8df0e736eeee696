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
SEED = 0
"""Fixed, so the same songs give the same profile; folds never depend on names or paths."""

T = TypeVar("T")


@dataclass(frozen=True)
class Scheme:
    name: str  # "leave-one-out" | "10-fold"
    folds: int
    seed: int = SEED

    def to_dict(self) -> dict[str, object]:
        return {"scheme": self.name, "folds": self.folds, "seed": self.seed}


def scheme_for(n: int) -> Scheme:
    if n < LOO_BELOW:
        return Scheme("leave-one-out", n)
    return Scheme(f"{K_FOLDS}-fold", K_FOLDS)


def folds(n: int, scheme: Scheme | None = None) -> list[np.ndarray]:
    """Test-index arrays that partition ``range(n)``; a seeded shuffle assigns songs to folds."""
    scheme = scheme or scheme_for(n)
    if scheme.folds >= n:
        return [np.array([i]) for i in range(n)]
    order = np.random.default_rng(scheme.seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, scheme.folds)]


def cross_val_predict(
    n: int,
    fit_predict: Callable[[np.ndarray, np.ndarray], Sequence[T]],
    scheme: Scheme | None = None,
) -> list[T]:
    """Out-of-fold predictions: ``fit_predict(train, test)`` fits on ``train`` and predicts ``test``."""
    predictions: list[T | None] = [None] * n
    everyone = np.arange(n)
    for test in folds(n, scheme):
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
    return Verdict(better, worse, tail / 2.0**changed)
