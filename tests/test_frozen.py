"""The frozen app, built from the same PyInstaller spec as the macOS .app, as a one-folder Linux build.

What freezing breaks is multiprocessing: a spawned worker re-runs the app's own binary, and
without ``freeze_support`` it starts a second app (PyInstaller issues 4865, 8904; napari 3415).
So the frozen binary runs ``analyze`` on two songs with two workers while every process it
starts is watched: only the app, its two workers and multiprocessing's resource tracker may
appear, and none may remain after it exits. numba must compile into a user cache folder,
never into the (read-only) bundle.

The build takes minutes, so it is cached in the user cache folder under ``frozen-test/<hash>``,
the hash covering the sources, the spec and the installed packages.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
import pytest
import soundfile as sf

PyInstaller = pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (the test extra has it)")
psutil = pytest.importorskip("psutil")

from engine.analysis.keys import KEY_LABELS  # noqa: E402
from engine.version import APP_VERSION  # noqa: E402
from tests.audio import song  # noqa: E402
from tests.media import aac_m4a  # noqa: E402

pytestmark = [pytest.mark.frozen, pytest.mark.slow, pytest.mark.timeout(2400)]

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(
    os.environ.get("CALIBRATION_STUDIO_FROZEN_CACHE")
    or Path(platformdirs.user_cache_dir("CalibrationStudio", appauthor=False)) / "frozen-test"
)
"""Outside the checkout, so a fresh clone (CI) on the same machine reuses the build."""
SOURCES = ("main.py", "pyproject.toml", "packaging/**/*", "engine/**/*.py", "gui/**/*.py", "resources/*")
KEEP_BUILDS = 2
BUILD_TIMEOUT = 1800
RUN_TIMEOUT = 600


def source_hash() -> str:
    """Changes whenever anything that goes into the bundle changes (code, spec, resources, tools)."""
    digest = hashlib.sha256(f"{sys.version} {platform.platform()}".encode())
    installed = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    digest.update(" ".join(installed).encode())  # a new PySide6 or librosa is a new bundle
    files = sorted({p for pattern in SOURCES for p in ROOT.glob(pattern) if p.is_file()})
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class _BuildLock:
    """Several test sessions in one checkout must not build into the same folder at once."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "w")  # noqa: SIM115 - held for the lock's lifetime

    def __enter__(self) -> _BuildLock:
        if os.name == "posix":
            import fcntl

            fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()  # closing releases the lock


@pytest.fixture(scope="module")
def frozen_build() -> Path:
    """The one-folder build for the current sources: built by scripts/build_frozen.sh, or reused."""
    target = CACHE / source_hash()
    binary = (
        target / "dist" / "CalibrationStudio" / ("CalibrationStudio.exe" if os.name == "nt" else "CalibrationStudio")
    )
    with _BuildLock(CACHE / ".lock"):
        if not (target / "built").exists():
            shutil.rmtree(target, ignore_errors=True)
            began = time.monotonic()
            done = subprocess.run(
                ["bash", str(ROOT / "scripts" / "build_frozen.sh"), str(target / "dist"), str(target / "work")],
                env={**os.environ, "PYTHON": sys.executable},
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
            )
            assert done.returncode == 0, f"frozen build failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
            shutil.rmtree(target / "work", ignore_errors=True)
            (target / "built").write_text(f"{time.monotonic() - began:.0f} s\n")
        older = sorted((p for p in CACHE.iterdir() if p.is_dir() and p != target), key=lambda p: p.stat().st_mtime)
        for stale in older[: max(0, len(older) - (KEEP_BUILDS - 1))]:
            shutil.rmtree(stale, ignore_errors=True)
    assert binary.is_file()
    return binary


def app_env(tmp_path: Path, cache_home: Path) -> dict[str, str]:
    """A user with fresh log and data folders; the numba cache persists per build (see the test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NUMBA_", "CALIBRATION_STUDIO_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CACHE_HOME=str(cache_home),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@dataclass
class Watch:
    """Every process the app started while it ran, classified by its command line."""

    app_pid: int
    seen: dict[int, list[str]] = field(default_factory=dict)
    parents: dict[int, int] = field(default_factory=dict)
    most_alive: int = 0
    app_cmdline: list[str] = field(default_factory=list)

    def poll(self, app: psutil.Process) -> None:
        try:
            children = app.children(recursive=True)
        except psutil.Error:
            return
        if not self.app_cmdline:
            try:
                self.app_cmdline = app.cmdline()
            except psutil.Error:
                return
        for child in children:
            # Between fork and exec a child still shows the app's own command line (multiprocessing
            # starts its workers and tracker that way), so such a child is read again until it execs;
            # one that never does keeps the app's line and counts as a stray.
            if child.pid not in self.seen or self.seen[child.pid] == self.app_cmdline:
                try:
                    self.seen[child.pid] = child.cmdline()
                    self.parents[child.pid] = child.ppid()
                except psutil.Error:
                    continue
        self.most_alive = max(self.most_alive, len(children))

    def kind(self, pid: int) -> str:
        cmdline = " ".join(self.seen[pid])
        if "resource_tracker" in cmdline:
            return "tracker"
        if "--multiprocessing-fork" in self.seen[pid]:
            return "worker"
        return "stray"


def run_watched(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, Watch, str, str]:
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        app = psutil.Popen(command, env=env, cwd=cwd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        watch = Watch(app.pid)
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            while app.poll() is None:
                assert time.monotonic() < deadline, "the frozen app did not finish in time"
                watch.poll(app)
                time.sleep(0.05)
        finally:
            if app.poll() is None:
                for child in app.children(recursive=True):
                    child.kill()
                app.kill()
    return app.wait(), watch, out.read_text(), err.read_text()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_frozen_analyze_uses_two_workers_and_leaves_nothing_behind(frozen_build, tmp_path):
    songs = tmp_path / "songs"
    song(songs / "one.wav", 120, 9.0)
    song(songs / "two.flac", 100, 6.0)
    # an Apple Music purchase: AAC in .m4a, decoded by the PyAV libraries inside the bundle
    aac_m4a(songs / "three.m4a", sf.read(str(song(tmp_path / "three.wav", 90, 6.0)), dtype="float32")[0], 22050)
    out = tmp_path / "out"
    # The numba cache lives beside the build: the first run of a new build compiles (a cold
    # start, as on a user's first launch); later runs of the same build reuse it.
    cache_home = frozen_build.parent.parent.parent / "user-cache"
    env = app_env(tmp_path, cache_home)
    bundle = frozen_build.parent
    before = snapshot(bundle)

    command = [str(frozen_build), "analyze", str(songs), "--workers", "2", "--chunk-seconds", "4", "--no-cache"]
    code, watch, _stdout, stderr = run_watched([*command, "--out", str(out)], env, tmp_path)
    assert code == 0, stderr

    # The results: both songs, right tempo, a key, every chunk accounted for.
    rows = {Path(r["path"]).name: r for r in read_csv(out / "results.csv")}
    assert set(rows) == {"one.wav", "two.flac", "three.m4a"}
    for name, bpm in (("one.wav", 120), ("two.flac", 100), ("three.m4a", 90)):
        assert rows[name]["status"] == "done", rows[name]
        assert abs(float(rows[name]["bpm"]) - bpm) < 0.04 * bpm
        assert rows[name]["key"] in KEY_LABELS
    chunks = read_csv(out / "chunks.csv")
    assert len(chunks) == sum(int(r["chunks_total"]) for r in rows.values()) >= 4
    assert all(c["status"] == "ok" for c in chunks)

    # The processes: the app started exactly two workers (the frozen binary re-run with
    # --multiprocessing-fork) and at most a resource tracker; nothing else, no second app.
    kinds = {pid: watch.kind(pid) for pid in watch.seen}
    workers = sorted(pid for pid, kind in kinds.items() if kind == "worker")
    strays = {pid: watch.seen[pid] for pid, kind in kinds.items() if kind == "stray"}
    assert not strays, f"processes that are neither pool workers nor the resource tracker: {strays}"
    assert len(workers) == 2, watch.seen
    assert sum(kind == "tracker" for kind in kinds.values()) <= 1
    assert all(watch.parents[pid] == watch.app_pid for pid in workers)
    assert all(Path(watch.seen[pid][0]).name == frozen_build.name for pid in workers)
    assert watch.most_alive <= 3
    assert {int(c["worker_pid"]) for c in chunks} <= set(workers), "chunks ran outside the watched workers"

    # Nothing remains: neither the watched processes nor anything else started from this run.
    _, alive = psutil.wait_procs([psutil.Process(pid) for pid in watch.seen if psutil.pid_exists(pid)], timeout=10)
    assert not alive, f"left behind: {[p.pid for p in alive]}"
    leftovers = []
    for proc in psutil.process_iter(["pid", "exe", "cwd"]):
        if proc.info["cwd"] == str(tmp_path) and proc.info["exe"] and str(bundle) in proc.info["exe"]:
            leftovers.append(proc.info["pid"])
    assert not leftovers, f"frozen app processes still running: {leftovers}"

    # numba compiled into the app's user cache folder, and nothing was written into the bundle.
    numba_cache = cache_home / "CalibrationStudio" / "numba"
    compiled = {p: p.stat().st_mtime_ns for p in numba_cache.rglob("*.nb[ic]")}
    assert compiled, "no numba cache in the user cache folder"
    assert not (cache_home / "numba").exists(), "numba fell back to its own folder (the cache would move with the cwd)"
    assert snapshot(bundle) == before, "the app wrote into its own bundle"
    # Started from another folder, the app reuses that cache instead of compiling librosa again.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, _watch, _stdout, stderr = run_watched([*command, "--out", str(tmp_path / "out2")], env, elsewhere)
    assert code == 0, stderr
    assert {p: p.stat().st_mtime_ns for p in numba_cache.rglob("*.nb[ic]")} == compiled, "librosa was compiled again"
    log = tmp_path / "state" / "CalibrationStudio" / "log" / "calibration-studio.log"
    text = log.read_text(encoding="utf-8")
    assert "command line (analyze) started" in text and ", frozen" in text
    assert "analyze finished with exit status 0" in text


def test_frozen_window_autostart_run_exports_and_quits_cleanly(frozen_build, tmp_path):
    """The window in the frozen app, scripted: its workers must not open windows of their own."""
    songs = tmp_path / "songs"
    song(songs / "one.wav", 120, 6.0)
    song(songs / "two.wav", 100, 6.0)
    env = app_env(tmp_path, frozen_build.parent.parent.parent / "user-cache")
    settings = tmp_path / "config" / "CalibrationStudio" / "CalibrationStudio.ini"
    settings.parent.mkdir(parents=True)
    settings.write_text("[engine]\nworkers=2\n\n[analysis]\nchunk_seconds=4\n")
    exported = tmp_path / "export"
    command = [str(frozen_build), str(songs), "--autostart", "--export-dir", str(exported), "--quit-when-done"]
    code, watch, _stdout, stderr = run_watched(command, env, tmp_path)
    assert code == 0, stderr

    rows = read_csv(exported / "results.csv")
    assert sorted(Path(r["path"]).name for r in rows) == ["one.wav", "two.wav"]
    assert all(r["status"] == "done" for r in rows)
    kinds = {pid: watch.kind(pid) for pid in watch.seen}
    strays = {pid: watch.seen[pid] for pid, kind in kinds.items() if kind == "stray"}
    assert not strays, f"the window started processes that are not pool workers: {strays}"
    workers = [pid for pid, kind in kinds.items() if kind == "worker"]
    assert len(workers) == 2, watch.seen
    _, alive = psutil.wait_procs([psutil.Process(pid) for pid in watch.seen if psutil.pid_exists(pid)], timeout=10)
    assert not alive, f"left behind: {[p.pid for p in alive]}"
    log = tmp_path / "state" / "CalibrationStudio" / "log" / "calibration-studio.log"
    assert "window started" in log.read_text(encoding="utf-8")


def test_frozen_bundle_carries_the_gpl_texts_and_the_source_offer(frozen_build):
    """PyAV's FFmpeg links x264 and x265 (GPL-2.0-or-later): their licence and the written offer of their
    source ship inside the bundle, where the About box says they are (beside the app's resources)."""
    from engine.licences import BUNDLE_FOLDER, GPL_FILES, LGPL_FILES

    bundle = frozen_build.parent
    resources = next(p.parent for p in bundle.rglob("icon.png") if p.parent.name == "resources")
    shipped = resources.parent / BUNDLE_FOLDER  # engine.licences.licence_folder() when frozen
    for name in (*GPL_FILES, *LGPL_FILES):
        assert (shipped / name).is_file(), f"{name} is not in the bundle's {BUNDLE_FOLDER}/ folder"
        assert (shipped / name).read_bytes() == (ROOT / "packaging" / "licenses" / name).read_bytes()
    offer = (shipped / "SOURCE-OFFER.txt").read_text(encoding="utf-8")
    for encoder in ("x264", "x265"):
        if any(bundle.rglob(f"lib{encoder}*")):  # the bundle carries the GPL encoder: the offer names it
            assert encoder in offer


def test_frozen_version_help_and_usage(frozen_build, tmp_path):
    env = app_env(tmp_path, tmp_path / "cache")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(frozen_build), *args], env=env, capture_output=True, text=True, timeout=120)

    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip().startswith(f"Calibration Studio {APP_VERSION}")
    window_help = run("--help")
    assert window_help.returncode == 0, window_help.stderr
    assert f"usage: {frozen_build.name} " in window_help.stdout
    for option in ("--autostart", "--export-dir", "--quit-when-done", "--reference", "--version", "analyze"):
        assert option in window_help.stdout
    analyze_help = run("analyze", "--help")
    assert analyze_help.returncode == 0 and f"usage: {frozen_build.name} analyze" in analyze_help.stdout
    tests = run("test")  # the frozen app cannot run pytest; it must say so, not open a window
    assert tests.returncode == 2 and "source checkout" in tests.stderr
