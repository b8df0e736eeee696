"""The rules that decide whether a fitted stage joins the profile, at their edges (hand-made scores).

A stage is kept only if its cross-validated scores pass these gates *and* the sign test does
(``test_calibration_fit.py`` shows both on fitted libraries). Written for the survivors of the mutation
run on ``engine/calibration/fit.py`` (docs/reliability.md): each case is a library state a gate must
judge one way, including the zeros (no song right yet, a perfect MAE) that ``x or 0`` must not misread.
"""

from __future__ import annotations

import pytest

from engine.calibration.fit import _key_better, _tempo_better
from engine.references.scoring import Scores


def tempo(acc1: float, mae: float, exact: float) -> Scores:
    return Scores(acc1=acc1, bpm_mae=mae, bpm_precise_acc2=exact)


@pytest.mark.parametrize(
    ("after", "before", "kept"),
    [
        (tempo(0.55, 3.0, 0.2), tempo(0.50, 1.0, 0.9), True),  # a ratio rule is judged on Acc1 alone
        (tempo(0.50, 1.0, 0.9), tempo(0.50, 3.0, 0.2), False),  # no Acc1 gain: whatever else it does
        (tempo(0.10, 1.0, 0.9), tempo(0.0, 1.0, 0.9), True),  # from no song right to one in ten
        (tempo(0.0, 1.0, 0.9), tempo(0.0, 1.0, 0.9), False),
    ],
)
def test_a_ratio_rule_must_raise_acc1(after: Scores, before: Scores, kept: bool) -> None:
    assert _tempo_better("fold", after, before) is kept


@pytest.mark.parametrize(
    ("after", "before", "kept"),
    [
        (tempo(0.8, 1.9, 0.5), tempo(0.8, 2.0, 0.5), True),  # lower MAE, nothing lost
        (tempo(0.0, 4.0, 0.0), tempo(0.0, 5.0, 0.0), True),  # no song at the right level before or after
        (tempo(0.7, 1.0, 0.5), tempo(0.8, 2.0, 0.5), False),  # costs an Acc1 song
        (tempo(0.0, 1.0, 0.5), tempo(0.5, 2.0, 0.5), False),  # costs every Acc1 song
        (tempo(0.8, 2.1, 0.5), tempo(0.8, 2.0, 0.5), False),  # a higher MAE
        (tempo(0.8, 2.0, 0.5), tempo(0.8, 2.0, 0.5), False),  # the same MAE: nothing to gain
        (tempo(0.8, 0.0, 0.5), tempo(0.8, 0.5, 0.5), True),  # down to a perfect MAE
        (tempo(0.8, 0.5, 0.5), tempo(0.8, 0.0, 0.5), False),  # up from a perfect MAE
        (tempo(0.8, 1.9, 0.4), tempo(0.8, 2.0, 0.5), False),  # costs exact tempi
        (tempo(0.8, 1.9, 0.5 - 1e-9), tempo(0.8, 2.0, 0.5), True),  # a rounding difference is no cost
    ],
)
def test_a_linear_scaler_must_lower_the_mae_and_cost_no_acc1_song_nor_exact_tempo(
    after: Scores, before: Scores, kept: bool
) -> None:
    assert _tempo_better("linear", after, before) is kept


def key(exact: float, mirex: float) -> Scores:
    return Scores(key_exact=exact, mirex=mirex)


@pytest.mark.parametrize(
    ("after", "before", "kept"),
    [
        (key(0.6, 0.7), key(0.5, 0.7), True),
        (key(0.5, 0.9), key(0.5, 0.7), False),  # a better MIREX score alone is not enough
        (key(0.0, 0.7), key(0.0, 0.7), False),
        (key(0.5, 0.7), key(0.6, 0.7), False),  # fewer keys exactly right
        (key(0.5, 0.7), key(0.0, 0.6), True),  # from no key right
        (key(0.6, 0.0), key(0.5, 0.2), False),  # MIREX down to nothing
        (key(0.6, 0.5), key(0.5, 0.8), False),  # MIREX down
        (key(0.6, 0.7), key(0.5, 0.7), True),  # MIREX level
        (key(0.6, 0.7 - 1e-9), key(0.5, 0.7), True),  # a rounding difference is no loss
        (key(0.6, 0.5), key(0.5, 0.0), True),  # MIREX up from nothing
    ],
)
def test_a_key_stage_must_get_more_keys_exactly_right_and_lose_no_mirex_credit(
    after: Scores, before: Scores, kept: bool
) -> None:
    assert _key_better("remap", after, before) is kept
