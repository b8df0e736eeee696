"""Read audio as mono float32 at the analysis rate, one slice at a time.

soundfile (libsndfile) reads wav/flac/aiff/ogg/opus/mp3 and seeks, so a worker reads only
its own chunk. Containers libsndfile cannot open (m4a/aac/alac/caf variants) fall back to
``audioread`` (ffmpeg, GStreamer or Core Audio, whichever is present).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.errors import AudioDecodeError

FALLBACK_EXTENSIONS = frozenset({".m4a", ".mp4", ".aac", ".caf", ".alac"})
INSTALL_HINT = (
    "no decoder for this format is installed: install FFmpeg "
    "(macOS: `brew install ffmpeg`, Debian/Ubuntu: `apt install ffmpeg`, Windows: `winget install ffmpeg`)"
)


@dataclass(frozen=True)
class AudioInfo:
    duration_s: float
    samplerate: int
    channels: int
    decoder: str


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioDecodeError(f"file not found: {path}")
    if path.is_dir():
        raise AudioDecodeError(f"is a folder, not an audio file: {path}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioDecodeError(f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        raise AudioDecodeError("file is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioDecodeError("permission denied: the file is not readable")


def _soundfile_error(path: Path, exc: Exception) -> AudioDecodeError:
    text = str(exc)
    # The file was checked to exist first, so libsndfile's "does not exist or is not a regular
    # file" (what it says for random bytes with an audio extension) also means unreadable data.
    unreadable = ("format not recognised", "unknown format", "not a regular file", "unspecified internal error")
    if any(phrase in text.lower() for phrase in unreadable):
        return AudioDecodeError(f"not a readable audio file (unknown or corrupt {path.suffix or 'file'} data)")
    return AudioDecodeError(f"cannot decode audio: {text.split(': ', 1)[-1] if ': ' in text else text}")


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Duration and format without decoding the audio (header only for most formats)."""
    path = Path(path)
    _check_file(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        if path.suffix.lower() in FALLBACK_EXTENSIONS:
            return _probe_fallback(path)
        raise _soundfile_error(path, exc) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioDecodeError("the file holds no audio frames")
    return AudioInfo(info.frames / info.samplerate, int(info.samplerate), int(info.channels), "soundfile")


def _probe_fallback(path: Path) -> AudioInfo:
    audioread = _import_audioread()
    try:
        with audioread.audio_open(str(path)) as handle:
            return AudioInfo(float(handle.duration), int(handle.samplerate), int(handle.channels), "audioread")
    except audioread.NoBackendError:
        raise _no_backend_error(audioread, path) from None
    except Exception as exc:  # audioread backends raise assorted errors for corrupt input
        raise AudioDecodeError(f"cannot decode audio: {exc}") from None


def _no_backend_error(audioread, path: Path) -> AudioDecodeError:
    """audioread says "no backend" both when none is installed and when every installed one refused
    the file; only the first is fixed by installing FFmpeg, so the second must not say so."""
    installed = [b.__module__.rsplit(".", 1)[-1] for b in audioread.available_backends()]
    installed = [name for name in installed if name != "rawread"]  # rawread reads only wav/aiff/au
    if installed:
        return AudioDecodeError(f"cannot decode audio: {', '.join(installed)} could not read this file (damaged?)")
    return AudioDecodeError(f"{path.suffix} files cannot be read: {INSTALL_HINT}")


def _import_audioread():
    try:
        import audioread
    except ImportError:  # pragma: no cover - librosa depends on it
        raise AudioDecodeError(f"audioread is missing and {INSTALL_HINT}") from None
    return audioread


def to_mono(frames: np.ndarray) -> np.ndarray:
    """Average channels; replace NaN and infinities with silence so one bad sample cannot poison a chunk."""
    mono = frames.mean(axis=1) if frames.ndim == 2 else frames
    mono = np.asarray(mono, dtype=np.float32)
    if not np.all(np.isfinite(mono)):
        mono = np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
    return mono


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    if orig_sr == target_sr or y.size == 0:
        return y
    import soxr

    return soxr.resample(y, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def read_segment(path: str | os.PathLike[str], start_s: float, end_s: float, target_sr: int) -> np.ndarray:
    """Mono float32 samples of ``[start_s, end_s)`` at ``target_sr``."""
    path = Path(path)
    _check_file(path)
    try:
        with sf.SoundFile(str(path)) as handle:
            sr = handle.samplerate
            start = round(start_s * sr)
            stop = min(round(end_s * sr), handle.frames) if handle.frames > 0 else round(end_s * sr)
            if start > 0:
                handle.seek(start)
            try:
                frames = handle.read(max(0, stop - start), dtype="float32", always_2d=True)
            except sf.LibsndfileError:
                frames = _read_what_is_there(path, start, max(0, stop - start))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        if path.suffix.lower() in FALLBACK_EXTENSIONS:
            return _read_fallback(path, start_s, end_s, target_sr)
        raise _soundfile_error(path, exc) from None
    if frames.shape[0] == 0:
        raise AudioDecodeError(f"no audio could be read between {start_s:.1f} s and {end_s:.1f} s (truncated file?)")
    return resample(to_mono(frames), sr, target_sr)


def _read_what_is_there(path: Path, start: int, count: int) -> np.ndarray:
    """Frames up to where the data breaks off: a truncated FLAC otherwise fails its whole read."""
    pieces: list[np.ndarray] = []
    try:
        with sf.SoundFile(str(path)) as handle:
            if start > 0:
                handle.seek(start)
            for block in handle.blocks(blocksize=16384, frames=count, dtype="float32", always_2d=True):
                pieces.append(block)
    except (sf.LibsndfileError, RuntimeError):
        pass
    return np.concatenate(pieces) if pieces else np.zeros((0, 1), np.float32)


def _read_fallback(path: Path, start_s: float, end_s: float, target_sr: int) -> np.ndarray:
    """Decode through audioread; it cannot seek, so it streams up to ``end_s`` and drops the rest."""
    audioread = _import_audioread()
    pieces: list[np.ndarray] = []
    try:
        with audioread.audio_open(str(path)) as handle:
            sr, channels = handle.samplerate, handle.channels
            first, last = int(start_s * sr), int(end_s * sr)
            position = 0
            for block in handle:
                data = np.frombuffer(block, dtype="<i2").astype(np.float32) / 32768.0
                data = data.reshape(-1, channels)
                block_end = position + data.shape[0]
                if block_end > first:
                    pieces.append(data[max(0, first - position) : max(0, last - position)])
                position = block_end
                if position >= last:
                    break
    except audioread.NoBackendError:
        raise _no_backend_error(audioread, path) from None
    except Exception as exc:
        raise AudioDecodeError(f"cannot decode audio: {exc}") from None
    if not pieces:
        raise AudioDecodeError(f"no audio could be read between {start_s:.1f} s and {end_s:.1f} s")
    return resample(to_mono(np.concatenate(pieces)), sr, target_sr)
