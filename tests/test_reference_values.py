"""Reference cells one by one: numbers, BPM, durations, modes and keys split over columns.

Each value and each message is written out by hand here. Written for the survivors of the mutation run
on ``engine/references/readers/values.py`` (docs/reliability.md): every case below failed under one of them.
"""

from __future__ import annotations

import pytest

from engine.references.keynotation import KeyNotationError
from engine.references.readers.values import key_from_cells, parse_bpm, parse_duration, parse_mode, parse_number


@pytest.mark.parametrize(("cell", "value"), [("85%", 85.0), (" 120,5 ", 120.5), ("-3", -3.0)])
def test_numbers_with_a_percent_sign_or_a_decimal_comma(cell, value):
    assert parse_number(cell, "gain") == value


@pytest.mark.parametrize("cell", ["12X", "%85", "abc"])
def test_what_is_not_a_number_says_so_naming_the_column(cell):
    with pytest.raises(ValueError, match=f'^gain "{cell}" is not a number$'):
        parse_number(cell, "gain")


@pytest.mark.parametrize("cell", ["n/a", "N/A", "x", "Unknown", " - "])
def test_a_missing_bpm_is_missing_in_any_case(cell):
    assert parse_bpm(cell) is None


def test_bpm_range_includes_its_ends():
    assert parse_bpm("1") == 1.0 and parse_bpm("999") == 999.0 and parse_bpm("128 BPM") == 128.0
    for cell in ("0.5", "1000"):
        with pytest.raises(ValueError, match="out of range"):
            parse_bpm(cell)
    assert parse_bpm("0", zero_is_missing=True) is None


@pytest.mark.parametrize(
    ("cell", "seconds"), [("3:25", 205.0), ("1:02:03", 3723.0), ("215", 215.0), ("0", 0.0), ("0.5", 0.5), ("", None)]
)
def test_durations(cell, seconds):
    assert parse_duration(cell) == seconds


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("1:02:03:04", 'time "1:02:03:04" is not mm:ss'),
        ("3:2x", 'time "3:2x" is not mm:ss'),
        ("abc", 'time "abc" is not a number'),
        ("-3", 'time "-3" is negative'),
    ],
)
def test_bad_durations_say_why(cell, message):
    with pytest.raises(ValueError) as error:
        parse_duration(cell)
    assert str(error.value) == message


@pytest.mark.parametrize(("cell", "minor"), [("Min.", True), ("maj.", False), ("M", False), ("m", True), ("", None)])
def test_modes_with_a_trailing_dot(cell, minor):
    assert parse_mode(cell) is minor


def test_a_key_alone_needs_no_other_column():
    assert key_from_cells("A minor") == "A minor"
    assert key_from_cells("8A") == "A minor"


def test_a_bare_note_takes_the_mode_column_whatever_its_case():
    assert key_from_cells("a", "major") == "A major"  # lower case means minor only without a mode column
    assert key_from_cells("Bb", "minor") == "Bb minor"
    assert key_from_cells("bb", "major") == "Bb major"


def test_pitch_classes_are_0_to_11_with_a_mode_column():
    assert key_from_cells("11", "1") == "B major" and key_from_cells("9.0", "0") == "A minor"
    assert key_from_cells("-1", "1") is None  # Spotify's "no key detected"
    with pytest.raises(KeyNotationError) as error:
        key_from_cells("12", "1")
    assert str(error.value) == 'key "12" is not a pitch class 0–11'
    with pytest.raises(KeyNotationError) as error:
        key_from_cells("9")
    assert str(error.value) == 'key "9" is a pitch class but the row has no mode (major/minor) column'


@pytest.mark.parametrize(
    ("key", "mode", "message"),
    [
        ("Am", "Major", 'key "Am" and mode "Major" disagree (minor vs major)'),
        ("C major", "min", 'key "C major" and mode "min" disagree (major vs minor)'),
    ],
)
def test_a_key_and_a_mode_column_that_disagree_are_named_both(key, mode, message):
    with pytest.raises(KeyNotationError) as error:
        key_from_cells(key, mode)
    assert str(error.value) == message
