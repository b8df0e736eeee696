"""Demo songs: short synthetic tracks at known tempo and key, plus a matching reference CSV.

They let a newcomer see a whole calibration run with no music of their own, and give tests
real audio whose true answers are known. Plain numpy + soundfile; no Qt. Each piece is a
small pure function so tests can render exactly the song they need.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.analysis.keys import PITCH_NAMES

STYLES = ("straight", "half_time", "swing", "relative_major")
"""straight: four-on-the-floor; half_time: snare on beat 3 only, so the felt pulse is half the
tempo; swing: triplet-swung hi-hats; relative_major: a minor key whose chords lean on the
relative major (a classic key-detection trap)."""

_MAJOR_PROGRESSION = (0, 5, 7, 0)  # I IV V I, as root offsets from the tonic
_MINOR_PROGRESSION = (0, 5, 7, 0)  # i iv V i (harmonic minor)
_RELATIVE_MAJOR_PROGRESSION = (3, 8, 3, 10, 0)  # III VI III VII i: mostly the relative major's chords


@dataclass(frozen=True)
class DemoSong:
    """One demo track and its true values (what the reference CSV says)."""

    file: str
    bpm: float
    key: str
    style: str
    seconds: float = 45.0


DEMO_SONGS: tuple[DemoSong, ...] = (
    DemoSong("01 Straight.wav", 120.0, "C major", "straight"),
    DemoSong("02 Driving.wav", 128.0, "A minor", "straight"),
    DemoSong("03 Groove.wav", 96.0, "G major", "straight"),
    DemoSong("04 Half-time.wav", 140.0, "F major", "half_time"),
    DemoSong("05 Swing.wav", 110.0, "Bb major", "swing"),
    DemoSong("06 Shadow.wav", 100.0, "E minor", "relative_major"),
    DemoSong("07 Steady.wav", 85.0, "D major", "straight"),
    DemoSong("08 Late.wav", 150.0, "C minor", "half_time"),
    DemoSong("09 Bright.wav", 132.0, "E major", "straight"),
    DemoSong("10 Lazy.wav", 90.0, "A major", "swing"),
    DemoSong("11 Night.wav", 124.0, "D minor", "straight"),
    DemoSong("12 Ballad.wav", 76.0, "Eb major", "straight"),
    DemoSong("13 Rush.wav", 160.0, "G minor", "half_time"),
    DemoSong("14 Hollow.wav", 115.0, "B minor", "relative_major"),
)
"""Fourteen songs: enough for a calibration fit (which refuses fewer than 12 matched songs)."""


def parse_key(key: str) -> tuple[int, str]:
    """``"Bb minor"`` -> (10, "minor")."""
    tonic, mode = key.split()
    return PITCH_NAMES.index(tonic), mode


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def _envelope(n: int, sr: int, attack: float, decay: float) -> np.ndarray:
    t = np.arange(n) / sr
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / decay)


def _add(out: np.ndarray, start: int, sound: np.ndarray) -> None:
    if start >= out.size:
        return
    end = min(out.size, start + sound.size)
    out[start:end] += sound[: end - start]


def kick(sr: int) -> np.ndarray:
    n = int(0.25 * sr)
    t = np.arange(n) / sr
    freq = 50 + 100 * np.exp(-t / 0.03)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.07)


def snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.18 * sr)
    t = np.arange(n) / sr
    return (0.6 * rng.standard_normal(n) + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.05)


def hihat(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.05 * sr)
    noise = rng.standard_normal(n)
    noise = np.diff(noise, prepend=0.0)  # crude high-pass
    return 0.3 * noise * np.exp(-np.arange(n) / sr / 0.012)


RELEASE_S = 0.015
"""Each note fades out over its last 15 ms: a note cut off mid-wave clicks, and a bass note that ends a
tenth of a beat early clicks just before every beat, a false onset no real instrument makes."""


def tone(freq: float, seconds: float, sr: int, harmonics: int = 4) -> np.ndarray:
    n = int(seconds * sr)
    t = np.arange(n) / sr
    wave = sum(np.sin(2 * np.pi * freq * h * t) / h for h in range(1, harmonics + 1))
    release = np.minimum(1.0, (n - np.arange(n)) / max(RELEASE_S * sr, 1.0))
    return wave * _envelope(n, sr, 0.01, seconds * 1.5) * release


def chord_notes(root_pc: int, quality: str, octave: int = 4) -> list[int]:
    """MIDI notes of a triad on ``root_pc`` (pitch class)."""
    third = 3 if quality == "minor" else 4
    base = 12 * (octave + 1) + root_pc
    return [base, base + third, base + 7]


def _progression(tonic: int, mode: str, style: str) -> list[tuple[int, str]]:
    """(root pitch class, triad quality) per bar."""
    offsets: tuple[int, ...]
    if style == "relative_major":
        offsets = _RELATIVE_MAJOR_PROGRESSION
        qualities = {0: "minor", 3: "major", 8: "major", 10: "major", 7: "minor", 5: "minor"}
    elif mode == "minor":
        offsets = _MINOR_PROGRESSION
        qualities = {0: "minor", 5: "minor", 7: "major"}
    else:
        offsets = _MAJOR_PROGRESSION
        qualities = {0: "major", 5: "major", 7: "major"}
    return [((tonic + o) % 12, qualities[o]) for o in offsets]


def render_song(bpm: float, key: str, seconds: float = 20.0, sr: int = 22050, style: str = "straight") -> np.ndarray:
    """Drums, bass and chords at ``bpm`` in ``key``; mono float32 in [-1, 1].

    Deterministic for given arguments, so tests and the demo always hear the same song.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; one of {', '.join(STYLES)}")
    tonic, mode = parse_key(key)
    rng = np.random.default_rng(int(bpm * 100) + tonic * 7 + STYLES.index(style))
    n = int(seconds * sr)
    drums = np.zeros(n)
    bass = np.zeros(n)
    chords = np.zeros(n)
    beat = 60.0 / bpm
    k, s, h = kick(sr), snare(sr, rng), hihat(sr, rng)
    bars = _progression(tonic, mode, style)
    n_beats = int(seconds / beat) + 1
    for b in range(n_beats):
        at = b * beat
        pos = b % 4
        if style == "half_time":
            if pos == 0:
                _add(drums, int(at * sr), k)
            if pos == 2:
                _add(drums, int(at * sr), s)
        else:
            _add(drums, int(at * sr), k)
            if pos in (1, 3):
                _add(drums, int(at * sr), s)
        offbeat = beat * (2 / 3 if style == "swing" else 0.5)
        _add(drums, int(at * sr), h)
        _add(drums, int((at + offbeat) * sr), h)
        root, quality = bars[(b // 4) % len(bars)]
        if pos == 0:
            bar_len = 4 * beat
            for note in chord_notes(root, quality, 4):
                _add(chords, int(at * sr), tone(_midi_hz(note), bar_len, sr, 3) * 0.25)
        _add(bass, int(at * sr), tone(_midi_hz(12 * 3 + root), beat * 0.9, sr, 2) * 0.5)
    mix = 0.45 * drums + 0.8 * bass + 1.2 * chords
    peak = float(np.max(np.abs(mix))) or 1.0
    return (0.9 * mix / peak).astype(np.float32)


def write_reference_csv(path: str | os.PathLike[str], songs: Sequence[DemoSong]) -> Path:
    """The generic ``file,bpm,key`` reference shape."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "bpm", "key"])
        for song in songs:
            writer.writerow([song.file, f"{song.bpm:g}", song.key])
    return path


def write_demo_set(
    folder: str | os.PathLike[str],
    songs: Sequence[DemoSong] = DEMO_SONGS,
    sr: int = 22050,
    seconds: float | None = None,
) -> tuple[list[Path], Path]:
    """Render ``songs`` as WAV files into ``folder`` plus ``reference.csv``; returns (song paths, csv path).

    Songs already present are kept, not re-rendered: their size and mtime stay the same, so
    the results cache still knows them on the next demo run.
    """
    import soundfile as sf

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for song in songs:
        target = folder / song.file
        length = song.seconds if seconds is None else seconds
        if not target.exists():
            temp = target.with_suffix(".tmp.wav")
            sf.write(temp, render_song(song.bpm, song.key, length, sr, song.style), sr, subtype="PCM_16")
            os.replace(temp, target)
        paths.append(target)
    reference = write_reference_csv(folder / "reference.csv", songs)
    return paths, reference
