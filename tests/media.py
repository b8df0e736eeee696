"""Real .m4a/.mp4/.aac/.wma/... test files, made with PyAV's own encoders (no system FFmpeg).

The bad ones are made the way they occur: an iTunes Store purchase (.m4p) differs from an
.m4a in its sample entry, ``drms`` instead of ``mp4a``; a download that broke off is the first
part of the file; a codec FFmpeg does not know is a sample entry it has no mapping for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.analysis.pyav_encoding import write_encoded

ITUNES = {"movflags": "faststart"}
"""The index (moov) before the audio, as iTunes and Apple Music write it."""


def aac_m4a(path: Path, y: np.ndarray, sr: int, bit_rate: int = 256_000, **kwargs) -> Path:
    return write_encoded(path, y, sr, "aac", bit_rate=bit_rate, container_options=ITUNES, **kwargs)


def alac_m4a(path: Path, y: np.ndarray, sr: int) -> Path:
    """16-bit ALAC when ``y`` is int16, so decoding must give back exactly these samples."""
    fmt = "s16p" if np.asarray(y).dtype == np.int16 else "s32p"
    return write_encoded(path, y, sr, "alac", sample_format=fmt, container_options=ITUNES)


def _patch_sample_entry(source: Path, target: Path, old: bytes, new: bytes) -> Path:
    """Rename every ``old`` box after the sample description (``stsd``): same size, so no offset moves."""
    data = source.read_bytes()
    at = data.index(b"stsd")
    assert old in data[at:], f"no {old!r} sample entry in {source}"
    target.write_bytes(data[:at] + data[at:].replace(old, new))
    if target != source:
        source.unlink()
    return target


def drm_m4p(path: Path, y: np.ndarray, sr: int) -> Path:
    """An AAC file whose sample entry says FairPlay (``drms``), as iTunes Store .m4p files have."""
    plain = aac_m4a(path.with_suffix(".plain.m4a"), y, sr)
    return _patch_sample_entry(plain, path, b"mp4a", b"drms")


def unknown_codec_m4a(path: Path, y: np.ndarray, sr: int) -> Path:
    """An ALAC file whose codec boxes are renamed to a four-character code no decoder knows."""
    plain = alac_m4a(path.with_suffix(".plain.m4a"), y, sr)
    return _patch_sample_entry(plain, path, b"alac", b"zqzq")


def truncated(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _video_frame(av, index: int):
    pixels = np.full((48, 64, 3), (index * 7) % 256, np.uint8)
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
    frame.pts = index
    return frame


def video_only(path: Path, seconds: float = 2.0) -> Path:
    """An .m4a that holds a (tiny MPEG-4 part 2) video stream and no audio."""
    import av

    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for i in range(int(seconds * 10)):
            container.mux(video.encode(_video_frame(av, i)))
        container.mux(video.encode(None))
    return path


def music_video(path: Path, y: np.ndarray, sr: int) -> Path:
    """An .mp4 whose first stream is video and second AAC audio, as a music video's is."""
    import av

    planar = np.ascontiguousarray(np.atleast_2d(np.asarray(y, np.float32).T))
    layout = "mono" if planar.shape[0] == 1 else "stereo"
    seconds = planar.shape[1] / sr
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("aac", rate=sr, layout=layout)
        audio.codec_context.bit_rate = 256_000
        for i in range(int(seconds * 10)):
            container.mux(video.encode(_video_frame(av, i)))
        for begin in range(0, planar.shape[1], 4096):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, begin : begin + 4096]), format="fltp", layout=layout
            )
            frame.sample_rate, frame.pts = sr, begin
            container.mux(audio.encode(frame))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return path


def snr_db(got: np.ndarray, want: np.ndarray) -> float:
    """Signal-to-error ratio of ``got`` against ``want`` (same length)."""
    assert got.shape == want.shape, (got.shape, want.shape)
    error = float(np.sum((got.astype(np.float64) - want) ** 2))
    return 10.0 * np.log10(float(np.sum(np.square(want, dtype=np.float64))) / max(error, 1e-30))
