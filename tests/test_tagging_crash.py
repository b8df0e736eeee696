"""A tag batch killed with SIGKILL at random moments leaves every file whole and the journal able to recover it.

300 real files (MP3, FLAC, WAV, M4A, Ogg); three kills after a random number of files plus a random
0-30 ms, recovered by finish, undo, finish. ``bench/tag_crash.py`` runs many more rounds (docs/reliability.md).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.tag_crash import crash_round, prepare


@pytest.mark.timeout(240)
def test_sigkill_mid_batch_leaves_all_old_or_all_new_and_the_journal_recovers(tmp_path: Path) -> None:
    setup = prepare(tmp_path, 300)
    rng = random.Random(16)
    rounds = [crash_round(setup, rng, i, check_audio=i == 0) for i in range(3)]
    for r in rounds:
        assert not r.problems, r
    assert any(0 < r.files_new_at_kill < 300 for r in rounds), f"no kill landed mid-batch: {rounds}"
