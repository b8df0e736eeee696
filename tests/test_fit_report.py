"""What a fit records beside its corrections: which domains it fitted, on how many songs, with which
folds, and the per-song answers and metrics the window and ``profile.json`` show (hand-made library).

A library where only the tempo has enough references: the key is noted as not calibrated, with the
numbers, and everything the fit reports must say "tempo only" consistently. Written for the survivors of
the mutation run on ``engine/calibration/fit.py`` (``fit_calibration``).
"""

from __future__ import annotations

import pytest

from engine.calibration.dataset import AnalysedSong, Observation
from engine.calibration.fit import fit_calibration
from engine.references.readers import ReferenceRow

KEYS = ("C major", "G major", "D major", "A minor", "E minor")


def library() -> list[Observation]:
    """14 songs: 2 with no reference, then 12 with a reference BPM (each right), the first 5 of them with a key."""
    obs = []
    for i in range(14):
        song = AnalysedSong(f"/songs/{i:03d}.wav", "done", 100.0 + i, KEYS[i % 5])
        row = ReferenceRow(
            i + 2,
            "ref.csv",
            file=f"{i:03d}.wav",
            bpm=100.0 + i if i >= 2 else None,
            key=KEYS[i % 5] if 2 <= i < 7 else None,
        )
        obs.append(Observation(song, row, "file name"))
    return obs


def test_a_library_with_enough_tempi_but_too_few_keys_is_fitted_for_tempo_only() -> None:
    settings, references = {"chunk_seconds": 30.0}, [{"path": "ref.csv", "rows": 14}]
    calibration = fit_calibration(library(), settings=settings, references=references, min_songs=12)
    profile = calibration.profile
    assert (profile.n_songs, profile.n_tempo, profile.n_key, profile.min_songs) == (14, 12, 5, 12)
    assert profile.settings == settings and profile.references == references
    assert "key not calibrated: 5 matched songs have a reference key; at least 12 are needed" in calibration.notes
    assert not any("tempo not calibrated" in note for note in calibration.notes)
    assert {stage["domain"] for stage in profile.stages} == {"tempo"} and profile.key == []
    assert profile.cross_validation == {"tempo": {"scheme": "leave-one-out", "folds": 12, "seed": 0, "repeats": 1}}
    # leave-one-out over the 12 songs with a BPM: each fold holds out one of them, by its observation index
    assert list(calibration.cv_folds) == ["tempo"]
    assert sorted(fold for (fold,) in calibration.cv_folds["tempo"]) == list(range(2, 14))
    assert calibration.bpm_cv == [None, None] + [100.0 + i for i in range(2, 14)]
    assert calibration.bpm_in_sample == [100.0 + i for i in range(14)]
    # no key fit: the raw key is the out-of-fold answer, for the songs with a reference key
    assert calibration.key_cv == [None, None] + [KEYS[i % 5] for i in range(2, 7)] + [None] * 7
    assert calibration.key_in_sample == [KEYS[i % 5] for i in range(14)]
    rows = {r["metric"]: r for r in calibration.metrics}
    assert rows["tempo_acc1"]["n"] == 12 and rows["key_exact"]["n"] == 5  # the 5 keys are still scored
    assert profile.metrics["n"] == {"tempo_acc1": 12, "key_exact": 5}
    for column in ("raw", "calibrated_in_sample", "calibrated_cv"):
        shown = profile.metrics[column]
        assert shown["tempo_acc1"] == 1.0 and shown["key_exact"] == 1.0
        assert not any(name.startswith(("tempo_ratio", "key_root")) for name in shown)  # counts stay in metrics.csv
        assert "tempo_within_0.05_acc2" in shown


def test_the_smallest_library_cross_validation_can_use_is_three_songs() -> None:
    obs = library()[2:5]
    calibration = fit_calibration(obs, min_songs=3)
    assert calibration.profile.n_tempo == 3 and calibration.profile.n_key == 3
    with pytest.raises(ValueError, match=r"^min_songs must be at least 3: cross-validation needs songs to hold out$"):
        fit_calibration(obs, min_songs=2)


def test_too_few_of_both_is_refused_but_enough_of_either_is_fitted() -> None:
    from engine.calibration.fit import CalibrationError

    with pytest.raises(
        CalibrationError, match=r"need at least 13 matched songs .*; have 12 with a BPM and 5 with a key"
    ):
        fit_calibration(library(), min_songs=13)
    both = fit_calibration(library()[:7], min_songs=5)  # 5 keys and 5 BPMs: both fitted
    assert both.profile.n_key == 5 and set(both.cv_folds) == {"tempo", "key"}
    assert {stage["domain"] for stage in both.profile.stages} == {"tempo", "key"}


def test_a_library_with_enough_keys_but_too_few_tempi_is_fitted_for_key_only() -> None:
    """Exactly the minimum of keys is enough; the two songs with a BPM keep their raw tempo as their answer."""
    obs = library()[:7]
    for i in range(2, 5):  # 2 of the 5 keyed songs keep their reference BPM
        obs[i].row.bpm = None
    calibration = fit_calibration(obs, min_songs=5)
    assert "tempo not calibrated: 2 matched songs have a reference BPM; at least 5 are needed" in calibration.notes
    assert {stage["domain"] for stage in calibration.profile.stages} == {"key"} and list(calibration.cv_folds) == [
        "key"
    ]
    assert calibration.bpm_cv == [None] * 5 + [105.0, 106.0]
    rows = {r["metric"]: r for r in calibration.metrics}
    assert rows["tempo_acc1"]["n"] == 2 and rows["key_exact"]["n"] == 5
