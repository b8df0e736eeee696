"""The two faults ``doctor`` makes a worker commit, to show that the pool survives them.

A chunk that never returns (its deadline must fire and its worker be replaced) and a chunk that
tries to start a pool of its own (it must be refused with a clear error): the failures of the
system this replaces. Each wraps the real analysis and strikes the first chunk of the songs named
in ``faults``, so the check runs through the real pool. The test suite's wider set of faults
(SIGKILL, segfault, abort, MemoryError ...) lives in ``tests/faults.py``.
"""

from __future__ import annotations

import os
import time

from engine.analysis.chunk import analyse_chunk
from engine.results import ChunkFeatures
from engine.settings import AnalysisSettings

PROBE_FAULTS = ("hang", "nested_pool")


def _nested_pool() -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        pool.submit(os.getpid).result()


def inject(kind: str) -> None:
    """Misbehave now, inside a worker."""
    if kind == "hang":
        while True:
            time.sleep(3600)
    elif kind == "nested_pool":
        _nested_pool()
    else:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(PROBE_FAULTS)}")


def faulty_chunk(
    path: str, start_s: float, end_s: float, settings: AnalysisSettings, *, faults: dict[str, str]
) -> ChunkFeatures:
    """The real chunk analysis, with the fault ``faults[path]`` injected into the song's first chunk."""
    kind = faults.get(str(path))
    if kind and start_s == 0.0:
        inject(kind)
    return analyse_chunk(path, start_s, end_s, settings)
