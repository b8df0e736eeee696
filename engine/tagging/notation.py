"""Key and BPM as they go into tags: classic (``Am``), Camelot (``8A``) or Open Key (``1m``).

Tag-specific formatting: ID3's TKEY allows at most three characters (``A``-``G``, ``b``, ``#``,
``m``), so the classic notation here is the short DJ form, not the engine's ``"A minor"``. Camelot
and Open Key come from the one formatter the window and the exports use
(:func:`engine.references.keynotation.format_key`).
"""

from __future__ import annotations

import math
import re
from typing import Literal

from engine.analysis.keys import KEY_LABELS
from engine.references.keynotation import format_key as format_key_in

Notation = Literal["classic", "camelot", "openkey"]
NOTATIONS: tuple[str, ...] = ("classic", "camelot", "openkey")
_SHARED = {"camelot": "camelot", "openkey": "open key"}
"""This module's notation names -> the shared formatter's."""


def format_key(label: str, notation: str = "classic") -> str:
    """``"A minor"`` -> ``"Am"`` / ``"8A"`` / ``"1m"``; raises ``ValueError`` for a label that is not a key."""
    if label not in KEY_LABELS:
        raise ValueError(f"not a key label: {label!r}")
    if notation == "classic":
        tonic, mode = label.split()
        return tonic + ("m" if mode == "minor" else "")
    if notation in _SHARED:
        return format_key_in(label, _SHARED[notation])
    raise ValueError(f"unknown key notation {notation!r} (choose from {', '.join(NOTATIONS)})")


def format_bpm(bpm: float, integer: bool) -> str:
    """BPM text for a tag: a whole number where the format's spec says so (ID3 TBPM, MP4 tmpo),
    else at most two decimals without trailing zeros (Vorbis comments are free text)."""
    if integer:
        return str(math.floor(bpm + 0.5))  # half up: round() would give 126 for 126.5
    return f"{bpm:.2f}".rstrip("0").rstrip(".")


FIELDS: tuple[str, ...] = ("bpm", "key")
"""The tags this program writes (``--fields``)."""
TAG_FIELDS: tuple[str, ...] = (*FIELDS, "comment")
"""Every field a tag write may change: the comment only with ``--comment-key``."""
_COMMENT_KEY = re.compile(r"^\s*(?:1[0-2]|[1-9])[AB]\s+-\s+[A-G][#b]?m?\b(?:\s+-\s+|\s*$)")


def has_key_prefix(comment: str) -> bool:
    """Whether the comment already starts with a key in Mixed In Key's form (``8A - Am``)."""
    return _COMMENT_KEY.match(comment) is not None


def comment_with_key(label: str, comment: str) -> str:
    """Mixed In Key's way: ``8A - Am`` in front of the existing comment, which is kept after `` - ``.

    A key we (or Mixed In Key) put there before is replaced, not stacked: ``8A - Am - 3A - Bbm - …``
    would be wrong the moment the key changed.
    """
    from engine.references.writers.model import key_text

    prefix = f"{key_text(label, 'camelot')} - {key_text(label, 'classic')}"
    rest = _COMMENT_KEY.sub("", comment, count=1).strip()
    return f"{prefix} - {rest}" if rest else prefix
