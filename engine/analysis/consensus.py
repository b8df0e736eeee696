"""Combine chunk results into one song result."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from engine.analysis import grid as beat_grid
from engine.analysis import keys, tempo
from engine.analysis.chunk import HOP_LENGTH, SILENCE_DB
from engine.analysis.chunking import ChunkSpan
from engine.results import ChunkResult, ChunkStatus, SongResult, SongStatus
from engine.settings import AnalysisSettings


def stitch_envelopes(
    chunks: list[ChunkResult], spans: dict[int, ChunkSpan], frame_rate: float, field: str = "onset_envelope"
) -> np.ndarray:
    """Whole-song onset envelope (``field`` of the chunk features) from each chunk's own region (overlaps used once)."""
    parts = []
    for chunk in sorted(chunks, key=lambda c: c.index):
        env = getattr(chunk.features, field, None) if chunk.features else None
        if env is None or env.size == 0:
            continue
        span = spans[chunk.index]
        first = round((span.own_start_s - span.start_s) * frame_rate)
        last = round((span.own_end_s - span.start_s) * frame_rate)
        parts.append(np.asarray(env[first:last], dtype=float))
    return np.concatenate(parts) if parts else np.zeros(0)


def onset_rate(chunks: list[ChunkResult], spans: dict[int, ChunkSpan], frame_rate: float) -> float:
    """Onsets per second over the song: each chunk's onsets (picked in the worker) in its own region."""
    count, frames = 0, 0
    for chunk in chunks:
        onsets = chunk.features.onset_frames if chunk.features else None
        if onsets is None:
            continue
        span = spans[chunk.index]
        first = round((span.own_start_s - span.start_s) * frame_rate)
        last = round((span.own_end_s - span.start_s) * frame_rate)
        count += int(np.count_nonzero((onsets >= first) & (onsets < last)))
        frames += max(0, last - first)
    return count / (frames / frame_rate) if frames else 0.0


def combined_loudness(chunks: list[ChunkResult]) -> float | None:
    """Power mean of chunk loudness, weighted by chunk length."""
    levels = [(c.features.loudness_db, c.features.seconds_of_audio) for c in chunks if c.features]
    if not levels:
        return None
    power = sum(10 ** (db / 10) * w for db, w in levels) / max(sum(w for _, w in levels), 1e-9)
    return float(10 * np.log10(power)) if power > 0 else -120.0


GRID_LEVELS = (1.0, 2.0, 3.0, 4.0, 0.5, 1 / 3, 0.25, 1.5, 2 / 3, 4 / 3, 0.75)
"""Ratios of the chunks' beat rate to the song tempo a grid can be carried across (beats per song beat)."""


ONSET_LATENCY_S = 0.0185
"""How late the onset envelope's peak comes after the attack that causes it (its frames are centred,
and the flux compares a frame with the one before). Measured on generated kicks, snares, hats and
noise clicks at 100-140 BPM: 17.2-20.3 ms; subtracted so that the grid starts on the attack."""
SPLITS = (1, 2, 3)
"""Subdivisions of the tracked beat tried, in order, when the chunks' beats do not share one phase."""


def _own_beats(chunk: ChunkResult, span: ChunkSpan, frame_rate: float) -> np.ndarray:
    """The chunk's beats in its own region, in seconds of the song (the chunk's frames are on the song's grid)."""
    frames = chunk.features.beat_frames if chunk.features else None
    if frames is None or frames.size == 0:
        return np.zeros(0)
    first = (span.own_start_s - span.start_s) * frame_rate
    last = (span.own_end_s - span.start_s) * frame_rate
    own = frames[(frames >= first - 0.5) & (frames < last - 0.5)]
    return span.start_s + own / frame_rate - ONSET_LATENCY_S


def _beat_rate(chunk: ChunkResult, frame_rate: float) -> float:
    """Beats per minute of the beats tracked in a chunk (median gap): the tracker may settle at a relative of the
    chunk's tempo (every click of a click track), so the grid is fitted at the beats' own rate."""
    frames = chunk.features.beat_frames if chunk.features else None
    if frames is None or frames.size < 4:
        return 0.0
    return 60.0 * frame_rate / float(np.median(np.diff(frames)))


def _beat_level(chunks: list[ChunkResult], frame_rate: float) -> tuple[float, list[ChunkResult]]:
    """The beat rate most of the song's audio was tracked at, and the chunks tracked at it (within 4 %)."""
    rates = {c.index: _beat_rate(c, frame_rate) for c in chunks}
    voters = [c for c in chunks if rates[c.index] > 0]
    if not voters:
        return 0.0, []

    def near(a: float, b: float) -> bool:
        return abs(np.log(a / b)) <= 0.04

    def seconds(c: ChunkResult) -> float:
        return c.features.seconds_of_audio if c.features else 0.0

    support = [sum(seconds(o) for o in voters if near(rates[o.index], rates[c.index])) for c in voters]
    level = rates[voters[int(np.argmax(support))].index]
    chosen = [c for c in voters if near(rates[c.index], level)]
    return float(np.median([rates[c.index] for c in chosen])), chosen


def _envelope_at(envelope: np.ndarray, times: np.ndarray, frame_rate: float) -> float:
    """Mean onset strength at ``times`` (the peak within a frame of each)."""
    frames = np.round(times * frame_rate).astype(int)
    frames = frames[(frames >= 1) & (frames < envelope.size - 1)]
    if frames.size == 0:
        return 0.0
    return float(np.maximum(np.maximum(envelope[frames - 1], envelope[frames]), envelope[frames + 1]).mean())


def song_grid(
    chunks: list[ChunkResult],
    spans: dict[int, ChunkSpan],
    envelope: np.ndarray,
    frame_rate: float,
    bpm: float,
    duration_s: float,
) -> beat_grid.BeatGrid | None:
    """The song's constant beat grid at the level of ``bpm``, from the beats its workers tracked; ``None`` if none fits.

    The workers track each chunk at its own tempo, which may be a metrical relative of the song's
    (the beat check moves a shuffle to 2/3 of it, for one). The grid is fitted at the beats' own level,
    where they are a regular series, then carried to the song's level: ``k`` beats per song beat. When
    the song beat is longer than the tracked one, its phase is the offset whose grid points hold the
    most onset strength (a song at half the tracked tempo lands on the beats, not between them).
    Runs in a pool worker with the rest of :func:`combine` (:mod:`engine.run.runner`).
    """
    level, tracked = _beat_level(chunks, frame_rate)
    if level <= 0 or bpm <= 0:
        return None
    times = np.concatenate([_own_beats(c, spans[c.index], frame_rate) for c in tracked])
    fitted = None
    for split in SPLITS:
        # chunks tracked at a slower level than their pulse each pick a phase of their own (every other
        # click here, the odd ones there): on a grid of half or a third of the period they agree again
        # (not when one split holds the beats but drifts: a finer grid renumbers the beats of a wandering
        # tempo and hides its drift; tried in round 10, 14 -> 53 of 120 wandering songs called stable)
        fitted = beat_grid.fit_grid(times, 60.0 / level / split, duration_s)
        if fitted is not None and fitted.inlier_share >= beat_grid.MIN_INLIER_SHARE:
            break
    if fitted is None:
        return None
    ratio = fitted.bpm / bpm
    k = min(GRID_LEVELS, key=lambda r: abs(np.log(ratio / r)))
    if abs(np.log(ratio / k)) > 0.04:
        return None
    period = fitted.period_s * k
    # a song beat of k = p/q tracked beats meets a tracked beat every p of them: p phases to choose from
    offsets = [fitted.start_s + j * fitted.period_s for j in range(Fraction(k).limit_denominator(4).numerator)]
    if len(offsets) > 1:
        points = np.arange(0.0, duration_s, period)
        offsets = [max(offsets, key=lambda o: _envelope_at(envelope, o + points, frame_rate))]
    start = offsets[0] % period
    return beat_grid.BeatGrid(
        period_s=period,
        start_s=float(start),
        period_error_s=fitted.period_error_s * k,
        stable=fitted.stable,
        beats_used=fitted.beats_used,
        inlier_share=fitted.inlier_share,
        coverage=fitted.coverage,
        max_drift=fitted.max_drift,
        local_deviation=fitted.local_deviation,
    )


SONG_CANDIDATES = 8
"""Tempo candidates kept per song: enough that the octave, 2:3 and 3:4 relatives of the winner are
usually among them, for calibration's octave choice (``engine.calibration.octave_rules``)."""


@dataclass(frozen=True)
class SongTempo:
    bpm: float | None
    confidence: float
    candidates: list[tuple[float, float]]
    unstable: bool
    onset_rate: float | None = None
    onset_high_share: float | None = None
    chunk_spread: float | None = None
    grid: beat_grid.BeatGrid | None = None
    """The constant beat grid at the song's tempo; the tempo is the grid's only where it is stable."""


def song_tempo(
    chunks: list[ChunkResult], spans: dict[int, ChunkSpan], settings: AnalysisSettings, duration_s: float | None = None
) -> SongTempo:
    """Song tempo from the stitched envelope; confidence is how many chunks agree with it (octave-aware).

    Also the evidence calibration needs to choose between the tempo and its octave/2:3/3:4
    relatives song by song: the top :data:`SONG_CANDIDATES` candidates with their strengths, onset
    rate, the high band's share of the onset flux (drums and hats; a cheap proxy for percussive
    energy), and the spread of the chunks' own tempi in octaves.
    """
    frame_rate = settings.sample_rate / HOP_LENGTH
    envelope = stitch_envelopes(chunks, spans, frame_rate)
    high = stitch_envelopes(chunks, spans, frame_rate, "onset_envelope_high")
    candidates = tempo.tempo_candidates(
        envelope,
        frame_rate,
        settings.min_bpm,
        settings.max_bpm,
        top=SONG_CANDIDATES,
        high_envelope=high if high.size == envelope.size else None,
    )
    # the decision and its confidence use the top five, as the engine always has
    bpm, salience = tempo.choose_tempo(candidates[:5])
    if bpm <= 0:
        return SongTempo(None, 0.0, [], False)
    # a triplet groove's 3:2 level can out-periodic its beat; beats tracked at both decide (round 6)
    moved = tempo.beat_level(envelope, frame_rate, bpm, settings.min_bpm)
    # and a dotted-eighth pattern's 2/3 level can out-periodic the beat of produced music (round 9)
    bpm = moved if moved != bpm else tempo.upper_level(envelope, frame_rate, bpm, settings.max_bpm)
    voters = [c for c in chunks if c.features and c.features.bpm > 0]
    if voters:
        weights = np.array([c.features.seconds_of_audio for c in voters])
        agree = np.array([tempo.same_tempo_family(c.features.bpm, bpm) for c in voters])
        agreement = float((weights * agree).sum() / weights.sum())
        spread = float(np.std(np.log2([c.features.bpm for c in voters])))
    else:
        agreement, spread = 0.0, 0.0
    unstable = len(voters) >= 2 and agreement < 0.75
    confidence = float(np.clip(0.5 * agreement + 0.5 * salience, 0.0, 1.0))
    flux = float(np.sum(envelope))
    high_share = float(np.sum(high) / flux) if flux > 0 and high.size == envelope.size else 0.0
    rate = onset_rate(chunks, spans, frame_rate)
    if duration_s is None:
        duration_s = max(s.end_s for s in spans.values())
    grid = song_grid(chunks, spans, envelope, frame_rate, bpm, duration_s)
    if grid is not None and grid.stable:
        bpm = grid.bpm  # the exact tempo; a song the grid does not explain keeps its tempogram tempo
    return SongTempo(bpm, confidence, candidates, unstable, rate, high_share, spread, grid)


def song_key(chunks: list[ChunkResult], last_index: int | None = None) -> tuple[str, float, list[float], bool]:
    """Key from chroma summed over the song, its ending weighted up; modulation flagged when confident chunks disagree.

    ``last_index`` is the index of the song's final chunk: its ``chroma_tail`` (the last
    seconds of the song) gets the final-cadence weight of :func:`keys.with_final_cadence`.
    When that chunk failed, the song's ending is unknown and no chunk's tail is used.
    """
    profiles = [c.features.chroma_sum for c in chunks if c.features and c.features.chroma_sum is not None]
    if not profiles:
        return "", 0.0, [], False
    last = next((c for c in chunks if c.index == last_index and c.features), None)
    tail = last.features.chroma_tail if last is not None else None
    scores = keys.key_scores(keys.with_final_cadence(np.sum(profiles, axis=0), tail))
    label, margin_confidence = keys.best_key(scores)
    if not label:
        return "", 0.0, [float(s) for s in scores], False
    voters = [c for c in chunks if c.features and c.features.key]
    agreeing = sum(1 for c in voters if c.features.key == label)
    agreement = agreeing / len(voters) if voters else 0.0
    confident_others = {c.features.key for c in voters if c.features.key != label and c.features.key_confidence > 0.3}
    modulation = len(voters) >= 2 and bool(confident_others) and agreement < 0.67
    confidence = float(np.clip(0.5 * agreement + 0.5 * margin_confidence, 0.0, 1.0))
    return label, confidence, [float(s) for s in scores], modulation


def _describe_failure(chunk: ChunkResult) -> str:
    detail = f" ({chunk.error})" if chunk.error else ""
    return f"chunk {chunk.index + 1}: {chunk.status.value}{detail}"


def combine(
    path: str,
    duration_s: float,
    spans: list[ChunkSpan],
    chunks: list[ChunkResult],
    settings: AnalysisSettings,
    analysis_s: float,
) -> SongResult:
    """The song result: from the chunks that succeeded, ``partial`` when some did not."""
    chunks = sorted(chunks, key=lambda c: c.index)
    good = [c for c in chunks if c.status is ChunkStatus.OK and c.features is not None]
    base: dict[str, Any] = dict(
        path=path,
        duration_s=duration_s,
        chunks_ok=len(good),
        chunks_total=len(spans),
        analysis_s=analysis_s,
        chunks=chunks,
    )
    if not good:
        reasons = sorted({c.error for c in chunks if c.error}) or ["no chunk could be analysed"]
        return SongResult(status=SongStatus.ERROR, error="; ".join(reasons), **base)
    loudness = combined_loudness(good)
    if loudness is not None and loudness <= SILENCE_DB:
        return SongResult(
            status=SongStatus.ERROR, error=f"the audio is silent ({loudness:.0f} dBFS)", loudness_db=loudness, **base
        )
    by_index = {s.index: s for s in spans}
    found = song_tempo(good, by_index, settings, duration_s)
    key, key_confidence, scores, modulation = song_key(good, last_index=max(s.index for s in spans))
    partial = len(good) < len(spans)
    error = ""
    if partial:
        failed = [c for c in chunks if c.status is not ChunkStatus.OK]
        error = "; ".join(_describe_failure(c) for c in failed)
    return SongResult(
        status=SongStatus.PARTIAL if partial else SongStatus.DONE,
        error=error,
        bpm=found.bpm,
        bpm_confidence=found.confidence,
        tempo_candidates=found.candidates,
        onset_rate=found.onset_rate,
        onset_high_share=found.onset_high_share,
        bpm_chunk_spread=found.chunk_spread,
        key=key,
        key_confidence=key_confidence,
        key_scores=scores,
        loudness_db=loudness,
        key_modulation=modulation,
        tempo_unstable=found.unstable,
        tempo_stable=found.grid.stable if found.grid is not None else False,
        beat_grid_start_s=found.grid.start_s if found.grid is not None and found.grid.stable else None,
        bpm_error=found.grid.bpm_error if found.grid is not None and found.grid.stable else None,
        **base,
    )
