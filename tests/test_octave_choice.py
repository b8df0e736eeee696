"""Calibration's octave choice: per song, the detected tempo or an octave/2:3/3:4 relative.

The observations are constructed so that the right answer is known: a reference whose
convention depends on evidence the engine returns (onset rate, candidate strengths), which no
BPM-range rule can express, and a reference whose convention is pure noise, which no rule may
"learn". The engine's own candidates are checked end to end on generated audio: written to
``results.csv``, kept in the cache, and read back by ``calibrate``.
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.calibration import AnalysedSong, Observation, Profile, ProfileError, fit_calibration
from engine.calibration.octave_rules import ALTERNATIVES, evidence_row
from engine.references.readers import ReferenceRow
from engine.references.scoring import score
from engine.results import format_candidates, parse_candidates
from tests.audio import song

MAIN = Path(__file__).resolve().parent.parent / "main.py"


def observation(i: int, bpm: float, ref: float, evidence: np.ndarray | None) -> Observation:
    song_ = AnalysedSong(
        f"/songs/{i:03d}.wav", "done", bpm, "", tempo_evidence=None if evidence is None else tuple(evidence)
    )
    return Observation(song_, ReferenceRow(i + 2, "ref.csv", file=f"{i:03d}.wav", bpm=ref), "file name")


def busy_set(n: int, seed: int) -> list[Observation]:
    """Detected 85–110 BPM everywhere; the reference doubles exactly the busy songs (≥ 6 onsets/s).

    Both readings are equally periodic and the detected tempi of both kinds overlap, so only
    the onset rate tells them apart.
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        bpm = float(rng.uniform(85, 110))
        busy = bool(rng.random() < 0.5)
        rate = float(rng.uniform(6.5, 9.0) if busy else rng.uniform(2.0, 4.5))
        candidates = [(bpm, 0.6), (2 * bpm, 0.55), (bpm / 2, 0.4)]
        evidence = evidence_row(bpm, candidates, rate, 0.4, 0.0)
        out.append(observation(i, bpm, 2 * bpm if busy else bpm, evidence))
    return out


def strength_set(n: int, seed: int) -> list[Observation]:
    """The reference takes the 3:2 relative exactly when the tempogram has a strong peak there."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        bpm = float(rng.uniform(70, 100))
        triple = bool(rng.random() < 0.5)
        strength = float(rng.uniform(0.5, 0.7) if triple else rng.uniform(0.0, 0.1))
        candidates = [(bpm, 0.6), (1.5 * bpm, strength), (2 * bpm, 0.3)]
        evidence = evidence_row(bpm, candidates, float(rng.uniform(3, 6)), 0.4, 0.0)
        out.append(observation(i, bpm, 1.5 * bpm if triple else bpm, evidence))
    return out


def acc1(bpms, refs) -> float:
    return score(list(zip(bpms, refs, strict=True)), []).acc1


def stage(calibration, name: str) -> dict:
    return next(s for s in calibration.profile.stages if s["stage"] == name)


def test_octave_choice_learns_a_convention_that_depends_on_onset_rate():
    calibration = fit_calibration(busy_set(60, seed=1))
    assert stage(calibration, "octave choice")["kept"]
    assert [c["type"] for c in calibration.profile.tempo][:1] == ["octave_choice"]
    refs = [o.row.bpm for o in calibration.observations]
    assert acc1([o.song.bpm for o in calibration.observations], refs) < 0.65
    assert acc1(calibration.bpm_cv, refs) >= 0.9
    assert acc1(calibration.bpm_in_sample, refs) >= 0.9  # the in-sample column reads each song's evidence too
    # unseen songs, through the saved profile's own code path
    unseen = busy_set(40, seed=2)
    profile = Profile.from_json(calibration.profile.to_json())
    answers = [profile.calibrate_bpm(o.song.bpm, o.song.tempo_evidence) for o in unseen]
    assert acc1(answers, [o.row.bpm for o in unseen]) >= 0.9
    # and through what the window shows beside a song analysed after the fit: its evidence is used too
    later = [AnalysedSong(f"/later/{i}.wav", "done", o.song.bpm, "", tempo_evidence=o.song.tempo_evidence)
             for i, o in enumerate(unseen)]
    assert [calibration.answers_for(s).bpm_cv for s in later] == pytest.approx(answers)
    # without evidence (a result from an older engine) the choice leaves the song alone
    assert profile.calibrate_bpm(100.0) == pytest.approx(100.0)


def test_octave_choice_learns_a_convention_that_depends_on_candidate_strength():
    calibration = fit_calibration(strength_set(60, seed=3))
    assert stage(calibration, "octave choice")["kept"]
    assert acc1(calibration.bpm_cv, [o.row.bpm for o in calibration.observations]) >= 0.9


def test_octave_choice_is_rejected_when_the_convention_is_noise():
    rng = np.random.default_rng(5)
    obs = []
    for i in range(80):
        bpm = float(rng.uniform(85, 110))
        evidence = evidence_row(bpm, [(bpm, 0.6), (2 * bpm, 0.55)], float(rng.uniform(2, 9)), 0.4, 0.0)
        obs.append(observation(i, bpm, bpm * (2 if rng.random() < 0.5 else 1), evidence))
    calibration = fit_calibration(obs)
    assert not stage(calibration, "octave choice")["kept"]
    assert not any(c["type"] == "octave_choice" for c in calibration.profile.tempo)


def test_calibrated_answers_follow_a_flipped_convention():
    """A "half-time" library (reference halved above 140): raw Acc1 drops, calibrated Acc1 follows the flip."""
    rng = np.random.default_rng(7)
    true_bpms = np.exp(rng.uniform(math.log(70), math.log(180), 80))
    plain, flipped = [], []
    for i, true in enumerate(true_bpms):
        bpm = float(true * rng.normal(1.0, 0.006))
        evidence = evidence_row(bpm, [(bpm, 0.6), (bpm / 2, 0.5), (2 * bpm, 0.3)], float(rng.uniform(2, 8)), 0.4, 0)
        plain.append(observation(i, bpm, float(true), evidence))
        flipped.append(observation(i, bpm, float(true / 2 if true > 140 else true), evidence))
    refs = [o.row.bpm for o in flipped]
    raw = acc1([o.song.bpm for o in flipped], refs)
    calibrated = fit_calibration(flipped)
    assert raw < 0.8
    assert acc1(calibrated.bpm_cv, refs) >= 0.95
    assert acc1(fit_calibration(plain).bpm_cv, [o.row.bpm for o in plain]) >= 0.95


def test_evidence_row_reads_each_alternative_from_the_candidates():
    row = evidence_row(100.0, [(100.0, 0.6), (201.0, 0.5), (66.0, 0.2), (150.0, -0.1)], 4.0, 0.3, 0.1)
    by_ratio = dict(zip(ALTERNATIVES, row[1 : 1 + len(ALTERNATIVES)], strict=True))
    assert by_ratio[1.0] == 0.6 and by_ratio[2.0] == 0.5 and by_ratio[2 / 3] == 0.2
    assert by_ratio[0.5] == 0.0 and by_ratio[1.5] == 0.0  # no peak at 50; a negative strength counts as none
    assert list(row[-3:]) == [4.0, 0.3, 0.1]


def test_candidates_text_round_trips_and_bad_text_names_the_pair():
    pairs = [(128.04, 0.6123), (64.0, 0.41)]
    assert parse_candidates(format_candidates(pairs)) == pairs
    assert parse_candidates("") == []
    with pytest.raises(ValueError, match="'120:abc'"):
        parse_candidates("64.0:0.4;120:abc")
    with pytest.raises(ValueError, match=r"'-3:0\.2'"):
        parse_candidates("-3:0.2")


def test_a_damaged_octave_choice_fails_when_the_profile_is_loaded():
    calibration = fit_calibration(busy_set(60, seed=1))
    data = calibration.profile.to_json()
    choice = next(c for c in data["corrections"]["tempo"] if c["type"] == "octave_choice")
    choice["weights"] = choice["weights"][:-1]
    with pytest.raises(ProfileError, match="octave_choice"):
        Profile.from_json(data)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(MAIN), *args], capture_output=True, text=True, timeout=240)


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_candidates_reach_results_csv_and_the_cache(tmp_path):
    for name, bpm in {"a.wav": 120.0, "b.wav": 96.0}.items():
        song(tmp_path / "songs" / name, bpm, 8.0)
    common = ["--workers", "2", "--cache-file", str(tmp_path / "cache.sqlite3")]
    first = run_cli("analyze", str(tmp_path / "songs"), "--out", str(tmp_path / "one"), *common)
    assert first.returncode == 0, first.stderr
    again = run_cli("analyze", str(tmp_path / "songs"), "--out", str(tmp_path / "two"), *common)
    assert again.returncode == 0, again.stderr
    one = {r["file"]: r for r in read_rows(tmp_path / "one" / "results.csv")}
    two = {r["file"]: r for r in read_rows(tmp_path / "two" / "results.csv")}
    for name, bpm in {"a.wav": 120.0, "b.wav": 96.0}.items():
        candidates = parse_candidates(one[name]["bpm_candidates"])
        assert len(candidates) >= 2
        assert any(abs(c / bpm - 1) <= 0.04 for c, _ in candidates)
        assert float(one[name]["onset_rate"]) > 0
        assert two[name]["cached"] == "1"
        for column in ("bpm_candidates", "onset_rate", "onset_high_share", "bpm_chunk_spread"):
            assert two[name][column] == one[name][column], column
        evidence = AnalysedSong.from_row(two[name]).tempo_evidence
        assert evidence is not None and evidence[0] == pytest.approx(float(one[name]["bpm"]))


def test_calibrate_warns_about_an_unreadable_candidate_cell_and_keeps_the_song(tmp_path):
    for name, bpm in {"a.wav": 120.0, "b.wav": 96.0, "c.wav": 140.0}.items():
        song(tmp_path / "songs" / name, bpm, 6.0)
    out = tmp_path / "out"
    done = run_cli(
        "analyze", str(tmp_path / "songs"), "--out", str(out), "--workers", "2", "--cache-file", str(tmp_path / "c")
    )
    assert done.returncode == 0, done.stderr
    path = out / "results.csv"
    rows = read_rows(path)
    rows[1]["bpm_candidates"] = "96.0:zz"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    reference = tmp_path / "truth.csv"
    reference.write_text("file,bpm\na.wav,120\nb.wav,96\nc.wav,140\n", encoding="utf-8")
    result = run_cli("calibrate", str(out), "--reference", str(reference), "--min-songs", "3")
    assert f"{rows[1]['file']}: bpm_candidates: bad tempo candidate '96.0:zz'" in result.stderr
    assert result.returncode == 0, result.stderr
    assert len(read_rows(path)) == 3
