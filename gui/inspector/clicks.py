"""A click track for listening: clicks on the song's beat grid, on the detected beats, or on a chosen
tempo phase-locked to them.

Plain numpy (librosa for the beat tracking), no Qt: it runs off the GUI thread and is tested alone.
Where the engine fitted one constant grid to the song (``tempo_stable``), the clicks are that grid,
``beat_grid_start_s + k · 60 / bpm``: a grid a fraction of a BPM off drifts audibly off the music, which is
what the user listens for. Without a grid they are the beats librosa's tracker finds in the decoded song.
A click at another tempo keeps the grid's start (or the first detected beat) as its phase, so
×2, ×½ and 2:3 grids line up with what the user hears and the wrong one is audible at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLICK_S = 0.025
CLICK_HZ = 1760.0
CLICK_GAIN = 0.5


def detect_beats(y: np.ndarray, sr: int) -> tuple[float | None, np.ndarray]:
    """(tempo, beat times in seconds) from librosa's beat tracker on the decoded song."""
    import librosa

    tempo, frames = librosa.beat.beat_track(y=y, sr=sr, units="frames")
    times = librosa.frames_to_time(frames, sr=sr)
    value = float(np.atleast_1d(tempo)[0]) if np.size(tempo) else None
    return (value if value and value > 0 else None), np.asarray(times, dtype=float)


@dataclass(frozen=True)
class BeatGrid:
    """The song's fitted constant grid (``SongResult.beat_grid_start_s`` and ``bpm``)."""

    start_s: float
    bpm: float


def grid_times(duration_s: float, grid: BeatGrid) -> np.ndarray:
    """``start_s + k · 60 / bpm`` for every beat before ``duration_s`` (computed per beat: no summed drift)."""
    if grid.bpm <= 0 or duration_s <= grid.start_s:
        return np.zeros(0)
    period = 60.0 / grid.bpm
    count = int(np.floor((duration_s - grid.start_s) / period)) + 1
    times = grid.start_s + np.arange(count) * period
    return times[times < duration_s]


def click_times(duration_s: float, bpm: float, beats: np.ndarray, detected_bpm: float | None = None) -> np.ndarray:
    """Click times for ``bpm``: the detected beats themselves when ``bpm`` is the detected tempo (within
    1 %), else a steady grid at ``bpm`` anchored on the first detected beat (or 0 without beats)."""
    if bpm <= 0 or duration_s <= 0:
        return np.zeros(0)
    if detected_bpm and len(beats) > 1 and abs(bpm / detected_bpm - 1.0) < 0.01:
        return np.asarray(beats, dtype=float)
    period = 60.0 / bpm
    anchor = float(beats[0]) if len(beats) else 0.0
    first = anchor - period * np.floor(anchor / period)
    return np.arange(first, duration_s, period)


def click_sound(sr: int) -> np.ndarray:
    """A short decaying sine blip: audible over a mix, too short to smear the beat."""
    t = np.arange(int(CLICK_S * sr)) / sr
    return (CLICK_GAIN * np.sin(2 * np.pi * CLICK_HZ * t) * np.exp(-t / (CLICK_S / 5))).astype(np.float32)


def render_clicks(times: np.ndarray, length: int, sr: int) -> np.ndarray:
    """A mono track of ``length`` samples with a click at each time (mixed into playback as it plays)."""
    track = np.zeros(length, dtype=np.float32)
    blip = click_sound(sr)
    for t in times:
        start = round(t * sr)
        if 0 <= start < length:
            end = min(length, start + blip.size)
            track[start:end] += blip[: end - start]
    return track
