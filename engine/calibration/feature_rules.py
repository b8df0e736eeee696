"""Linear scalers for continuous features a reference carries (loudness, energy, …).

A playlist export's "Loud (Db)" is a different loudness measure from the engine's RMS dBFS,
and its "Energy" (0–100) has no unit at all; a straight line from the engine's nearest
measurement translates between them. Only features the engine has a measurement for are
fitted; the rest are reported as not calibrated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

Correction = dict[str, Any]

FEATURE_SOURCES: dict[str, tuple[str, bool]] = {
    "loudness_db": ("loudness_db", True),
    "energy": ("loudness_db", False),
}
"""Reference feature → (engine measurement that predicts it, whether both share a unit).

Sharing a unit means "before" is the raw engine value; otherwise "before" is the best
constant (the reference mean), so the scaler must beat knowing nothing at all.
"""


def fit_linear(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if np.ptp(x) == 0:
        return 0.0, float(np.mean(y))
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


def predict(correction: Correction, x: np.ndarray | float) -> np.ndarray | float:
    return np.asarray(x, dtype=float) * correction["slope"] + correction["intercept"]


def r_squared(y: np.ndarray, predicted: np.ndarray) -> float:
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - predicted) ** 2)) / total if total > 0 else 0.0


def apply(corrections: list[Correction], measurements: Mapping[str, float | None]) -> dict[str, float | None]:
    """Calibrated value of each fitted feature from the engine's measurements (``None`` when unmeasured)."""
    out: dict[str, float | None] = {}
    for c in corrections:
        x = measurements.get(c["source"])
        out[c["feature"]] = None if x is None else round(float(predict(c, x)), 3)
    return out
