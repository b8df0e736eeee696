import itertools

import pytest

from engine.analysis.chunk import HOP_LENGTH
from engine.analysis.chunking import plan_chunks
from engine.settings import AnalysisSettings

FRAME_S = HOP_LENGTH / AnalysisSettings().sample_rate


def covered(spans):
    return sum(s.own_end_s - s.own_start_s for s in spans)


@pytest.mark.parametrize("duration", [0.1, 1.0, 29.9])
def test_song_shorter_than_a_window_is_one_chunk(duration):
    spans = plan_chunks(duration, AnalysisSettings(chunk_seconds=30))
    assert len(spans) == 1
    assert spans[0].start_s == 0 and spans[0].end_s == duration


@pytest.mark.parametrize("duration,overlap", [(95.0, 0.0), (95.0, 4.0), (61.3, 2.0), (3600.0, 0.0)])
def test_windows_cover_the_song_once(duration, overlap):
    settings = AnalysisSettings(chunk_seconds=20, overlap_seconds=overlap)
    spans = plan_chunks(duration, settings)
    assert spans[0].start_s == 0 and spans[-1].end_s == pytest.approx(duration)
    assert covered(spans) == pytest.approx(duration)
    for a, b in itertools.pairwise(spans):
        assert abs(b.start_s - (a.end_s - overlap)) <= FRAME_S  # neighbours overlap by `overlap`, to a frame
        assert b.own_start_s == pytest.approx(a.own_end_s)  # own regions tile without gaps
    lengths = [s.seconds for s in spans]
    assert max(lengths) - min(lengths) <= 2 * FRAME_S  # equal windows (to a frame at each end) balance the pool


@pytest.mark.parametrize("duration,overlap", [(95.0, 0.0), (95.0, 4.0), (61.37, 2.03), (3600.0, 0.0)])
def test_every_boundary_is_on_the_song_frame_grid(duration, overlap):
    """Chunk frames then fall on the song's frames: the stitched envelope has no phase jump at a seam."""
    spans = plan_chunks(duration, AnalysisSettings(chunk_seconds=20, overlap_seconds=overlap))
    inner = [t for s in spans for t in (s.start_s, s.own_start_s, s.own_end_s, s.end_s) if 0 < t < duration]
    assert inner and all(abs(t / FRAME_S - round(t / FRAME_S)) < 1e-6 for t in inner)


def test_max_chunks_grows_windows_instead_of_dropping_audio():
    spans = plan_chunks(3600.0, AnalysisSettings(chunk_seconds=10, max_chunks=8))
    assert len(spans) == 8
    assert covered(spans) == pytest.approx(3600.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_invalid_duration_is_an_error(bad):
    with pytest.raises(ValueError):
        plan_chunks(bad, AnalysisSettings())


def test_settings_validate():
    with pytest.raises(ValueError):
        AnalysisSettings(chunk_seconds=10, overlap_seconds=6)
    assert AnalysisSettings().fingerprint() != AnalysisSettings(chunk_seconds=12).fingerprint()
