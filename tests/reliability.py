"""Helpers for the reliability suite: process census, private temp folders, denying root, tmpfs.

Every reliability test must leave no child process and no temp file behind; these helpers make
both checkable, including for processes started by a ``main.py`` subprocess that no longer exists.
"""

from __future__ import annotations

import ctypes
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psutil
import pytest

MAIN = Path(__file__).resolve().parent.parent / "main.py"
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` now (workers, the resource tracker)."""
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def wait_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Wait (bounded) for processes to end; return those still alive (zombies count as gone)."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return [p.pid for p in alive if _alive(p)]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_all(pids: Iterable[int]) -> None:
    """Clean up after a failed assertion so one bug does not poison the rest of the session."""
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass


def leftover_files(folder: Path) -> list[Path]:
    """Files an interrupted atomic write or a closed SQLite database should not leave."""
    patterns = ("*.tmp", "*.sqlite3-wal", "*.sqlite3-shm", "*-journal")
    return sorted(p for pattern in patterns for p in folder.rglob(pattern))


@contextmanager
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point this process and every child at an empty temp folder; fail if anything is left in it."""
    folder = tmp_path / "TMPDIR"
    folder.mkdir()
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(name, str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    left = sorted(p.name for p in folder.iterdir())
    assert not left, f"temp files left behind: {left}"


def cli(*args: str, preexec: Callable[[], None] | None = None, **popen: object) -> subprocess.Popen:
    """Start ``main.py`` as a user would, output captured as text."""
    return subprocess.Popen(
        [sys.executable, str(MAIN), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
        **popen,
    )


def run_cli(
    *args: str, preexec: Callable[[], None] | None = None, timeout: float = 240, **popen: object
) -> subprocess.CompletedProcess:
    """Run ``main.py`` to the end (bounded), output captured."""
    proc = cli(*args, preexec=preexec, **popen)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_all(descendants(proc.pid))
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"main.py {' '.join(args)} did not finish in {timeout} s:\n{err}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class LineReader:
    """Lines of a child's text stream, read on a thread so every wait for one is bounded."""

    def __init__(self, stream: object):
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        """Read until ``predicate(lines so far)`` holds; False on timeout or end of stream."""
        deadline = time.monotonic() + timeout
        while not predicate(self.lines):
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if line is None:
                return predicate(self.lines)
            self.lines.append(line)
        return True

    def rest(self, timeout: float = 10) -> str:
        """Everything until the stream ends (the child has exited)."""
        self.wait_for(lambda _: False, timeout)
        return "\n".join(self.lines)


def _drop_file_override() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            os._exit(97)


def as_ordinary_user() -> Callable[[], None] | None:
    """A preexec function so file permissions apply to the child even when we run as root.

    Root ignores permissions through CAP_DAC_OVERRIDE; dropping it (and CAP_DAC_READ_SEARCH) from the
    child's capability bounding set before exec keeps uid 0, its home folder and caches, but makes
    ``chmod 000`` mean what it says. Not root: nothing to do.
    """
    if os.geteuid() != 0:
        return None
    return _drop_file_override


@cache
def permissions_can_be_denied() -> bool:
    """Whether a child started with :func:`as_ordinary_user` is refused a ``chmod 000`` file."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.write_bytes(b"x")
        probe.chmod(0)
        done = subprocess.run(
            [sys.executable, "-c", f"open({str(probe)!r}).read()"],
            preexec_fn=as_ordinary_user(),
            capture_output=True,
            timeout=60,
        )
        probe.chmod(0o600)
    return done.returncode != 0 and b"PermissionError" in done.stderr


@contextmanager
def small_tmpfs(folder: Path, size: str = "64k") -> Iterator[Path]:
    """Mount a tiny tmpfs on ``folder`` (a real full disk); skip when this machine does not allow it."""
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs Linux and root; the simulated full disk test covers this case")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the simulated full disk test runs")
    try:
        yield folder
    finally:
        for _ in range(50):  # a file handle may still be closing
            if subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)


def fill_disk(folder: Path, leave: int = 0) -> Path:
    """Fill the file system holding ``folder`` until at most ``leave`` bytes are free."""
    filler = folder / "filler.bin"
    with open(filler, "wb") as handle:
        try:
            while True:
                free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
                if free <= leave:
                    break
                handle.write(b"\0" * max(1, min(4096, free - leave)))
                handle.flush()
        except OSError:
            pass
    return filler
