"""``metrics.csv`` recomputed from the exported CSVs, with mir_eval, outside the product's scorer.

``calibrate`` runs as a user runs it, on a ``results.csv`` whose engine answers carry known
errors (nine songs at half tempo, one of which alone sets the fold's edge; eight minor songs
heard as their relative major, two a fifth up). Every number in ``metrics.csv`` is then
recomputed from ``results.csv`` (raw) and ``comparison.csv`` (calibrated in-sample and
cross-validated) with numpy and ``mir_eval``, and the headline numbers are also pinned to what
the construction implies, so a scorer that agreed with a wrong export would still fail.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from engine.analysis.keys import PITCH_NAMES

MAIN = Path(__file__).resolve().parent.parent / "main.py"
RIGHT = [100.0, 101.0, *(105.0 + 55.0 * k / 8 for k in range(9))]
HALF = [70.0, 71.0, 72.0, 73.0, 74.0, 75.0, 76.0, 77.0, 95.0]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def songs() -> list[dict[str, object]]:
    """Twenty songs: (file, detected BPM, reference BPM, detected key, reference key)."""
    out = []
    for i, bpm in enumerate(RIGHT + HALF):
        ref_bpm = bpm if i < len(RIGHT) else 2 * bpm
        tonic = i % 12
        ref_key = f"{PITCH_NAMES[tonic]} minor"
        if i < 8:  # heard as the relative major
            key = f"{PITCH_NAMES[(tonic + 3) % 12]} major"
        elif i < 10:  # a fifth up
            key = f"{PITCH_NAMES[(tonic + 7) % 12]} minor"
        else:
            key = ref_key
        out.append({"file": f"song{i:02d}.wav", "bpm": bpm, "ref_bpm": ref_bpm, "key": key, "ref_key": ref_key})
    return out


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metrics")
    with open(folder / "results.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "file", "status", "bpm", "key"])
        for s in songs():
            writer.writerow([f"/music/{s['file']}", s["file"], "done", s["bpm"], s["key"]])
    with open(folder / "truth.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "bpm", "key"])
        for s in songs():
            writer.writerow([s["file"], s["ref_bpm"], s["ref_key"]])
    done = subprocess.run(
        [sys.executable, str(MAIN), "calibrate", str(folder), "--reference", str(folder / "truth.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = {r["metric"]: r for r in read_csv(folder / "metrics.csv")}
    return metrics, read_csv(folder / "results.csv"), read_csv(folder / "comparison.csv")


def tempo_numbers(detected: list[float], reference: list[float]) -> dict[str, float]:
    """Acc1 through mir_eval's tempo detection (4 % window); Acc2 over the allowed multiples; MAE."""
    acc1, acc2 = [], []
    for d, r in zip(detected, reference, strict=True):
        _, one, _ = mir_eval.tempo.detection(np.array([r, r]), 0.5, np.array([d, d]), tol=0.04)
        acc1.append(one)
        multiples = [
            mir_eval.tempo.detection(np.array([r * f, r * f]), 0.5, np.array([d, d]), tol=0.04)[1]
            for f in (1.0, 2.0, 0.5, 3.0, 1 / 3)
        ]
        acc2.append(max(multiples))
    return {
        "tempo_acc1": float(np.mean(acc1)),
        "tempo_acc2": float(np.mean(acc2)),
        "tempo_mae_bpm": float(np.mean(np.abs(np.array(detected) - np.array(reference)))),
    }


def key_numbers(detected: list[str], reference: list[str]) -> dict[str, float]:
    return {
        "key_exact": float(np.mean([d == r for d, r in zip(detected, reference, strict=True)])),
        "key_mirex": float(
            np.mean([mir_eval.key.weighted_score(r, d) for d, r in zip(detected, reference, strict=True)])
        ),
    }


def test_every_column_of_metrics_csv_is_the_score_of_the_exported_answers(calibrated):
    metrics, results, comparison = calibrated
    assert len(comparison) == 20
    by_path = {r["path"]: r for r in results}
    ref_bpm = [float(r["ref_bpm"]) for r in comparison]
    ref_key = [r["ref_key"] for r in comparison]
    columns = {
        "raw": (
            [float(by_path[r["path"]]["bpm"]) for r in comparison],
            [by_path[r["path"]]["key"] for r in comparison],
        ),
        "calibrated_in_sample": (
            [float(r["bpm_calibrated"]) for r in comparison],
            [r["key_calibrated"] for r in comparison],
        ),
        "calibrated_cv": (
            [float(r["bpm_calibrated_cv"]) for r in comparison],
            [r["key_calibrated_cv"] for r in comparison],
        ),
    }
    for column, (bpms, keys) in columns.items():
        expected = {**tempo_numbers(bpms, ref_bpm), **key_numbers(keys, ref_key)}
        for metric, value in expected.items():
            # the CSV's BPMs are rounded to 0.01, so a mean of them can be 0.005 off
            tolerance = 6e-3 if metric == "tempo_mae_bpm" else 2e-4
            assert float(metrics[metric][column]) == pytest.approx(value, abs=tolerance), (metric, column)
        assert metrics["tempo_acc1"]["n"] == "20" and metrics["key_exact"]["n"] == "20"


def test_the_three_columns_are_what_the_construction_implies(calibrated):
    """Raw 11/20 tempo right; in-sample all 20 (the fold's edge sits above 95 BPM); out-of-fold 19
    (without the 95 BPM song the edge sits below it). Keys: 10 exact raw, 18 after the mode shift;
    MIREX raw (10 + 8 × 0.3 + 2 × 0.5) / 20, calibrated (18 + 2 × 0.5) / 20."""
    metrics, _, comparison = calibrated
    got = {m: tuple(float(metrics[m][c]) for c in ("raw", "calibrated_in_sample", "calibrated_cv")) for m in metrics}
    assert got["tempo_acc1"] == pytest.approx((11 / 20, 20 / 20, 19 / 20))
    assert got["key_exact"] == pytest.approx((10 / 20, 18 / 20, 18 / 20))
    assert got["key_mirex"] == pytest.approx((13.4 / 20, 19 / 20, 19 / 20))
    edge = next(r for r in comparison if r["file"] == "song19.wav")
    assert float(edge["bpm_calibrated"]) == pytest.approx(190.0) and float(edge["bpm_calibrated_cv"]) == pytest.approx(
        95.0
    )
