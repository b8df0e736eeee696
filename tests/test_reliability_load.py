"""Load: a 1,000-song queue completes with flat memory; a 60-minute song is analysed in bounded memory.

Both run on one engine (one warm-up) in a module fixture that samples the resident memory of the
parent and of every worker five times a second, and closes the engine before any test looks at
the numbers. Settings chosen to keep this to about a minute and a half on two cores:

* the queue: 1,000 songs of 0.5–1 s through :func:`tests.tempo_only.tempo_only_chunk` (real
  decoding and tempo, no key: the key's fixed cost per chunk would make it several minutes);
* the hour: the full analysis, in 120 s chunks (30 instead of the default 64) on two workers.
"""

from __future__ import annotations

import statistics
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf

from engine.analysis.chunk import warm_up
from engine.results import SongStatus
from engine.run import events as ev
from engine.run.pool import worker_processes
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests.audio import SR, click_track, song, tone
from tests.reliability import leftover_files
from tests.tempo_only import tempo_only_under

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_stray_workers")]

QUEUE = 1000
HOUR_S = 3600.0
MB = 1e6


@dataclass
class Memory:
    """Resident memory samples: (songs finished, parent bytes, each worker's bytes)."""

    samples: list[tuple[int, int, list[int]]] = field(default_factory=list)
    finished: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        workers = []
        for proc in worker_processes():
            try:
                workers.append(proc.memory_info().rss)
            except psutil.Error:
                pass
        self.samples.append((self.finished, psutil.Process().memory_info().rss, workers))

    def __enter__(self) -> Memory:
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def total(self, sample: tuple[int, int, list[int]]) -> int:
        return sample[1] + sum(sample[2])


@dataclass
class Load:
    queue_events: list[ev.Event]
    queue_memory: Memory
    hour_result: object
    hour_memory: Memory
    hour_baseline: tuple[int, int, list[int]]


def write_hour(path: Path) -> Path:
    """A 60-minute WAV (159 MB), written ten seconds at a time so the test itself stays small."""
    block = (click_track(120.0, 10.0) + tone(220.0, 10.0, amp=0.1)).astype(np.float32)
    with sf.SoundFile(str(path), "w", SR, 1, "PCM_16") as handle:
        for _ in range(int(HOUR_S / 10)):
            handle.write(block)
    return path


@pytest.fixture(scope="module")
def load(tmp_path_factory) -> Load:
    root = tmp_path_factory.mktemp("load")
    queue = [song(root / "queue" / f"{i:04d}.wav", 80 + i % 90, 0.5 + (i % 6) / 10) for i in range(QUEUE)]
    hour = write_hour(root / "hour.wav")
    chunk = partial(tempo_only_under, folder=str(root / "queue"))
    options = EngineOptions(workers=2, cache_path=root / "cache.sqlite3")
    try:
        with Engine(AnalysisSettings(), options, chunk_function=chunk, warm_up=warm_up) as engine:
            list(engine.warm_up())
            events: list[ev.Event] = []
            with Memory() as queue_memory:
                for event in engine.run(queue):
                    if isinstance(event, ev.SongFinished | ev.SongFailed | ev.RunFinished):
                        events.append(event)
                        queue_memory.finished += 1
            engine.settings = AnalysisSettings(chunk_seconds=120.0)
            with Memory() as hour_memory:
                baseline = hour_memory.samples[0]
                hour_result = list(engine.run([hour]))[-1].results[0]
    finally:
        hour.unlink()
    assert not worker_processes()
    assert not leftover_files(root)
    return Load(events, queue_memory, hour_result, hour_memory, baseline)


def test_a_thousand_song_queue_completes(load):
    summary = load.queue_events[-1].summary
    assert summary.songs_total == QUEUE and summary.songs_done == QUEUE
    assert summary.songs_failed == summary.songs_partial == summary.worker_replacements == 0
    results = load.queue_events[-1].results
    assert all(r.status is SongStatus.DONE and r.chunks_ok == 1 for r in results)


def test_memory_stays_flat_as_the_queue_grows(load):
    """Median total memory over the first tenth of the queue against the last tenth."""
    samples = load.queue_memory.samples
    early = [load.queue_memory.total(s) for s in samples if QUEUE * 0.1 <= s[0] < QUEUE * 0.2]
    late = [load.queue_memory.total(s) for s in samples if s[0] >= QUEUE * 0.9]
    assert early and late, "too few memory samples"
    growth = statistics.median(late) - statistics.median(early)
    print(f"queue: {statistics.median(early) / MB:.0f} MB early, {statistics.median(late) / MB:.0f} MB late")
    assert growth < 25 * MB, f"memory grew by {growth / MB:.0f} MB over {QUEUE * 0.8:.0f} songs"


def test_a_sixty_minute_song_is_analysed_in_bounded_memory(load):
    """Decoding the whole hour at once would take 318 MB (float32 at 22.05 kHz) in one process."""
    result = load.hour_result
    assert result.status is SongStatus.DONE and result.duration_s == pytest.approx(HOUR_S)
    assert result.bpm == pytest.approx(120.0, rel=0.04)
    _, parent0, workers0 = load.hour_baseline
    parent_peak = max(s[1] for s in load.hour_memory.samples)
    worker_peak = max(max(s[2], default=0) for s in load.hour_memory.samples)
    print(f"hour: parent +{(parent_peak - parent0) / MB:.0f} MB, worker +{(worker_peak - max(workers0)) / MB:.0f} MB")
    # The parent holds no audio, only onset envelopes: its whole-song tempogram peaks near 50 MB an hour.
    assert parent_peak - parent0 < 120 * MB, "the parent must never hold the song's audio"
    assert worker_peak - max(workers0) < 200 * MB, "a worker holds one 120 s chunk, not the song"
