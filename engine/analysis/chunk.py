"""Per-chunk analysis: a pure function of samples and settings, run inside pool workers."""

from __future__ import annotations

import numpy as np

from engine.analysis import keys, tempo
from engine.analysis.decoding import read_segment
from engine.results import ChunkFeatures
from engine.settings import AnalysisSettings

HOP_LENGTH = 512
CHROMA_HOP = 2048
CHROMA_BINS_PER_OCTAVE = 36
CHROMA_OCTAVES = 6
CHROMA_FMIN_HZ = 65.40639  # C2
TAIL_SECONDS = 8.0
SILENCE_DB = -80.0
MIN_SECONDS = 0.5
"""Shorter audio holds too few frames for a tempo or a key: a song this short is an error, a chunk is empty."""
LEAD_IN_FRAMES = 6
"""Frames of audio read before a chunk for its onset envelopes only. librosa's flux at frame ``j``
compares the spectra of frames ``j - 3`` and ``j - 2`` (its alignment for centred 2048-sample
windows), which reach back five hops of 512 samples; with this lead-in a chunk's envelope equals that
stretch of the whole song's, so no flux is lost at a seam (before engine 0.6.1 the first three
frames of every chunk were zero). Nothing after the chunk is needed."""
HIGH_BAND_HZ = 2000.0
"""Lower edge of the high band whose flux gets its own tempogram (hi-hats, snare, note attacks)."""


def loudness_db(y: np.ndarray) -> float:
    """RMS level in dBFS (floored at -120 dB for digital silence)."""
    if y.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    return max(-120.0, 20.0 * np.log10(rms)) if rms > 0 else -120.0


def onset_envelopes(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """``(full_band, high_band)`` spectral flux from one log-mel spectrogram on an absolute dB scale.

    librosa's default references each call's loudest frame, so envelopes of neighbouring
    chunks would be on different scales; a fixed reference (and a fixed floor) lets the
    parent stitch chunk envelopes into one song envelope without seams.

    The high band is the mel bands above :data:`HIGH_BAND_HZ`; it costs one more mean over a
    slice of the spectrogram that is already there.
    """
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=sr, hop_length=HOP_LENGTH)
    log_mel = librosa.power_to_db(mel, ref=1.0, amin=1e-8, top_db=None)
    full = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=HOP_LENGTH).astype(np.float32)
    high_bands = librosa.mel_frequencies(n_mels=log_mel.shape[0], fmax=sr / 2.0) >= HIGH_BAND_HZ
    if not np.any(high_bands):
        return full, np.zeros_like(full)
    high = librosa.onset.onset_strength(S=log_mel[high_bands], sr=sr, hop_length=HOP_LENGTH).astype(np.float32)
    return full, high


def onset_envelopes_after(lead_in: np.ndarray | None, y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`onset_envelopes` of ``y`` computed with the whole hops of ``lead_in`` before it, cut to ``y``."""
    lead = 0 if lead_in is None else lead_in.size // HOP_LENGTH
    if lead == 0 or lead_in is None:
        return onset_envelopes(y, sr)
    full, high = onset_envelopes(np.concatenate([lead_in[lead_in.size - lead * HOP_LENGTH :], y]), sr)
    return full[lead:], high[lead:]


def fold_semitones(cqt_magnitude: np.ndarray, bins_per_octave: int = CHROMA_BINS_PER_OCTAVE) -> np.ndarray:
    """(12, frames) chroma from a constant-Q magnitude with three bins per semitone.

    The tuning is read off the spectrum itself: whichever of the three sub-semitone bins holds
    the most energy over the chunk is taken as the semitone centre, and each pitch class sums
    that bin and its two neighbours. This costs nothing, whereas ``librosa.estimate_tuning``
    was a third of the chunk's analysis time; a recording up to a sixth of a semitone off A440
    still lands in the right bins.
    """
    per_octave = bins_per_octave // 12
    bins, frames = cqt_magnitude.shape
    folded = cqt_magnitude.reshape(bins // bins_per_octave, bins_per_octave, frames).sum(axis=0)
    sub_energy = folded.reshape(12, per_octave, frames).sum(axis=(0, 2))
    centre = int(np.argmax(sub_energy))
    if centre > per_octave // 2:
        centre -= per_octave
    rolled = np.roll(folded, per_octave // 2 - centre, axis=0)
    return rolled.reshape(12, per_octave, frames).sum(axis=1)


def chroma_frames(y: np.ndarray, sr: int) -> np.ndarray:
    """(12, frames) chroma from a 36-bins-per-octave CQT over C2..B7, linear magnitude.

    The lowest octave (C1..B1) is left out: it holds kick drums and rumble more than pitch,
    and dropping it made the mma grooves' keys all right (0.972 -> 1.000) while saving time.
    Linear magnitude beat log and power compression (``docs/accuracy.md``).
    """
    import librosa

    cqt = librosa.cqt(
        y,
        sr=sr,
        hop_length=CHROMA_HOP,
        fmin=CHROMA_FMIN_HZ,
        n_bins=CHROMA_BINS_PER_OCTAVE * CHROMA_OCTAVES,
        bins_per_octave=CHROMA_BINS_PER_OCTAVE,
        tuning=0.0,
    )
    return fold_semitones(np.abs(cqt))


def pitch_class_profile(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Summed chroma of the whole stretch and of its last :data:`TAIL_SECONDS` (for the final cadence)."""
    chroma = chroma_frames(y, sr)
    tail_frames = max(1, round(TAIL_SECONDS * sr / CHROMA_HOP))
    return chroma.sum(axis=1), chroma[:, -tail_frames:].sum(axis=1)


def analyse_samples(
    y: np.ndarray, sr: int, settings: AnalysisSettings, lead_in: np.ndarray | None = None
) -> ChunkFeatures:
    """Tempo, key and loudness of one stretch of mono audio.

    ``lead_in`` is the audio just before ``y`` (up to :data:`LEAD_IN_FRAMES` hops, none at the
    song's start); only the onset envelopes read it, so that stitched chunk envelopes have no seams.
    """
    level = loudness_db(y)
    seconds = y.size / sr
    if level <= SILENCE_DB or seconds < MIN_SECONDS:
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
            onset_envelope_high=np.zeros(max(1, int(seconds * sr / HOP_LENGTH)), np.float32),
            onset_frames=np.zeros(0, np.int32),  # silence: no onsets, and its length still counts
            beat_frames=np.zeros(0),
        )
    envelope, high = onset_envelopes_after(lead_in, y, sr)
    candidates = tempo.tempo_candidates(
        envelope, sr / HOP_LENGTH, settings.min_bpm, settings.max_bpm, high_envelope=high
    )
    bpm, bpm_confidence = tempo.choose_tempo(candidates)
    chroma, tail = pitch_class_profile(y, sr)
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
        chroma_tail=tail.astype(np.float64),
        onset_envelope_high=high,
        onset_frames=tempo.onset_frames(envelope, sr / HOP_LENGTH),
        beat_frames=tempo.chunk_beats(envelope, sr / HOP_LENGTH, bpm),
    )


def analyse_chunk(path: str, start_s: float, end_s: float, settings: AnalysisSettings) -> ChunkFeatures:
    """The default chunk function: each worker decodes only its own slice of the file (and a lead-in)."""
    sr = settings.sample_rate
    lead_s = min(start_s, LEAD_IN_FRAMES * HOP_LENGTH / sr)
    wide = read_segment(path, start_s - lead_s, end_s, sr)
    lead = min(round(lead_s * sr), wide.size)
    return analyse_samples(wide[lead:], sr, settings, lead_in=wide[:lead])


def warm_up(settings: AnalysisSettings | None = None) -> None:
    """Run a tiny analysis so imports and numba compilation happen now, not on the first song."""
    settings = settings or AnalysisSettings()
    sr = settings.sample_rate
    t = np.arange(int(4.0 * sr)) / sr
    clicks = (np.sin(2 * np.pi * 440 * t) * (np.mod(t, 0.5) < 0.05)).astype(np.float32)
    analyse_samples(clicks, sr, settings)
