"""Write AAC/ALAC/Opus/... files with PyAV's own encoders (no system FFmpeg).

The product never encodes songs; ``doctor``, the benchmarks and the tests use this to make real
.m4a files to decode, on any machine that can run the product.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

FRAME = 4096
"""Samples per frame handed to the encoder (PyAV re-frames to the codec's own size)."""


def write_encoded(
    path: str | os.PathLike[str],
    samples: np.ndarray,
    sr: int,
    codec: str = "aac",
    *,
    bit_rate: int | None = None,
    sample_format: str | None = None,
    container_format: str | None = None,
    container_options: dict[str, str] | None = None,
    codec_options: dict[str, str] | None = None,
) -> Path:
    """Encode ``samples`` (``(frames,)`` or ``(frames, channels)``; float32 in [-1, 1] or int16).

    ``sample_format`` picks the codec's format where it has several (ALAC: ``"s16p"`` for 16-bit,
    ``"s32p"`` for 24-bit); ``container_options`` go to the muxer (``{"movflags": "faststart"}``
    puts the index first, as iTunes does); ``codec_options`` go to the encoder (``{"aac_coder": "fast"}``).
    """
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.asarray(samples)
    data = data[:, None] if data.ndim == 1 else data
    planar = np.ascontiguousarray(data.T)
    frame_format = "s16p" if planar.dtype == np.int16 else "fltp"
    if frame_format == "fltp":
        planar = planar.astype(np.float32, copy=False)
    layout = {1: "mono", 2: "stereo"}.get(planar.shape[0], f"{planar.shape[0]}c")
    with av.open(str(path), "w", format=container_format, options=container_options or {}) as container:
        stream: Any = container.add_stream(codec, rate=sr, layout=layout, options=codec_options or {})
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate
        if sample_format:
            stream.codec_context.format = sample_format
        for begin in range(0, planar.shape[1], FRAME):
            block = np.ascontiguousarray(planar[:, begin : begin + FRAME])
            frame = av.AudioFrame.from_ndarray(block, format=frame_format, layout=layout)
            frame.sample_rate = sr
            frame.pts = begin
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
