"""What the inspector shows about one song, computed without Qt so it is tested on its own.

Tempo candidates are labelled by their relation to the detected tempo (octave ×2/×½, 2:3 ×⅔/×3/2,
×3/×⅓), because a half-time or dotted-rhythm reading is the usual way two tempo answers differ;
key candidates are the top entries of ``SongResult.key_scores`` (in ``KEY_LABELS`` order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.analysis.keys import KEY_LABELS
from engine.references.keynotation import format_key
from engine.references.scoring import key_relation, tempo_ratio_class
from engine.results import ChunkResult, SongResult
from gui.inspector.clicks import BeatGrid

RELATIONS = (("same", 1.0), ("×2", 2.0), ("×½", 0.5), ("×3/2", 1.5), ("×⅔", 2 / 3), ("×3", 3.0), ("×⅓", 1 / 3))
"""A candidate's tempo over the detected one, with the name the inspector shows."""
RELATION_TOLERANCE = 0.04
LOW_CONFIDENCE = 0.35
"""Below this a BPM or key confidence is marked low (the range where docs/accuracy.md finds most misses)."""


def tempo_relation(candidate: float, detected: float | None, tolerance: float = RELATION_TOLERANCE) -> str:
    """``same``, ``×2``, ``×½``, ``×3/2``, ``×⅔``, ``×3``, ``×⅓`` or ``""`` (unrelated) relative to ``detected``."""
    if not detected or detected <= 0 or candidate <= 0:
        return ""
    for name, factor in RELATIONS:
        if abs(candidate / (detected * factor) - 1.0) <= tolerance:
            return name
    return ""


@dataclass(frozen=True)
class TempoCandidate:
    bpm: float
    strength: float
    relation: str


def tempo_candidates(result: SongResult, limit: int = 8) -> list[TempoCandidate]:
    """The song's tempo candidates, strongest first, each marked by its relation to the detected BPM.

    One row per relation: two candidates that are both "×2" (240 and 242 BPM against 120) are one
    reading of the song, shown once with the stronger one's tempo; so are two unrelated candidates
    within :data:`RELATION_TOLERANCE` of each other.
    """
    ranked = sorted(result.tempo_candidates, key=lambda c: -float(c[1]))
    shown: list[TempoCandidate] = []
    for bpm, strength in ranked:
        relation = tempo_relation(float(bpm), result.bpm)
        if relation and any(c.relation == relation for c in shown):
            continue
        if any(abs(float(bpm) / c.bpm - 1.0) <= RELATION_TOLERANCE for c in shown if c.bpm > 0):
            continue
        shown.append(TempoCandidate(float(bpm), float(strength), relation))
        if len(shown) == limit:
            break
    return shown


def key_candidates(scores: Sequence[float], limit: int = 5) -> list[tuple[str, float]]:
    """The ``limit`` best keys with their scores; empty when the song has no key scores."""
    if len(scores) != len(KEY_LABELS):
        return []
    ranked = sorted(range(len(scores)), key=lambda i: -float(scores[i]))[:limit]
    return [(KEY_LABELS[i], float(scores[i])) for i in ranked]


@dataclass(frozen=True)
class ChunkBar:
    """One chunk on the timeline: where it is in the song, what it found, how sure it was."""

    index: int
    start_s: float
    end_s: float
    status: str
    bpm: float | None
    key: str
    confidence: float
    error: str = ""


def chunk_bars(chunks: Sequence[ChunkResult]) -> list[ChunkBar]:
    bars = []
    for c in sorted(chunks, key=lambda c: c.index):
        f = c.features
        bars.append(
            ChunkBar(
                c.index,
                float(c.start_s),
                float(c.end_s),
                c.status.value,
                float(f.bpm) if f and f.bpm else None,
                f.key if f else "",
                float(f.bpm_confidence) if f else 0.0,
                c.error,
            )
        )
    return bars


def song_grid(result: SongResult) -> BeatGrid | None:
    """The song's fitted beat grid, or ``None`` where one constant grid does not explain it (``tempo_stable=0``)."""
    if not result.tempo_stable or result.beat_grid_start_s is None or not result.bpm:
        return None
    return BeatGrid(float(result.beat_grid_start_s), float(result.bpm))


def tempo_curve(chunks: Sequence[ChunkBar], song_bpm: float | None) -> tuple[list[float], list[float]]:
    """The tempo along the song: one point per chunk that found a tempo, at the chunk's middle.

    Each chunk's BPM is moved by octaves to the song's level (a chunk that read half time is not a
    tempo change; the chunk bars show its own reading), so the curve shows drift, not level flips.
    """
    times, bpms = [], []
    for c in chunks:
        if c.status != "ok" or not c.bpm:
            continue
        bpm = c.bpm
        while song_bpm and bpm / song_bpm > 2**0.5:
            bpm /= 2.0
        while song_bpm and bpm / song_bpm < 2**-0.5:
            bpm *= 2.0
        times.append((c.start_s + c.end_s) / 2)
        bpms.append(bpm)
    return times, bpms


def tempo_words(stable: bool | None, bpm: float | None, bpm_error: float | None, grid_start_s: float | None) -> str:
    """What the tempo curve means, in words: steady (with its grid) or not constant (and what the click plays)."""
    if stable is None or not bpm:
        return ""
    if stable:
        error = f" ± {bpm_error:.2f}" if bpm_error is not None else ""
        start = f" from {grid_start_s:.3f} s" if grid_start_s is not None else ""
        return f"steady tempo — beat grid {bpm:.2f}{error} BPM{start}; the click plays the grid"
    return f"tempo not constant — no grid ({bpm:.1f} BPM is an average); the click plays tracked beats, not a grid"


def disagreement(bpm: float | None, key: str, ref_bpm: float | None, ref_key: str) -> tuple[str, str]:
    """(tempo ratio class, key relation) against the reference; ``""`` where either side is missing."""
    tempo = tempo_ratio_class(bpm, ref_bpm) if bpm and ref_bpm else ""
    relation = key_relation(ref_key, key) if key and ref_key else ""
    return tempo, relation


def disagrees(bpm: float | None, key: str, ref_bpm: float | None, ref_key: str) -> bool:
    """A song to review: its tempo class or key relation is known and is not ``same``."""
    tempo, relation = disagreement(bpm, key, ref_bpm, ref_key)
    return tempo not in ("", "same") or relation not in ("", "same")


def local_time(text: str) -> str:
    """A verdict's time (ISO 8601, written in UTC) as the user's local date and time, to the minute.

    A time without a zone is taken as UTC (that is how verdicts are written); a missing or
    unreadable one says so rather than show nothing or the raw text.
    """
    if not text:
        return "at a time not recorded"
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return "at a time not recorded"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return "on " + moment.astimezone().strftime("%Y-%m-%d at %H:%M")


def confidence_text(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" + (" (low)" if value < LOW_CONFIDENCE else "")


def show_key(key: str | None, notation: str) -> str:
    return format_key(key, notation) if key else ""
