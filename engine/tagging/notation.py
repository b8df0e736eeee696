"""Key and BPM as they go into tags: classic (``Am``), Camelot (``8A``) or Open Key (``1m``).

Tag-specific formatting: ID3's TKEY allows at most three characters (``A``-``G``, ``b``, ``#``,
``m``), so the classic notation here is the short DJ form, not the engine's ``"A minor"``.
The key notation preference of the window formats keys for display; the integrator may let it
call :func:`format_key` (or the other way round) so that there is one formatter.
"""

from __future__ import annotations

import math
from typing import Literal

from engine.analysis.keys import PITCH_NAMES

Notation = Literal["classic", "camelot", "openkey"]
NOTATIONS: tuple[str, ...] = ("classic", "camelot", "openkey")


def format_key(label: str, notation: str = "classic") -> str:
    """``"A minor"`` -> ``"Am"`` / ``"8A"`` / ``"1m"``; raises ``ValueError`` for a label that is not a key.

    Camelot: 8A = A minor, 8B = C major, one step clockwise is a fifth up (7 semitones; 7 is its
    own inverse modulo 12, hence ``7 * …``). Open Key (Traktor): 1d = C major, 1m = A minor.
    """
    try:
        tonic, mode = label.split()
        pitch_class = PITCH_NAMES.index(tonic)
    except ValueError:
        raise ValueError(f"not a key label: {label!r}") from None
    if mode not in ("major", "minor"):
        raise ValueError(f"not a key label: {label!r}")
    minor = mode == "minor"
    relative_major = (pitch_class + 3) % 12 if minor else pitch_class  # both notations number by it
    if notation == "classic":
        return tonic + ("m" if minor else "")
    if notation == "camelot":
        return f"{(7 * relative_major + 7) % 12 + 1}{'A' if minor else 'B'}"
    if notation == "openkey":
        return f"{(7 * relative_major) % 12 + 1}{'m' if minor else 'd'}"
    raise ValueError(f"unknown key notation {notation!r} (choose from {', '.join(NOTATIONS)})")


def format_bpm(bpm: float, integer: bool) -> str:
    """BPM text for a tag: a whole number where the format's spec says so (ID3 TBPM, MP4 tmpo),
    else at most two decimals without trailing zeros (Vorbis comments are free text)."""
    if integer:
        return str(math.floor(bpm + 0.5))  # half up: round() would give 126 for 126.5
    return f"{bpm:.2f}".rstrip("0").rstrip(".")


FIELDS: tuple[str, ...] = ("bpm", "key")
"""The tags this program writes."""
