"""Read audio as mono float32 at the analysis rate, one slice at a time.

Two decoders, both in-process and both seeking, so a worker reads only its own chunk:

- soundfile (libsndfile) for wav/flac/aiff/ogg/opus/mp3: faster than PyAV on FLAC and MP3 and,
  unlike FFmpeg, sample-accurate when seeking MP3 (docs/benchmarks.md, "Decoders per format");
- PyAV (FFmpeg's libraries, shipped in its wheels) for everything else: m4a with AAC or ALAC,
  mp4/m4v music videos, ADTS .aac, .caf, .wma, WebM/Matroska audio; and as a second try
  for an AIFF-C, Ogg or CAF file whose codec libsndfile lacks. See
  :mod:`engine.analysis.pyav_decoding`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.analysis import pyav_decoding
from engine.errors import AudioDecodeError
from engine.filekinds import irregular_kind, native_name  # native_name: soundfile encodes text strictly
from engine.native_stderr import native_stderr_to_log

PYAV_EXTENSIONS = frozenset(
    {".m4a", ".m4b", ".m4p", ".mp4", ".m4v", ".aac", ".adts", ".alac", ".wma", ".asf", ".webm", ".weba", ".mka"}
)
"""Read with PyAV directly: libsndfile cannot open these containers."""
SECOND_TRY_EXTENSIONS = frozenset({".aif", ".aiff", ".aifc", ".caf", ".ogg", ".oga", ".opus"})
"""libsndfile first; PyAV when libsndfile cannot open the file (a codec it lacks, e.g. AAC in CAF).
Not wav/flac/mp3: FFmpeg's lenient probing would "decode" random bytes named .mp3 as noise."""


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
    kind = irregular_kind(path)
    if kind is not None:  # before any open: a named pipe would block the reader, a device never end
        raise AudioDecodeError(f"is {kind}, not an audio file: {path}")
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
    """Duration and format without decoding the audio (header only for most formats).

    What the decoders print (libmpg123's notes on a damaged MP3) goes to the log, not the terminal.
    """
    with native_stderr_to_log(str(path)):
        return _probe(path)


def _probe(path: str | os.PathLike[str]) -> AudioInfo:
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix in PYAV_EXTENSIONS:
        return AudioInfo(*pyav_decoding.probe(path), "pyav")
    try:
        info = sf.info(native_name(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        if suffix in SECOND_TRY_EXTENSIONS:
            return _probe_second_try(path, _soundfile_error(path, exc))
        raise _soundfile_error(path, exc) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioDecodeError("the file holds no audio frames")
    return AudioInfo(info.frames / info.samplerate, int(info.samplerate), int(info.channels), "soundfile")


def _probe_second_try(path: Path, first: AudioDecodeError) -> AudioInfo:
    try:
        return AudioInfo(*pyav_decoding.probe(path), "pyav")
    except AudioDecodeError as second:
        raise (first if "not a readable audio file" in str(second) else second) from None


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
    """Mono float32 samples of ``[start_s, end_s)`` at ``target_sr``; what the decoders print goes to the log."""
    with native_stderr_to_log(str(path)):
        return _read_segment(path, start_s, end_s, target_sr)


def _read_segment(path: str | os.PathLike[str], start_s: float, end_s: float, target_sr: int) -> np.ndarray:
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix in PYAV_EXTENSIONS:
        return _read_pyav(path, start_s, end_s, target_sr)
    try:
        with sf.SoundFile(native_name(path)) as handle:
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
        if suffix in SECOND_TRY_EXTENSIONS:
            return _read_pyav(path, start_s, end_s, target_sr)
        raise _soundfile_error(path, exc) from None
    if frames.shape[0] == 0:
        raise AudioDecodeError(f"no audio could be read between {start_s:.1f} s and {end_s:.1f} s (truncated file?)")
    return resample(to_mono(frames), sr, target_sr)


def _read_what_is_there(path: Path, start: int, count: int) -> np.ndarray:
    """Frames up to where the data breaks off: a truncated FLAC otherwise fails its whole read."""
    pieces: list[np.ndarray] = []
    try:
        with sf.SoundFile(native_name(path)) as handle:
            if start > 0:
                handle.seek(start)
            for block in handle.blocks(blocksize=16384, frames=count, dtype="float32", always_2d=True):
                pieces.append(block)
    except (sf.LibsndfileError, RuntimeError):
        pass
    return np.concatenate(pieces) if pieces else np.zeros((0, 1), np.float32)


def _read_pyav(path: Path, start_s: float, end_s: float, target_sr: int) -> np.ndarray:
    mono, sr = pyav_decoding.read(path, start_s, end_s)
    return resample(to_mono(mono), sr, target_sr)
