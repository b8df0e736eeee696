"""Scoring on hand-made cases, checked against mir_eval where mir_eval defines the metric."""

from __future__ import annotations

import itertools

import mir_eval
import numpy as np
import pytest

from engine.analysis.keys import KEY_LABELS
from engine.calibration.metrics import key_rows, tempo_rows
from engine.references.scoring import key_relation, mirex_score, root_offset, score, tempo_ratio_class


def test_mirex_matches_mir_eval_on_every_pair_of_keys():
    for reference, estimate in itertools.product(KEY_LABELS, repeat=2):
        assert mirex_score(reference, estimate) == mir_eval.key.weighted_score(reference, estimate)


@pytest.mark.parametrize(
    ("reference", "estimate", "mirex", "relation", "offset"),
    [
        ("C major", "C major", 1.0, "same", 0),
        ("C major", "G major", 0.5, "fifth", -5),  # a fifth above
        ("C major", "F major", 0.0, "fifth", 5),  # a fifth below: a relation, but MIREX gives nothing
        ("A minor", "E minor", 0.5, "fifth", -5),
        ("C major", "A minor", 0.3, "relative", -3),
        ("A minor", "C major", 0.3, "relative", 3),
        ("C major", "C minor", 0.2, "parallel", 0),
        ("C major", "D major", 0.0, "other", 2),
        ("C major", "F# major", 0.0, "other", 6),
        ("Bb minor", "Db major", 0.3, "relative", 3),
        ("C major", "D minor", 0.0, "other", 2),  # other mode, neither relative nor parallel
        ("A minor", "D major", 0.0, "other", 5),
        ("C major", "", 0.0, "other", None),
    ],
)
def test_hand_made_key_cases(reference, estimate, mirex, relation, offset):
    assert mirex_score(reference, estimate) == mirex
    if estimate:
        assert mir_eval.key.weighted_score(reference, estimate) == mirex
    assert key_relation(reference, estimate) == relation
    assert root_offset(reference, estimate) == offset


@pytest.mark.parametrize(
    ("detected", "reference", "expected"),
    [
        (120.0, 120.0, "same"),
        (124.7, 120.0, "same"),  # 3.9 %
        (115.3, 120.0, "same"),
        (125.0, 120.0, "other"),  # 4.2 %
        (240.0, 120.0, "double"),
        (60.0, 120.0, "half"),
        (40.0, 120.0, "third"),
        (360.0, 120.0, "triple"),
        (180.0, 120.0, "other"),
        (0.0, 120.0, "other"),
    ],
)
def test_tempo_ratio_classes(detected, reference, expected):
    assert tempo_ratio_class(detected, reference) == expected


def test_summary_scores_on_a_hand_made_set():
    tempo = [(120.0, 120.0), (61.0, 120.0), (100.0, 140.0), (None, 90.0)]
    keys = [
        ("C major", "C major"),
        ("G major", "C major"),
        ("A minor", "C major"),
        ("C minor", "C major"),
        (None, "E minor"),
    ]
    s = score(tempo, keys)
    assert (s.n_tempo, s.acc1, s.acc2) == (4, 0.25, 0.5)
    assert s.n_key == 5
    assert s.bpm_mae == pytest.approx((0 + 59 + 40 + 90) / 4)
    assert s.ratio_classes == {"same": 1, "half": 1, "other": 2}
    assert s.key_exact == 0.2
    expected = np.mean([mir_eval.key.weighted_score(r, d) for d, r in keys[:4]] + [0.0])
    assert s.mirex == pytest.approx(expected) == pytest.approx((1 + 0.5 + 0.3 + 0.2 + 0) / 5)
    assert s.key_relations == {"same": 1, "fifth": 1, "relative": 1, "parallel": 1, "other": 1}
    assert s.root_offsets == {0: 2, -5: 1, -3: 1}


def test_metric_rows_lay_columns_side_by_side():
    rows = {r["metric"]: r for r in tempo_rows([120.0, 100.0], {"raw": [60.0, 100.0], "fixed": [120.0, 100.0]})}
    assert (rows["tempo_acc1"]["raw"], rows["tempo_acc1"]["fixed"], rows["tempo_acc1"]["n"]) == (0.5, 1.0, 2)
    assert (rows["tempo_ratio_half"]["raw"], rows["tempo_ratio_half"]["fixed"]) == (1, 0)
    keys = {r["metric"]: r for r in key_rows(["C major"], {"raw": ["G major"]})}
    assert keys["key_mirex"]["raw"] == 0.5 and keys["key_relation_fifth"]["raw"] == 1
    assert keys["key_root_offset_-5"]["raw"] == 1 and keys["key_root_offset_+0"]["raw"] == 0


def test_acc2_counts_a_triple_or_a_third_of_the_tempo_as_the_right_level():
    """Acc2 is Acc1 or within 4 % of x2, x1/2, x3 or x1/3 (a waltz counted in bars, a shuffle in triplets)."""
    from engine.references.scoring import acc1, acc2

    assert acc2(360.0, 120.0) and acc2(40.0, 120.0) and acc2(373.0, 120.0) and acc2(38.5, 120.0)  # 3.6 %, 3.75 %
    assert not acc1(360.0, 120.0) and not acc1(40.0, 120.0)
    assert acc1(120.0, 120.0) and acc1(124.7, 120.0) and acc2(124.7, 120.0)
    assert not acc2(380.0, 120.0) and not acc2(37.9, 120.0)  # 5.6 %, 5.25 % off the triple and the third
    s = score([(360.0, 120.0), (40.0, 120.0), (120.0, 120.0), (180.0, 120.0)], [])
    assert (s.acc1, s.acc2) == (0.25, 0.75)
    rows = {r["metric"]: r for r in tempo_rows([120.0, 120.0, 120.0], {"raw": [360.0, 40.0, 180.0]})}
    assert (rows["tempo_acc1"]["raw"], rows["tempo_acc2"]["raw"]) == (0.0, round(2 / 3, 4))  # metrics.csv: 4 places
