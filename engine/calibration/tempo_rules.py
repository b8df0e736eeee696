"""Tempo corrections learned from data: octave folding, a factor inside a BPM range, and a linear scaler.

Tempo errors are ratio errors (the engine locks onto half or double the beat), so the
corrections are ratios. A straight line fitted through octave errors is what made the old
system's mean error worse; it is offered here only as a last stage, fitted on songs that are
already right, and only kept when cross-validation shows it helps.

Each correction is a JSON-ready dict with a ``type``; :func:`apply` runs a list of them in order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine.calibration import octave_rules
from engine.references.scoring import TEMPO_TOLERANCE

FOLD_GRID = 2.0 ** (np.arange(round(24 * math.log2(30)), round(24 * math.log2(240)) + 1) / 24)
"""Candidate lower edges of the preferred range [low, 2·low): 30 to 240 BPM in quarter-semitone steps."""
FACTORS = (2.0, 0.5, 3.0, 1 / 3, 1.5, 2 / 3)
MAX_RANGE_RULES = 3
Correction = dict[str, Any]


def correct(detected: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Acc1 per song: within 4 % of the reference."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(detected / reference - 1.0) <= TEMPO_TOLERANCE


def apply(corrections: Sequence[Correction], bpm: np.ndarray) -> np.ndarray:
    """Run ``corrections`` in order on a BPM vector, or on evidence rows (2-D, BPM in column 0).

    Evidence rows (:func:`engine.calibration.octave_rules.evidence_row`) carry what the
    ``octave_choice`` correction decides from; the result keeps their shape with the corrected
    BPM in column 0. On a plain BPM vector ``octave_choice`` has no evidence and changes nothing.
    """
    values = np.array(bpm, dtype=float, copy=True)
    if values.ndim == 2:
        for c in corrections:
            if c["type"] == "octave_choice":
                values[:, 0] = octave_rules.apply(c, values)
            else:
                values[:, 0] = _apply_one(c, values[:, 0])
        return values
    for c in corrections:
        if c["type"] != "octave_choice":
            values = _apply_one(c, values)
    return values


def apply_one_value(
    corrections: Sequence[Correction], bpm: float | None, evidence: np.ndarray | None = None
) -> float | None:
    """One song's calibrated BPM; ``evidence`` (its evidence row) lets ``octave_choice`` act."""
    if bpm is None or not bpm > 0:
        return bpm
    if evidence is not None:
        row = np.array(evidence, dtype=float, copy=True).reshape(1, -1)
        row[0, 0] = bpm
        return float(apply(corrections, row)[0, 0])
    return float(apply(corrections, np.array([bpm]))[0])


def bpm_column(values: np.ndarray) -> np.ndarray:
    """The BPM of a vector or of evidence rows."""
    values = np.asarray(values, dtype=float)
    return values[:, 0] if values.ndim == 2 else values


def on_bpm(fitter: Callable[[np.ndarray, np.ndarray, int], list[Correction]]) -> Callable:
    """A BPM-only fitter that also accepts evidence rows (it sees their BPM column)."""

    def fit(detected: np.ndarray, reference: np.ndarray, min_support: int) -> list[Correction]:
        return fitter(bpm_column(detected), reference, min_support)

    fit.__name__ = fitter.__name__
    fit.__doc__ = fitter.__doc__
    return fit


def _apply_one(c: Correction, values: np.ndarray) -> np.ndarray:
    valid = np.isfinite(values) & (values > 0)
    out = values.copy()
    if c["type"] == "fold":
        low = float(c["low"])
        octaves = np.floor(np.log2(np.where(valid, values, low) / low))
        out[valid] = values[valid] / 2.0 ** octaves[valid]
    elif c["type"] == "range_factor":
        low = c.get("low") or 0.0
        high = c.get("high") or math.inf
        inside = valid & (values >= low) & (values < high)
        out[inside] = values[inside] * float(c["factor"])
    elif c["type"] == "linear":
        out[valid] = values[valid] * float(c["slope"]) + float(c["intercept"])
    elif c["type"] == "octave_choice":
        pass  # needs evidence rows; see apply()
    else:
        raise ValueError(f"unknown tempo correction {c['type']!r}")
    return out


def fit_fold(detected: np.ndarray, reference: np.ndarray, min_support: int) -> list[Correction]:
    """The preferred range [low, 2·low) into which every estimate is folded by octaves, if one helps.

    Among the lower edges that fix the most songs, the middle of the widest run is taken, so the
    edge sits between the data's tempo clusters rather than against one song.
    """
    base = int(correct(detected, reference).sum())
    counts = np.array([correct(apply([{"type": "fold", "low": low}], detected), reference).sum() for low in FOLD_GRID])
    best = int(counts.max())
    if best - base < min_support:
        return []
    low = float(FOLD_GRID[_widest_run_centre(counts == best)])
    folded = apply([{"type": "fold", "low": low}], detected)
    return [
        {
            "type": "fold",
            "low": round(low, 2),
            "high": round(2 * low, 2),
            "stats": _stats(detected, folded, reference),
        }
    ]


def fit_range_factors(detected: np.ndarray, reference: np.ndarray, min_support: int) -> list[Correction]:
    """Up to three rules "multiply by f inside [low, high)", each fixing ``min_support`` more songs than it breaks.

    For each factor the best range is the maximum-sum run of per-song gains (+1 fixed, -1 broken)
    over songs sorted by detected BPM; its edges sit halfway (geometrically) to the next song out.
    """
    rules: list[Correction] = []
    current = np.array(detected, dtype=float)
    for _ in range(MAX_RANGE_RULES):
        order = np.argsort(current, kind="stable")
        values = current[order]
        best: tuple[int, float, int, int] | None = None
        for factor in FACTORS:
            gain = correct(values * factor, reference[order]).astype(int) - correct(values, reference[order]).astype(
                int
            )
            total, first, last = _max_run(gain)
            # ties prefer the simpler factor (listed first)
            if best is None or total > best[0]:
                best = (total, factor, first, last)
        if best is None or best[0] < min_support:
            break
        _, factor, first, last = best
        low = None if first == 0 else round(float(math.sqrt(values[first - 1] * values[first])), 2)
        high = None if last == len(values) - 1 else round(float(math.sqrt(values[last] * values[last + 1])), 2)
        rule: Correction = {"type": "range_factor", "low": low, "high": high, "factor": round(factor, 6)}
        updated = apply([rule], current)
        rule["stats"] = _stats(current, updated, reference)
        rules.append(rule)
        current = updated
    return rules


def fit_linear(detected: np.ndarray, reference: np.ndarray, min_support: int) -> list[Correction]:
    """``bpm·slope + intercept`` fitted on songs already within 4 % (a systematic drift), never across octave errors."""
    right = correct(detected, reference)
    if right.sum() < max(min_support, 3) or np.ptp(detected[right]) == 0:
        return []
    slope, intercept = np.polyfit(detected[right], reference[right], 1)
    rule: Correction = {"type": "linear", "slope": round(float(slope), 6), "intercept": round(float(intercept), 4)}
    rule["stats"] = _stats(detected, apply([rule], detected), reference)
    return [rule]


def _stats(before: np.ndarray, after: np.ndarray, reference: np.ndarray) -> dict[str, Any]:
    was, now = correct(before, reference), correct(after, reference)
    changed = ~np.isclose(before, after)
    return {
        "songs_changed": int(changed.sum()),
        "fixed": int((now & ~was).sum()),
        "broken": int((was & ~now).sum()),
        "acc1_before": round(float(was.mean()), 4),
        "acc1_after": round(float(now.mean()), 4),
        "mae_before": round(float(np.mean(np.abs(before - reference))), 3),
        "mae_after": round(float(np.mean(np.abs(after - reference))), 3),
    }


def _max_run(gain: np.ndarray) -> tuple[int, int, int]:
    """Kadane: the contiguous run with the largest sum, as (sum, first, last)."""
    best, best_first, best_last = 0, 0, -1
    running, first = 0, 0
    for i, g in enumerate(gain):
        if running <= 0:
            running, first = int(g), i
        else:
            running += int(g)
        if running > best:
            best, best_first, best_last = running, first, i
    return best, best_first, best_last


def _widest_run_centre(mask: np.ndarray) -> int:
    best_start, best_len, start = 0, 0, None
    for i, flag in enumerate([*mask, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = None
    return best_start + (best_len - 1) // 2
