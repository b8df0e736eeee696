"""Cell values as exports write them: numbers, BPM, durations, and keys split over several columns.

A key arrives as one cell (``A minor``, ``Am``, ``8A``), as a pitch class with a mode column
(Exportify: ``Key = 9``, ``Mode = 0``), as a note with a mode column in any spelling
(``Key = A``, ``Mode = Minor``/``min``/``m``/``0``), or beside Camelot/Open Key columns. All
of them are checked against each other: two columns that disagree are a per-row error naming
both, never a silent choice.
"""

from __future__ import annotations

import math
import re

from engine.references.keynotation import MISSING, KeyNotationError, label, parse_key

BPM_RANGE = (1.0, 999.0)

_MINOR_MODES = frozenset({"minor", "min", "m", "0", "moll", "mi", "aeolian"})
_MAJOR_MODES = frozenset({"major", "maj", "1", "dur", "ma", "ionian"})


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_PITCH_CLASS = re.compile(r"-?\d{1,2}(\.0)?")
_BPM_SUFFIX = re.compile(r"\s*bpm$", re.IGNORECASE)


def parse_number(text: str, what: str) -> float:
    """A finite number; ``"120,5"`` (decimal comma) and ``"85%"`` are accepted."""
    cleaned = text.strip().rstrip("%").strip()
    if "," in cleaned and _DECIMAL_COMMA.fullmatch(cleaned):
        cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f'{what} "{text}" is not a number') from None
    if not math.isfinite(value):
        raise ValueError(f'{what} "{text}" is not a finite number')
    return value


def parse_bpm(text: str, zero_is_missing: bool = False) -> float | None:
    """A tempo in range; DJ libraries write 0 for "not analysed" (``zero_is_missing``), a CSV's 0 is an error."""
    text = text.strip()
    if text.lower() in MISSING:
        return None
    value = parse_number(_BPM_SUFFIX.sub("", text), "BPM")
    if value == 0 and zero_is_missing:
        return None
    if not BPM_RANGE[0] <= value <= BPM_RANGE[1]:
        raise ValueError(f'BPM "{text}" is out of range ({BPM_RANGE[0]:g}–{BPM_RANGE[1]:g})')
    return value


def parse_duration(text: str) -> float | None:
    """``"3:25"``, ``"1:02:03"`` or plain seconds."""
    text = text.strip()
    if not text:
        return None
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3 or not all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
            raise ValueError(f'time "{text}" is not mm:ss')
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
        return seconds
    value = parse_number(text, "time")
    if value < 0:
        raise ValueError(f'time "{text}" is negative')
    return value


def parse_mode(text: str) -> bool | None:
    """``True`` for minor, ``False`` for major, ``None`` for an empty cell; anything else raises."""
    word = text.strip().lower().rstrip(".")
    if word in MISSING:
        return None
    if text.strip() == "M":
        return False
    if word in _MINOR_MODES:
        return True
    if word in _MAJOR_MODES:
        return False
    raise KeyNotationError(f'mode "{text}" is not major or minor (expected e.g. Minor, min, m, 0, Major, 1)')


def key_from_cells(key: str, mode: str = "", camelot: str = "", open_key: str = "") -> str | None:
    """The row's key from its key, mode, Camelot and Open Key cells; disagreements raise, naming both."""
    minor = parse_mode(mode) if mode else None
    text = key.strip()
    found: str | None = None
    if _PITCH_CLASS.fullmatch(text):  # a pitch class (Spotify / Exportify)
        pitch = int(float(text))
        if pitch == -1:
            found = None
        elif not 0 <= pitch <= 11:
            raise KeyNotationError(f'key "{text}" is not a pitch class 0–11')
        elif minor is None:
            raise KeyNotationError(f'key "{text}" is a pitch class but the row has no mode (major/minor) column')
        else:
            found = label(pitch, minor)
    elif text:
        found = parse_key(text)
        if found is not None and minor is not None:
            written = _written_mode(text)
            if written is not None and written != minor:
                raise KeyNotationError(
                    f'key "{text}" and mode "{mode.strip()}" disagree ({_mode_word(written)} vs {_mode_word(minor)})'
                )
            if written is None:
                found = found.split()[0] + (" minor" if minor else " major")
    for column, other_text in (("Camelot", camelot), ("Open Key", open_key)):
        if not other_text.strip():
            continue
        other = parse_key(other_text)
        if found is None:
            found = other
        elif other is not None and other != found:
            raise KeyNotationError(
                f'key "{_shown(key, mode)}" ({found}) and {column} "{other_text.strip()}" ({other}) disagree'
            )
    return found


def _written_mode(text: str) -> bool | None:
    """Whether a key cell itself states its mode (``Am``, ``A minor``, ``8A``), and which."""
    compact = text.strip()
    if re.fullmatch(r"[A-Ga-g][#♯b♭]?", compact):
        return None  # a bare note: "a" (lower case) is read as minor only when no mode column says otherwise
    parsed = parse_key(compact)
    return None if parsed is None else parsed.endswith("minor")


def _mode_word(minor: bool) -> str:
    return "minor" if minor else "major"


def _shown(key: str, mode: str) -> str:
    return f"{key.strip()} {mode.strip()}".strip()
