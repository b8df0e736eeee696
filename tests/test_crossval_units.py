"""``cross_val_predict`` on its own (the folds it is given, layout 0 by default, one answer per held-out song),
the scheme a library gets, what the profile records, and the content order that makes folds independent of
where songs sit.

Written for the survivors of the mutation run on ``engine/calibration/crossval.py`` (docs/reliability.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.calibration.crossval import (
    Scheme,
    Verdict,
    canonical_order,
    cross_val_predict,
    folds,
    scheme_for,
    sign_test,
)


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


def test_a_library_of_30_songs_or_more_is_judged_on_five_10_fold_layouts_and_a_smaller_one_leave_one_out():
    """With one layout a rule backed by a few songs passes or fails by where they fall (docs/accuracy.md)."""
    assert scheme_for(29) == Scheme("leave-one-out", 29, seed=0, repeats=1)
    assert scheme_for(30) == Scheme("10-fold", 10, seed=0, repeats=5)


def test_the_profile_records_how_it_was_cross_validated_and_each_verdict_in_its_own_words():
    """What profile.json says beside each stage: the scheme, and the sign test's counts and p-value."""
    assert scheme_for(120).to_dict() == {"scheme": "10-fold", "folds": 10, "seed": 0, "repeats": 5}
    assert Verdict(7, 1, 9 / 256).to_dict() == {"songs_better": 7, "songs_worse": 1, "p_value": 0.0352}


def test_songs_are_put_in_order_by_what_the_fit_sees_of_them_not_by_their_position():
    bpm = [120.0, 90.0, float("nan"), 90.0, 60.0]
    key = ["A minor", "C major", "", "B major", "A minor"]
    songs = list(zip(map(repr, bpm), key, strict=True))
    order = canonical_order(bpm, key)
    assert order.dtype.kind == "i" and sorted(order.tolist()) == [0, 1, 2, 3, 4]
    for shuffled in ([4, 2, 0, 3, 1], [1, 3, 4, 0, 2]):
        again = canonical_order([bpm[i] for i in shuffled], [key[i] for i in shuffled])
        # the same songs in the same order, wherever they sat in the input
        assert [songs[shuffled[i]] for i in again] == [songs[i] for i in order]


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        ([1.0, 0.0], [1.0, 0.0], Verdict(0, 0, 1.0)),  # nothing changed: no evidence either way
        ([0.0, 1.0], [0.0, 1.0 + 1e-13], Verdict(0, 0, 1.0)),  # a rounding difference is not a change
        ([0.0, 1.0], [1.0, 1.0], Verdict(1, 0, 0.5)),  # one win of one changed song: a coin toss
        ([1.0, 1.0], [0.0, 1.0], Verdict(0, 1, 1.0)),
        ([0.0] * 5, [1.0] * 5, Verdict(5, 0, 1 / 32)),  # the least that passes at 5 %
        ([0.0] * 6, [1.0] * 5 + [-1.0], Verdict(5, 1, 7 / 64)),
    ],
)
def test_the_sign_test_counts_the_songs_a_correction_changes(before, after, verdict):
    """Hand-counted: the held-out songs better and worse, and the chance of as many wins by luck."""
    assert sign_test(before, after) == verdict
