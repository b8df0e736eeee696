"""Inspector parts on their own: candidate labels, key candidates, the click track and the playback mix."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.keys import KEY_LABELS
from engine.results import SongResult, SongStatus
from gui.inspector.clicks import click_sound, click_times, detect_beats
from gui.inspector.song_evidence import disagrees, key_candidates, local_time, tempo_candidates, tempo_relation
from tests.audio import SR, click_track


@pytest.mark.parametrize(
    ("candidate", "detected", "relation"),
    [(120, 120, "same"), (240, 120, "×2"), (60, 120, "×½"), (180, 120, "×3/2"), (80, 120, "×⅔"), (100, 120, "")],
)
def test_tempo_candidates_are_named_by_their_relation_to_the_detected_tempo(candidate, detected, relation):
    assert tempo_relation(candidate, detected) == relation


def test_two_candidates_of_one_relation_are_one_row():
    """240 and 242 BPM against a detected 120 are both "×2": one reading, shown once (the stronger)."""
    result = SongResult(
        "a.wav",
        SongStatus.DONE,
        bpm=120.0,
        tempo_candidates=[(120.0, 1.0), (240.0, 0.6), (242.0, 0.5), (60.0, 0.4), (100.0, 0.3), (101.0, 0.2)],
    )
    rows = [(c.bpm, c.relation) for c in tempo_candidates(result)]
    assert rows == [(120.0, "same"), (240.0, "×2"), (60.0, "×½"), (100.0, "")]


def test_a_verdict_time_is_shown_in_local_time_never_blank_or_raw(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+5:30 all year: no daylight-saving edge
    time.tzset()
    try:
        assert local_time("2026-12-06T23:45:10+00:00") == "on 2026-12-07 at 05:15"
        assert local_time("2026-12-06T23:45:10") == "on 2026-12-07 at 05:15"  # written without a zone: UTC
        assert local_time("") == local_time("yesterday") == "at a time not recorded"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_key_candidates_are_the_best_scores_in_order():
    scores = [0.0] * 24
    scores[KEY_LABELS.index("A minor")], scores[KEY_LABELS.index("C major")] = 0.9, 0.8
    assert key_candidates(scores, 2) == [("A minor", 0.9), ("C major", 0.8)]
    assert key_candidates([], 5) == []


def test_disagreement_means_a_known_class_that_is_not_same():
    assert disagrees(120.0, "A minor", 60.0, "A minor")  # half-time reference
    assert disagrees(120.0, "A minor", 120.0, "C major")  # relative key
    assert not disagrees(120.0, "A minor", 121.0, "A minor")
    assert not disagrees(120.0, "", None, "")  # nothing to compare: not a disagreement


def test_clicks_follow_the_detected_beats_and_other_tempos_lock_to_their_phase():
    offset = 0.25  # the music starts a quarter second in: a grid from 0 would be off the beat
    y = np.concatenate([np.zeros(int(offset * SR), dtype=np.float32), click_track(120.0, 10.0)])
    tempo, beats = detect_beats(y, SR)
    assert tempo == pytest.approx(120.0, rel=0.04)
    true_beats = offset + np.arange(0, 10.0, 0.5)
    duration = y.size / SR
    on_beats = click_times(duration, tempo, beats, tempo)
    assert np.array_equal(on_beats, beats)
    half = click_times(duration, 60.0, beats, tempo)  # ×½: every other beat, still on a beat
    assert np.allclose(np.diff(half), 1.0)
    assert max(np.min(np.abs(true_beats - t)) for t in half if t < 10.0) < 0.05
    third = click_times(duration, 180.0, beats, tempo)  # ×3/2: from the first beat, every third click on a beat
    start = int(np.argmin(np.abs(third - beats[0])))
    assert abs(third[start] - beats[0]) < 1e-9 and np.allclose(np.diff(third), 1 / 3)
    assert max(np.min(np.abs(true_beats - t)) for t in third[start::3] if t < 10.0) < 0.05


def test_the_playback_callback_mixes_the_song_and_the_clicks_block_by_block(qtbot):
    from gui.inspector.player import Player

    player = Player()
    player.samplerate = 1000
    player.audio = np.full(5000, 0.1, dtype=np.float32)
    player._blip = click_sound(1000)  # 25 samples
    player._click_samples = np.array([100, 1020, 2000])  # the second crosses a block boundary
    out = np.zeros((1024, 1), dtype=np.float32)
    player._callback(out, 1024, None, None)
    assert player.position == 1024
    blip = player._blip
    assert np.allclose(out[100:125, 0], 0.1 + blip)
    assert np.allclose(out[1020:1024, 0], 0.1 + blip[:4])
    assert np.allclose(out[:100, 0], 0.1) and np.allclose(out[125:1020, 0], 0.1)
    player._callback(out, 1024, None, None)  # the rest of the click that started in the last block
    assert np.allclose(out[:21, 0], 0.1 + blip[4:])
    player.position = 4500
    player._callback(out, 1024, None, None)  # the end: silence after the last sample, position clamped
    assert np.allclose(out[:500, 0], 0.1) and np.allclose(out[500:, 0], 0.0)
    assert player.position == 5000


def test_key_notation_is_a_saved_preference_and_the_table_uses_it(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from gui.preferences import Preferences, qsettings
    from gui.queue_model import Col, QueueModel

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    Preferences(key_notation="camelot").save()
    assert Preferences.load().key_notation == "camelot"
    qsettings().setValue("display/key_notation", "solfege")  # hand-edited into nonsense
    assert Preferences.load().key_notation == "classic"
    model = QueueModel()
    model.add_paths(["/m/a.wav"])
    model.update(0, key="A minor", ref_key="C major", confidence=0.2)
    model.set_key_notation("open key")
    assert (model.data(model.index(0, int(Col.KEY))), model.data(model.index(0, int(Col.REF_KEY)))) == ("1m", "1d")
    assert model.data(model.index(0, int(Col.CONF))) == "0.20 (low)"
    with pytest.raises(ValueError, match="unknown key notation"):
        model.set_key_notation("solfege")
