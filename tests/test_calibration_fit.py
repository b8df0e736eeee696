"""Fitting a calibration on synthetic sets whose engine errors are known by construction.

The engine's answers here are generated (a known half-tempo range, a known key shift, pure
noise), because the point is to test what the fit does with a known error pattern; the real
engine's answers are calibrated end to end in test_calibration_cli.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import binomtest

from engine.analysis.keys import KEY_LABELS
from engine.calibration import (
    AnalysedSong,
    CalibrationError,
    Observation,
    Profile,
    ProfileError,
    fit_calibration,
    load_profile,
    save_profile,
)
from engine.calibration.crossval import folds, scheme_for, sign_test
from engine.calibration.key_rules import shift
from engine.references.readers import ReferenceRow
from engine.references.scoring import score


def observation(i, bpm, key, ref_bpm, ref_key, loudness=None, features=None) -> Observation:
    measurements = {} if loudness is None else {"loudness_db": loudness}
    song = AnalysedSong(f"/songs/{i:03d}.wav", "done", bpm, key, measurements)
    row = ReferenceRow(i + 2, "ref.csv", file=f"{i:03d}.wav", bpm=ref_bpm, key=ref_key, features=features or {})
    return Observation(song, row, "file name")


def half_tempo_set(n: int, seed: int) -> list[Observation]:
    """True tempi 90–180 BPM; the engine reports half the tempo for every song from 140 BPM up."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        true = float(np.exp(rng.uniform(math.log(90), math.log(180))))
        detected = true * float(rng.normal(1.0, 0.008))
        if true >= 140:
            detected /= 2
        key = KEY_LABELS[int(rng.integers(24))]
        out.append(observation(i, detected, key, true, key))
    return out


def acc1(bpms, refs) -> float:
    return score(list(zip(bpms, refs, strict=True)), []).acc1


def test_half_tempo_range_is_learned_and_fixes_unseen_songs():
    train = half_tempo_set(40, seed=1)
    calibration = fit_calibration(train)
    metrics = calibration.profile.metrics
    assert metrics["raw"]["tempo_acc1"] < 0.8
    assert metrics["calibrated_cv"]["tempo_acc1"] >= 0.95  # held-out songs, not the fitted ones
    assert calibration.profile.tempo, "a tempo correction should have been kept"
    assert all(c["type"] in ("fold", "range_factor") for c in calibration.profile.tempo)
    kept = [s for s in calibration.profile.stages if s["domain"] == "tempo" and s["kept"]]
    assert kept and kept[0]["sign_test"]["p_value"] < 0.05
    # songs the profile never saw, from the same engine
    unseen = half_tempo_set(60, seed=99)
    refs = [o.row.bpm for o in unseen]
    assert acc1([o.song.bpm for o in unseen], refs) < 0.8
    assert acc1([calibration.profile.calibrate_bpm(o.song.bpm) for o in unseen], refs) >= 0.95


def test_the_cross_validated_numbers_are_out_of_fold():
    calibration = fit_calibration(half_tempo_set(40, seed=2))
    tempo = [o for o in calibration.observations if o.has_tempo]
    cv = [calibration.bpm_cv[i] for i, o in enumerate(calibration.observations) if o.has_tempo]
    assert calibration.profile.metrics["calibrated_cv"]["tempo_acc1"] == pytest.approx(
        acc1(cv, [o.row.bpm for o in tempo]), abs=1e-4
    )


def noise_set(n: int, seed: int) -> list[Observation]:
    """The reference is the detected tempo or double it at random: nothing here can be learned."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        detected = float(np.exp(rng.uniform(math.log(60), math.log(200))))
        true = detected * 2 if rng.random() < 0.5 else detected
        out.append(observation(i, detected, "C major", true, "C major"))
    return out


@pytest.mark.parametrize("n", [60, 300])
def test_a_rule_that_only_fits_noise_is_rejected(n):
    """In-sample a tempo rule nearly always looks good on noise; cross-validation keeps almost none.

    A sample can contain a real imbalance by chance (say 70 % of its songs were annotated at
    double tempo), which every fold also sees, so a few seeds may keep a rule; 20 seeds at a
    5 % test keep about one. The 300-song library is where the fixed support floor matters:
    rules fitted to 5 noise songs are proposed there, and the held-out songs must turn them down.
    """
    kept, fitted_seeds, optimism = 0, 0, []
    seeds = range(20 if n < 100 else 10)
    for seed in seeds:
        calibration = fit_calibration(noise_set(n, seed))
        stages = [s for s in calibration.profile.stages if s["domain"] == "tempo" and s["stage"] != "linear"]
        fitted = [s for s in stages if s["corrections"]]
        fitted_seeds += bool(fitted)
        for stage in fitted:
            in_sample = stage["corrections"][-1]["stats"]["acc1_after"]
            optimism.append(in_sample - stage["cv_after"]["acc1"])
        if calibration.profile.tempo:
            kept += 1
        else:
            metrics = calibration.profile.metrics
            assert metrics["calibrated_cv"]["tempo_acc1"] == metrics["raw"]["tempo_acc1"]
    assert fitted_seeds >= 0.75 * len(seeds), "in-sample some rule nearly always looks like it helps"
    assert kept <= 2
    assert np.mean(optimism) > 0.05  # the in-sample number flatters; the cross-validated one does not


def test_a_convention_on_a_few_percent_of_a_large_library_is_learned():
    """A "half-time" DJ library files its few fast songs at half; 4 % of 300 songs is worth learning.

    The engine is right by the usual convention; the reference halves everything above 140 BPM,
    which here is about a dozen songs. The sign test on held-out songs is what decides; a support
    floor that grew with the library (5 % = 15 songs) refused to even try, and this test was red.
    """
    rng = np.random.default_rng(11)
    songs = []
    for i in range(300):
        true = float(np.exp(rng.uniform(math.log(70), math.log(146))))
        detected = true * float(rng.normal(1.0, 0.008))
        songs.append(observation(i, detected, "C major", true / 2 if true > 140 else true, "C major"))
    fast = sum(o.song.bpm > 142 for o in songs)
    assert 8 <= fast <= 15  # a few percent of the library
    calibration = fit_calibration(songs)
    metrics = calibration.profile.metrics
    assert calibration.profile.tempo, [s["reason"] for s in calibration.profile.stages]
    assert metrics["calibrated_cv"]["tempo_acc1"] >= metrics["raw"]["tempo_acc1"] + 0.6 * fast / len(songs)


def test_a_linear_scaler_is_kept_only_when_it_helps():
    rng = np.random.default_rng(5)
    drift = []
    for i in range(40):
        true = float(rng.uniform(80, 160))
        drift.append(observation(i, true * 0.975 * float(rng.normal(1, 0.002)), "C major", true, "C major"))
    calibration = fit_calibration(drift)
    assert [c["type"] for c in calibration.profile.tempo] == ["linear"]
    metrics = calibration.profile.metrics
    assert metrics["calibrated_cv"]["tempo_mae_bpm"] < 0.5 * metrics["raw"]["tempo_mae_bpm"]
    # on the half-tempo set a line through octave errors must not be kept
    stages = {s["stage"]: s for s in fit_calibration(half_tempo_set(40, seed=1)).profile.stages}
    assert not stages["linear"]["kept"]


def test_a_linear_scaler_that_costs_exact_tempi_is_not_kept():
    """Most songs 0.5 % fast, the rest exact to the hundredth: a slope brings the fast ones closer (lower MAE,
    most held-out songs better) but moves every exact tempo off by 0.3 BPM. Red without the exactness check."""
    rng = np.random.default_rng(11)
    songs = []
    for i in range(100):
        true = float(rng.uniform(80, 160))
        detected = true * (1.005 * float(rng.normal(1, 0.0005)) if i % 5 < 3 else 1.0) + float(rng.normal(0, 0.005))
        songs.append(observation(i, detected, "C major", true, "C major"))
    raw = score([(o.song.bpm, o.row.bpm) for o in songs], [])
    assert raw.bpm_precise_acc2 == pytest.approx(0.4)
    stages = {s["stage"]: s for s in fit_calibration(songs).profile.stages}
    assert not stages["linear"]["kept"]
    assert stages["linear"]["reason"].startswith("rejected, costs exact tempi"), stages["linear"]["reason"]


def test_key_shift_by_a_fifth_is_learned():
    rng = np.random.default_rng(7)
    obs = []
    for i in range(40):
        true = KEY_LABELS[int(rng.integers(24))]
        detected = shift(true, "fifth up") if rng.random() < 0.8 else true
        obs.append(observation(i, 120.0, detected, 120.0, true))
    calibration = fit_calibration(obs)
    assert {(c["from_mode"], c["relation"]) for c in calibration.profile.key if c["type"] == "mode_shift"} == {
        ("major", "fifth down"),
        ("minor", "fifth down"),
    }
    metrics = calibration.profile.metrics
    assert metrics["raw"]["key_exact"] < 0.3
    assert metrics["calibrated_cv"]["key_exact"] >= metrics["raw"]["key_exact"] + 0.25
    assert metrics["calibrated_in_sample"]["key_exact"] >= metrics["calibrated_cv"]["key_exact"]
    assert calibration.profile.calibrate_key("G major") == "C major"


def test_confusion_remap_needs_support():
    obs = []
    for i in range(10):  # E minor heard as its relative, G major
        obs.append(observation(i, 120.0, "G major", 120.0, "E minor"))
    for i in range(10, 12):  # two true G major songs
        obs.append(observation(i, 120.0, "G major", 120.0, "G major"))
    for i in range(12, 30):
        key = KEY_LABELS[i % 24]
        obs.append(observation(i, 120.0, key, 120.0, key))
    obs.append(observation(30, 120.0, "D major", 120.0, "B minor"))  # one song: below the support
    calibration = fit_calibration(obs)
    remaps = [c for c in calibration.profile.key if c["type"] == "remap"]
    assert len(remaps) == 1
    assert remaps[0]["entries"] == {"G major": {"to": "E minor", "support": 10, "songs": 12, "kept_right": 2}}
    assert calibration.profile.calibrate_key("D major") == "D major"


def test_feature_scalers_report_r2_and_mae_before_and_after():
    rng = np.random.default_rng(3)
    obs = []
    for i in range(40):
        engine_db = float(rng.uniform(-30, -10))
        features = {
            "loudness_db": 0.8 * engine_db + 9 + float(rng.normal(0, 0.5)),
            "energy": float(rng.uniform(0, 100)),
        }
        features["danceability"] = 50.0
        obs.append(observation(i, 120.0, "C major", 120.0, "C major", loudness=engine_db, features=features))
    calibration = fit_calibration(obs)
    (loud,) = calibration.profile.features
    assert loud["feature"] == "loudness_db" and loud["slope"] == pytest.approx(0.8, abs=0.05)
    stats = loud["stats"]
    assert stats["r2"] > 0.95 and stats["mae_cv"] < 0.2 * stats["mae_before"]
    energy = next(s for s in calibration.profile.stages if s["domain"] == "feature:energy")
    assert not energy["kept"]  # energy here is unrelated to loudness
    assert any("danceability not calibrated" in note for note in calibration.notes)
    rows = {r["metric"]: r for r in calibration.metrics}
    assert rows["feature_loudness_db_mae"]["calibrated_cv"] < rows["feature_loudness_db_mae"]["raw"]
    assert calibration.profile.calibrate_features({"loudness_db": -20.0})["loudness_db"] == pytest.approx(-7, abs=0.5)


def test_too_few_songs_is_refused_with_the_number_needed():
    obs = half_tempo_set(11, seed=1)
    with pytest.raises(
        CalibrationError, match=r"need at least 12 matched songs .* have 11 with a BPM and 11 with a key"
    ):
        fit_calibration(obs)
    with pytest.raises(CalibrationError, match="at least 20"):
        fit_calibration(half_tempo_set(15, seed=1), min_songs=20)


def test_a_domain_with_too_few_songs_is_skipped_not_faked():
    obs = half_tempo_set(20, seed=1)
    obs = [observation(i, o.song.bpm, o.song.key, o.row.bpm, o.row.key if i < 5 else None) for i, o in enumerate(obs)]
    calibration = fit_calibration(obs)
    assert calibration.profile.key == [] and calibration.profile.n_key == 5
    assert any("key not calibrated: 5 matched songs" in n for n in calibration.notes)


def test_failed_songs_are_listed_but_not_fitted():
    obs = half_tempo_set(20, seed=4)
    failed = Observation(
        AnalysedSong("/songs/bad.wav", "error"), ReferenceRow(99, "ref.csv", file="bad.wav", bpm=100.0), "path"
    )
    calibration = fit_calibration([*obs, failed])
    assert calibration.profile.n_tempo == 20 and calibration.profile.n_songs == 21
    assert calibration.bpm_cv[-1] is None


# -- the profile file --------------------------------------------------------------------------------
def test_profile_round_trip(tmp_path):
    calibration = fit_calibration(
        half_tempo_set(40, seed=1),
        settings={"chunk_seconds": 30.0},
        references=[{"path": "ref.csv", "sha256": "ab" * 32, "rows": 40}],
    )
    path = save_profile(calibration.profile, tmp_path / "p.json")
    data = json.loads(path.read_text())
    for key in ("format_version", "created", "engine_version", "settings", "n_songs", "references", "corrections"):
        assert key in data
    assert data["references"][0]["rows"] == 40 and data["n_songs"] == 40
    assert data["cross_validation"]["tempo"] == {"scheme": "10-fold", "folds": 10, "seed": 0, "repeats": 5}
    assert all("stats" in c for c in data["corrections"]["tempo"])
    loaded = load_profile(path)
    for bpm in (60.0, 75.0, 100.0, 150.0, 230.0):
        assert loaded.calibrate_bpm(bpm) == calibration.profile.calibrate_bpm(bpm)
    assert loaded.warnings_for(loaded.engine_version, {"chunk_seconds": 30.0}) == []
    assert "chunk_seconds" in loaded.warnings_for(loaded.engine_version, {"chunk_seconds": 20.0})[0]
    assert "refit" in loaded.warnings_for("99.0", {"chunk_seconds": 30.0})[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "something else"}', "not a Calibration Studio profile"),
        ('{"format": "calibration-studio-profile", "format_version": 99}', "newer"),
        (
            '{"format": "calibration-studio-profile", "format_version": 1,'
            ' "corrections": {"tempo": [{"type": "warp"}]}}',
            "malformed",
        ),
    ],
)
def test_damaged_profiles_fail_on_load(tmp_path, content, message):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(ProfileError, match=message):
        load_profile(path)
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "none.json")


def test_an_empty_profile_changes_nothing():
    profile = Profile(n_songs=0)
    assert not (profile.tempo or profile.key or profile.features)
    assert profile.calibrate_bpm(123.4) == 123.4 and profile.calibrate_key("A minor") == "A minor"
    assert profile.calibrate_bpm(None) is None


# -- cross-validation machinery --------------------------------------------------------------------
@pytest.mark.parametrize("n", [12, 29, 30, 91])
def test_folds_partition_the_songs(n):
    parts = folds(n)
    assert sorted(np.concatenate(parts).tolist()) == list(range(n))
    assert len(parts) == (n if n < 30 else 10)
    assert scheme_for(n).name == ("leave-one-out" if n < 30 else "10-fold")


@pytest.mark.parametrize(
    ("better", "worse"), [(7, 0), (14, 5), (13, 9), (3, 3), (0, 4), (30, 12), (1560, 1440), (2400, 600)]
)
def test_sign_test_matches_scipy(better, worse):
    before = [0.0] * (better + worse) + [1.0] * 5
    after = [1.0] * better + [-1.0] * worse + [1.0] * 5
    verdict = sign_test(before, after)
    assert (verdict.better, verdict.worse) == (better, worse)
    if better + worse:
        expected = binomtest(better, better + worse, 0.5, alternative="greater").pvalue
        assert verdict.p_value == pytest.approx(expected)


def test_songs_analysed_after_the_fit_get_the_profiles_answer():
    calibration = fit_calibration(half_tempo_set(40, seed=1))
    later = AnalysedSong("/songs/new.wav", "done", 80.0, "A minor")
    bpm_in, bpm_cv, key_in, key_cv = calibration.answers_for(later)
    assert bpm_in == bpm_cv == calibration.profile.calibrate_bpm(80.0) == pytest.approx(160.0)
    assert key_in == key_cv == "A minor"
    first = calibration.observations[0]
    assert calibration.answers_for(first.song)[1] == calibration.bpm_cv[0]


def test_the_profile_does_not_depend_on_the_order_the_songs_arrive_in():
    """Folds are drawn over the songs' content, not their positions: the same library read in
    another order (another folder walk, another CSV) gives the same profile and the same answers."""
    songs = half_tempo_set(45, seed=3) + noise_set(45, seed=4)
    songs = [observation(i, o.song.bpm, o.song.key, o.row.bpm, o.row.key) for i, o in enumerate(songs)]
    first = fit_calibration(songs)
    order = np.random.default_rng(8).permutation(len(songs))
    second = fit_calibration([songs[i] for i in order])
    assert first.profile.stages == second.profile.stages
    assert first.profile.tempo == second.profile.tempo
    for position, i in enumerate(order):
        assert second.bpm_cv[position] == first.bpm_cv[i]
        assert second.key_cv[position] == first.key_cv[i]


def marginal_set(seed: int, n: int = 150, fast: int = 7) -> list[Observation]:
    """A half-time library with just enough behind it: ``fast`` songs (150–185 BPM) filed at half."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        is_fast = i < fast
        true = float(rng.uniform(150, 185)) if is_fast else float(np.exp(rng.uniform(math.log(70), math.log(140))))
        detected = true * float(rng.normal(1.0, 0.008))
        out.append(observation(i, detected, "C major", true / 2 if is_fast else true, "C major"))
    return out


def test_a_convention_with_few_songs_behind_it_does_not_hang_on_one_fold_layout():
    """Seven fixable songs in 150: with a single layout, folds that happen to hold three of them
    leave their training songs short of support, and the rule passes or fails by luck (13 of 20
    such libraries). Judged on several layouts it is learned in every one."""
    kept = [bool(fit_calibration(marginal_set(seed)).profile.tempo) for seed in range(10)]
    assert all(kept), kept


def test_each_stage_report_says_why_it_was_kept_or_not():
    """The stage reports in profile.json, as a person reads them: what was kept and why, what found nothing."""
    calibration = fit_calibration(half_tempo_set(40, seed=1))
    stages = {s["stage"]: s for s in calibration.profile.stages if s["domain"] == "tempo"}
    fields = {"domain", "stage", "kept", "reason", "min_support", "cv_before", "cv_after", "sign_test", "corrections"}
    assert all(set(s) == fields and s["min_support"] == 5 for s in stages.values())
    assert stages["fold"]["kept"]
    assert stages["fold"]["reason"].startswith("kept: cross-validated (5 fold layouts) Acc1 ")
    assert stages["fold"]["cv_before"]["acc1"] < stages["fold"]["cv_after"]["acc1"]
    assert not stages["range factor"]["corrections"] and not stages["range factor"]["kept"]
    assert stages["range factor"]["reason"] == "no rule on all 40 songs fixes at least 5 more songs than it breaks"
    assert stages["range factor"]["sign_test"] == {"songs_better": 0, "songs_worse": 0, "p_value": 1.0}


def drifting_half_tempo_set(n: int, seed: int) -> list[Observation]:
    """Every song read 3 % slow, and the fast ones (140 BPM up) at half tempo as well: two errors, two stages."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        true = float(np.exp(rng.uniform(math.log(90), math.log(180))))
        detected = true * 0.97 * float(rng.normal(1.0, 0.002))
        out.append(observation(i, detected / 2 if true >= 140 else detected, "C major", true, "C major"))
    return out


def test_stages_kept_one_after_the_other_are_all_in_the_profile():
    """The fold fixes the octave, then a linear scaler the 3 %: the profile applies both, in that order."""
    calibration = fit_calibration(drifting_half_tempo_set(40, seed=2))
    assert [c["type"] for c in calibration.profile.tempo] == ["fold", "linear"]
    assert calibration.profile.calibrate_bpm(150.0 * 0.97 / 2) == pytest.approx(150.0, rel=0.005)
    assert calibration.profile.calibrate_bpm(100.0 * 0.97) == pytest.approx(100.0, rel=0.005)
