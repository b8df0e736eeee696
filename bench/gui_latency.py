"""GUI latency: does the window stay responsive while the engine works?

A 30-song run in an offscreen window, real engine and pool, with a 5 ms heartbeat timer on
the GUI thread. Every gap between heartbeats beyond 5 ms is time the event loop was blocked
(a "stall"). Prints the largest and the 99th-percentile stall over the whole run; with ``--cold`` Start is
pressed before the worker pool exists, so its start-up is included; with ``--reference`` a reference
for the songs is loaded first, so the calibration panel refreshes during the run as it does for a
user calibrating; with ``--inspector`` the inspector follows the first song live, then stays open on it
and plays it in a loop with the click track on (into the null audio sink, which consumes samples in
real time through the same callback as a device) for the rest of the run. Target: max < 50 ms, p99 < 20 ms.

    .venv/bin/python bench/gui_latency.py [--songs 30] [--seconds 30] [--workers 2] [--cold] [--reference]
                                          [--inspector] [--stall-stacks MS]

``--stall-stacks MS`` samples the GUI thread's Python stack every 2 ms and, for every stall longer
than MS, prints where the thread was during it: the way to find what blocks the window (the
sampler itself costs a little latency, so compare numbers only between runs without it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

HEARTBEAT_MS = 5
KEYS = ("C major", "A minor", "G major", "E minor", "D major", "F major", "Bb major", "D minor", "Eb major", "B minor")
STYLES = ("straight", "half_time", "swing", "relative_major")


def make_songs(folder: Path, count: int, seconds: float) -> list[Path]:
    """Rendered songs in ``folder``, and ``folder/../reference.csv`` with their tempo and key."""
    import csv

    import soundfile as sf

    from engine.frontends.demo import render_song

    paths = []
    with open(folder.parent / "reference.csv", "w", newline="", encoding="utf-8") as handle:
        reference = csv.writer(handle)
        reference.writerow(["file", "bpm", "key"])
        for i in range(count):
            bpm, key, style = 80.0 + (i * 7) % 90, KEYS[i % len(KEYS)], STYLES[i % len(STYLES)]
            path = folder / f"song {i + 1:02d}.wav"
            sf.write(path, render_song(bpm, key, seconds, 22050, style), 22050)
            reference.writerow([path.name, f"{bpm:g}", key])
            paths.append(path)
    return paths


def inspect_and_play(window):
    """Inspector tab shown (it follows the song being analysed); once the first song is done, select
    it and keep it playing with clicks, restarting at its end, while the rest of the run goes on."""
    import numpy as np
    from PySide6.QtCore import QTimer

    from gui.inspector.clicks import detect_beats
    from gui.queue_model import Col

    # librosa.beat compiles its numba kernels on first import (16-20 s on this loaded machine): done
    # before the run here, as after a user's first song, so that playback does run during the analysis.
    detect_beats(np.random.default_rng(0).standard_normal(22050 * 3).astype(np.float32), 22050)
    inspector = window.inspector
    window.tabs.setCurrentWidget(inspector.page)
    player = inspector.player

    def first_done(_event) -> None:
        window.controller.songFinished.disconnect(first_done)
        index = window.model.index(0, int(Col.SONG))
        window.table.setCurrentIndex(window.proxy.mapFromSource(index))
        inspector.panel.click_box.setChecked(True)
        player.set_click(True, None)  # the song's own beats: its grid where it has one, else tracked beats
        inspector.play_from(0.0)  # as a user pressing Play: decoding (and beat tracking without a grid) starts now

    def keep_playing() -> None:
        if player.state in ("ready", "paused"):
            player.set_click(True)
            inspector.play_from(0.0)

    window.controller.songFinished.connect(first_done)
    loop = QTimer(window)
    loop.setInterval(500)
    loop.timeout.connect(keep_playing)
    loop.start()
    return player


class StackSampler:
    """Samples one thread's Python stack on a background thread, so a stall can be explained afterwards."""

    def __init__(self, thread_id: int, every_s: float = 0.002, keep_s: float = 3.0) -> None:
        import collections
        import threading

        self.thread_id, self.every_s = thread_id, every_s
        self.samples: collections.deque = collections.deque(maxlen=int(keep_s / every_s))
        self.reports: list[tuple[float, list[tuple[int, str]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            frame = sys._current_frames().get(self.thread_id)
            stack = []
            while frame is not None and len(stack) < 14:
                code = frame.f_code
                stack.append(f"{Path(code.co_filename).name}:{frame.f_lineno} {code.co_name}")
                frame = frame.f_back
            self.samples.append((time.perf_counter(), " < ".join(stack)))

    def explain(self, began: float, ended: float) -> None:
        """Keep the most frequent stacks seen between ``began`` and ``ended``."""
        import collections

        seen = collections.Counter(stack for when, stack in list(self.samples) if began <= when <= ended)
        self.reports.append(((ended - began) * 1000, [(n, stack) for stack, n in seen.most_common(4)]))

    def stop(self) -> None:
        self._stop.set()


def print_thread_cpu() -> None:
    """CPU seconds of each thread of this process (Linux): which Python threads compete with the GUI for the GIL."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    rows = []
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (task / "comm").read_text().strip()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / tick
        if cpu >= 0.05:
            rows.append((cpu, names.get(int(task.name), comm)))
    for cpu, name in sorted(rows, reverse=True):
        print(f"  thread cpu {cpu:6.2f} s  {name}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each generated song")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="press Start before the pool exists (the window normally starts it at launch)",
    )
    parser.add_argument("--reference", action="store_true", help="load a reference for the songs before the run")
    parser.add_argument(
        "--inspector", action="store_true", help="inspector open and playback with clicks running during the run"
    )
    parser.add_argument("--stall-stacks", type=float, metavar="MS", help="print the GUI stack during stalls > MS")
    args = parser.parse_args()
    if args.inspector:
        os.environ["CALIBRATION_STUDIO_AUDIO"] = "null"

    from PySide6.QtCore import QSettings, QTimer

    from gui.app import create_application

    app = create_application()
    work = Path(tempfile.mkdtemp(prefix="gui-latency-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    from gui.app import build_window
    from gui.preferences import Preferences

    Preferences(workers=args.workers, use_cache=False).save()
    folder = work / "songs"
    folder.mkdir()
    songs = make_songs(folder, args.songs, args.seconds)
    window = build_window(data_dir=work / "data", cache_path=work / "cache.sqlite3")
    window.resize(1360, 860)
    window.show()
    if args.reference and not window.load_reference(work / "reference.csv"):
        return 1
    playing = inspect_and_play(window) if args.inspector else None

    gaps: list[float] = []
    last = [time.perf_counter()]

    phases: list[str] = []
    collections_ms: list[tuple[int, float]] = []  # the cyclic garbage collector's pauses on any thread
    gc_began = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_began[0] = time.perf_counter()
        else:
            collections_ms.append((info["generation"], (time.perf_counter() - gc_began[0]) * 1000))

    __import__("gc").callbacks.append(on_gc)
    sampler = StackSampler(__import__("threading").get_ident()) if args.stall_stacks else None

    def beat() -> None:
        now = time.perf_counter()
        if sampler is not None and (now - last[0]) * 1000 - HEARTBEAT_MS > args.stall_stacks:
            sampler.explain(last[0], now)
        gaps.append(now - last[0])
        phases.append("warm-up" if window.stats.warming or window.stats.analysis_started_at is None else "analysis")
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setTimerType(__import__("PySide6.QtCore", fromlist=["Qt"]).Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)
    summary: list[object] = []
    window.controller.runFinished.connect(lambda event: (summary.append(event.summary), app.quit()))
    window.songsAdded.connect(lambda _n: (last.__setitem__(0, time.perf_counter()), heartbeat.start(), window.start()))
    if args.cold:
        window.add_paths([folder])
    else:  # as launched: the pool starts with the window; the user drops songs and presses Start later
        window.controller.warmUp.connect(lambda event: window.add_paths([folder]) if event.stage == "done" else None)
        window.prewarm_engine()
    QTimer.singleShot(1_800_000, app.quit)
    began = time.perf_counter()
    app.exec()
    wall = time.perf_counter() - began
    heartbeat.stop()
    print_thread_cpu()
    if sampler is not None:
        sampler.stop()
        for stall_ms, stacks in sampler.reports:
            print(f"stall {stall_ms:.1f} ms, GUI thread was in:")
            for count, stack in stacks:
                print(f"  {count:3d}x {stack}")
    if playing is not None:
        print(
            f"inspector: playback {playing.state}, {playing.position_s:.1f} s into {Path(playing.path).name}, "
            f"clicks on the {playing.clicks_follow or '(none)'}"
        )
        window.inspector.close()
    window.controller.shutdown()
    window.close()

    stalls_ms = [max(0.0, (g * 1000) - HEARTBEAT_MS) for g in gaps]
    run = summary[0] if summary else None
    print(f"songs: {len(songs)} x {args.seconds:g} s, workers: {args.workers}, wall: {wall:.1f} s")
    if run is not None:
        print(f"run: {run.songs_done} done, {run.songs_failed} failed, {run.realtime_factor:.1f}x realtime")
    print(f"heartbeats: {len(gaps)} (every {HEARTBEAT_MS} ms)")
    print(f"stall max: {max(stalls_ms, default=0.0):.1f} ms  (target < 50)")
    print(f"stall p99: {percentile(stalls_ms, 99):.1f} ms  (target < 20)")
    print(f"stall p50: {percentile(stalls_ms, 50):.1f} ms")
    blocked = sum(s for s in stalls_ms if s > 5)
    print(f"stalls > 20 ms: {sum(s > 20 for s in stalls_ms)}, blocked in stalls > 5 ms: {blocked:.0f} ms")
    for generation in (0, 1, 2):
        pauses = [ms for g, ms in collections_ms if g == generation]
        if pauses:
            print(f"  gc generation {generation}: {len(pauses)} collections, max {max(pauses):.1f} ms")
    for phase in ("warm-up", "analysis"):
        part = [s for s, p in zip(stalls_ms, phases, strict=True) if p == phase]
        worst, p99 = max(part, default=0.0), percentile(part, 99)
        print(f"  {phase:9s}: {len(part):5d} beats, max {worst:6.1f} ms, p99 {p99:5.1f} ms")
    return 0 if run is not None else 1


if __name__ == "__main__":
    sys.exit(main())
