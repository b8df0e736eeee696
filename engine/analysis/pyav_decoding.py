"""Decode, in-process and seekable, what libsndfile cannot read: m4a (AAC, ALAC), mp4, ADTS, WMA, WebM...

PyAV's wheels carry FFmpeg's own libraries, so nothing is installed by hand, and a worker can
seek: it opens the file, seeks a little before its chunk (:data:`PREROLL_S`, so that the codec's
overlap with the previous frame is rebuilt), decodes only its window and cuts it to the sample
with the frames' presentation timestamps. The container's timestamps already account for AAC's
encoder delay (the MP4 edit list), so sample ``n`` of a slice is sample ``n`` of the source.

Every failure is turned into an :class:`~engine.errors.AudioDecodeError` that says what is wrong
with *this* file: protected (DRM), no audio stream, a codec FFmpeg does not know, or an index that
is missing because the file was cut short.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from engine.errors import AudioDecodeError

PREROLL_S = 0.2
"""Decode this much before a chunk and drop it: AAC/MP3/Opus frames overlap their predecessor."""
PROTECTED_TAGS = frozenset({"drms", "drmi", "drma", "enca", "p608"})
"""Sample-entry types of FairPlay (iTunes Store .m4p) and encrypted MP4 audio."""
DECODE_FROM_TOP = frozenset({"asf"})
"""Demuxers whose timestamps cannot place a frame: ASF/WMA stamps packets of several frames in
milliseconds (its first frame claims 92 ms), and after a seek slices were up to 50 ms off. These
are decoded from the top, counting samples from 0; WMA is rare in music libraries and decodes at
hundreds of times realtime. FFmpeg's WMA decoder drops its first 2048 samples, so WMA audio runs
46 ms early; harmless for tempo and key."""
COUNTED_FORMATS = frozenset({"aac"})
"""Demuxers whose duration is an estimate from the bit rate (raw ADTS): the packets are counted instead."""


def _av():
    import av  # imported on first use: workers of a FLAC-only run never load FFmpeg

    return av


def _open(path: Path):
    """The container and its best audio stream, or a specific error."""
    av = _av()
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)  # FFmpeg's reason ("moov atom not found") is only in its log
    try:
        with av.logging.Capture() as logs:
            try:
                container = av.open(str(path), metadata_errors="ignore")
            except av.FFmpegError as exc:
                raise _open_error(path, exc, logs) from None
    finally:
        av.logging.set_level(level)
    try:
        stream = container.streams.best("audio")
        if stream is None:
            kinds = sorted({s.type for s in container.streams}) or ["nothing"]
            raise AudioDecodeError(f"the file holds no audio stream (it holds {', '.join(kinds)})")
        tag = _codec_tag(stream)
        if tag in PROTECTED_TAGS or (path.suffix.lower() == ".m4p" and stream.codec_context is None):
            raise AudioDecodeError(
                f"the song is copy-protected (DRM, '{tag}' audio): it cannot be decoded; "
                "a copy without DRM (e.g. iTunes Plus or a CD rip) can be analysed"
            )
        if stream.codec_context is None or stream.codec_context.name in ("", "none"):
            named = f" '{tag}'" if tag else ""
            raise AudioDecodeError(f"unknown audio codec{named}: FFmpeg has no decoder for it")
        stream.codec_context.thread_count = 1  # one thread per worker, like BLAS and numba there
    except BaseException:
        container.close()
        raise
    return container, stream


def _codec_tag(stream) -> str:
    try:
        tag = stream.codec_context.codec_tag if stream.codec_context is not None else ""
    except (AttributeError, ValueError):
        tag = ""
    return str(tag or "").strip("\x00").strip()


def _open_error(path: Path, exc: Exception, logs: list) -> AudioDecodeError:
    said = " ".join([str(exc), *(str(entry[2]) for entry in logs)]).lower()
    if "moov atom not found" in said and _looks_like_mp4(path):
        return AudioDecodeError(
            "the file is truncated or incomplete: its index ('moov' atom) is missing, so no audio can be located"
        )
    if path.suffix.lower() == ".m4p":
        return AudioDecodeError("the song is copy-protected (DRM): it cannot be decoded")
    return AudioDecodeError(f"not a readable audio file (unknown or corrupt {path.suffix or 'file'} data)")


def _looks_like_mp4(path: Path) -> bool:
    """An MP4 starts with a box (``ftyp``, sometimes ``free``/``wide``/``mdat``): else it is not one at all."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return head[4:8] in (b"ftyp", b"free", b"wide", b"skip", b"mdat", b"moov", b"pnot")


def _channels(stream) -> int:
    context = stream.codec_context
    layout = getattr(context, "layout", None)
    return int(getattr(layout, "nb_channels", 0) or getattr(context, "channels", 0) or 0)


def probe(path: Path) -> tuple[float, int, int]:
    """``(duration_s, samplerate, channels)`` from the container's header (ADTS: its packets)."""
    av = _av()
    container, stream = _open(path)
    with container:
        sr = int(stream.codec_context.sample_rate or stream.sample_rate or 0)
        channels = _channels(stream)
        if sr <= 0 or channels <= 0:
            name = stream.codec_context.name
            raise AudioDecodeError(f"the audio stream declares no sample rate or channels ({name})")
        duration = None
        if container.format.name in COUNTED_FORMATS:
            try:
                ticks = sum(p.duration or 0 for p in container.demux(stream) if p.size)
            except av.FFmpegError:
                ticks = 0
            duration = float(ticks * stream.time_base) if ticks else None
        if duration is None and stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        if duration is None and container.duration:
            duration = container.duration / 1_000_000
    if not duration or not math.isfinite(duration) or duration <= 0:
        raise AudioDecodeError("the file holds no audio frames")
    return duration, sr, channels


def _to_float(frame, channels: int) -> np.ndarray:
    """``(channels, samples)`` float32 in [-1, 1) from any of FFmpeg's sample formats."""
    data = frame.to_ndarray()
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    if data.dtype.kind == "f":
        return data.astype(np.float32, copy=False)
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128.0) / 128.0
    return data.astype(np.float32) / float(2 ** (8 * data.dtype.itemsize - 1))


def read(path: Path, start_s: float, end_s: float) -> tuple[np.ndarray, int]:
    """Mono float32 samples of ``[start_s, end_s)`` at the file's own rate, and that rate.

    A file that breaks off (truncated, damaged packets) yields what was decoded before the break;
    only a window with no audio at all is an error.
    """
    av = _av()
    container, stream = _open(path)
    pieces: list[np.ndarray] = []
    sr = int(stream.codec_context.sample_rate or 0)
    if (
        container.format.name not in COUNTED_FORMATS and stream.duration and stream.time_base
    ):  # AAC's last frame runs past the end: its padding is not audio
        end_s = min(end_s, float(stream.duration * stream.time_base))
    with container:
        fmt = container.format.name
        # Raw ADTS has no index: FFmpeg's seek reads packet headers from the top (its generic index),
        # so the timestamps it lands on are exact, at the cost of a cheap linear scan.
        seeked = start_s > PREROLL_S and fmt not in DECODE_FROM_TOP
        if seeked:
            try:
                container.seek(int((start_s - PREROLL_S) / stream.time_base), stream=stream, backward=True)
            except av.FFmpegError:
                container.seek(0, stream=stream, backward=True)  # an unseekable stream: decode from the top
        position: int | None = None  # index, at ``sr``, of the next sample to come out of the decoder
        first = stop = 0
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if frame.sample_rate != sr or position is None:
                        sr = frame.sample_rate  # HE-AAC's decoder doubles the declared rate
                        first, stop = round(start_s * sr), round(end_s * sr)
                        if fmt in DECODE_FROM_TOP:
                            position = 0 if position is None else position
                        elif frame.pts is not None:
                            position = round(float(frame.pts * frame.time_base) * sr)
                        else:  # no timestamp: where the seek aimed (exact only from the top)
                            position = round(max(0.0, start_s - PREROLL_S) * sr) if seeked else 0
                    count = frame.samples
                    lo, hi = max(first - position, 0), min(stop - position, count)
                    if hi > lo:
                        samples = _to_float(frame, frame.layout.nb_channels or 1)
                        pieces.append(samples[:, lo:hi].mean(axis=0))
                    position += count
                if position is not None and position >= stop:
                    break
        except av.FFmpegError:
            pass  # the data broke off: keep what came before, as for a truncated FLAC
    if not pieces:
        raise AudioDecodeError(
            f"no audio could be read between {start_s:.1f} s and {end_s:.1f} s (truncated or damaged file?)"
        )
    return np.concatenate(pieces).astype(np.float32, copy=False), sr


def ffmpeg_licence() -> str:
    """One line for the About box: FFmpeg's version and licence as the loaded libraries report them.

    PyAV's wheels (checked: 18.1 on Linux x86_64) build FFmpeg with ``--enable-version3``, so the
    libraries say LGPL-3.0-or-later; the same wheels also link the GPL video encoders x264/x265,
    which the product never calls but a bundle that ships them carries. Both are read here from the
    libraries themselves, so the line stays true when the wheel changes.
    """
    try:
        av = _av()
        meta = av._core.library_meta["libavcodec"]
    except Exception as exc:  # the About box must open whatever is broken
        return f"FFmpeg (through PyAV) could not be loaded: {type(exc).__name__}"
    licence = str(meta.get("license", "licence unknown"))
    gpl = [name for name in ("x264", "x265") if f"--enable-lib{name}" in str(meta.get("configuration", ""))]
    extra = f"; this build also links {' and '.join(gpl)} (GPL-2.0-or-later, video encoders, unused)" if gpl else ""
    return f"FFmpeg {av.ffmpeg_version_info} ({licence}) through PyAV {av.__version__} (BSD-3-Clause){extra}"
