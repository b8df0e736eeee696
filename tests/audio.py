"""Small audio generators for tests: known tempo and key by construction, written with soundfile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 22050


def click_track(bpm: float, seconds: float, sr: int = SR, accent_every: int = 4) -> np.ndarray:
    """Short decaying noise bursts on every beat (accented on the bar), the clearest possible pulse."""
    rng = np.random.default_rng(int(bpm * 100))
    y = np.zeros(int(seconds * sr), dtype=np.float32)
    burst_len = int(0.03 * sr)
    envelope = np.exp(-np.linspace(0, 8, burst_len)).astype(np.float32)
    beat = 60.0 / bpm
    for i, start in enumerate(np.arange(0.0, seconds - 0.05, beat)):
        begin = int(start * sr)
        gain = 1.0 if i % accent_every == 0 else 0.6
        burst = rng.standard_normal(burst_len).astype(np.float32) * envelope * gain
        y[begin : begin + burst_len] += burst[: max(0, min(burst_len, y.size - begin))]
    return 0.5 * y / max(1e-9, float(np.abs(y).max()))


def tone(freq: float, seconds: float, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write(path: Path, y: np.ndarray, sr: int = SR, subtype: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), y, sr, subtype=subtype)
    return path


def song(path: Path, bpm: float = 120.0, seconds: float = 8.0, sr: int = SR) -> Path:
    """A click track with a sustained A3 under it: enough for both a tempo and a key to be found."""
    y = click_track(bpm, seconds, sr) + tone(220.0, seconds, sr, 0.1) + tone(277.18, seconds, sr, 0.08)
    return write(path, y.astype(np.float32), sr)


def drum_hit(kind: str, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    """One synthetic drum: ``kick`` (pitch-dropping sine), ``snare`` (noise and a 190 Hz body) or ``hat``."""
    if kind == "kick":
        t = np.arange(int(0.12 * sr)) / sr
        return np.sin(2 * np.pi * (50 + 60 * np.exp(-t * 30)) * t) * np.exp(-t * 25)
    if kind == "snare":
        t = np.arange(int(0.10 * sr)) / sr
        noise = rng.standard_normal(t.size)
        return 0.7 * noise * np.exp(-t * 35) + 0.3 * np.sin(2 * np.pi * 190 * t) * np.exp(-t * 30)
    t = np.arange(int(0.03 * sr)) / sr
    hiss = np.diff(rng.standard_normal(t.size + 1))  # first difference: the energy sits high
    return 0.3 * hiss * np.exp(-t * 120)


def drum_groove(
    bpm: float,
    steps_per_beat: int,
    bar_steps: int,
    hits: list[tuple[int, str]],
    seconds: float = 30.0,
    sr: int = SR,
) -> np.ndarray:
    """A drum loop: each ``(step, kind)`` of ``hits`` sounds at that step of every bar of ``bar_steps`` steps.

    ``steps_per_beat`` is 2 for straight eighths and 3 for a compound (12/8, 6/8) metre whose beat
    is the dotted quarter, so ``bpm`` is always the beat a drummer would count.
    """
    rng = np.random.default_rng(1)
    y = np.zeros(int(seconds * sr))
    step_s = 60.0 / bpm / steps_per_beat
    kinds = {}
    for step, kind in hits:
        kinds.setdefault(step, []).append(kind)
    for k in range(int((seconds - 0.2) / step_s) + 1):
        begin = int(k * step_s * sr)
        for kind in kinds.get(k % bar_steps, []):
            hit = drum_hit(kind, rng, sr)
            y[begin : begin + hit.size] += hit[: y.size - begin]
    return (0.5 * y / max(1e-9, float(np.abs(y).max()))).astype(np.float32)
