"""Essentia reference systems for ``bench/accuracy.py`` (benchmark only: Essentia is AGPL, never a product dependency).

Two configurations, as in issue 7: ``RhythmExtractor2013(method="multifeature")`` for tempo with
``KeyExtractor`` using the ``edma`` or the ``temperley`` profile. Each runs in one process; its wall
time covers loading, tempo and key, so the speed column compares like with like.
"""

from __future__ import annotations

import time
from pathlib import Path

from common import Reference

from engine.analysis.keys import PITCH_NAMES

PROFILES = ("edma", "temperley")
_SEMITONE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def available() -> bool:
    try:
        import essentia.standard  # noqa: F401
    except ImportError:
        return False
    return True


def _label(key: str, scale: str) -> str:
    """Essentia's ``("A#", "minor")`` as the engine's ``"Bb minor"``."""
    semitone = _SEMITONE[key[0].upper()] + key[1:].count("#") - key[1:].count("b")
    return f"{PITCH_NAMES[semitone % 12]} {scale}"


def rhythm_extractor():
    """Essentia's RhythmExtractor2013 (multifeature), its log quiet; call it on 44.1 kHz mono audio."""
    import essentia
    import essentia.standard as es

    essentia.log.infoActive = False
    essentia.log.warningActive = False
    return es.RhythmExtractor2013(method="multifeature")


def run_essentia(references: list[Reference]) -> dict[str, tuple[dict[Path, tuple[float, str]], float]]:
    """``{system name: (results, wall seconds)}`` for both key profiles (tempo shared, its time counted in both)."""
    import essentia.standard as es

    rhythm = rhythm_extractor()
    extractors = {p: es.KeyExtractor(profileType=p, sampleRate=44100) for p in PROFILES}
    common_s = 0.0
    key_s = dict.fromkeys(PROFILES, 0.0)
    tempi: dict[Path, float] = {}
    keys: dict[str, dict[Path, str]] = {p: {} for p in PROFILES}
    for ref in references:
        started = time.perf_counter()
        audio = es.MonoLoader(filename=str(ref.path), sampleRate=44100)()
        tempi[ref.path] = float(rhythm(audio)[0])
        common_s += time.perf_counter() - started
        for profile, extractor in extractors.items():
            started = time.perf_counter()
            key, scale, _strength = extractor(audio)
            keys[profile][ref.path] = _label(key, scale)
            key_s[profile] += time.perf_counter() - started
    return {
        f"Essentia multifeature + KeyExtractor {p} (1 process)": (
            {path: (tempi[path], keys[p][path]) for path in tempi},
            common_s + key_s[p],
        )
        for p in PROFILES
    }
