"""Shared pieces of the benchmarks: the dev data set and the naive librosa baseline."""

from __future__ import annotations

import csv
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_DATA = next(
    (p for p in (d / "shared" / "datasets" / "dev" for d in REPO.parents) if p.is_dir()),
    REPO.parent / "shared" / "datasets" / "dev",
).resolve()
"""``shared/datasets/dev`` beside the checkout or beside any folder above it (a worktree in ``wt/``)."""


@dataclass(frozen=True)
class Reference:
    path: Path
    source: str
    duration_s: float
    bpm: float | None
    key: str | None


def load_dev_set(data_dir: Path = DEFAULT_DATA) -> list[Reference]:
    """Rows of ``ground_truth.csv``; a label that is not reliable is left out (``None``)."""
    rows = []
    with open(data_dir / "ground_truth.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            bpm = float(row["tempo_bpm"]) if row["tempo_reliable"] == "1" and row["tempo_bpm"] else None
            key = row["key"] if row["key_reliable"] == "1" and row["key"] else None
            rows.append(Reference(data_dir / "audio" / row["file"], row["source"], float(row["duration_s"]), bpm, key))
    return rows


def naive_analyse(path: Path) -> tuple[float, str]:
    """The hand-written librosa script users start from: load, beat_track, chroma_cqt + Krumhansl."""
    import librosa
    import numpy as np

    from engine.analysis.keys import best_key, key_scores

    try:
        y, sr = librosa.load(str(path), sr=22050, mono=True)
    except Exception:  # m4a/AAC (dev-tracker): librosa has no decoder here; the engine's reader does the same job
        from engine.analysis.decoding import probe, read_segment

        sr = 22050
        y = read_segment(path, 0.0, probe(path).duration_s, sr)
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr)
    key, _ = best_key(key_scores(chroma.mean(axis=1), profile="krumhansl"))
    return float(np.atleast_1d(tempo)[0]), key


def run_naive(references: list[Reference]) -> tuple[dict[Path, tuple[float, str]], float]:
    """Naive baseline on every file, one process; returns results and wall seconds (after a warm-up)."""
    naive_analyse(references[0].path)  # JIT and imports outside the timing, as for the engine
    started = time.perf_counter()
    results = {ref.path: naive_analyse(ref.path) for ref in references}
    return results, time.perf_counter() - started


def run_engine_on(references: list[Reference], settings=None, workers: int | None = None):
    """Engine results ``{path: SongResult}`` on a warm pool without cache, and the wall seconds of the run."""
    from engine.run.events import RunFinished
    from engine.run.runner import Engine
    from engine.settings import AnalysisSettings, EngineOptions

    options = EngineOptions(use_cache=False) if workers is None else EngineOptions(workers=workers, use_cache=False)
    with Engine(settings or AnalysisSettings(), options) as engine:
        for _ in engine.warm_up():
            pass
        started = time.perf_counter()
        results = {}
        for event in engine.run([ref.path for ref in references]):
            if isinstance(event, RunFinished):
                results = {Path(r.path): r for r in event.results}
        return results, time.perf_counter() - started


class PeakMemory:
    """Peak resident memory of this process plus all its children (the pool workers), sampled in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.peak = 0
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(self._interval):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20

    def start(self) -> PeakMemory:
        self._thread.start()
        return self

    def stop(self) -> float:
        """Stop sampling; the peak in MiB."""
        self._stop.set()
        self._thread.join()
        return self.peak_mb

    def __enter__(self) -> PeakMemory:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
