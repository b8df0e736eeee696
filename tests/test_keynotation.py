"""Key notations people write in reference files, mapped to the engine's labels."""

from __future__ import annotations

import pytest

from engine.analysis.keys import KEY_LABELS
from engine.references.keynotation import KeyNotationError, parse_key

ACCEPTED = [
    ("A minor", "A minor"),
    ("a minor", "A minor"),
    ("A MINOR", "A minor"),
    ("Am", "A minor"),
    ("A min", "A minor"),
    ("Amin", "A minor"),
    ("a", "A minor"),  # lower case alone = minor
    ("A", "A major"),
    ("C major", "C major"),
    ("Cmaj", "C major"),
    ("CM", "C major"),
    ("Cm", "C minor"),
    ("A#/B♭", "Bb major"),
    ("A#/Bb", "Bb major"),
    ("F#/G♭ minor", "F# minor"),
    ("F#/Gb m", "F# minor"),
    ("Bbm", "Bb minor"),
    ("B♭m", "Bb minor"),
    ("bb", "Bb minor"),
    ("C♯", "C# major"),
    ("C♯ minor", "C# minor"),
    ("D♭ major", "C# major"),
    ("Gb", "F# major"),
    ("Cb", "B major"),
    ("E#", "F major"),
    ("Eb minor", "Eb minor"),
    ("D# minor", "Eb minor"),
    # Camelot: 8A = A minor, 8B = C major, one step = a fifth
    ("8A", "A minor"),
    ("8B", "C major"),
    ("1A", "Ab minor"),
    ("1B", "B major"),
    ("5A", "C minor"),
    ("12B", "E major"),
    ("12a", "C# minor"),
    ("08A", "A minor"),
    # Open Key: 1d = C major, 1m = A minor
    ("1m", "A minor"),
    ("1d", "C major"),
    ("2d", "G major"),
    ("6m", "Ab minor"),
    ("12m", "D minor"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_notations(text, expected):
    assert parse_key(text) == expected


def test_every_camelot_and_open_key_code_is_a_distinct_key():
    camelot = {parse_key(f"{n}{letter}") for n in range(1, 13) for letter in "AB"}
    open_key = {parse_key(f"{n}{letter}") for n in range(1, 13) for letter in "dm"}
    assert camelot == open_key == set(KEY_LABELS)


def test_camelot_neighbours_are_fifths_and_relatives():
    from engine.references.scoring import key_relation

    for n in range(1, 13):
        nxt = n % 12 + 1
        assert key_relation(parse_key(f"{n}A"), parse_key(f"{nxt}A")) == "fifth"
        assert key_relation(parse_key(f"{n}A"), parse_key(f"{n}B")) == "relative"


@pytest.mark.parametrize("text", ["", "  ", "-", "n/a", "None", "?", "x"])
def test_empty_means_no_key(text):
    assert parse_key(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("H minor", "German"),
        ("h", "German"),
        ("12o", "not a key"),
        ("13A", "not a key"),
        ("0B", "not a key"),
        ("Z major", "not a key"),
        ("A#/C", "not the same pitch"),
        ("A#/Bb minor major", "unknown mode"),
        ("A#m/Bb major", "different modes"),
        ("C sharp", "unknown mode"),
        ("Am7", "unknown mode"),
        ("10", "not a key"),
    ],
)
def test_rejects_say_why(text, reason):
    with pytest.raises(KeyNotationError, match=reason):
        parse_key(text)
