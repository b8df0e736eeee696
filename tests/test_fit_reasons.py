"""What a fitted profile says and answers, at the edges the fit's own tests do not reach (hand-made inputs).

``profile.json`` and the window's calibration panel say, for every stage, whether it was kept and why:
the cross-validated scores before and after and the held-out songs' sign test. A wrong word there
(kept for rejected, a number from the wrong side) misleads the user about their own library. Written for
the survivors of the mutation run on ``engine/calibration/fit.py`` (docs/reliability.md); every expected
text below is written out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.calibration.crossval import Verdict
from engine.calibration.dataset import AnalysedSong, Observation
from engine.calibration.fit import Calibration, _reason, _summary, _tempo_per_song
from engine.calibration.profile import Profile
from engine.references.readers.model import ReferenceRow
from engine.references.scoring import Scores

FOUND = ["a rule"]


def tempo(acc1: float, mae: float, exact: float | None) -> Scores:
    return Scores(acc1=acc1, bpm_mae=mae, bpm_precise_acc2=exact)


def test_no_rule_found_names_the_library_size_and_the_support_needed() -> None:
    text = _reason("tempo", [], False, Scores(), Scores(), Verdict(0, 0, 1.0), 40, 1)
    assert text == "no rule on all 40 songs fixes at least 5 more songs than it breaks"


@pytest.mark.parametrize(
    ("accepted", "before", "after", "verdict", "layouts", "expected"),
    [
        (
            True,
            tempo(0.5, 3.25, 0.4),
            tempo(0.75, 1.5, 0.6),
            Verdict(12, 2, 0.01294),
            1,
            "kept: cross-validated Acc1 0.500 → 0.750, MAE 3.25 → 1.50, within 0.05 BPM 40% → 60%; "
            "held-out songs better/worse 12/2 (sign test p = 0.013)",
        ),
        (  # a lower MAE bought with exact tempi: said so, whatever the sign test says
            False,
            tempo(0.8, 2.0, 0.9),
            tempo(0.8, 1.0, 0.5),
            Verdict(9, 3, 0.146),
            3,
            "rejected, costs exact tempi: cross-validated (3 fold layouts) Acc1 0.800 → 0.800, MAE 2.00 → 1.00, "
            "within 0.05 BPM 90% → 50%; held-out songs better/worse 9/3",
        ),
        (  # the same precision before and after is no cost
            False,
            tempo(0.8, 2.0, 0.5),
            tempo(0.8, 1.0, 0.5),
            Verdict(6, 3, 0.508),
            1,
            "rejected, not better than chance: cross-validated Acc1 0.800 → 0.800, MAE 2.00 → 1.00, "
            "within 0.05 BPM 50% → 50%; held-out songs better/worse 6/3 (sign test p = 0.508)",
        ),
        (  # fewer exact tempi but no lower MAE: an ordinary rejection
            False,
            tempo(0.8, 2.0, 0.9),
            tempo(0.8, 2.5, 0.5),
            Verdict(2, 4, 0.688),
            2,
            "rejected, no gain: cross-validated (2 fold layouts) Acc1 0.800 → 0.800, MAE 2.00 → 2.50, "
            "within 0.05 BPM 90% → 50%; held-out songs better/worse 2/4 (sign test p = 0.688)",
        ),
        (  # a perfect MAE after is still lower: the cost in exact tempi is said
            False,
            tempo(0.8, 0.5, 0.9),
            tempo(0.8, 0.0, 0.5),
            Verdict(4, 2, 0.344),
            1,
            "rejected, costs exact tempi: cross-validated Acc1 0.800 → 0.800, MAE 0.50 → 0.00, "
            "within 0.05 BPM 90% → 50%; held-out songs better/worse 4/2",
        ),
        (  # the same MAE is not a lower one, and a perfect MAE before cannot be lowered
            False,
            tempo(0.8, 0.0, 0.9),
            tempo(0.8, 0.0, 0.5),
            Verdict(2, 4, 0.891),
            1,
            "rejected, no gain: cross-validated Acc1 0.800 → 0.800, MAE 0.00 → 0.00, "
            "within 0.05 BPM 90% → 50%; held-out songs better/worse 2/4 (sign test p = 0.891)",
        ),
        (
            False,
            tempo(0.8, 0.0, 0.9),
            tempo(0.8, 0.5, 0.5),
            Verdict(2, 4, 0.891),
            1,
            "rejected, no gain: cross-validated Acc1 0.800 → 0.800, MAE 0.00 → 0.50, "
            "within 0.05 BPM 90% → 50%; held-out songs better/worse 2/4 (sign test p = 0.891)",
        ),
        (  # no Acc2 hit at all: no share to show, read as 0 %
            False,
            tempo(0.0, 9.0, None),
            tempo(0.0, 8.0, None),
            Verdict(3, 3, 1.0),
            1,
            "rejected, no gain: cross-validated Acc1 0.000 → 0.000, MAE 9.00 → 8.00, "
            "within 0.05 BPM 0% → 0%; held-out songs better/worse 3/3 (sign test p = 1.000)",
        ),
    ],
)
def test_a_tempo_stage_says_kept_or_why_not_with_both_sides_numbers(
    accepted: bool, before: Scores, after: Scores, verdict: Verdict, layouts: int, expected: str
) -> None:
    assert _reason("tempo", FOUND, accepted, before, after, verdict, 40, layouts) == expected


def test_a_key_stage_reports_exact_and_mirex() -> None:
    before, after = Scores(key_exact=0.6, mirex=0.7), Scores(key_exact=0.7, mirex=0.78)
    assert _reason("key", FOUND, True, before, after, Verdict(8, 1, 0.039), 30, 1) == (
        "kept: cross-validated exact 0.600 → 0.700, MIREX 0.700 → 0.780; "
        "held-out songs better/worse 8/1 (sign test p = 0.039)"
    )
    # a key stage never speaks of exact tempi, even when its tempo scores would say so
    worse_tempo = Scores(key_exact=0.6, mirex=0.7, bpm_mae=1.0, bpm_precise_acc2=0.1)
    key_before = Scores(key_exact=0.6, mirex=0.7, bpm_mae=2.0, bpm_precise_acc2=0.9)
    assert _reason("key", FOUND, False, key_before, worse_tempo, Verdict(1, 1, 1.0), 30, 1).startswith(
        "rejected, no gain: cross-validated exact 0.600 → 0.600"
    )


def test_saved_scores_are_rounded_to_four_places_and_leave_out_what_was_not_measured() -> None:
    saved = _summary(Scores(n_tempo=7, n_key=0, acc1=0.123456, bpm_mae=2.0, mirex=None))
    assert saved == {"n_tempo": 7, "n_key": 0, "acc1": 0.1235, "bpm_mae": 2.0}


def test_what_a_linear_scaler_is_judged_on_is_the_distance_to_the_nearest_allowed_multiple() -> None:
    """Per song, minus the relative distance of the answer to the reference or its ×2, ×½, ×3, ×⅓."""
    answers = np.array([121.0, 240.0, 61.5, np.nan])
    reference = np.array([120.0, 120.0, 120.0, 120.0])
    # 121/120 - 1; 240 is exactly ×2; 61.5 against 60 (×½) is 1.5/60; no answer is infinitely far
    expected = [-1 / 120, 0.0, -0.025, -np.inf]
    assert _tempo_per_song("linear", answers, reference) == pytest.approx(expected)
    # a ratio rule is judged on Acc1 alone: right (1) or wrong (0) per song
    assert list(_tempo_per_song("fold", answers, reference)) == [1.0, 0.0, 0.0, 0.0]


def test_a_fitted_song_is_answered_from_its_own_fold_and_falls_back_to_its_in_sample_answer() -> None:
    """The window's "Cal. (CV)" cell: the song's out-of-fold answer where it has one, else its in-sample one;
    a song the profile never saw gets the profile's answer in both places."""
    songs = [AnalysedSong(f"/songs/{n}.wav", "done", 100.0 + n, "C major") for n in range(3)]
    rows = [ReferenceRow(line=n + 2, source="ref.csv", bpm=100.0, key="C major") for n in range(2)]
    calibration = Calibration(
        Profile(n_songs=2),
        [Observation(songs[n], rows[n], "file") for n in range(2)],
        bpm_in_sample=[100.5, 101.5],
        bpm_cv=[99.0, None],
        key_in_sample=["G major", "D major"],
        key_cv=["A minor", None],
    )
    assert calibration.answers_for(songs[0]) == (100.5, 99.0, "G major", "A minor")
    assert calibration.answers_for(songs[1]) == (101.5, 101.5, "D major", "D major")
    assert calibration.answers_for(songs[2]) == (102.0, 102.0, "C major", "C major")
