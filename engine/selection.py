"""Which songs, and which of their values, leave the program: for ``tag`` and ``export`` alike.

An earlier run's ``results.csv`` holds, per song, the analysed BPM and key, the calibrated ones (when
calibrating) and the reference; the user's verdicts (``reference_corrections.csv``) say where the
reference or the detection was checked by ear. A :class:`Choice` picks:

* ``values``: ``analysed``, ``calibrated``, or ``verified`` (a verdict's value where the user gave
  one: a corrected BPM/key is the true value, a confirmed detection is the analysed one; the analysed
  value elsewhere);
* ``only``: ``all`` songs, the ``agreeing`` ones (every field that has a reference matches it: BPM
  within 4 %, the same key), or the ``verified`` ones (only the fields a verdict covers);
* ``min_confidence``: a field the engine is less sure of is left out (a verdict is always sure);
* ``unstable_bpm``: whether a song whose ``tempo_stable`` is 0 gets a BPM at all;
* ``bpm_range``: the written BPM folded into the user's range (:class:`engine.settings.BpmRange`),
  after every other choice, since the range is only how values are shown.

The beat grid (``beat_grid_start_s``) goes out only where the tempo is stable (``tempo_stable=1``)
and the written BPM is the measured one or an octave of it: a grid at any other tempo was never
measured, and a wrong grid is worse than none.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from engine.calibration.corrections import FILE_NAME as CORRECTIONS_FILE
from engine.calibration.corrections import CorrectionsError, Verdicts, load_verdicts
from engine.csv_io import read_csv_rows
from engine.errors import EngineError
from engine.references.keynotation import KeyNotationError, parse_key
from engine.references.tags import title_and_artist
from engine.settings import BpmRange
from engine.wording import plural

VALUES = ("analysed", "calibrated", "verified")
ONLY = ("all", "agreeing", "verified")
AGREEING_BPM = 0.04
"""Relative BPM difference that still agrees with the reference (MIREX Acc1's 4 %)."""
GRID_OCTAVE_TOLERANCE = 0.005
"""How close the written BPM must be to the measured one times a power of two to keep the grid."""


class SelectionError(EngineError):
    """The request as a whole cannot be met (no results.csv, no calibrated values, no verdicts)."""


@dataclass(frozen=True)
class Choice:
    values: str = "analysed"
    only: str = "all"
    min_confidence: float | None = None
    bpm_range: BpmRange | None = None
    unstable_bpm: bool = True
    corrections: Path | None = None
    """``reference_corrections.csv``; ``None`` looks where the run recorded it, then in the results folder."""

    def __post_init__(self) -> None:
        if self.values not in VALUES:
            raise ValueError(f"values must be one of {', '.join(VALUES)}, not {self.values!r}")
        if self.only not in ONLY:
            raise ValueError(f"only must be one of {', '.join(ONLY)}, not {self.only!r}")

    @property
    def needs_verdicts(self) -> bool:
        return "verified" in (self.values, self.only)


@dataclass
class OutgoingSong:
    """One song as it leaves: ``bpm`` ``None`` / ``key`` ``""`` mean "leave that field as it is"."""

    path: str
    title: str
    artist: str
    duration_s: float | None
    bpm: float | None
    key: str
    bpm_from: str = ""
    """``analysed``, ``calibrated``, ``verdict`` or ``confirmed``: where the value came from."""
    key_from: str = ""
    grid_start_s: float | None = None
    """The first beat in seconds, where a stable grid was measured and fits ``bpm``."""


@dataclass
class Selection:
    songs: list[OutgoingSong] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)
    """Why songs or fields stayed behind, counted: ``"not agreeing with the reference": 3``."""
    corrections: Path | None = None
    notes: list[str] = field(default_factory=list)
    """Warnings for the user (no verdicts where verified values were asked for, …)."""

    def summary(self) -> str:
        reasons = "; ".join(f"{n} {reason}" for reason, n in sorted(self.left_out.items()))
        return f"{plural(len(self.songs), 'song')} chosen" + (f" (left out: {reasons})" if reasons else "")


def select(results_dir: str | os.PathLike[str], choice: Choice) -> Selection:
    """The songs of ``results_dir/results.csv`` and the values ``choice`` asks for."""
    folder = Path(results_dir)
    header, rows = _read_results(folder)
    if choice.values == "calibrated" and "bpm_calibrated" not in header:
        raise SelectionError(
            f"{folder / 'results.csv'} has no calibrated values (analyse with --reference or --profile)"
        )
    selection = Selection()
    verdicts = Verdicts()
    if choice.needs_verdicts or choice.only == "agreeing":  # agreement is with the corrected reference
        selection.corrections = find_corrections(folder, choice.corrections)
        if selection.corrections is None and choice.only == "verified":
            raise SelectionError(f"no verdicts found for {folder} (reference_corrections.csv); pass --corrections FILE")
        if selection.corrections is None and choice.values == "verified":
            selection.notes.append("no verdicts found (reference_corrections.csv): every value is the analysed one")
    if selection.corrections is not None:
        try:
            verdicts = load_verdicts(selection.corrections)
        except CorrectionsError as exc:
            raise SelectionError(str(exc)) from None
    for row in rows:
        if row.get("status") == "error" or not row.get("path"):
            selection.left_out["failed analysis"] += 1
            continue
        song = _choose(row, choice, verdicts, selection.left_out)
        if song is not None:
            selection.songs.append(song)
    return selection


def _read_results(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    path = folder / "results.csv"
    try:
        return read_csv_rows(path)
    except FileNotFoundError:
        raise SelectionError(f"no results.csv in {folder} (run analyze --out {folder} first)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SelectionError(f"cannot read {path}: {exc}") from None


def find_corrections(folder: Path, given: Path | None = None) -> Path | None:
    """The verdicts file: the one given, the one the run recorded, the results folder's, the reference's neighbour."""
    if given is not None:
        if not Path(given).is_file():
            raise SelectionError(f"corrections file {given} not found")
        return Path(given)
    try:
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        run = {}
    calibration = run.get("calibration", {}) if isinstance(run, dict) else {}
    candidates = [calibration.get("corrections_file") or "", str(folder / CORRECTIONS_FILE)]
    references = calibration.get("reference_files", [])
    candidates += [str(Path(f.get("path", "")).parent / CORRECTIONS_FILE) for f in references]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and value > 0 else None


def _label(text: str | None) -> str:
    try:
        return parse_key(text or "") or ""
    except KeyNotationError:
        return ""


def _choose(row: dict[str, str], choice: Choice, verdicts: Verdicts, left_out: Counter[str]) -> OutgoingSong | None:
    path = row["path"]
    found = verdicts.for_song(path)
    analysed_bpm, analysed_key = _number(row.get("bpm")), _label(row.get("key"))
    bpm, key, bpm_from, key_from = analysed_bpm, analysed_key, "analysed", "analysed"
    if choice.values == "calibrated":
        bpm, key = _number(row.get("bpm_calibrated")), _label(row.get("key_calibrated"))
        bpm_from = key_from = "calibrated"
    verified_bpm, verified_key = _verified(found)
    if choice.values == "verified":
        if verified_bpm is not None:
            bpm, bpm_from = verified_bpm, "verdict"
        elif "confirmed" in found:
            bpm_from = "confirmed"
        if verified_key:
            key, key_from = verified_key, "verdict"
        elif "confirmed" in found:
            key_from = "confirmed"
    if choice.only == "verified":
        if not ({"bpm", "key", "confirmed"} & found.keys()):
            left_out["not verified"] += 1
            return None
        if "confirmed" not in found:  # a verdict on one field verifies that field only
            bpm = bpm if "bpm" in found else None
            key = key if "key" in found else ""
    if choice.only == "agreeing":
        why_not = _disagreement(row, found, bpm, key)
        if why_not:
            left_out[why_not] += 1
            return None
    sure = {"verdict", "confirmed"}
    if bpm is not None and bpm_from not in sure:
        if row.get("tempo_stable", "").strip() == "0" and not choice.unstable_bpm:
            bpm = None
            left_out["BPMs of unstable tempo (add --unstable-bpm)"] += 1
        elif _below(row.get("bpm_confidence"), choice.min_confidence):
            bpm = None
            left_out["BPMs below the confidence"] += 1
    if key and key_from not in sure and _below(row.get("key_confidence"), choice.min_confidence):
        key = ""
        left_out["keys below the confidence"] += 1
    if bpm is None and not key:
        left_out["songs with nothing left to write"] += 1
        return None
    written = choice.bpm_range.fold(bpm) if choice.bpm_range is not None and bpm is not None else bpm
    title, artist = row.get("title", ""), row.get("artist", "")
    if not title:
        title, artist = title_and_artist(path)
    return OutgoingSong(
        path=path,
        title=title,
        artist=artist,
        duration_s=_number(row.get("duration_s")),
        bpm=written,
        key=key,
        bpm_from=bpm_from if bpm is not None else "",
        key_from=key_from if key else "",
        grid_start_s=_grid_start(row, written, analysed_bpm),
    )


def _below(confidence: str | None, minimum: float | None) -> bool:
    return minimum is not None and (_number(confidence) or 0.0) < minimum


def _verified(found: dict) -> tuple[float | None, str]:
    bpm = _number(found["bpm"].corrected) if "bpm" in found else None
    key = _label(found["key"].corrected) if "key" in found else ""
    return bpm, key


def _disagreement(row: dict[str, str], found: dict, bpm: float | None, key: str) -> str:
    """Why a song does not agree with its (verdict-corrected) reference; ``""`` when it does."""
    if "exclude" in found:
        return "excluded by a verdict"
    ref_bpm, ref_key = _verified(found)
    ref_bpm = ref_bpm if ref_bpm is not None else _number(row.get("ref_bpm"))
    ref_key = ref_key or _label(row.get("ref_key"))
    judged = False
    if ref_bpm is not None and bpm is not None:
        judged = True
        if abs(bpm / ref_bpm - 1.0) > AGREEING_BPM:
            return "not agreeing with the reference"
    if ref_key and key:
        judged = True
        if key != ref_key:
            return "not agreeing with the reference"
    return "" if judged else "without a reference"


def _grid_start(row: dict[str, str], written: float | None, measured: float | None) -> float | None:
    start = row.get("beat_grid_start_s", "").strip()
    if not start or row.get("tempo_stable", "").strip() != "1" or written is None or measured is None:
        return None
    try:
        seconds = float(start)
    except ValueError:
        return None
    octaves = math.log2(written / measured)
    off_octave = abs(octaves - round(octaves)) > math.log2(1 + GRID_OCTAVE_TOLERANCE)
    if not math.isfinite(seconds) or seconds < 0 or off_octave:
        return None
    return seconds
