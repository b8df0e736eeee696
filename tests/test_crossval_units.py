"""``cross_val_predict`` on its own: the folds it is given, layout 0 by default, one answer per held-out song.

Written for the survivors of the mutation run on ``engine/calibration/crossval.py`` (docs/reliability.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.calibration.crossval import Scheme, cross_val_predict, folds


def recording(calls: list[tuple[list[int], list[int]]]):
    def fit_predict(train: np.ndarray, test: np.ndarray) -> list[int]:
        calls.append((train.tolist(), test.tolist()))
        return [-int(i) for i in test]

    return fit_predict


def test_the_scheme_given_is_the_one_used_and_every_song_is_predicted_once_out_of_fold():
    calls: list[tuple[list[int], list[int]]] = []
    predictions = cross_val_predict(40, recording(calls), Scheme("3-fold", 3))
    assert len(calls) == 3  # not the 10 folds that 40 songs get by default
    assert predictions == [-i for i in range(40)]
    assert sorted(i for _, test in calls for i in test) == list(range(40))
    assert all(not set(train) & set(test) for train, test in calls)


def test_the_default_layout_is_layout_0_and_repeat_picks_another():
    scheme = Scheme("4-fold", 4)
    for repeat in (None, 0, 1):
        calls: list[tuple[list[int], list[int]]] = []
        if repeat is None:
            cross_val_predict(20, recording(calls), scheme)
        else:
            cross_val_predict(20, recording(calls), scheme, repeat)
        assert [test for _, test in calls] == [f.tolist() for f in folds(20, scheme, repeat or 0)]
    assert [f.tolist() for f in folds(20, scheme, 0)] != [f.tolist() for f in folds(20, scheme, 1)]


def test_a_fit_that_answers_for_too_few_songs_is_an_error_not_a_gap():
    with pytest.raises(ValueError):
        cross_val_predict(12, lambda train, test: [0.0] * (len(test) - 1), Scheme("3-fold", 3))
