"""Key corrections learned from data: a mode/relative shift, and a confusion remap.

Key errors are structured: a detector that hears the relative minor as major makes the same
mistake on many songs, which one rule "detected major → its relative minor" can fix. What
remains is specific to a key, which the remap (detected key → the reference key most often
behind it) handles when enough songs support the entry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from engine.analysis.keys import KEY_LABELS, PITCH_NAMES
from engine.references.keynotation import label
from engine.references.scoring import mirex_score as _mirex_score

Correction = dict[str, Any]
mirex_score = lru_cache(maxsize=4096)(_mirex_score)
"""Only 24 × 24 key pairs exist; cross-validation asks for the same ones thousands of times."""

RELATIONS = {  # semitones to move the tonic, and whether the mode flips
    "relative": (None, True),  # minor → major: +3; major → minor: +9
    "parallel": (0, True),
    "fifth up": (7, False),
    "fifth down": (5, False),
}


def split(key: str) -> tuple[int, bool] | None:
    """(tonic pitch class, is minor) for an engine label; ``None`` for anything else."""
    if key not in KEY_LABELS:
        return None
    tonic, mode = key.split()
    return PITCH_NAMES.index(tonic), mode == "minor"


def shift(key: str, relation: str) -> str:
    parsed = split(key)
    if parsed is None:
        return key
    tonic, minor = parsed
    step, flips = RELATIONS[relation]
    if step is None:
        step = 3 if minor else 9
    return label(tonic + step, (not minor) if flips else minor)


def apply(corrections: Sequence[Correction], keys: Sequence[str]) -> list[str]:
    values = list(keys)
    for c in corrections:
        if c["type"] == "mode_shift":
            wanted_minor = c["from_mode"] == "minor"
            values = [
                shift(k, c["relation"]) if (p := split(k)) is not None and p[1] == wanted_minor else k for k in values
            ]
        elif c["type"] == "remap":
            table = {source: entry["to"] for source, entry in c["entries"].items()}
            values = [table.get(k, k) for k in values]
        else:
            raise ValueError(f"unknown key correction {c['type']!r}")
    return values


def apply_one_value(corrections: Sequence[Correction], key: str) -> str:
    return apply(corrections, [key])[0] if key else key


def _mirex(detected: Sequence[str], reference: Sequence[str]) -> np.ndarray:
    return np.array([mirex_score(r, d) for d, r in zip(detected, reference, strict=True)])


def _exact(detected: Sequence[str], reference: Sequence[str]) -> np.ndarray:
    return np.array([d == r for d, r in zip(detected, reference, strict=True)])


def fit_mode_shift(detected: Sequence[str], reference: Sequence[str], min_support: int) -> list[Correction]:
    """For each detected mode, the one relation (relative, parallel, fifth) that fixes the most songs, if any.

    Kept only when it turns at least ``min_support`` more songs exact than it breaks without lowering the
    MIREX score (which credits a fifth above, so a fifth-shift must fix enough songs to pay for it).
    """
    rules: list[Correction] = []
    current = list(detected)
    for mode in ("major", "minor"):
        best: tuple[int, float, str] | None = None
        for relation in RELATIONS:
            rule: dict[str, Any] = {"type": "mode_shift", "from_mode": mode, "relation": relation}
            shifted = apply([rule], current)
            net = int(_exact(shifted, reference).sum()) - int(_exact(current, reference).sum())
            mirex_gain = float(_mirex(shifted, reference).sum() - _mirex(current, reference).sum())
            if net >= min_support and mirex_gain >= 0 and (best is None or (net, mirex_gain) > best[:2]):
                best = (net, mirex_gain, relation)
        if best is not None:
            rule = {"type": "mode_shift", "from_mode": mode, "relation": best[2]}
            shifted = apply([rule], current)
            rule["stats"] = _stats(current, shifted, reference)
            rules.append(rule)
            current = shifted
    return rules


def fit_remap(detected: Sequence[str], reference: Sequence[str], min_support: int) -> list[Correction]:
    """Detected key → the reference key most often behind it, when that beats leaving it alone.

    An entry needs ``min_support`` songs behind it and must not lower those songs' MIREX score.
    """
    behind: dict[str, Counter[str]] = defaultdict(Counter)
    for d, r in zip(detected, reference, strict=True):
        if d:
            behind[d][r] += 1
    entries: dict[str, dict[str, Any]] = {}
    for source in sorted(behind, key=lambda k: KEY_LABELS.index(k) if k in KEY_LABELS else 99):
        counts = behind[source]
        target, support = max(counts.items(), key=lambda item: (item[1], item[0] == source))
        if target == source or support < min_support or support <= counts[source]:
            continue
        refs = [r for d, r in zip(detected, reference, strict=True) if d == source]
        if sum(mirex_score(r, target) for r in refs) < sum(mirex_score(r, source) for r in refs):
            continue
        entries[source] = {
            "to": target,
            "support": support,
            "songs": sum(counts.values()),
            "kept_right": counts[source],
        }
    if not entries:
        return []
    rule: Correction = {"type": "remap", "entries": entries}
    rule["stats"] = _stats(list(detected), apply([rule], detected), reference)
    return [rule]


def _stats(before: Sequence[str], after: Sequence[str], reference: Sequence[str]) -> dict[str, Any]:
    was, now = _exact(before, reference), _exact(after, reference)
    return {
        "songs_changed": int(sum(b != a for b, a in zip(before, after, strict=True))),
        "fixed": int((now & ~was).sum()),
        "broken": int((was & ~now).sum()),
        "exact_before": round(float(was.mean()), 4),
        "exact_after": round(float(now.mean()), 4),
        "mirex_before": round(float(_mirex(before, reference).mean()), 4),
        "mirex_after": round(float(_mirex(after, reference).mean()), 4),
    }
