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
of them lie on the grid, the grid never drifts from the beats by more than :data:`DRIFT_TOLERANCE`
of a beat over any stretch of :data:`DRIFT_WINDOW` beats, the song's two halves have the same period,
and no stretch of :data:`LOCAL_WINDOW` beats has a tempo of its own (:func:`_local_deviation`: the
local tempo, followed through the beats that left the grid, may differ from the grid's only by what
moves the grid off them by the drift tolerance, plus what the beats' jitter explains). A tempo that
rises or wanders, or a drummer without a click, fails that, and the song keeps its tempogram tempo.

Where it runs: in the song's consensus (:mod:`engine.analysis.consensus`), which the engine runs in a
pool worker once the song's chunks are back (:mod:`engine.run.runner`), never in the window's process.
It is vectorised numpy work on a few hundred beat times, linear in their number (about 10 ms for a
5-minute song on a loaded machine, of which the local-tempo check is 4 ms); the beat tracking itself,
the expensive part, runs in the pool's workers too, chunk by chunk.
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
LOCAL_WINDOW = 16
"""Grid beats per stretch whose own period is compared with the song's (four bars of 4/4); stretches overlap by half."""
LOCAL_Z = 3.0
"""Standard errors of a stretch's own tempo (from its beats' scatter about their own line) allowed on top of the
drift tolerance, so that a short or sparse stretch is judged by what its jitter can tell."""
MIN_LOCAL_BEATS = 8
"""A stretch with fewer beats than this in runs of two or more (two bars) is not judged."""
PHASE_JUMP = 0.1
"""A change of a beat's offset from the grid by more than this share of a beat from one tracked beat to the
next is a jump of the tracker (onto a syncopation and back), not a tempo: a tempo moves consecutive beats by
its own relative change (0.02 of a beat for a 2 % wander), and a tight tracker's beat-to-beat jitter is
a few hundredths of a beat."""
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
    local_deviation: float = 0.0
    """Largest departure of a stretch's own period from the grid's, as a share of what it allows (see
    :func:`_local_deviation`); above 1 the tempo moves."""

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


def _on_grid(times: np.ndarray, start: float, period: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each beat's grid index (by rounding), its offset from that grid point (seconds) and whether it is on the grid."""
    index = np.round((times - start) / period)
    residual = times - (start + index * period)
    return index, residual, np.abs(residual) <= INLIER_SHARE * period


def _slope_error(index: np.ndarray, residual: np.ndarray) -> float:
    """The standard error of a least-squares slope through beats at ``index`` with these residuals (seconds)."""
    spread_n = index - index.mean()
    if not np.any(spread_n):
        return float("inf")
    sigma = float(np.sqrt(np.sum(residual**2) / max(index.size - 2, 1)))
    return sigma / float(np.sqrt(np.sum(spread_n**2)))


def _huber_line(times: np.ndarray, start: float, period: float) -> tuple[float, float] | None:
    """Refit ``start + k · period`` to ``times``: indices by rounding, far beats dropped, Huber weights; ``None``
    when too few beats are on the grid."""
    for _ in range(4):
        index, residual, near = _on_grid(times, start, period)
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
    index, residual, near = _on_grid(times, start, period)
    n_used = int(np.count_nonzero(near))
    if n_used < MIN_BEATS:
        return None
    period_error = _slope_error(index[near], residual[near])
    first = start + index[near].min() * period
    first -= np.floor(first / period) * period  # the first grid beat at or after 0 s
    coverage = float((times[near].max() - times[near].min()) / duration_s)
    drift = _max_drift(index[near], residual[near] / period)
    local = _local_deviation(times, start, period)
    stable = (
        n_used / times.size >= MIN_INLIER_SHARE
        and coverage >= MIN_COVERAGE
        and drift <= DRIFT_TOLERANCE
        and _halves_agree(index[near], times[near], period)
        and local <= 1.0
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
        local_deviation=local,
    )


def _local_deviation(times: np.ndarray, start: float, period: float) -> float:
    """How far the local tempo leaves the grid's: the largest ``|b_w| / allowed_w`` over stretches ``w``.

    ``b_w`` is the slope of the beats' offsets from the grid against their grid index in a stretch of
    :data:`LOCAL_WINDOW` grid beats: the stretch's own tempo relative to the song's (+0.01: its beats come
    1 % of a beat later each beat). Every tracked beat in the stretch counts, not only those near the
    song's grid, so a drifting tempo cannot hide as beats that left the grid and were dropped as strays.
    A jump of more than :data:`PHASE_JUMP` of a beat between consecutive beats is not a tempo: the tracker
    moved onto a syncopation or an off-beat for a while and back, at the song's tempo. So the slope is
    fitted within the runs between such jumps (one slope, an offset per run): it follows the tempo and
    forgives the tracker's phase jumps, including a drift's own wrap at half a beat.

    ``allowed_w = DRIFT_TOLERANCE / span_w + LOCAL_Z · σ(b_w)``: the tempo difference that moves the grid
    off the stretch's beats by the drift tolerance over its ``span_w`` beats, plus what the beats' own jitter
    about their runs' lines explains (``σ(b_w)``, the least-squares slope's standard error). A constant tempo
    stays well under 1; above 1 the tempo moved. 0 when no stretch could be judged (then the drift and halves
    checks decide).
    """
    position = (np.sort(times) - start) / period  # in beats of the grid
    index = np.round(position)
    worst = 0.0
    offset = position - index
    lows = np.arange(index[0], index[-1] + 1, LOCAL_WINDOW // 2)
    for first, last in zip(np.searchsorted(index, lows), np.searchsorted(index, lows + LOCAL_WINDOW), strict=True):
        judged = _run_slope(index[first:last], offset[first:last])
        if judged is None:
            continue
        slope, slope_error, span = judged
        worst = max(worst, abs(slope) / (DRIFT_TOLERANCE / span + LOCAL_Z * slope_error))
    return worst


def _run_slope(index: np.ndarray, offset: np.ndarray) -> tuple[float, float, float] | None:
    """One least-squares slope of ``offset`` against ``index`` with an intercept per run between phase jumps.

    Returns the slope, its standard error and the span (in beats) of the runs that carry it; ``None`` when
    fewer than :data:`MIN_LOCAL_BEATS` beats lie in runs of two or more.
    """
    if index.size < MIN_LOCAL_BEATS:
        return None
    run = np.concatenate([[0], np.cumsum(np.abs(np.diff(offset)) > PHASE_JUMP)])
    sizes = np.bincount(run)
    keep = sizes[run] >= 2
    if np.count_nonzero(keep) < MIN_LOCAL_BEATS:
        return None
    index, offset, run = index[keep], offset[keep], run[keep]
    runs = np.concatenate([[0], np.cumsum(np.diff(run) > 0)])  # the kept runs, numbered 0, 1, 2 …
    count = np.bincount(runs)
    dk = index - (np.bincount(runs, index) / count)[runs]
    dy = offset - (np.bincount(runs, offset) / count)[runs]
    spread = float(dk @ dk)
    dof = index.size - count.size - 1
    if spread <= 0 or dof < 2:
        return None
    slope = float(dk @ dy) / spread
    residual = dy - slope * dk
    slope_error = float(np.sqrt(residual @ residual / dof / spread))
    return slope, slope_error, float(np.ptp(index)) + 1.0


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
