"""The cross-validated answers are proven out-of-fold from outside the fit.

``calibrated_cv`` is the number the product asks users to believe, so these tests never read it
back through the fit's own bookkeeping. Each one builds songs where a song's own reference label
changes the correction, so its in-sample and out-of-fold answers must differ, and then refits
a profile *without* that song (or its fold) through the public :func:`fit_calibration` and asks
that profile for the song's answer. The fit's ``bpm_cv`` must equal that answer, and the
``calibrated_cv`` metric must equal the score of those refitted answers.

They go red when ``_select`` hands back in-sample answers as cross-validated, and when a fold
leaks its test songs into its training set (mutations run by hand: see docs/reliability.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.calibration import AnalysedSong, Observation, fit_calibration
from engine.references.readers import ReferenceRow


def observation(i: int, bpm: float, ref_bpm: float, loudness: float | None = None, **features: float) -> Observation:
    measurements = {} if loudness is None else {"loudness_db": loudness}
    song = AnalysedSong(f"/songs/{i:03d}.wav", "done", bpm, "C major", measurements)
    row = ReferenceRow(i + 2, "ref.csv", file=f"{i:03d}.wav", bpm=ref_bpm, key="C major", features=features)
    return Observation(song, row, "file name")


def without(obs: list[Observation], leave_out: set[int]) -> list[Observation]:
    return [o for i, o in enumerate(obs) if i not in leave_out]


def drift_set(n: int, seed: int) -> list[Observation]:
    """Every song is read 2.5 % slow with 0.4 % noise: a line fits, and each song's label moves it."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        true = float(rng.uniform(80, 160))
        out.append(observation(i, true * 0.975 * float(rng.normal(1, 0.004)), true))
    return out


def test_each_leave_one_out_answer_is_the_answer_of_a_profile_fitted_without_that_song():
    obs = drift_set(20, seed=11)  # under 30 songs: leave-one-out
    calibration = fit_calibration(obs)
    assert [c["type"] for c in calibration.profile.tempo] == ["linear"]
    refitted, in_sample = [], []
    for i, o in enumerate(obs):
        held_out = fit_calibration(without(obs, {i}))
        assert [c["type"] for c in held_out.profile.tempo] == ["linear"], f"song {i}: same stages without it"
        refitted.append(held_out.profile.calibrate_bpm(o.song.bpm))
        in_sample.append(calibration.profile.calibrate_bpm(o.song.bpm))
    # the construction works: every song's own label moved its in-sample answer
    assert min(abs(a - b) for a, b in zip(refitted, in_sample, strict=True)) > 5e-4
    assert calibration.bpm_cv == pytest.approx(refitted, rel=1e-12, abs=1e-9)
    assert calibration.bpm_in_sample == pytest.approx(in_sample, rel=1e-12, abs=1e-9)
    # the headline number is the score of the refitted answers, and is worse than in-sample:
    # a least-squares line is always further from a song it did not see
    refs = np.array([o.row.bpm for o in obs])
    mae_cv, mae_in = np.mean(np.abs(np.array(refitted) - refs)), np.mean(np.abs(np.array(in_sample) - refs))
    metrics = calibration.profile.metrics
    assert metrics["calibrated_cv"]["tempo_mae_bpm"] == pytest.approx(mae_cv, abs=1e-4)
    assert metrics["calibrated_in_sample"]["tempo_mae_bpm"] == pytest.approx(mae_in, abs=1e-4)
    assert mae_cv > mae_in + 1e-3


def edge_set() -> list[Observation]:
    """Eleven songs read right (100–160 BPM) and nine read at half tempo (70–77 and 95 BPM).

    Folding everything into one octave [low, 2·low) fixes the nine. Where the octave starts is
    learned from the songs: with the 95 BPM song it must start above 95 (so 95 becomes 190);
    without it, the middle of the free gap (80–100) is below 95, so that song stays wrong when
    held out. By construction: raw Acc1 11/20, in-sample 20/20, out-of-fold 19/20.
    """
    right = [100.0, 101.0, *(105.0 + 55.0 * k / 8 for k in range(9))]
    half = [70.0, 71.0, 72.0, 73.0, 74.0, 75.0, 76.0, 77.0, 95.0]
    obs = [observation(i, bpm, bpm) for i, bpm in enumerate(right)]
    return obs + [observation(len(right) + j, bpm, 2 * bpm) for j, bpm in enumerate(half)]


def test_a_song_that_alone_sets_a_rules_edge_is_wrong_out_of_fold_and_right_in_sample():
    obs = edge_set()
    edge = len(obs) - 1  # the 95 BPM song
    calibration = fit_calibration(obs)
    assert calibration.profile.tempo and calibration.profile.tempo[0]["type"] == "fold"
    # a profile that never saw the edge song leaves it at 95; the full profile doubles it
    assert fit_calibration(without(obs, {edge})).profile.calibrate_bpm(95.0) == pytest.approx(95.0)
    assert calibration.profile.calibrate_bpm(95.0) == pytest.approx(190.0)
    assert calibration.bpm_cv[edge] == pytest.approx(95.0)
    assert calibration.bpm_in_sample[edge] == pytest.approx(190.0)
    metrics = calibration.profile.metrics
    assert metrics["raw"]["tempo_acc1"] == pytest.approx(11 / 20)
    assert metrics["calibrated_in_sample"]["tempo_acc1"] == pytest.approx(20 / 20)
    assert metrics["calibrated_cv"]["tempo_acc1"] == pytest.approx(19 / 20)
    # every other song: its out-of-fold answer is what a profile without it says
    for i in (0, 1, 10, 11, 18):
        alone = fit_calibration(without(obs, {i})).profile.calibrate_bpm(obs[i].song.bpm)
        assert calibration.bpm_cv[i] == pytest.approx(alone), f"song {i}"


def test_each_ten_fold_answer_is_the_answer_of_a_profile_fitted_without_that_fold():
    obs = drift_set(40, seed=12)  # 30 songs and more: 10-fold
    calibration = fit_calibration(obs)
    assert calibration.profile.cross_validation["tempo"]["scheme"] == "10-fold"
    test_sets = [np.array(test) for test in calibration.cv_folds["tempo"]]
    assert len(test_sets) == 10 and all(3 <= len(test) <= 5 for test in test_sets)
    # the folds are a partition: no song is ever in two test sets, every song is in one
    flat = np.concatenate(test_sets)
    assert sorted(flat.tolist()) == list(range(len(obs)))
    for test in test_sets:
        held_out = fit_calibration(without(obs, set(test.tolist())))
        assert [c["type"] for c in held_out.profile.tempo] == ["linear"]
        for i in test:
            expected = held_out.profile.calibrate_bpm(obs[i].song.bpm)
            assert calibration.bpm_cv[i] == pytest.approx(expected, rel=1e-12), f"song {i}"
            assert abs(calibration.bpm_in_sample[i] - expected) > 1e-4, f"song {i}: in-sample must differ"


def test_feature_answers_out_of_fold_come_from_a_line_fitted_without_the_song():
    rng = np.random.default_rng(13)
    obs = []
    for i in range(16):
        engine_db = float(rng.uniform(-30, -10))
        obs.append(observation(i, 120.0, 120.0, engine_db, loudness_db=0.8 * engine_db + 9 + float(rng.normal(0, 0.6))))
    calibration = fit_calibration(obs)
    assert calibration.profile.feature_names == ["loudness_db"]
    cv = calibration.features_cv["loudness_db"]
    for i, o in enumerate(obs):
        held_out = fit_calibration(without(obs, {i})).profile
        assert held_out.feature_names == ["loudness_db"]
        expected = held_out.calibrate_features(o.song.measurements)["loudness_db"]
        assert cv[i] == pytest.approx(expected, abs=2e-3), f"song {i}"
    refs = np.array([o.row.features["loudness_db"] for o in obs])
    rows = {r["metric"]: r for r in calibration.metrics}
    assert rows["feature_loudness_db_mae"]["calibrated_cv"] == pytest.approx(
        np.mean(np.abs(np.array(cv) - refs)), abs=2e-3
    )
    assert rows["feature_loudness_db_mae"]["calibrated_cv"] > rows["feature_loudness_db_mae"]["calibrated_in_sample"]


def test_the_window_is_given_each_fitted_songs_own_out_of_fold_answer_and_a_new_song_the_profiles():
    """``answers_for``, what the window shows beside each song: for a song the profile was fitted on, its
    in-sample and out-of-fold answers (here they differ: 190 and 95); for a song it never saw, the
    profile's answer in both places. A song without a tempo reference has no out-of-fold BPM: the
    profile's answer stands in."""
    obs = edge_set()
    edge = len(obs) - 1
    no_tempo_reference = Observation(
        AnalysedSong("/songs/x.wav", "done", 90.0, "C major"),
        ReferenceRow(99, "ref.csv", file="x.wav", key="C major"),
        "file name",
    )
    calibration = fit_calibration([*obs, no_tempo_reference])
    assert calibration.answers_for(obs[edge].song)[:2] == (pytest.approx(190.0), pytest.approx(95.0))
    for i, o in enumerate(calibration.observations):
        assert calibration.answers_for(o.song) == (
            calibration.bpm_in_sample[i],
            calibration.bpm_cv[i] if calibration.bpm_cv[i] is not None else calibration.bpm_in_sample[i],
            calibration.key_in_sample[i],
            calibration.key_cv[i],
        ), o.song.path
    assert calibration.answers_for(no_tempo_reference.song)[:2] == (pytest.approx(180.0), pytest.approx(180.0))
    assert calibration.answers_for(AnalysedSong("/songs/new.wav", "done", 85.0, "D minor")) == (
        pytest.approx(170.0),
        pytest.approx(170.0),
        "D minor",
        "D minor",
    )
