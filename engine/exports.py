"""The engine's own CSV files: ``results.csv`` (one row per song) and ``chunks.csv`` (one row per chunk)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from engine.csv_io import write_csv
from engine.results import SongResult
from engine.settings import BpmRange

RESULT_COLUMNS = (
    "path",
    "file",
    "title",
    "artist",
    "status",
    "error",
    "duration_s",
    "bpm",
    "bpm_in_range",
    "bpm_confidence",
    "key",
    "key_confidence",
    "loudness_db",
    "key_modulation",
    "tempo_unstable",
    "bpm_candidates",
    "onset_rate",
    "onset_high_share",
    "bpm_chunk_spread",
    "beat_grid_start_s",
    "tempo_stable",
    "bpm_error",
    "chunks_ok",
    "chunks_total",
    "analysis_s",
    "cached",
)
CHUNK_COLUMNS = (
    "path",
    "chunk",
    "start_s",
    "end_s",
    "status",
    "seconds",
    "worker_pid",
    "bpm",
    "bpm_confidence",
    "key",
    "key_confidence",
    "loudness_db",
    "attempts",
    "error",
)


def write_results(
    directory: str | os.PathLike[str],
    results: Iterable[SongResult],
    extra_columns: Iterable[str] = (),
    extra: dict[str, dict] | None = None,
    bpm_range: BpmRange | None = None,
) -> tuple[Path, Path]:
    """Write both files atomically into ``directory``; ``extra`` adds columns per song path (calibration).

    ``bpm_range`` fills ``bpm_in_range`` (the BPM folded into the user's range; empty when off).
    """
    directory = Path(directory)
    results = list(results)
    extra = extra or {}
    columns = [*RESULT_COLUMNS, *extra_columns]
    song_rows = [{**r.to_row(), **bpm_in_range(r.bpm, bpm_range), **extra.get(r.path, {})} for r in results]
    chunk_rows = [c.to_row() for r in results for c in r.chunks]
    results_path, chunks_path = directory / "results.csv", directory / "chunks.csv"
    write_csv(results_path, columns, song_rows)
    write_csv(chunks_path, CHUNK_COLUMNS, chunk_rows)
    return results_path, chunks_path


def bpm_in_range(bpm: float | None, bpm_range: BpmRange | None) -> dict[str, object]:
    """The ``bpm_in_range`` cell: ``bpm`` folded into the range, empty without a range or a tempo."""
    folded = bpm_range.fold(bpm) if bpm_range is not None and bpm else None
    return {"bpm_in_range": round(folded, 2) if folded else ""}
