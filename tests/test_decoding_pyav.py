"""m4a (AAC, ALAC) and the other containers PyAV reads: seeking slices match the source PCM.

Every file is encoded here with PyAV's own encoders. ALAC is lossless, so a slice must equal the
same slice read by libsndfile from a WAV of the same samples, sample for sample. AAC is lossy: a
slice must match the source above an SNR floor, which only holds if the encoder's priming
(1024 samples, signalled by the MP4 edit list) is compensated and the decoder is pre-rolled
before a seek (without pre-roll the first frame of a slice is wrong; see PREROLL_S).
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from engine.analysis import pyav_decoding
from engine.analysis.decoding import probe, read_segment
from engine.analysis.pyav_encoding import write_encoded
from engine.errors import AudioDecodeError
from tests import media
from tests.audio import click_track, tone

SR = 44100
SECONDS = 20.0
SLICES = [(0.0, 4.0), (3.3, 7.9), (10.0, 13.0), (16.7, 20.0), (18.5, 30.0)]
"""From the top, mid-song, the last partial chunk (ends at the end) and one asked for past the end."""
AAC_FLOOR_DB = 30.0
EDGE = 2048
"""Samples at a slice's start whose SNR is checked on its own: where a missing pre-roll shows."""
ENCODER_START = 1024
"""The AAC encoder's own first frame after priming is poor (~10 dB) whoever decodes it: not judged."""


def source(seconds: float = SECONDS, sr: int = SR) -> np.ndarray:
    """Stereo 'music': drums, an A-major chord, a moving bass; the channels differ."""
    drums = click_track(120.0, seconds, sr)
    chord = tone(220.0, seconds, sr, 0.1) + tone(277.18, seconds, sr, 0.08) + tone(329.63, seconds, sr, 0.06)
    t = np.arange(drums.size) / sr
    bass = (0.15 * np.sin(2 * np.pi * (55.0 + 5.0 * np.floor(t)) * t)).astype(np.float32)
    return np.stack([drums + chord, 0.7 * drums + bass], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def pcm16() -> np.ndarray:
    return np.round(source() * 32767.0).astype(np.int16)


@pytest.fixture(scope="module")
def files(tmp_path_factory, pcm16) -> dict:
    folder = tmp_path_factory.mktemp("m4a")
    return {
        "alac": media.alac_m4a(folder / "lossless.m4a", pcm16, SR),
        "wav": sf.write(str(folder / "same.wav"), pcm16, SR) or folder / "same.wav",
        "aac": media.aac_m4a(folder / "bought.m4a", source(), SR),
    }


def test_probe_reads_duration_rate_and_channels_from_the_container(files):
    for name in ("alac", "aac"):
        info = probe(files[name])
        assert info.decoder == "pyav"
        assert (info.samplerate, info.channels) == (SR, 2)
        assert info.duration_s == pytest.approx(SECONDS, abs=1 / SR)  # the edit list, not the padded frames


@pytest.mark.parametrize(("start", "end"), SLICES)
def test_alac_slices_equal_the_source_samples(files, start, end):
    got = read_segment(files["alac"], start, end, SR)
    want = read_segment(files["wav"], start, end, SR)  # libsndfile, from a WAV of the same int16 samples
    assert got.size == round(min(end, SECONDS) * SR) - round(start * SR)
    assert np.array_equal(got, want)


@pytest.mark.parametrize(("start", "end"), SLICES)
def test_aac_slices_match_the_source_above_an_snr_floor(files, start, end):
    got = read_segment(files["aac"], start, end, SR)
    first, last = round(start * SR), round(min(end, SECONDS) * SR)
    want = source().mean(axis=1)[first:last]
    assert got.size == want.size
    skip = ENCODER_START if start == 0 else 0
    assert media.snr_db(got[skip:], want[skip:]) > AAC_FLOOR_DB
    assert media.snr_db(got[skip : skip + EDGE], want[skip : skip + EDGE]) > AAC_FLOOR_DB - 5


def test_slices_are_resampled_to_the_analysis_rate(files):
    y = read_segment(files["aac"], 5.0, 9.0, 22050)
    assert y.dtype == np.float32 and y.size == pytest.approx(4 * 22050, abs=2)


def test_the_audio_stream_of_a_music_video_is_chosen(tmp_path):
    y = source(6.0)
    path = media.music_video(tmp_path / "clip.mp4", y, SR)
    info = probe(path)
    assert (info.samplerate, info.channels, info.decoder) == (SR, 2, "pyav")
    got = read_segment(path, 2.0, 5.0, SR)
    assert media.snr_db(got, y.mean(axis=1)[2 * SR : 5 * SR]) > AAC_FLOOR_DB


def _lag(got: np.ndarray, reference: np.ndarray, start: int, max_lag: int) -> tuple[int, float]:
    """Where ``got`` best fits in ``reference`` around ``start`` (samples late; negative: early), and that fit."""
    from scipy.signal import correlate

    lo = max(0, start - max_lag)
    scores = correlate(reference[lo : start + got.size + max_lag], got, mode="valid", method="fft")
    best = int(np.argmax(scores))
    window = reference[lo + best : lo + best + got.size]
    return lo + best - start, float(np.corrcoef(got, window)[0, 1])


def _full_decode(path, sr: int) -> np.ndarray:
    return read_segment(path, 0.0, probe(path).duration_s, sr)


@pytest.mark.parametrize(
    ("name", "codec", "container", "sr", "exact", "slack"),
    [
        ("adts.aac", "aac", "adts", SR, False, 0),
        ("lossless.caf", "alac", "caf", SR, True, 0),
        ("old.wma", "wmav2", "asf", SR, False, 0),
        ("web.webm", "libopus", "webm", 48000, False, 48),  # Matroska stores milliseconds: 48 samples
        ("ogg.opus", "libopus", "ogg", 48000, False, 0),
        ("compressed.aifc", "adpcm_ima_qt", "aiff", SR, False, 0),
    ],
)
def test_other_containers_seek_to_the_same_samples_a_full_decode_gives(
    tmp_path, name, codec, container, sr, exact, slack
):
    """Formats without an edit list keep their codec's delay, so the yardstick is the whole file decoded from 0."""
    y = source(8.0, sr)
    path = write_encoded(tmp_path / name, y, sr, codec, container_format=container, bit_rate=192_000)
    info = probe(path)
    assert info.duration_s == pytest.approx(8.0, abs=0.1) and info.channels == 2
    whole = _full_decode(path, sr)
    delay, fit = _lag(whole[sr : 7 * sr], y.mean(axis=1), sr, 4096)
    assert abs(delay) <= 2048 and fit > 0.95, (delay, fit)  # this music, shifted by at most the codec's delay
    for start in (0.5, 3.0, 5.2):
        got = read_segment(path, start, start + 2.0, sr)
        first = round(start * sr)
        if exact:
            assert np.array_equal(got, whole[first : first + 2 * sr])
            continue
        assert got.size == 2 * sr
        lag, _ = _lag(got, whole, first, 1024)
        assert abs(lag) <= slack, f"a slice from {start} s is {lag} samples off"
        assert media.snr_db(got, whole[first + lag : first + lag + got.size]) > 20.0  # AAC's noise substitution


# -- bad input ---------------------------------------------------------------------------------------
def test_drm_protected_m4p_says_it_is_protected(tmp_path):
    path = media.drm_m4p(tmp_path / "bought 2006.m4p", source(3.0), SR)
    for call in (lambda: probe(path), lambda: read_segment(path, 0.0, 2.0, 22050)):
        with pytest.raises(AudioDecodeError, match="copy-protected \\(DRM"):
            call()


def test_truncated_m4a_keeps_what_was_readable(tmp_path):
    """iTunes puts the index first: a file cut short still has it, and the audio up to the cut decodes."""
    path = media.truncated(
        media.alac_m4a(tmp_path / "cut.m4a", np.round(source(9.0) * 32767).astype(np.int16), SR), 0.4
    )
    assert probe(path).duration_s == pytest.approx(9.0, abs=0.01)  # the index still promises 9 s
    head = read_segment(path, 0.0, 9.0, SR)
    assert 1.0 * SR < head.size < 6.0 * SR
    whole = np.round(source(9.0) * 32767).astype(np.int16).astype(np.float32).mean(axis=1) / 32768
    assert np.array_equal(head, whole[: head.size].astype(np.float32))
    with pytest.raises(AudioDecodeError, match=r"no audio could be read between 7\.0 s and 9\.0 s"):
        read_segment(path, 7.0, 9.0, 22050)


def test_m4a_cut_before_its_index_says_so(tmp_path):
    path = write_encoded(tmp_path / "download.m4a", source(4.0), SR, "aac")  # index last, as a muxer streams it
    media.truncated(path, 0.5)
    with pytest.raises(AudioDecodeError, match=r"truncated or incomplete: its index \('moov' atom\) is missing"):
        probe(path)


def test_m4a_without_audio_stream(tmp_path):
    path = media.video_only(tmp_path / "no sound.m4a")
    with pytest.raises(AudioDecodeError, match="holds no audio stream \\(it holds video\\)"):
        probe(path)


def test_unknown_codec(tmp_path):
    path = media.unknown_codec_m4a(tmp_path / "odd.m4a", source(3.0), SR)
    with pytest.raises(AudioDecodeError, match="unknown audio codec: FFmpeg has no decoder for it"):
        probe(path)
    with pytest.raises(AudioDecodeError, match="unknown audio codec"):
        read_segment(path, 0.0, 1.0, 22050)


def test_random_bytes_named_m4a(tmp_path):
    path = tmp_path / "noise.m4a"
    path.write_bytes(np.random.default_rng(3).bytes(20000))
    with pytest.raises(AudioDecodeError, match=r"not a readable audio file \(unknown or corrupt .m4a data\)"):
        probe(path)


def test_every_extension_discovery_queues_has_a_decoder():
    from engine.analysis.decoding import PYAV_EXTENSIONS, SECOND_TRY_EXTENSIONS
    from engine.run.discovery import AUDIO_EXTENSIONS

    libsndfile_native = {".wav", ".wave", ".flac", ".mp3", ".aiff", ".aif", ".aifc", ".ogg", ".oga", ".opus"}
    assert AUDIO_EXTENSIONS - libsndfile_native <= PYAV_EXTENSIONS | SECOND_TRY_EXTENSIONS


def test_pre_roll_is_long_enough_for_aac():
    assert pyav_decoding.PREROLL_S >= 2048 / 44100  # two AAC frames at 44.1 kHz
