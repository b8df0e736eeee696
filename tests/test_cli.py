"""The headless command line, run as a user runs it: a subprocess of main.py."""

from __future__ import annotations

import csv
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.analysis.keys import KEY_LABELS
from engine.exports import CHUNK_COLUMNS, RESULT_COLUMNS
from tests.audio import song

MAIN = Path(__file__).resolve().parent.parent / "main.py"


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(MAIN), *args], capture_output=True, text=True, timeout=timeout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_analyze_writes_both_csvs_and_reports_bad_songs(tmp_path):
    folder = tmp_path / "in"
    song(folder / "one.wav", 120, 9.0)
    song(folder / "sub" / "two.flac", 100, 5.0)
    (folder / "broken.mp3").write_bytes(b"ID3" + bytes(500))
    (folder / "cover.jpg").write_bytes(b"jpeg")
    out = tmp_path / "out"
    done = run_cli(
        "analyze",
        str(folder),
        "--out",
        str(out),
        "--workers",
        "2",
        "--chunk-seconds",
        "4",
        "--cache-file",
        str(tmp_path / "c.sqlite3"),
        "--bpm-range",
        "70:140",
    )
    assert done.returncode == 0, done.stderr
    assert "3 songs found, 1 non-audio files skipped" in done.stderr
    rows = {Path(r["path"]).name: r for r in read_csv(out / "results.csv")}
    assert set(rows) == {"one.wav", "two.flac", "broken.mp3"}
    assert list(read_csv(out / "results.csv")[0].keys()) == list(RESULT_COLUMNS)
    assert rows["broken.mp3"]["status"] == "error" and rows["broken.mp3"]["error"]
    for name in ("one.wav", "two.flac"):
        assert rows[name]["status"] == "done"
        assert rows[name]["key"] in KEY_LABELS
        assert 40 <= float(rows[name]["bpm"]) <= 240
        folded = float(rows[name]["bpm_in_range"])  # issue 24: the reported BPM folded, bpm as analysed
        assert 70 <= folded <= 140 and math.log2(folded / float(rows[name]["bpm"])) % 1 == pytest.approx(0, abs=1e-3)
    assert [rows[n]["title"] for n in ("one.wav", "two.flac", "broken.mp3")] == ["one", "two", "broken"]
    chunks = read_csv(out / "chunks.csv")
    assert list(chunks[0].keys()) == list(CHUNK_COLUMNS)
    assert sum(1 for c in chunks if c["path"].endswith("one.wav")) == int(rows["one.wav"]["chunks_total"]) == 2
    assert all(c["status"] == "ok" and int(c["worker_pid"]) > 0 for c in chunks)
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temp files

    again = run_cli(
        "analyze", str(folder), "--out", str(out), "--chunk-seconds", "4", "--cache-file", str(tmp_path / "c.sqlite3")
    )
    assert again.returncode == 0
    assert "(2 from cache)" in again.stderr
    assert {r["cached"] for r in read_csv(out / "results.csv") if r["status"] == "done"} == {"1"}
    assert {r["title"] for r in read_csv(out / "results.csv")} == {"one", "two", "broken"}  # cached songs too
    assert {r["bpm_in_range"] for r in read_csv(out / "results.csv")} == {""}  # no range: off


@pytest.mark.parametrize(
    "args,message",
    [
        (["analyze", "x.wav"], "--out"),
        (["analyze", "x.wav", "--out", "o", "--workers", "0"], "must be at least 1"),
        (["analyze", "x.wav", "--out", "o", "--chunk-seconds", "abc"], "is not a number"),
        (["analyze", "/no/such/folder", "--out", "o"], "no such file or folder"),
        (["analyze", "x.wav", "--out", "o", "--chunk-seconds", "1"], "too short"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, message):
    done = run_cli(*args, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr


def test_help_documents_every_option():
    done = run_cli("analyze", "--help", timeout=60)
    assert done.returncode == 0
    for option in ("--out", "--workers", "--chunk-seconds", "--overlap", "--chunk-timeout", "--force", "--no-cache"):
        assert re.search(rf"{option}\b", done.stdout)
