"""Statuses as enums: which songs count as analysed, and how a results.csv cell is read back."""

from __future__ import annotations

import pytest

from engine.calibration.dataset import AnalysedSong
from engine.results import SongResult, SongStatus


@pytest.mark.parametrize(
    ("status", "analysed"), [(SongStatus.DONE, True), (SongStatus.PARTIAL, True), (SongStatus.ERROR, False)]
)
def test_done_and_partial_songs_are_analysed_and_errors_are_not(status, analysed):
    assert status.analysed is analysed
    assert SongResult("a.wav", status).analysed is analysed


@pytest.mark.parametrize(
    ("cell", "status", "failed"),
    [
        ("done", SongStatus.DONE, False),
        (" partial ", SongStatus.PARTIAL, False),
        ("error", SongStatus.ERROR, True),
        ("", SongStatus.DONE, False),  # a hand-edited row without a status: an answer, scored (one meaning)
        ("checked", SongStatus.DONE, False),
        ("queued", SongStatus.QUEUED, False),  # the window's state before a result: matched, never scored
    ],
)
def test_a_results_csv_status_is_read_into_the_enum(cell, status, failed):
    song = AnalysedSong.from_row({"path": "a.wav", "status": cell, "bpm": "120"})
    assert song.status is status and song.failed is failed
    assert AnalysedSong("a.wav", cell).status is status  # text from a caller is read the same way
