"""The pair evidence, number by number: what each rule of ``engine/references/evidence.py`` adds or rules out.

Scores follow the module's documented formula, worked out by hand here: 0.7 x title + 0.3 x artist with
artists on both sides, else 0.97 x title; minus 0.06 for a vague version; then +0.02 for lengths within
4 s, -0.02 for an edition that changes the length, -0.05 x gap / max(20 s, 10 %) otherwise, and a length
farther than that rules the pair out (a preview of 90 s or less says nothing). Written for the survivors
of the mutation run on that module (docs/reliability.md); fuzzy text scores come from rapidfuzz itself.
"""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz

from engine.references.evidence import Side, compare


def evidence(song: tuple, row: tuple):
    return compare(Side.of(*song), Side.of(*row))


@pytest.mark.parametrize(
    ("song", "row", "score", "exact"),
    [
        (("Teenage Dream", "", None), ("Teenage Dream", "", None), 0.97, True),  # a title alone
        (("Song (Remix)", "Band", None), ("Song (Skrillex Remix)", "Band", None), 1.0 - 0.06, False),  # vague
        (("Song (Live) (Remix)", "Band", None), ("Song (Live at Wembley) (Skrillex Remix)", "Band", None), 0.88, False),
        (("Song", "", 200), ("Song", "", 204), 0.97 + 0.02, True),  # 4 s apart: the same recording
        (("Song", "", 60), ("Song", "", 64), 0.97 + 0.02, True),  # short, but not a preview: 4 s is close
        (("Song", "", 60), ("Song", "", 62), 0.97 + 0.02, True),
        (("Song", "", 30), ("Song", "", 200), 0.97, True),  # a 30 s preview: its length says nothing
        (("Song", "", 90), ("Song", "", 300), 0.97, True),  # 90 s is still a preview
        (("Song (Radio Edit)", "", 200), ("Song", "", 260), 0.97 - 0.02, True),  # an edition explains 60 s
        (("Song", "", 365), ("Song", "", 400), 0.97 - 0.05 * 35 / 40, True),  # 35 s of a 40 s allowance
        (("Song", "", 160), ("Song", "", 180), 0.97 - 0.05 * 20 / 20, True),  # exactly at the allowance
    ],
)
def test_possible_pairs_score_by_the_documented_formula(song, row, score, exact):
    found = evidence(song, row)
    assert found.reason == "" and found.score == pytest.approx(score, abs=1e-9) and found.exact is exact


def test_a_near_artist_scores_by_its_similarity():
    found = evidence(("Teenage Dream", "Katy Perry", None), ("Teenage Dream", "Katy Pery", None))
    similarity = fuzz.ratio("katy perry", "katy pery") / 100
    assert found.reason == "" and found.score == pytest.approx(0.7 + 0.3 * similarity) and not found.exact


def test_artist_lists_agree_by_their_best_name_or_as_a_whole():
    by_best_name = evidence(("Get Lucky", "Daft Punk & Pharrell Williams", None), ("Get Lucky", "Daft Pnuk", None))
    assert by_best_name.reason == ""  # "daft punk" ~ "daft pnuk", though the lists as a whole are far apart
    assert by_best_name.score == pytest.approx(0.7 + 0.3 * fuzz.ratio("daft punk", "daft pnuk") / 100)
    as_a_whole = evidence(("The Boxer", "Simon & Garfunkel", None), ("The Boxer", "Simon Garfunkel", None))
    assert as_a_whole.reason == "" and as_a_whole.score == 1.0  # no one name matches, the list does
    reversed_sides = evidence(("The Boxer", "Simon Garfunkel", None), ("The Boxer", "Simon & Garfunkel", None))
    assert reversed_sides.reason == "" and reversed_sides.score == 1.0


@pytest.mark.parametrize(
    ("song", "row", "score", "reason"),
    [
        (
            ("Halo", "", None),
            ("Hello", "", None),
            0.97 * fuzz.token_sort_ratio("halo", "hello") / 100,
            f"titles differ (title score {fuzz.token_sort_ratio('halo', 'hello') / 100:.2f})",
        ),
        (("Song (Remix)", "Band", None), ("Song (Live)", "Band", None), 1.0, "different version: remix vs live"),
        (
            ("Levels (Skrillex Remix)", "Avicii", None),
            ("Levels (Avicii Remix)", "Avicii", None),
            1.0,
            "different version: remix (skrillex) vs remix (avicii)",
        ),
        (("Song", "", 200), ("Song", "", 260), 0.97, "duration 3:20 vs 4:20"),  # 60 s > max(20 s, 26 s)
        (("Song (Remix) (Live)", "", None), ("Song", "", None), 0.97, "different version: live + remix vs original"),
        (("Song", "", 365), ("Song", "", 400 + 41), 0.97, "duration 6:05 vs 7:21"),  # 76 s > 44.1 s
    ],
)
def test_ruled_out_pairs_keep_their_text_score_and_say_why(song, row, score, reason):
    found = evidence(song, row)
    assert found.reason == reason and not found.exact
    assert found.score == pytest.approx(score)
