"""Per-chunk analysis: a pure function of samples and settings, run inside pool workers."""

from __future__ import annotations

import numpy as np

from engine import keys, tempo
from engine.decoding import read_segment
from engine.results import ChunkFeatures
from engine.settings import AnalysisSettings

HOP_LENGTH = 512
CHROMA_HOP = 2048
SILENCE_DB = -80.0


def loudness_db(y: np.ndarray) -> float:
    """RMS level in dBFS (floored at -120 dB for digital silence)."""
    if y.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    return max(-120.0, 20.0 * np.log10(rms)) if rms > 0 else -120.0


def onset_envelope(y: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    return librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP_LENGTH).astype(np.float32)


def pitch_class_profile(y: np.ndarray, sr: int) -> np.ndarray:
    """Summed chroma: (12,) energy per pitch class, tuned to the recording."""
    import librosa

    tuning = librosa.estimate_tuning(y=y, sr=sr, n_fft=4096)
    chroma = librosa.feature.chroma_cqt(
        y=y, sr=sr, hop_length=CHROMA_HOP, bins_per_octave=36, n_octaves=6, tuning=tuning
    )
    return chroma.sum(axis=1)


def analyse_samples(y: np.ndarray, sr: int, settings: AnalysisSettings) -> ChunkFeatures:
    """Tempo, key and loudness of one stretch of mono audio."""
    level = loudness_db(y)
    seconds = y.size / sr
    if level <= SILENCE_DB or seconds < 0.5:
        return ChunkFeatures(
            0.0,
            0.0,
            [],
            "",
            0.0,
            [0.0] * 24,
            level,
            np.zeros(max(1, int(seconds * sr / HOP_LENGTH)), np.float32),
            np.zeros(12),
            seconds,
        )
    envelope = onset_envelope(y, sr)
    candidates = tempo.tempo_candidates(envelope, sr / HOP_LENGTH, settings.min_bpm, settings.max_bpm)
    bpm, bpm_confidence = tempo.choose_tempo(candidates)
    chroma = pitch_class_profile(y, sr)
    scores = keys.key_scores(chroma)
    key, key_confidence = keys.best_key(scores)
    return ChunkFeatures(
        bpm=bpm,
        bpm_confidence=bpm_confidence,
        tempo_candidates=candidates,
        key=key,
        key_confidence=key_confidence,
        key_scores=[float(s) for s in scores],
        loudness_db=level,
        onset_envelope=envelope,
        chroma_sum=chroma.astype(np.float64),
        seconds_of_audio=seconds,
    )


def analyse_chunk(path: str, start_s: float, end_s: float, settings: AnalysisSettings) -> ChunkFeatures:
    """The default chunk function: each worker decodes only its own slice of the file."""
    y = read_segment(path, start_s, end_s, settings.sample_rate)
    return analyse_samples(y, settings.sample_rate, settings)


def warm_up(settings: AnalysisSettings | None = None) -> None:
    """Run a tiny analysis so imports and numba compilation happen now, not on the first song."""
    settings = settings or AnalysisSettings()
    sr = settings.sample_rate
    t = np.arange(int(4.0 * sr)) / sr
    clicks = (np.sin(2 * np.pi * 440 * t) * (np.mod(t, 0.5) < 0.05)).astype(np.float32)
    analyse_samples(clicks, sr, settings)
