"""Scoring detected tempo and key against reference values.

The MIREX key score comes from ``mir_eval.key.weighted_score`` (not re-implemented);
tempo accuracy follows the usual definitions: Acc1 = within 4 % of the reference, Acc2 =
also within 4 % of double, half, triple or a third of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

TEMPO_TOLERANCE = 0.04
RATIO_CLASSES = {"same": 1.0, "double": 2.0, "half": 0.5, "triple": 3.0, "third": 1 / 3}
KEY_RELATIONS = ("same", "fifth", "relative", "parallel", "other")


def tempo_ratio_class(detected: float, reference: float, tolerance: float = TEMPO_TOLERANCE) -> str:
    """Which multiple of the reference the detected tempo is: same, double, half, triple, third, or other."""
    if not detected or not reference or detected <= 0 or reference <= 0:
        return "other"
    for name, factor in RATIO_CLASSES.items():
        if abs(detected / (reference * factor) - 1.0) <= tolerance:
            return name
    return "other"


def bpm_error_at_level(detected: float | None, reference: float | None) -> float | None:
    """How far ``detected`` is from the reference at the level it matched (``|detected - factor · reference|``).

    The exactness of a tempo, apart from its level: a DJ's grid drifts by this much whether the level
    is the reference's or its double. ``None`` when the tempo matched no level (an Acc2 miss).
    """
    ratio = tempo_ratio_class(detected or 0.0, reference or 0.0)
    if ratio == "other":
        return None
    return abs(float(detected or 0.0) - RATIO_CLASSES[ratio] * float(reference or 0.0))


PRECISE_BPM = 0.05
"""A tempo this close to the reference at its level is exact: a beat of drift takes over 20 minutes at 128 BPM."""


def acc1(detected: float, reference: float) -> bool:
    return tempo_ratio_class(detected, reference) == "same"


def acc2(detected: float, reference: float) -> bool:
    return tempo_ratio_class(detected, reference) != "other"


def preload() -> None:
    """Import the scorer now: ``import mir_eval`` takes seconds, so a window does it off its GUI thread."""
    import mir_eval  # noqa: F401


def _label(pitch_class: int, mode: str) -> str:
    from engine.references.keynotation import label

    return label(pitch_class, mode == "minor")


def _parse(key: str) -> tuple[int, str] | None:
    """Tonic pitch class and mode, without mir_eval: the window colours table cells with this while painting."""
    from engine.references.keynotation import tonic_and_mode

    return tonic_and_mode(key)


def mirex_score(reference: str, detected: str) -> float:
    """MIREX weighted key score: 1 same, 0.5 fifth above, 0.3 relative, 0.2 parallel, else 0."""
    import mir_eval

    ref, det = _parse(reference), _parse(detected) if detected else None
    if ref is None or det is None:
        return 0.0
    return float(mir_eval.key.weighted_score(_label(*ref), _label(*det)))


def key_relation(reference: str, detected: str) -> str:
    """same / fifth (either direction, same mode) / relative / parallel / other."""
    ref, det = _parse(reference), _parse(detected) if detected else None
    if ref is None or det is None:
        return "other"
    offset = (det[0] - ref[0]) % 12
    if ref[1] == det[1]:
        if offset == 0:
            return "same"
        if offset in (5, 7):
            return "fifth"
        return "other"
    if offset == 0:
        return "parallel"
    if (ref[1] == "major" and offset == 9) or (ref[1] == "minor" and offset == 3):
        return "relative"
    return "other"


def root_offset(reference: str, detected: str) -> int | None:
    """Detected tonic minus reference tonic in semitones, folded to -5..+6."""
    ref, det = _parse(reference), _parse(detected) if detected else None
    if ref is None or det is None:
        return None
    offset = (det[0] - ref[0]) % 12
    return offset - 12 if offset > 6 else offset


@dataclass
class Scores:
    """Summary metrics over a set of songs; ``None`` where no song had that reference."""

    n_tempo: int = 0
    n_key: int = 0
    acc1: float | None = None
    acc2: float | None = None
    bpm_mae: float | None = None
    bpm_error_median_acc1: float | None = None
    """Median BPM error at the matched level (:func:`bpm_error_at_level`) over the Acc1 hits."""
    bpm_precise_acc1: float | None = None
    """Share of the Acc1 hits within :data:`PRECISE_BPM` of the reference."""
    bpm_error_median_acc2: float | None = None
    bpm_precise_acc2: float | None = None
    key_exact: float | None = None
    mirex: float | None = None
    ratio_classes: dict[str, int] = field(default_factory=dict)
    key_relations: dict[str, int] = field(default_factory=dict)
    root_offsets: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "n_tempo": self.n_tempo,
            "n_key": self.n_key,
            "acc1": self.acc1,
            "acc2": self.acc2,
            "bpm_mae": self.bpm_mae,
            "bpm_error_median_acc1": self.bpm_error_median_acc1,
            "bpm_precise_acc1": self.bpm_precise_acc1,
            "bpm_error_median_acc2": self.bpm_error_median_acc2,
            "bpm_precise_acc2": self.bpm_precise_acc2,
            "key_exact": self.key_exact,
            "mirex": self.mirex,
        }


def _precision(errors: list[float]) -> tuple[float | None, float | None]:
    """Median error and the share within :data:`PRECISE_BPM`; ``None`` without a hit."""
    if not errors:
        return None, None
    return float(np.median(errors)), float(np.mean([e <= PRECISE_BPM + 1e-9 for e in errors]))


def score(tempo_pairs: Iterable[tuple[float | None, float]], key_pairs: Iterable[tuple[str | None, str]]) -> Scores:
    """Score ``(detected, reference)`` pairs; a missing detection counts as wrong."""
    tempo = [(d or 0.0, r) for d, r in tempo_pairs]
    keys = [(d or "", r) for d, r in key_pairs]
    result = Scores(n_tempo=len(tempo), n_key=len(keys))
    if tempo:
        classes = [tempo_ratio_class(d, r) for d, r in tempo]
        result.ratio_classes = dict(Counter(classes))
        result.acc1 = float(np.mean([c == "same" for c in classes]))
        result.acc2 = float(np.mean([c != "other" for c in classes]))
        result.bpm_mae = float(np.mean([abs(d - r) for d, r in tempo]))
        errors = [bpm_error_at_level(d, r) for d, r in tempo]
        level_hits = [e for e in errors if e is not None]
        same_hits = [e for e, c in zip(errors, classes, strict=True) if c == "same" and e is not None]
        result.bpm_error_median_acc1, result.bpm_precise_acc1 = _precision(same_hits)
        result.bpm_error_median_acc2, result.bpm_precise_acc2 = _precision(level_hits)
    if keys:
        result.key_exact = float(np.mean([key_relation(r, d) == "same" for d, r in keys]))
        result.mirex = float(np.mean([mirex_score(r, d) for d, r in keys]))
        result.key_relations = dict(Counter(key_relation(r, d) for d, r in keys))
        offsets = [root_offset(r, d) for d, r in keys]
        result.root_offsets = dict(Counter(o for o in offsets if o is not None))
    return result
