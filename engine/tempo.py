"""Tempo candidates from an onset-strength envelope (pure numpy)."""

from __future__ import annotations

import numpy as np

PRIOR_CENTER_BPM = 110.0
PRIOR_OCTAVE_WIDTH = 1.0


def autocorrelation(envelope: np.ndarray) -> np.ndarray:
    """Normalised, unbiased autocorrelation of a mean-removed envelope (via FFT)."""
    x = np.asarray(envelope, dtype=float)
    x = x - x.mean()
    n = x.size
    if n < 4 or not np.any(x):
        return np.zeros(max(n, 1))
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(x, size)
    ac = np.fft.irfft(spectrum * np.conj(spectrum), size)[:n]
    ac /= np.arange(n, 0, -1)  # unbiased: long lags are not penalised for fewer overlaps
    return ac / ac[0] if ac[0] > 0 else ac


def tempo_candidates(
    envelope: np.ndarray, frame_rate: float, min_bpm: float, max_bpm: float, top: int = 5
) -> list[tuple[float, float]]:
    """Peaks of the envelope's autocorrelation as ``(bpm, strength)``, strongest first.

    Peak positions are refined by parabolic interpolation, because one lag step is several
    percent of tempo at typical frame rates, more than the 4 % an Acc1 hit allows.
    """
    ac = autocorrelation(envelope)
    min_lag = max(1, int(np.floor(60.0 * frame_rate / max_bpm)))
    max_lag = min(ac.size - 2, int(np.ceil(60.0 * frame_rate / min_bpm)))
    if max_lag <= min_lag + 1:
        return []
    found = []
    for lag in range(min_lag, max_lag + 1):
        a, b, c = ac[lag - 1], ac[lag], ac[lag + 1]
        if b > a and b >= c and b > 0:
            denom = a - 2 * b + c
            shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
            found.append((60.0 * frame_rate / (lag + shift), float(b - 0.25 * (a - c) * shift)))
    found.sort(key=lambda item: item[1], reverse=True)
    return [(float(bpm), float(strength)) for bpm, strength in found[:top]]


def tempo_prior(bpm: np.ndarray | float) -> np.ndarray | float:
    """Log-normal preference for tempi near :data:`PRIOR_CENTER_BPM`."""
    octaves = np.log2(np.asarray(bpm, dtype=float) / PRIOR_CENTER_BPM)
    return np.exp(-0.5 * (octaves / PRIOR_OCTAVE_WIDTH) ** 2)


def choose_tempo(candidates: list[tuple[float, float]]) -> tuple[float, float]:
    """Pick a tempo: strength times prior. Confidence is the winner's share of the weighted total."""
    if not candidates:
        return 0.0, 0.0
    bpms = np.array([c[0] for c in candidates])
    weights = np.array([max(c[1], 0.0) for c in candidates]) * tempo_prior(bpms)
    if weights.sum() <= 0:
        return float(bpms[0]), 0.0
    best = int(np.argmax(weights))
    return float(bpms[best]), float(weights[best] / weights.sum())


def same_tempo_family(a: float, b: float, tolerance: float = 0.04) -> bool:
    """True when ``a`` equals ``b``, double, half, triple or third of it within ``tolerance``."""
    if a <= 0 or b <= 0:
        return False
    return any(abs(a * factor / b - 1.0) <= tolerance for factor in (1.0, 2.0, 0.5, 3.0, 1 / 3))
