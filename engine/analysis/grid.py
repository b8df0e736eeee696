"""One constant beat grid (period and phase) fitted to a song's beats: the exact tempo.

A tempogram peak is read on a lag grid a few tenths of a BPM apart; beats found over a whole song
are not limited that way. The chunks' workers track beats (:func:`engine.analysis.tempo.track_beats`,
refined to a fraction of a frame); the song's consensus stitches them across the seams and fits one
straight line ``time = start + index · period`` through them here.

The fit is robust in two steps. First the period is found where the beats' phases agree best (the
Rayleigh periodogram: the mean of ``exp(2πi · t / P)`` over the middle beats, scanned finely around
the tracker's period): a missed beat does not change any other beat's phase and an extra beat only adds a
little noise, so neither moves the peak. Then every beat gets its index by rounding to that grid,
beats more than :data:`INLIER_SHARE` of a period off the grid are dropped, and a least-squares line
through (index, time) is refitted a few times with Huber weights. Its slope's standard error is the
``bpm_error`` a user sees.

``stable`` says whether one constant grid explains the song: the beats cover most of it, nearly all
of them lie on the grid, and the grid never drifts from the beats by more than :data:`DRIFT_TOLERANCE`
of a beat over any stretch of :data:`DRIFT_WINDOW` beats. A tempo that rises or wanders, or a drummer
without a click, fails that, and the song keeps its tempogram tempo.

Where it runs: in the song's consensus (:mod:`engine.analysis.consensus`), which the engine runs in a
pool worker once the song's chunks are back (:mod:`engine.run.runner`), never in the window's process.
It is a few vectorised numpy operations on a few hundred beat times; the beat tracking itself, the
expensive part, runs in the pool's workers too, chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INLIER_SHARE = 0.15
"""A beat further than this share of a period from its grid point is not on the grid (a stray, an off-beat)."""
DRIFT_WINDOW = 8
"""Beats per stretch over which the grid's drift from the beats is measured (two bars of 4/4)."""
DRIFT_TOLERANCE = 0.06
"""Largest median offset of a stretch's beats from the grid, in beats, for a constant tempo (±28 ms at 128
BPM: the grid stays on the beats to within what a DJ hears as tight)."""
HALVES_TOLERANCE = 0.005
"""Largest relative difference between the periods of the song's two halves (a 4 % rise differs by about 2 %;
a constant tempo by a few hundredths of a percent)."""
MIN_INLIER_SHARE = 0.75
"""At least this share of the tracked beats must sit on the grid."""
MIN_COVERAGE = 0.6
"""The grid's beats must span at least this share of the song."""
MIN_BEATS = 16
"""Fewer beats than this (four bars) make no grid."""
SCAN_SPREAD = 0.02
"""The period is scanned within ±2 % of the tracker's: the tempogram's own resolution with room to spare."""
SEED_BEATS = 128
"""Beats in the middle of the song whose phases fix the first period (see :func:`fit_grid`)."""
HUBER_K = 1.345
"""Huber's tuning constant (95 % efficiency for Gaussian residuals), in robust standard deviations."""


@dataclass(frozen=True)
class BeatGrid:
    """A constant grid ``start_s + k · period_s`` and how well it explains the beats it came from."""

    period_s: float
    start_s: float
    period_error_s: float
    stable: bool
    beats_used: int
    inlier_share: float
    coverage: float
    max_drift: float
    """Largest median offset of a :data:`DRIFT_WINDOW`-beat stretch from the grid, in beats."""

    @property
    def bpm(self) -> float:
        return 60.0 / self.period_s

    @property
    def bpm_error(self) -> float:
        """The period's standard error, in BPM (first-order: ``60 · σ_P / P²``)."""
        return 60.0 * self.period_error_s / self.period_s**2


def rayleigh_period(times: np.ndarray, period: float, spread: float = SCAN_SPREAD) -> float:
    """The period within ``±spread`` of ``period`` at which the phases of ``times`` agree best.

    Steps are fine enough that two neighbouring periods differ by at most an eighth of a beat at the
    last beat, so the peak is never stepped over.
    """
    span = float(times[-1] - times[0])
    beats = max(span / period, 1.0)
    step = period / (8.0 * beats)
    candidates = np.arange(period * (1 - spread), period * (1 + spread) + step, step)
    centred = times - times[0]
    strength = np.abs(np.exp(2j * np.pi * centred[None, :] / candidates[:, None]).mean(axis=1))
    return float(candidates[int(np.argmax(strength))])


def _weighted_line(index: np.ndarray, times: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    w = weights / weights.sum()
    mean_n, mean_t = float(w @ index), float(w @ times)
    dn = index - mean_n
    slope = float(w @ (dn * (times - mean_t)) / (w @ (dn * dn)))
    return mean_t - slope * mean_n, slope


def _huber_line(times: np.ndarray, start: float, period: float) -> tuple[float, float] | None:
    """Refit ``start + k · period`` to ``times``: indices by rounding, far beats dropped, Huber weights; ``None``
    when too few beats are on the grid."""
    for _ in range(4):
        index = np.round((times - start) / period)
        residual = times - (start + index * period)
        near = np.abs(residual) <= INLIER_SHARE * period
        if np.count_nonzero(near) < MIN_BEATS or np.unique(index[near]).size < 2:
            return None
        scale = max(1.4826 * float(np.median(np.abs(residual[near]))), 1e-4 * period)
        weights = np.where(near, np.minimum(1.0, HUBER_K * scale / np.maximum(np.abs(residual), 1e-12)), 0.0)
        start, period = _weighted_line(index, times, weights)
    return start, period


def fit_grid(times: np.ndarray, period: float, duration_s: float) -> BeatGrid | None:
    """The constant grid through beat ``times`` (seconds, any order) near ``period``; ``None`` with too few beats.

    The period is scanned on the :data:`SEED_BEATS` beats in the middle of the song, then the line is
    refitted over a window that doubles until it holds every beat: each step's period is exact enough
    that rounding the next window's beats to the grid cannot slip a beat, and the work grows with the
    number of beats, not its square (an hour-long mix costs milliseconds).
    """
    times = np.sort(np.asarray(times, dtype=float))
    if times.size < MIN_BEATS or period <= 0 or duration_s <= 0:
        return None
    middle = times.size // 2
    seed = times[max(0, middle - SEED_BEATS // 2) : middle + SEED_BEATS // 2]
    period = rayleigh_period(seed, period)
    phase = float(np.angle(np.exp(2j * np.pi * (seed - seed[0]) / period).mean()))
    start = seed[0] + phase / (2 * np.pi) * period
    centre = float(np.median(seed))
    reach = max(float(seed[-1] - seed[0]) / 2, period)
    while True:
        inside = times[np.abs(times - centre) <= reach]
        fitted = _huber_line(inside, start, period) if inside.size >= MIN_BEATS else (start, period)
        if fitted is None:
            return None
        start, period = fitted
        if inside.size == times.size:
            break
        reach *= 2
    index = np.round((times - start) / period)
    residual = times - (start + index * period)
    near = np.abs(residual) <= INLIER_SHARE * period
    n_used = int(np.count_nonzero(near))
    if n_used < MIN_BEATS:
        return None
    # the standard error of a least-squares slope, from the beats on the grid
    spread_n = index[near] - index[near].mean()
    dof = max(n_used - 2, 1)
    sigma = float(np.sqrt(np.sum(residual[near] ** 2) / dof))
    period_error = sigma / float(np.sqrt(np.sum(spread_n**2))) if np.any(spread_n) else float("inf")
    first = start + index[near].min() * period
    first -= np.floor(first / period) * period  # the first grid beat at or after 0 s
    coverage = float((times[near].max() - times[near].min()) / duration_s)
    drift = _max_drift(index[near], residual[near] / period)
    stable = (
        n_used / times.size >= MIN_INLIER_SHARE
        and coverage >= MIN_COVERAGE
        and drift <= DRIFT_TOLERANCE
        and _halves_agree(index[near], times[near], period)
    )
    return BeatGrid(
        period_s=float(period),
        start_s=float(first),
        period_error_s=float(period_error),
        stable=bool(stable),
        beats_used=n_used,
        inlier_share=n_used / times.size,
        coverage=coverage,
        max_drift=drift,
    )


def _halves_agree(index: np.ndarray, times: np.ndarray, period: float) -> bool:
    """The periods fitted to the first and the second half of the beats differ by at most :data:`HALVES_TOLERANCE`.

    A steady rise bends the beats into a parabola that a straight line can follow within the drift
    tolerance on a short song; its halves still have different periods.
    """
    middle = np.median(index)
    periods = []
    for half in (index <= middle, index > middle):
        if np.count_nonzero(half) < MIN_BEATS // 2 or np.ptp(index[half]) == 0:
            return True  # too few beats to tell: the other checks decide
        periods.append(float(np.polyfit(index[half], times[half], 1)[0]))
    return abs(periods[0] - periods[1]) <= HALVES_TOLERANCE * period


def _max_drift(index: np.ndarray, offsets: np.ndarray) -> float:
    """Largest absolute median offset (in beats) of the beats in any :data:`DRIFT_WINDOW`-beat stretch of the grid."""
    order = np.argsort(index)
    index, offsets = index[order], offsets[order]
    worst = 0.0
    lows = np.arange(index[0], index[-1] + 1, DRIFT_WINDOW // 2)
    for first, last in zip(np.searchsorted(index, lows), np.searchsorted(index, lows + DRIFT_WINDOW), strict=True):
        if last - first >= DRIFT_WINDOW // 2:
            worst = max(worst, abs(float(np.median(offsets[first:last]))))
    return worst
