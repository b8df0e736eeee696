"""Chunk (and combine) functions that misbehave on purpose, for the tests and the soak benchmark (``bench/soak.py``).

Each wraps the real analysis and injects one fault into the first chunk of the songs named in
``faults`` (or in the file name), so the engine's recovery is exercised through the real pool,
never a mock. The two faults ``doctor`` needs in the product are in :mod:`engine.faults`.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from engine import faults as probes
from engine.analysis.chunk import analyse_chunk
from engine.analysis.consensus import combine
from engine.results import ChunkFeatures, SongResult
from engine.settings import AnalysisSettings

FAULT_KINDS = (
    "hang",
    "kill",
    "kill_once",
    "segfault",
    "abort",
    "memory",
    "raise",
    "nested_pool",
    "engine_pool",
    "slow",
)


def _segfault() -> None:
    import ctypes

    ctypes.string_at(0)  # reads address 0: SIGSEGV


def inject(kind: str, marker_dir: str | None = None) -> None:
    """Misbehave now, inside a worker."""
    if kind in probes.PROBE_FAULTS:
        probes.inject(kind)
    elif kind == "slow":
        time.sleep(2.0)
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "kill_once":
        marker = Path(marker_dir or ".") / f"killed-{os.getppid()}"
        if not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "segfault":
        _segfault()
    elif kind == "abort":
        os.abort()
    elif kind == "memory":
        raise MemoryError("injected: could not allocate")
    elif kind == "raise":
        raise RuntimeError("injected failure")
    elif kind == "engine_pool":
        from engine.run.pool import AnalysisPool

        AnalysisPool(1)
    else:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")


def faulty_chunk(
    path: str,
    start_s: float,
    end_s: float,
    settings: AnalysisSettings,
    *,
    faults: dict[str, str],
    marker_dir: str | None = None,
    every_chunk: bool = False,
) -> ChunkFeatures:
    """The real chunk analysis, with the fault ``faults[path]`` injected into the song's first chunk."""
    kind = faults.get(str(path))
    if kind and (every_chunk or start_s == 0.0):
        inject(kind, marker_dir)
    return analyse_chunk(path, start_s, end_s, settings)


def fault_in_name(path: str) -> str | None:
    """``song 12.hang.wav`` → ``"hang"``: a soak picks each file's fault without rebuilding the engine."""
    parts = Path(path).name.split(".")
    return parts[-2] if len(parts) >= 3 and parts[-2] in FAULT_KINDS else None


def named_fault_chunk(
    path: str, start_s: float, end_s: float, settings: AnalysisSettings, *, marker_dir: str
) -> ChunkFeatures:
    """The real chunk analysis, with the fault named in the file name injected into its first chunk.

    ``kill_once`` kills the first attempt at each such song (a marker per file in ``marker_dir``).
    """
    kind = fault_in_name(path)
    if kind and start_s == 0.0:
        if kind == "kill_once":
            marker = Path(marker_dir) / f"{Path(path).name}.killed"
            if not marker.exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)
        else:
            inject(kind, marker_dir)
    return analyse_chunk(path, start_s, end_s, settings)


def warm_up_that_kills_workers() -> None:
    """A warm-up that works in the app but kills every pool worker that runs it: a broken install."""
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        os._exit(3)


def warm_up_that_dies_on_a_poisoned_cache() -> None:
    """Kills a pool worker while numba's cache folder holds ``poisoned``: a damaged compiled entry, which
    segfaults every process that loads it, as a fresh clone's cache once did."""
    import multiprocessing

    folder = os.environ.get("NUMBA_CACHE_DIR", "")
    if multiprocessing.parent_process() is not None and folder and os.path.exists(os.path.join(folder, "poisoned")):
        os._exit(3)


def faulty_combine(path: str, *args: Any, faults: dict[str, str], marker_dir: str) -> SongResult:
    """The real combine (consensus and beat-grid fit) of a song's chunks, with the fault ``faults[path]`` injected.

    Takes :func:`engine.analysis.consensus.combine`'s arguments (path, duration, spans, chunks, settings, seconds).

    It first leaves ``combined-<pid>-<n>`` in ``marker_dir``: which process combined the song, seen from
    inside the combine itself, so a test can tell the engine's process from a pool worker.
    """
    marker = Path(marker_dir)
    n = len(list(marker.glob(f"combined-{os.getpid()}-*")))
    (marker / f"combined-{os.getpid()}-{n}").write_text(str(path))
    kind = faults.get(str(path))
    if kind:
        inject(kind, marker_dir)
    return combine(path, *args)


def logged_chunk(
    path: str,
    start_s: float,
    end_s: float,
    settings: AnalysisSettings,
    *,
    log_dir: str,
    hang: str = "",
    hang_once: str = "",
) -> ChunkFeatures:
    """The real chunk analysis, after a second's pause, leaving when it ran (wall clock) in ``log_dir``.

    A file per attempt, ``<song name>@<chunk start>-<n>`` holding "began ended", so a test can see which
    chunks of different songs ran at the same time. The song named ``hang`` hangs on every attempt, the song
    named ``hang_once`` on its first.
    """
    began = time.time()
    name = f"{Path(path).name}@{start_s:g}"
    attempt = len(list(Path(log_dir).glob(f"{name}-*")))
    log = Path(log_dir) / f"{name}-{attempt}"
    log.write_text(f"{began} nan")
    if Path(path).name == hang or (attempt == 0 and Path(path).name == hang_once):
        probes.inject("hang")
    time.sleep(1.0)
    features = analyse_chunk(path, start_s, end_s, settings)
    log.write_text(f"{began} {time.time()}")
    return features
