import numpy as np
import pytest
import soundfile as sf

from engine.analysis.decoding import probe, read_segment
from engine.errors import AudioDecodeError
from tests.audio import tone, write


def test_slice_is_read_mixed_down_and_resampled(tmp_path):
    sr = 44100
    left = tone(440.0, 4.0, sr)
    stereo = np.stack([left, -0.5 * left], axis=1)
    path = write(tmp_path / "s.flac", stereo, sr)
    info = probe(path)
    assert info.channels == 2 and info.samplerate == sr and info.duration_s == pytest.approx(4.0)
    y = read_segment(path, 1.0, 2.5, 22050)
    assert y.dtype == np.float32 and y.ndim == 1
    assert y.size == pytest.approx(1.5 * 22050, abs=2)
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 22050 / y.size - 440.0) < 2.0  # still a 440 Hz tone after resampling
    assert np.sqrt(np.mean(y**2)) == pytest.approx(0.3 * 0.25 / np.sqrt(2), rel=0.05)  # (L + R) / 2


def test_nan_and_inf_samples_become_silence(tmp_path):
    y = tone(220.0, 1.0).astype(np.float32)
    y[100:200] = np.nan
    y[300] = np.inf
    path = write(tmp_path / "bad.wav", y, subtype="FLOAT")
    out = read_segment(path, 0.0, 1.0, 22050)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(np.random.default_rng(1).bytes(4096)), "not a readable audio file"),
        (lambda p: p.mkdir(), "folder"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, make, message):
    path = tmp_path / "bad.mp3"
    make(path)
    with pytest.raises(AudioDecodeError, match=message):
        probe(path)


def test_missing_file(tmp_path):
    with pytest.raises(AudioDecodeError, match="not found"):
        read_segment(tmp_path / "gone.wav", 0, 1, 22050)


def test_truncated_wav_reads_what_is_there(tmp_path):
    """The header promises 4 s, the file holds 2 s: probe reports the 2 s there are, and they read back intact."""
    path = write(tmp_path / "t.wav", tone(220.0, 4.0))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    info = probe(path)
    assert info.duration_s == pytest.approx(2.0, abs=0.01)
    y = read_segment(path, 0.0, 4.0, 22050)  # asking for the promised 4 s gets what is there, no error
    assert y.size == pytest.approx(2.0 * 22050, abs=30)
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 22050 / y.size - 220.0) < 2.0


def test_m4a_header_without_index_says_it_is_truncated(tmp_path):
    path = tmp_path / "song.m4a"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(2000))
    with pytest.raises(AudioDecodeError, match="truncated or incomplete"):
        probe(path)


def test_8bit_and_24bit_and_high_rates(tmp_path):
    for subtype, sr in [("PCM_U8", 8000), ("PCM_24", 96000), ("FLOAT", 192000)]:
        path = write(tmp_path / f"{subtype}.wav", tone(440.0, 1.0, sr), sr, subtype=subtype)
        assert sf.info(str(path)).subtype == subtype
        y = read_segment(path, 0.0, 1.0, 22050)
        assert y.size == pytest.approx(22050, abs=2)
