"""Octave choice: song by song, the detected tempo or one of its octave, 2:3 or 3:4 relatives.

Half and double tempo are often a *convention* rather than an error: one DJ library files a
170 BPM drum-and-bass track at 85, another at 170. A global rule ("fold into [70, 140)")
learns a convention only where the tempi of the two readings do not overlap; this correction
decides per song from the evidence the engine returns with every result:

- the tempogram strength of each alternative (the song's top tempo candidates),
- the alternative's own tempo (where the reference likes its tempi to fall),
- onset rate (busy grooves are notated faster for the same pulse), the high band's share of
  the onset flux (drums and hats), and how much the chunks disagreed (the spread of their
  tempi in octaves).

It is a conditional logit (McFadden 1974): each alternative ``a`` of a song gets the score
``w · φ(song, a)`` and the highest score wins. ``w`` is fitted by penalised maximum likelihood
on matched songs whose reference equals one of the alternatives. Like every correction it is
kept only when cross-validation and the sign test (:mod:`engine.calibration.fit`) say it helps
songs it was not fitted on. It runs first, on the raw BPM, because its evidence describes the
raw detection; songs without evidence (results from an older engine) are left unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.references.scoring import TEMPO_TOLERANCE

ALTERNATIVES = (1.0, 2.0, 0.5, 1.5, 2 / 3, 4 / 3, 0.75)
"""Ratios to the detected tempo that the choice may take; 1.0 (keep) must be first."""
EVIDENCE_SIZE = 1 + len(ALTERNATIVES) + 3
"""Evidence row: bpm, strength at each alternative, onset rate, high-band share, chunk spread."""
FEATURES = (
    "tempo",
    "tempo_squared",
    "tempo_x_onset_rate",
    "tempo_x_high_share",
    "strength",
    "spread_x_distance",
    "distance",
    "triple",
)
PENALTY = 1.0
"""L2 penalty on standardised weights: with a few dozen songs, the fit must not chase single songs."""
MIN_BPM, MAX_BPM = 30.0, 300.0
"""Alternatives outside this range are never chosen."""

Correction = dict[str, Any]


def evidence_row(
    bpm: float | None,
    candidates: Sequence[tuple[float, float]],
    onset_rate: float | None,
    high_share: float | None,
    chunk_spread: float | None,
) -> np.ndarray:
    """The song's evidence as one float row (NaN everywhere when the song has no candidates).

    The strength of an alternative is the strongest candidate within the Acc1 tolerance of it,
    0 when no candidate is there (the tempogram had no peak at that tempo).
    """
    row = np.full(EVIDENCE_SIZE, np.nan)
    if bpm is None or not bpm > 0:
        return row
    row[0] = bpm
    if not candidates or onset_rate is None:
        return row
    for j, ratio in enumerate(ALTERNATIVES):
        target = bpm * ratio
        near = [s for b, s in candidates if b > 0 and abs(b / target - 1.0) <= TEMPO_TOLERANCE]
        row[1 + j] = max([max(s, 0.0) for s in near], default=0.0)
    row[1 + len(ALTERNATIVES)] = onset_rate
    row[2 + len(ALTERNATIVES)] = high_share or 0.0
    row[3 + len(ALTERNATIVES)] = chunk_spread or 0.0
    return row


def has_evidence(rows: np.ndarray) -> np.ndarray:
    """Per row: bpm and all evidence present."""
    rows = np.atleast_2d(rows)
    return np.all(np.isfinite(rows), axis=1) & (rows[:, 0] > 0)


def features(rows: np.ndarray) -> np.ndarray:
    """``(songs, alternatives, features)`` design tensor φ (rows must have evidence)."""
    rows = np.atleast_2d(rows)
    n, k = rows.shape[0], len(ALTERNATIVES)
    ratios = np.array(ALTERNATIVES)
    bpm = rows[:, :1] * ratios[None, :]
    t = np.log2(bpm / 120.0)
    strength = rows[:, 1 : 1 + k]
    onset = np.log2(np.maximum(rows[:, 1 + k], 0.1) * 60.0 / 120.0)[:, None]
    high = rows[:, 2 + k][:, None]
    spread = rows[:, 3 + k][:, None]
    distance = np.broadcast_to(np.abs(np.log2(ratios))[None, :], (n, k))
    triple = np.broadcast_to((~np.isin(ratios, (1.0, 2.0, 0.5))).astype(float)[None, :], (n, k))
    phi = np.stack(
        [t, t**2, onset * t, high * t, strength - strength[:, :1], spread * distance, distance, triple], axis=2
    )
    return phi


def _allowed(rows: np.ndarray) -> np.ndarray:
    bpm = np.atleast_2d(rows)[:, :1] * np.array(ALTERNATIVES)[None, :]
    allowed = (bpm >= MIN_BPM) & (bpm <= MAX_BPM)
    allowed[:, 0] = True  # keeping the detected tempo is always possible
    return allowed


def fit(rows: np.ndarray, reference: np.ndarray, min_support: int) -> list[Correction]:
    """One ``octave_choice`` correction if, on these songs, it fixes ``min_support`` more than it breaks."""
    from scipy.optimize import minimize

    rows = np.atleast_2d(np.asarray(rows, dtype=float))
    reference = np.asarray(reference, dtype=float)
    usable = has_evidence(rows) & np.isfinite(reference) & (reference > 0)
    if usable.sum() < 3:
        return []
    phi = features(rows[usable])
    allowed = _allowed(rows[usable])
    bpm = rows[usable, :1] * np.array(ALTERNATIVES)[None, :]
    target = (np.abs(bpm / reference[usable, None] - 1.0) <= TEMPO_TOLERANCE) & allowed
    labelled = target.any(axis=1)
    if labelled.sum() < 3:
        return []
    phi, allowed, target = phi[labelled], allowed[labelled], target[labelled]
    flat = phi[allowed]
    mean, scale = flat.mean(axis=0), flat.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (phi - mean) / scale
    goal = target / target.sum(axis=1, keepdims=True)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        scores = np.where(allowed, z @ w, -np.inf)
        top = scores.max(axis=1, keepdims=True)
        p = np.exp(scores - top)
        p /= p.sum(axis=1, keepdims=True)
        logp = np.where(allowed, scores - top - np.log(np.exp(scores - top).sum(axis=1, keepdims=True)), 0.0)
        value = -float((goal * logp).sum()) + 0.5 * PENALTY * float(w @ w)
        grad = -np.einsum("ska,sk->a", z * allowed[..., None], goal - p) + PENALTY * w
        return value, grad

    result = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B")
    weights = result.x / scale
    correction: Correction = {
        "type": "octave_choice",
        "alternatives": [round(a, 6) for a in ALTERNATIVES],
        "features": list(FEATURES),
        "weights": [round(float(w), 6) for w in weights],
    }
    before = rows[:, 0]
    after = apply(correction, rows)
    was, now = _correct(before, reference), _correct(after, reference)
    if int((now & ~was).sum()) - int((was & ~now).sum()) < min_support:
        return []
    correction["stats"] = {
        "songs_changed": int((~np.isclose(before, after)).sum()),
        "fixed": int((now & ~was).sum()),
        "broken": int((was & ~now).sum()),
        "songs_fitted": int(labelled.sum()),
    }
    return [correction]


def apply(correction: Correction, rows: np.ndarray) -> np.ndarray:
    """The chosen BPM per row; rows without evidence keep their BPM."""
    rows = np.atleast_2d(np.asarray(rows, dtype=float))
    if tuple(round(a, 6) for a in correction["alternatives"]) != tuple(round(a, 6) for a in ALTERNATIVES):
        raise ValueError("octave_choice was fitted with other alternatives; refit the profile")
    weights = np.asarray(correction["weights"], dtype=float)
    if weights.shape != (len(FEATURES),) or not np.all(np.isfinite(weights)):
        raise ValueError(f"octave_choice needs {len(FEATURES)} finite weights")
    out = rows[:, 0].copy()
    ok = has_evidence(rows)
    if not ok.any():
        return out
    scores = np.where(_allowed(rows[ok]), features(rows[ok]) @ weights, -np.inf)
    choice = np.argmax(scores, axis=1)
    out[ok] = rows[ok, 0] * np.array(ALTERNATIVES)[choice]
    return out


def _correct(detected: np.ndarray, reference: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(detected / reference - 1.0) <= TEMPO_TOLERANCE
