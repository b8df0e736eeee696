"""Unreadable songs and exports that cannot be written: a clear error, results intact, retry works.

Root ignores file permissions, so the ``main.py`` runs here drop that override first
(:func:`tests.reliability.as_ordinary_user`). The full disk is a real 64 KiB tmpfs when this
machine allows mounting one, and is otherwise simulated at the write call.
"""

from __future__ import annotations

import csv
import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import csv_io
from engine.csv_io import ExportError
from engine.exports import write_results
from engine.results import SongResult, SongStatus
from tests.audio import song
from tests.reliability import (
    as_ordinary_user,
    fill_disk,
    leftover_files,
    permissions_can_be_denied,
    run_cli,
    small_tmpfs,
)


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def locked_runs(tmp_path_factory):
    """``analyze`` into a read-only folder (fails), then into a writable one (the retry)."""
    if not permissions_can_be_denied():
        pytest.skip("this machine cannot run a child without root's permission override")
    root = tmp_path_factory.mktemp("locked")
    songs = root / "songs"
    song(songs / "good.wav", 120, 4.0)
    locked = song(songs / "locked.wav", 100, 4.0)
    read_only = root / "read-only"
    read_only.mkdir()
    locked.chmod(0)
    read_only.chmod(0o555)
    base = ("analyze", str(songs), "--workers", "1", "--cache-file", str(root / "cache.sqlite3"))
    try:
        refused = run_cli(*base, "--out", str(read_only), preexec=as_ordinary_user())
        retried = run_cli(*base, "--out", str(root / "out"), preexec=as_ordinary_user())
    finally:
        locked.chmod(0o644)
        read_only.chmod(0o755)
    yield root, refused, retried
    assert not leftover_files(root)


@pytest.mark.slow
def test_unreadable_song_is_a_clear_error(locked_runs):
    root, _, retried = locked_runs
    assert retried.returncode == 0, retried.stderr
    rows = read_rows(root / "out" / "results.csv")
    assert rows["locked.wav"]["status"] == "error"
    assert "permission denied" in rows["locked.wav"]["error"]
    assert rows["good.wav"]["status"] == "done"


@pytest.mark.slow
def test_export_to_a_read_only_folder_fails_clearly_and_the_retry_uses_the_saved_results(locked_runs):
    root, refused, retried = locked_runs
    assert refused.returncode == 1
    assert "error: cannot write to" in refused.stderr and "read-only: Permission denied" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert list((root / "read-only").iterdir()) == []
    assert "(1 from cache)" in retried.stderr  # nothing analysed before the failed export was lost
    assert read_rows(root / "out" / "results.csv")["good.wav"]["cached"] == "1"


def results(folder: Path, count: int = 40) -> list[SongResult]:
    """Rows enough to need more than one disk block; the export, not the analysis, is under test here."""
    return [
        SongResult(str(folder / f"song {i:03d}.wav"), SongStatus.DONE, duration_s=180.0, bpm=100.0 + i, key="A minor")
        for i in range(count)
    ]


def _full_disk_then_retry(out: Path, fill: Callable[[], object], free: Callable[[], object]) -> None:
    earlier = results(out, 3)
    write_results(out, earlier)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fill()
    latest = results(out)
    with pytest.raises(ExportError) as failure:
        write_results(out, latest)
    assert failure.value.errno == errno.ENOSPC
    assert "No space left on device" in str(failure.value) and "results.csv" in str(failure.value)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "filler.bin"}
    assert after == before  # the earlier export is intact and no temp file is left behind
    free()
    write_results(out, latest)  # retry once there is room
    assert len(read_rows(out / "results.csv")) == len(latest)


def test_export_to_a_full_disk(tmp_path):
    with small_tmpfs(tmp_path / "disk", "64k") as disk:
        filler: list[Path] = []
        _full_disk_then_retry(disk, lambda: filler.append(fill_disk(disk)), lambda: filler[0].unlink())


def test_export_to_a_full_disk_simulated_at_the_write_call(tmp_path, monkeypatch):
    """Where no tmpfs can be mounted: the same path, with the file system's answer injected."""
    real_fsync = os.fsync

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    _full_disk_then_retry(
        tmp_path,
        lambda: monkeypatch.setattr(csv_io.os, "fsync", no_space),
        lambda: monkeypatch.setattr(csv_io.os, "fsync", real_fsync),
    )


def test_cells_that_a_spreadsheet_would_run_are_written_as_text_and_read_back_unchanged(tmp_path):
    guarded = ['=HYPERLINK("http://x")', "+1+1 song", "-rf", "@SUM(A1)", "\tcell"]
    values = [*guarded, "plain", "-3.5", "+2", "'quoted", "'-3.5", ""]
    path = tmp_path / "cells.csv"
    csv_io.write_csv(path, ["value"], [{"value": v} for v in values])
    with open(path, newline="", encoding=csv_io.CSV_ENCODING) as handle:
        raw = [row["value"] for row in csv.DictReader(handle)]
    assert raw == [f"'{v}" if v in guarded else v for v in values]  # numbers and plain text untouched
    assert csv_io.read_csv_rows(path) == (["value"], [{"value": v} for v in values])
