"""``python main.py doctor``: check this machine and say, in plain words, what works.

It replaces the old system's one-off hang-diagnosis script with something every user has: the
decoders, the process pool (spawn start, warm-up time), the guard against nested pools, a chunk
deadline that really fires and a pool that really recovers, and where the cache and logs live.
The window's Help ▸ Run Diagnostics runs the same :func:`run_checks` (off its UI thread) and
shows the same lines. Every step is bounded: a broken pool is reported, never waited on forever.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"
DEADLINE_S = 3.0
"""The doctor's chunk deadline: short, so the check is quick; the product derives its own from chunk length."""
SOUNDFILE_FORMATS = {"wav": {}, "flac": {}, "ogg": {"subtype": "VORBIS"}, "mp3": {}}
REQUIRED_FORMATS = ("wav", "flac")
"""What the product cannot do without; other formats are warnings that say what to install."""
SOUNDFILE_HINT = "update soundfile and its libsndfile (`pip install -U soundfile`; libsndfile 1.1 or later reads mp3)"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    status: str  # OK | WARN | FAIL | INFO
    name: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def line(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"  {self.status:<5} {self.name}{detail}"


def _tone(seconds: float = 2.0, sr: int = 22050) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def check_decoder(fmt: str, folder: Path) -> Check:
    """Write two seconds of a 440 Hz tone in ``fmt`` and read it back through the engine's decoder."""
    import soundfile as sf

    from engine.analysis.decoding import probe, read_segment
    from engine.errors import AudioDecodeError

    status_if_broken = FAIL if fmt in REQUIRED_FORMATS else WARN
    path = folder / f"doctor.{fmt}"
    try:
        sf.write(str(path), _tone(), 22050, **SOUNDFILE_FORMATS[fmt])
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        return Check(
            status_if_broken, f"{fmt} decoding", f"libsndfile {sf.__libsndfile_version__}: {exc}; {SOUNDFILE_HINT}"
        )
    try:
        info = probe(path)
        y = read_segment(path, 0.0, 1.0, 22050)
    except AudioDecodeError as exc:
        return Check(status_if_broken, f"{fmt} decoding", f"{exc}; {SOUNDFILE_HINT}")
    if abs(info.duration_s - 2.0) > 0.1 or y.size < 20000 or not np.isfinite(y).all():
        return Check(status_if_broken, f"{fmt} decoding", f"read back wrong audio ({info.duration_s:.2f} s)")
    return Check(OK, f"{fmt} decoding", f"libsndfile {sf.__libsndfile_version__}")


PYAV_FORMATS = {"m4a/AAC": ("aac", None), "m4a/ALAC": ("alac", "s16p")}
"""What PyAV decodes for the product (an Apple Music library is mostly these two), encoded here by PyAV itself."""


def check_pyav_decoder(name: str, folder: Path, seconds: float = 30.0) -> Check:
    """Encode ``seconds`` of a tone as .m4a with PyAV, then probe it and read it back through the engine, timed."""
    from engine.analysis.decoding import probe, read_segment
    from engine.errors import AudioDecodeError

    codec, sample_format = PYAV_FORMATS[name]
    label = f"{name} decoding"
    try:
        import av

        from engine.analysis.pyav_encoding import write_encoded

        path = write_encoded(
            folder / f"doctor-{codec}.m4a", _tone(seconds, 44100), 44100, codec, sample_format=sample_format
        )
    except Exception as exc:  # a broken PyAV install shows here first
        return Check(WARN, label, f"PyAV cannot encode a test file: {type(exc).__name__}: {exc}; `pip install -U av`")
    try:
        began = time.perf_counter()
        info = probe(path)
        y = read_segment(path, seconds / 2, seconds, 22050)
        took = time.perf_counter() - began
    except AudioDecodeError as exc:
        return Check(WARN, label, f"{exc}; `pip install -U av`")
    if abs(info.duration_s - seconds) > 0.01 or abs(y.size - seconds / 2 * 22050) > 2 or not np.isfinite(y).all():
        return Check(WARN, label, f"read back wrong audio ({info.duration_s:.2f} s, {y.size} samples)")
    ffmpeg = getattr(av, "ffmpeg_version_info", "?")
    return Check(
        OK,
        label,
        f"PyAV {av.__version__} (FFmpeg {ffmpeg}, in-process): probed and read {seconds / 2:g} s from the middle "
        f"in {took * 1000:.0f} ms",
    )


def _write_probe_songs(folder: Path) -> dict[str, Path]:
    import soundfile as sf

    songs = {}
    for name in ("nested", "hang", "after"):
        songs[name] = folder / f"{name}.wav"
        sf.write(str(songs[name]), _tone(), 22050)
    return songs


def check_pool(folder: Path, workers: int, deadline: float) -> Iterator[Check]:
    """Start the real pool, warm it up, then make it face a nested pool and a chunk that never returns."""
    from engine.analysis.chunk import warm_up
    from engine.faults import faulty_chunk
    from engine.results import ChunkStatus, SongStatus
    from engine.run import events as ev
    from engine.run.pool import NESTED_POOL_MESSAGE
    from engine.run.runner import Engine
    from engine.settings import AnalysisSettings, EngineOptions

    songs = _write_probe_songs(folder)
    # Only this check's own workers are looked at and stopped: the window's idle pool, alive in the
    # same process while Help ▸ Run Diagnostics runs, is another pool's and keeps its workers.
    seen: set[int] = set()
    chunk = partial(faulty_chunk, faults={str(songs["nested"]): "nested_pool", str(songs["hang"]): "hang"})
    options = EngineOptions(workers=workers, use_cache=False, chunk_timeout=deadline)
    began = time.monotonic()
    try:
        with Engine(AnalysisSettings(), options, chunk_function=chunk, warm_up=warm_up) as engine:
            list(engine.warm_up())
            warm = time.monotonic() - began
            seen.update(engine.worker_pids())
            cmdlines = [_cmdline(pid) for pid in sorted(seen)]
            spawned = len(cmdlines) == workers and all("--multiprocessing-fork" in c for c in cmdlines)
            yield Check(
                OK if spawned else FAIL,
                "worker pool",
                f"{len(cmdlines)} of {workers} workers started with the spawn method, warm-up {warm:.1f} s"
                if spawned
                else f"expected {workers} spawned workers, found: {cmdlines or 'none'}",
            )
            events = []
            for event in engine.run([songs["nested"], songs["hang"], songs["after"]]):
                events.append(event)
                if isinstance(event, ev.ChunkStarted):
                    seen.add(event.worker_pid)
            seen.update(engine.worker_pids())  # the replacement of the stopped worker, too
            final = events[-1]
            if not isinstance(final, ev.RunFinished):
                raise RuntimeError(f"the run ended with {type(final).__name__}, not RunFinished")
            results = {r.path: r for r in final.results}
    except Exception as exc:  # the report must come out whatever broke
        yield Check(FAIL, "worker pool", f"{type(exc).__name__}: {exc}")
        return
    nested = results[str(songs["nested"])]
    refused = nested.status is SongStatus.ERROR and NESTED_POOL_MESSAGE[:40] in nested.error
    yield Check(
        OK if refused else FAIL,
        "nested pools refused",
        "a worker that tries to start a pool gets a clear error" if refused else f"got {nested.status.value}",
    )
    hang, after = results[str(songs["hang"])], results[str(songs["after"])]
    timed_out = any(c.status is ChunkStatus.TIMEOUT for c in hang.chunks)
    recovered = any(isinstance(e, ev.PoolRecovered) and e.reason == "timeout" for e in events)
    if timed_out and recovered and after.status is SongStatus.DONE:
        stopped = max(c.seconds for c in hang.chunks if c.status is ChunkStatus.TIMEOUT)
        yield Check(
            OK,
            "chunk deadline",
            f"a chunk that never returns was stopped after {stopped:.1f} s (deadline {deadline:g} s), "
            f"its worker replaced, and the next song finished ({after.analysis_s:.1f} s)",
        )
    else:
        detail = f"timeout={timed_out}, pool recovered={recovered}, next song {after.status.value} {after.error}"
        yield Check(FAIL, "chunk deadline", detail)
    left = _still_running(seen)
    yield Check(
        OK if not left else FAIL,
        "workers stopped",
        "no process left behind" if not left else f"still running: {left}",
    )


def _cmdline(pid: int) -> str:
    import psutil

    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return f"{pid} (gone)"


def _still_running(pids: set[int]) -> list[int]:
    """Which of ``pids`` are still alive a moment after their pool was closed (zombies count as gone)."""
    import psutil

    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=3)
    return sorted(p.pid for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE)


def check_locations() -> Iterator[Check]:
    from engine.cachedirs import user_cache_root, writable
    from engine.logs import log_file
    from engine.run.cache import default_cache_path

    try:
        cache = default_cache_path()
    except OSError as exc:
        yield Check(FAIL, "results cache", f"{exc}")
    else:
        preferred = cache.parent == user_cache_root()
        note = "" if preferred else f" (fallback: {user_cache_root()} is not writable; may be emptied on restart)"
        yield Check(INFO if preferred else WARN, "results cache", f"{cache}{note}")
    log = log_file()
    yield Check(INFO if writable(log.parent) else WARN, "log file", str(log))
    yield Check(INFO, "numba cache", os.environ.get("NUMBA_CACHE_DIR", "not set (no pool was started)"))


def header() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from engine.version import APP_VERSION, ENGINE_VERSION

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "missing"

    libs = ", ".join(f"{n} {ver(n)}" for n in ("numpy", "librosa", "soundfile", "av", "pebble", "numba"))
    return (
        f"Calibration Studio {APP_VERSION} (engine {ENGINE_VERSION}) on {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores\n  {libs}"
    )


def run_checks(
    on_check: Callable[[Check], None] | None = None, workers: int | None = None, deadline: float = DEADLINE_S
) -> list[Check]:
    """Every check, in order; ``on_check`` sees each as soon as it is known (a UI shows progress)."""
    from engine.settings import default_workers

    workers = workers or min(2, default_workers())
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        if on_check is not None:
            on_check(check)

    try:
        probes = tempfile.TemporaryDirectory(prefix="calibration-doctor-")
    except OSError as exc:  # nowhere to write: the report must still come out, naming it
        add(Check(FAIL, "temporary folder", f"{exc}; the decoders and the worker pool could not be checked"))
    else:
        with probes as tmp:
            folder = Path(tmp)
            for fmt in SOUNDFILE_FORMATS:
                add(check_decoder(fmt, folder))
            for name in PYAV_FORMATS:
                add(check_pyav_decoder(name, folder))
            for check in check_pool(folder, workers, deadline):
                add(check)
    for check in check_locations():
        add(check)
    return checks


def verdict(checks: list[Check]) -> str:
    failed = [c for c in checks if c.failed]
    warned = [c for c in checks if c.status == WARN]
    if failed:
        return f"{len(failed)} problem(s) the product cannot work with: " + "; ".join(c.name for c in failed)
    if warned:
        return "Everything the product needs works; optional: " + "; ".join(c.name for c in warned)
    return "Everything works."


# -- command line ----------------------------------------------------------------------------------
def add_doctor_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "doctor",
        help="check this machine: decoders, the worker pool, deadlines, cache and log locations",
        description="Check that this machine can run Calibration Studio: which decoders work (and what to install "
        "when one is missing), that the worker pool starts with the spawn method and how long warm-up takes, "
        "that a worker cannot start a pool of its own, that a chunk deadline fires and the pool recovers, and "
        "where the cache and logs live. Exits 1 when something the product needs is broken.",
    )
    parser.add_argument("--workers", type=int, default=None, metavar="N", help="workers to start (default: 2)")
    parser.add_argument(
        "--deadline", type=float, default=DEADLINE_S, metavar="S", help="chunk deadline to test (default %(default)s s)"
    )
    return parser


def run_doctor(args: argparse.Namespace) -> int:
    from engine.frontends.exitcodes import ExitCode

    if (args.workers is not None and args.workers < 1) or args.deadline <= 0:
        print("error: --workers and --deadline must be positive", file=sys.stderr)
        return ExitCode.USAGE
    print(header(), flush=True)
    checks = run_checks(lambda c: print(c.line(), flush=True), args.workers, args.deadline)
    print(verdict(checks), flush=True)
    return ExitCode.FAILED if any(c.failed for c in checks) else ExitCode.OK
