"""Calibration end to end as a user runs it: analyze with a reference, apply a profile, refit with calibrate."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.calibration.calibration_files import COMPARISON_COLUMNS, RESULT_EXTRA_COLUMNS
from engine.exports import RESULT_COLUMNS
from engine.references.scoring import tempo_ratio_class
from tests.audio import song

MAIN = Path(__file__).resolve().parent.parent / "main.py"
BPMS = {"a.wav": 120.0, "b.wav": 100.0, "c.flac": 90.0, "d.wav": 140.0}


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(MAIN), *args], capture_output=True, text=True, timeout=timeout)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """Four generated songs analysed once against a semicolon, BOM reference with a bad and a stray row."""
    root = tmp_path_factory.mktemp("calibration")
    for name, bpm in BPMS.items():
        song(root / "songs" / name, bpm, 6.0)
    reference = root / "truth.csv"
    reference.write_text(
        "\ufeffFile;BPM;Key\n"
        "songs/a.wav;120;A major\n"
        "songs/b.wav;100;Am\n"
        "songs/c.flac;90;8B\n"
        "d.wav;140,0;F#/Gb minor\n"  # by file name, decimal comma
        "e.wav;12o;C\n"  # bad BPM, and no such song
        "missing.wav;100;C\n",
        encoding="utf-8",
    )
    out = root / "out"
    common = ["--workers", "2", "--chunk-seconds", "4", "--cache-file", str(root / "cache.sqlite3")]
    done = run_cli(
        "analyze", str(root / "songs"), "--out", str(out), "--reference", str(reference), "--min-songs", "3", *common
    )
    assert done.returncode == 0, done.stderr
    return root, out, reference, common, done


def test_analyze_with_reference_writes_every_calibration_file(analysed):
    _root, out, _reference, _, done = analysed
    assert 'truth.csv: line 6: BPM "12o" is not a number' in done.stderr
    assert "matched 4 of 4 songs" in done.stderr
    for name in (
        "results.csv",
        "chunks.csv",
        "comparison.csv",
        "metrics.csv",
        "unmatched.csv",
        "profile.json",
        "run.json",
        "history.csv",
    ):
        assert (out / name).is_file(), name
    results = read_csv(out / "results.csv")
    assert list(results[0]) == [*RESULT_COLUMNS, *RESULT_EXTRA_COLUMNS]
    by_file = {r["file"]: r for r in results}
    assert {f: r["match_method"] for f, r in by_file.items()} == {
        "a.wav": "path",
        "b.wav": "path",
        "c.flac": "path",
        "d.wav": "file name",
    }
    assert {f: (float(r["ref_bpm"]), r["ref_key"]) for f, r in by_file.items()} == {
        "a.wav": (120.0, "A major"),
        "b.wav": (100.0, "A minor"),
        "c.flac": (90.0, "C major"),
        "d.wav": (140.0, "F# minor"),
    }
    comparison = read_csv(out / "comparison.csv")
    assert list(comparison[0]) == list(COMPARISON_COLUMNS) and len(comparison) == 4
    for row in comparison:
        assert row["ratio_class"] == tempo_ratio_class(float(row["bpm"]), float(row["ref_bpm"]))
        assert float(row["bpm_delta"]) == pytest.approx(float(row["bpm"]) - float(row["ref_bpm"]), abs=0.011)
    metrics = {r["metric"]: r for r in read_csv(out / "metrics.csv")}
    assert list(next(iter(metrics.values()))) == ["metric", "n", "raw", "calibrated_in_sample", "calibrated_cv"]
    same = sum(r["ratio_class"] == "same" for r in comparison)
    assert metrics["tempo_acc1"]["n"] == "4" and float(metrics["tempo_acc1"]["raw"]) == same / 4
    assert int(metrics["tempo_ratio_same"]["raw"]) == same
    # the command line says how exact the tempo is, not only its level: the numbers metrics.csv holds
    error, within = metrics["tempo_bpm_error_median_acc2"], metrics["tempo_within_0.05_acc2"]
    assert (
        f"at the matched level (Acc2 hits): median error raw {float(error['raw']):.3f} BPM, calibrated "
        f"{float(error['calibrated_cv']):.3f} BPM; within 0.05 BPM raw {float(within['raw']):.0%}, "
        f"calibrated {float(within['calibrated_cv']):.0%}"
    ) in done.stderr, done.stderr
    unmatched = read_csv(out / "unmatched.csv")
    assert sorted((r["kind"], r["path"], r["line"]) for r in unmatched) == [
        ("reference row", "e.wav", "6"),
        ("reference row", "missing.wav", "7"),
    ]


def test_profile_and_run_record_what_they_came_from(analysed):
    _, out, reference, _, _ = analysed
    profile = json.loads((out / "profile.json").read_text())
    assert profile["format"] == "calibration-studio-profile" and profile["n_songs"] == 4
    assert profile["references"] == [
        {"path": str(reference), "sha256": hashlib.sha256(reference.read_bytes()).hexdigest(), "rows": 6}
    ]
    assert profile["cross_validation"]["tempo"]["scheme"] == "leave-one-out"
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == "analyze" and run["counts"]["songs"] == 4
    assert run["settings"]["chunk_seconds"] == 4.0 and run["versions"]["mir_eval"]
    assert run["started"] <= run["finished"]
    assert run["calibration"]["matched"] == 4 and run["calibration"]["match_methods"] == {"path": 3, "file name": 1}
    assert any("line 6" in e for e in run["calibration"]["row_errors"])
    history = read_csv(out / "history.csv")
    assert len(history) == 1 and history[0]["command"] == "analyze" and history[0]["songs"] == "4"


def test_every_csv_opens_in_pandas(analysed):
    pandas = pytest.importorskip("pandas")
    _, out, _, _, _ = analysed
    first_columns = {"results.csv": "path", "comparison.csv": "path", "metrics.csv": "metric", "history.csv": "time"}
    for name, first in first_columns.items():
        frame = pandas.read_csv(out / name)
        assert frame.columns[0] == first, name  # the BOM does not leak into the header
    assert pandas.read_csv(out / "comparison.csv")["ref_bpm"].dtype.kind == "f"


def test_a_profile_applies_to_a_later_run(analysed, tmp_path):
    root, out, reference, common, _ = analysed
    results = {r["file"]: r for r in read_csv(out / "results.csv")}
    detected_keys = sorted({r["key"] for r in results.values()})
    # a hand-made profile: fold into [100, 200), and remap every detected key to F minor
    profile = {
        "format": "calibration-studio-profile",
        "format_version": 1,
        "n_songs": 0,
        "corrections": {
            "tempo": [{"type": "fold", "low": 100.0, "high": 200.0}],
            "key": [{"type": "remap", "entries": {k: {"to": "F minor"} for k in detected_keys}}],
        },
    }
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(profile))
    out2 = tmp_path / "out2"
    done = run_cli(
        "analyze",
        str(root / "songs"),
        "--out",
        str(out2),
        "--profile",
        str(path),
        "--reference",
        str(reference),
        *common,
    )
    assert done.returncode == 0, done.stderr
    for row in read_csv(out2 / "results.csv"):
        bpm = float(row["bpm"])
        expected = bpm * 2 if bpm < 100 else (bpm / 2 if bpm >= 200 else bpm)
        assert float(row["bpm_calibrated"]) == pytest.approx(expected, abs=0.011)
        assert row["key_calibrated"] == "F minor"
    metrics = {r["metric"]: r for r in read_csv(out2 / "metrics.csv")}
    assert "calibrated_profile" in metrics["key_exact"]
    assert float(metrics["key_exact"]["calibrated_profile"]) == 0.0  # no reference key is F minor
    run = json.loads((out2 / "run.json").read_text())
    assert run["profile_applied"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_calibrate_refits_without_the_audio(analysed, tmp_path):
    root, out, _reference, _, _ = analysed
    folder = tmp_path / "copy"
    shutil.copytree(out, folder)
    gone = tmp_path / "gone"
    shutil.copytree(root / "songs", gone)
    shutil.rmtree(root / "songs")  # nothing left to analyse: calibrate must not need it
    try:
        done = run_cli("calibrate", str(folder), "--min-songs", "3", "--out", str(tmp_path / "p.json"))
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "p.json").is_file()
        assert (folder / "profile.json").is_file()  # analyze's own calibration: now older than metrics.csv
        assert f"{folder / 'profile.json'} is an earlier calibration's" in done.stderr  # so the user knows
        assert len(read_csv(folder / "comparison.csv")) == 4
        results = read_csv(folder / "results.csv")
        assert len(results) == 4 and all(r["match_method"] for r in results)
        history = read_csv(folder / "history.csv")
        assert [h["command"] for h in history] == ["analyze", "calibrate"]
        assert history[0]["tempo_acc1_raw"] == history[1]["tempo_acc1_raw"]
        run = json.loads((folder / "run.json").read_text())
        assert run["command"] == "calibrate" and run["calibration"]["matched"] == 4
        fitted_metrics = read_csv(folder / "metrics.csv")
        refused = run_cli("calibrate", str(folder), "--min-songs", "50")
        assert refused.returncode == 1 and "need at least 50 matched songs" in refused.stderr
        folded = tmp_path / "folded"  # issue 24: a BPM range far from every tempo changes no score and no fit
        shutil.copytree(out, folded)
        ranged = run_cli(
            "calibrate", str(folded), "--min-songs", "3", "--out", str(tmp_path / "p2.json"), "--bpm-range", "250:500"
        )
        assert ranged.returncode == 0, ranged.stderr
        assert read_csv(folded / "metrics.csv") == fitted_metrics
        stages = [json.loads((tmp_path / name).read_text())["stages"] for name in ("p.json", "p2.json")]
        assert stages[0] == stages[1]
        rows = read_csv(folded / "results.csv")
        assert all(250 <= float(r["bpm_in_range"]) <= 500 for r in rows) and all(float(r["bpm"]) < 250 for r in rows)
    finally:
        shutil.copytree(gone, root / "songs")


def test_bad_calibration_inputs_fail_before_any_analysis(analysed, tmp_path):
    root, _, _reference, _common, _ = analysed
    missing = run_cli(
        "analyze", str(root / "songs"), "--out", str(tmp_path / "o"), "--reference", str(tmp_path / "no.csv")
    )
    assert missing.returncode == 2 and "reference file not found" in missing.stderr
    assert not (tmp_path / "o").exists()
    (tmp_path / "bad.json").write_text("{oops")
    bad = run_cli("analyze", str(root / "songs"), "--out", str(tmp_path / "o"), "--profile", str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr
    fuzzy = run_cli("analyze", str(root / "songs"), "--out", str(tmp_path / "o"), "--fuzzy", "2")
    assert fuzzy.returncode == 2 and "between 0" in fuzzy.stderr
    nothing = run_cli("calibrate", str(tmp_path))
    assert nothing.returncode == 2 and "results.csv not found" in nothing.stderr


def test_names_that_look_like_formulas_open_as_text_and_survive_calibrate(tmp_path):
    """A song called ``=SUM(1+1).wav`` must not run as a formula in Excel, and calibrate must still match it."""
    names = {"=SUM(1+1).wav": 120.0, "-cmd.wav": 100.0, "@import.wav": 90.0, "plain.wav": 140.0}
    for name, bpm in names.items():
        song(tmp_path / "songs" / name, bpm, 6.0)
    reference = tmp_path / "truth.csv"
    reference.write_text("file,bpm\n" + "".join(f"{n},{b:g}\n" for n, b in names.items()), encoding="utf-8")
    out = tmp_path / "out"
    common = ["--workers", "2", "--chunk-seconds", "4", "--cache-file", str(tmp_path / "cache.sqlite3")]
    done = run_cli(
        "analyze",
        str(tmp_path / "songs"),
        "--out",
        str(out),
        "--reference",
        str(reference),
        "--min-songs",
        "3",
        *common,
    )
    assert done.returncode == 0, done.stderr
    for export in ("results.csv", "comparison.csv"):
        cells = {r["file"] for r in read_csv(out / export)}
        assert cells == {"'=SUM(1+1).wav", "'-cmd.wav", "'@import.wav", "plain.wav"}, (export, cells)
    levels = [r["loudness_db"] for r in read_csv(out / "results.csv")]
    assert all(level.startswith("-") and float(level) < 0 for level in levels)  # numbers are never prefixed
    refit = run_cli("calibrate", str(out), "--min-songs", "3")
    assert refit.returncode == 0, refit.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["calibration"]["matched"] == 4
    assert {r["file"] for r in read_csv(out / "results.csv")} == {
        "'=SUM(1+1).wav",
        "'-cmd.wav",
        "'@import.wav",
        "plain.wav",
    }
