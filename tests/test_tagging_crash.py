"""A tag batch killed with SIGKILL at random moments leaves every file whole and the journal able to recover it.

300 real files (MP3, FLAC, WAV, M4A, Ogg); three kills after a random number of files plus a random
0-30 ms, recovered by finish, undo, finish. ``bench/tag_crash.py`` runs many more rounds (docs/reliability.md).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.tag_crash import LARGE_MB, crash_round, large_round, prepare, prepare_large


@pytest.mark.timeout(240)
def test_sigkill_mid_batch_leaves_all_old_or_all_new_and_the_journal_recovers(tmp_path: Path) -> None:
    setup = prepare(tmp_path, 300)
    rng = random.Random(16)
    rounds = [crash_round(setup, rng, i, check_audio=i == 0) for i in range(3)]
    for r in rounds:
        assert not r.problems, r
    assert any(0 < r.files_new_at_kill < 300 for r in rounds), f"no kill landed mid-batch: {rounds}"


@pytest.mark.timeout(120)
def test_sigkill_while_a_large_files_bytes_are_written_leaves_it_whole(tmp_path: Path) -> None:
    """The temporary copy and rename, proven: kills that land *while bytes are written*, not between files.

    Two 48 MB MP3s whose tag has no padding, so writing the BPM moves all their audio (tenths of a second).
    ``tag`` is killed the moment a write is seen in progress: once when its temporary copy is half written, once
    when mutagen has begun growing the copy's tag. Every file must then be the old file byte for byte, or its
    audio byte for byte behind all-new tags; recovery then finishes (round 0) or undoes (round 1) the batch.
    Tags written in place turn this red: the kill lands while the file itself is being rewritten.
    """
    setup = prepare_large(tmp_path, 2)
    rounds = [large_round(setup, 0, into_copy=0.5), large_round(setup, 1, into_copy=1.0)]
    for r in rounds:
        assert not r.problems, r
    assert setup.files[0].stat().st_size > LARGE_MB * 2**20 * 0.9
