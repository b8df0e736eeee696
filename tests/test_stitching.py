"""A song's onset envelope stitched from its chunks is the whole song's envelope: seams lose nothing.

The song tempo, the beat check and the onset rate all read the stitched envelope, so a hole or a
phase jump at every chunk seam (every 30 s by default) would be a systematic error in all of them.
Real audio, the real spawn pool, chunks of 4 s with an onset exactly on each seam.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from engine.analysis.chunk import HOP_LENGTH, onset_envelopes, warm_up
from engine.analysis.chunking import plan_chunks
from engine.analysis.consensus import stitch_envelopes
from engine.run import events as ev
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests.audio import SR, click_track, tone, write

pytestmark = pytest.mark.usefixtures("no_stray_workers")
SETTINGS = AnalysisSettings(chunk_seconds=4.0)


def burst_at(y: np.ndarray, seconds: float) -> None:
    """A loud decaying noise burst starting at ``seconds``: an onset no envelope may lose."""
    rng = np.random.default_rng(round(seconds * 1000))
    length = int(0.04 * SR)
    start = round(seconds * SR)
    y[start : start + length] += rng.standard_normal(length) * np.exp(-np.linspace(0, 6, length)) * 0.9


def test_the_stitched_envelope_is_the_whole_songs_with_an_onset_on_every_seam(tmp_path) -> None:
    seconds = 13.37  # four chunks whose seams fall between the song's frames unless they are snapped
    spans = plan_chunks(seconds, SETTINGS)
    assert len(spans) >= 3
    y = 0.3 * click_track(97.0, seconds) + tone(196.0, seconds, amp=0.05)
    for span in spans[1:]:
        burst_at(y, span.own_start_s)
    path = write(tmp_path / "seams.wav", y.astype(np.float32))
    with Engine(SETTINGS, EngineOptions(workers=2, use_cache=False), warm_up=warm_up) as engine:
        (finished,) = [e for e in engine.run([path]) if isinstance(e, ev.RunFinished)]
    (result,) = finished.results
    frame_rate = SR / HOP_LENGTH
    stitched = stitch_envelopes(result.chunks, {s.index: s for s in spans}, frame_rate)
    decoded, _sr = soundfile.read(path, dtype="float32")  # as the workers read it (16-bit PCM)
    whole, _high = onset_envelopes(decoded, SR)
    assert abs(stitched.size - whole.size) <= 1
    frames = min(stitched.size, whole.size)
    for span in spans[1:]:
        seam = round(span.own_start_s * frame_rate)
        near = slice(seam - 2, seam + 4)
        assert stitched[near].max() > 0.9 * whole[near].max(), (
            f"the onset on the seam at {span.own_start_s:.2f} s is lost"
        )
    worst = float(np.abs(stitched[:frames] - whole[:frames]).max())
    assert worst <= 1e-3 * float(whole.max()), f"stitched envelope differs from the whole song's by {worst:.3f}"
