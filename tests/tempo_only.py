"""A lighter chunk function for load tests: real decoding and tempo, no key.

The key's constant-Q transform has a fixed cost per chunk (tenths of a second) however short the
chunk, which would make a 1,000-song queue of one-second songs a test of several minutes. The queue test is about
the runner, the pool, its pipes, the cache and memory over a long run, all of which this still
exercises for real; the full analysis of every odd file is in ``test_reliability_files.py``.
"""

from __future__ import annotations

import numpy as np

from engine.analysis import tempo
from engine.analysis.chunk import HOP_LENGTH, loudness_db, onset_envelopes
from engine.analysis.decoding import read_segment
from engine.results import ChunkFeatures
from engine.settings import AnalysisSettings


def tempo_only_chunk(path: str, start_s: float, end_s: float, settings: AnalysisSettings) -> ChunkFeatures:
    sr = settings.sample_rate
    y = read_segment(path, start_s, end_s, sr)
    envelope = onset_envelopes(y, sr)[0]
    candidates = tempo.tempo_candidates(envelope, sr / HOP_LENGTH, settings.min_bpm, settings.max_bpm)
    bpm, confidence = tempo.choose_tempo(candidates)
    return ChunkFeatures(
        bpm=bpm,
        bpm_confidence=confidence,
        tempo_candidates=candidates,
        key="",
        key_confidence=0.0,
        key_scores=[0.0] * 24,
        loudness_db=loudness_db(y),
        onset_envelope=envelope,
        chroma_sum=np.zeros(12),
        seconds_of_audio=y.size / sr,
    )


def tempo_only_under(
    path: str, start_s: float, end_s: float, settings: AnalysisSettings, *, folder: str
) -> ChunkFeatures:
    """Tempo only for songs under ``folder``, the full analysis for the rest: two workloads on one pool."""
    if path.startswith(folder):
        return tempo_only_chunk(path, start_s, end_s, settings)
    from engine.analysis.chunk import analyse_chunk

    return analyse_chunk(path, start_s, end_s, settings)
