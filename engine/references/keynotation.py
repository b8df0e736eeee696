"""Parse the key notations people's reference files use into the engine's labels (``"Bb minor"``).

Reference CSVs come from DJ software, playlist tools and spreadsheets typed by hand, so the
same key arrives as ``A minor``, ``Am``, ``Amin``, ``a``, ``8A`` (Camelot) or ``1m`` (Open Key).
Everything is mapped to one of :data:`engine.analysis.keys.KEY_LABELS` so scoring and calibration
compare like with like. An unreadable value raises :class:`KeyNotationError` whose message
says what was wrong, for a per-row error.
"""

from __future__ import annotations

import re
import unicodedata

from engine.analysis.keys import PITCH_NAMES

MISSING = frozenset({"", "-", "--", "?", "n/a", "na", "none", "null", "unknown", "x"})
"""Cells that mean "no key given": not an error, just no reference key for that song."""

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARPS = ("#", "♯")
_FLATS = ("b", "♭")
_MAJOR_WORDS = ("major", "maj", "dur", "ma")
_MINOR_WORDS = ("minor", "min", "moll", "mi", "m", "-")

_CAMELOT = re.compile(r"^(1[0-2]|0?[1-9])\s*([ab])$", re.IGNORECASE)
_OPEN_KEY = re.compile(r"^(1[0-2]|0?[1-9])\s*([dm])$", re.IGNORECASE)
_NOTE = re.compile(r"^([A-Ga-g])([#♯b♭]?)$")


class KeyNotationError(ValueError):
    """The text is not a key in any notation we read; the message says why."""


def label(pitch_class: int, minor: bool) -> str:
    """The engine's label for a tonic pitch class (0 = C) and mode."""
    return f"{PITCH_NAMES[pitch_class % 12]} {'minor' if minor else 'major'}"


def tonic_and_mode(text: str) -> tuple[int, str] | None:
    """``(pitch class, "major" | "minor")`` of a key in any notation :func:`parse_key` reads, else ``None``."""
    try:
        parsed = parse_key(text)
    except KeyNotationError:
        return None
    if parsed is None:
        return None
    tonic, mode = parsed.split()
    return PITCH_NAMES.index(tonic), mode


def parse_key(text: str) -> str | None:
    """Return the engine label for ``text``, ``None`` for an empty/"unknown" cell.

    Raises :class:`KeyNotationError` for anything else that is not a key.
    """
    raw = unicodedata.normalize("NFC", str(text)).strip()
    cleaned = raw.replace("\u266e", "").strip()  # a natural sign carries no information
    if cleaned.lower() in MISSING:
        return None
    for pattern, reader in ((_CAMELOT, _camelot), (_OPEN_KEY, _open_key)):
        found = pattern.match(cleaned.replace(" ", ""))
        if found:
            return reader(int(found.group(1)), found.group(2).lower())
    if "/" in cleaned:
        return _enharmonic_pair(cleaned, raw)
    tonic, mode = _split_mode(cleaned, raw)
    pitch_class, lowercase = _tonic(tonic, raw)
    minor = lowercase if mode is None else mode
    return label(pitch_class, minor)


def _camelot(number: int, letter: str) -> str:
    """Camelot wheel: 8A = A minor, 8B = C major; each step clockwise is a fifth up."""
    minor_tonic = (9 + 7 * (number - 8)) % 12
    return label(minor_tonic, True) if letter == "a" else label(minor_tonic + 3, False)


def _open_key(number: int, letter: str) -> str:
    """Open Key (Traktor): 1d = C major, 1m = A minor; each step is a fifth up."""
    major_tonic = (7 * (number - 1)) % 12
    return label(major_tonic, False) if letter == "d" else label(major_tonic + 9, True)


def _split_mode(text: str, raw: str) -> tuple[str, bool | None]:
    """Separate ``"F# min"`` into (``"F#"``, minor); ``None`` when no mode is written."""
    compact = re.sub(r"[\s._]+", " ", text).strip()
    found = re.match(r"^([A-Ga-g][#♯b♭]?)\s*(.*)$", compact)
    if not found:
        raise KeyNotationError(_reason(raw))
    tonic, rest = found.group(1), found.group(2).strip()
    if not rest:
        return tonic, None
    if rest == "M":  # "CM" is common shorthand for C major; "Cm" for C minor
        return tonic, False
    word = rest.lower().rstrip(".")
    if word in _MAJOR_WORDS:
        return tonic, False
    if word in _MINOR_WORDS:
        return tonic, True
    raise KeyNotationError(f'key "{raw}": unknown mode "{rest}"')


def _tonic(text: str, raw: str) -> tuple[int, bool]:
    """Pitch class of a note name and whether it was written in lower case (lower case = minor)."""
    found = _NOTE.match(text)
    if not found:
        raise KeyNotationError(_reason(raw))
    letter, accidental = found.group(1), found.group(2)
    pitch_class = _LETTERS[letter.upper()]
    if accidental in _SHARPS:
        pitch_class += 1
    elif accidental in _FLATS:
        pitch_class -= 1
    return pitch_class % 12, letter.islower()


def _enharmonic_pair(text: str, raw: str) -> str:
    """``"A#/B♭"`` or ``"F#/G♭ minor"``: both spellings must name the same pitch."""
    left, _, right = text.partition("/")
    right_tonic, mode = _split_mode(right.strip(), raw)
    left_tonic, left_mode = _split_mode(left.strip(), raw)
    if left_mode is not None and mode is not None and left_mode != mode:
        raise KeyNotationError(f'key "{raw}": the two spellings name different modes')
    mode = mode if mode is not None else left_mode
    left_pc, left_lower = _tonic(left_tonic, raw)
    right_pc, _ = _tonic(right_tonic, raw)
    if left_pc != right_pc:
        raise KeyNotationError(f'key "{raw}": {left_tonic} and {right_tonic} are not the same pitch')
    return label(left_pc, left_lower if mode is None else mode)


def _reason(raw: str) -> str:
    if raw[:1] in ("H", "h"):
        return f'key "{raw}": "H" (German B) is not accepted; write B (or Bb for German B)'
    return f'key "{raw}" is not a key (expected e.g. "A minor", "Am", "F#/Gb", "8A" or "1m")'


# -- showing keys the way the user reads them ------------------------------------------------------
NOTATIONS = ("classic", "sharps", "flats", "camelot", "open key")
"""Key notation preferences: the engine's own names (``Bb minor``), all sharps (``A# minor``), all
flats (``Bb minor``, ``Db major``), Camelot (``3A``) and Open Key (``8m``)."""
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")


def format_key(key: str | None, notation: str = "classic") -> str:
    """``key`` (any notation :func:`parse_key` reads) written in ``notation``; unreadable text comes
    back unchanged so a table never hides what a file said, and an empty key stays empty."""
    notation = {"openkey": "open key"}.get(notation, notation)  # the command line's spelling
    if notation not in NOTATIONS:
        raise ValueError(f'unknown key notation "{notation}" (expected one of {", ".join(NOTATIONS)})')
    if not key:
        return ""
    parsed = tonic_and_mode(key)
    if parsed is None:
        return str(key)
    tonic, mode = parsed
    minor = mode == "minor"
    if notation == "camelot":
        minor_tonic = tonic if minor else (tonic - 3) % 12
        number = ((7 * (minor_tonic - 9)) % 12 + 7) % 12 + 1  # 8A = A minor; a fifth up is one step
        return f"{number}{'A' if minor else 'B'}"
    if notation == "open key":
        major_tonic = tonic if not minor else (tonic + 3) % 12
        return f"{(7 * major_tonic) % 12 + 1}{'m' if minor else 'd'}"
    names = {"classic": PITCH_NAMES, "sharps": _SHARP_NAMES, "flats": _FLAT_NAMES}[notation]
    return f"{names[tonic]} {mode}"
