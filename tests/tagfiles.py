"""Real audio files of every taggable format, with tags and cover art already on them, for tag-writing tests.

WAV/AIFF/FLAC/Ogg Vorbis come from soundfile (libsndfile); MP3, M4A (AAC) and Opus from PyAV's
FFmpeg encoders. The existing tags are added with mutagen, the way other software would have
left them. :func:`audio_digest` is the check that a tag write left the audio alone: the raw
packets of the audio stream as the demuxer returns them, and the decoded PCM.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, COMM, ID3, TALB, TIT2, TKEY, TPE1, TXXX
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from tests.audio import click_track, tone

FORMATS = ("mp3", "m4a", "flac", "ogg", "opus", "aiff", "wav")
COVER = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # stands for an image: only its bytes must survive
_AV_CODEC = {"mp3": ("mp3", "libmp3lame"), "m4a": ("ipod", "aac"), "opus": ("ogg", "libopus")}


def samples(seconds: float, sr: int, seed: float = 120.0) -> np.ndarray:
    return (click_track(seed, seconds, sr) + tone(220.0, seconds, sr, 0.1)).astype(np.float32)


def make(path: Path, seconds: float = 1.0, seed: float = 120.0, key: str | None = None, id3v: int = 4) -> Path:
    """A file of ``path``'s format with title/artist/album, a comment, a custom tag and cover art.

    ``key``: an existing key tag (in that format's key field) so undo has a present value to restore.
    ``id3v``: the ID3v2 version of MP3/AIFF/WAV tags.
    """
    fmt = path.suffix.lstrip(".").lower()
    sr = 48000 if fmt == "opus" else 22050
    y = samples(seconds, sr, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in _AV_CODEC:
        _encode(path, y, sr, *_AV_CODEC[fmt])
    else:
        sf.write(str(path), y, sr, format={"aiff": "AIFF", "wav": "WAV", "flac": "FLAC", "ogg": "OGG"}[fmt])
    _tag(path, fmt, key, id3v)
    return path


def _encode(path: Path, y: np.ndarray, sr: int, container: str, codec: str) -> None:
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=sr)
        stream.layout = "mono"
        for start in range(0, y.size, 1024):
            frame = av.AudioFrame.from_ndarray(y[None, start : start + 1024], format="flt", layout="mono")
            frame.sample_rate = sr
            frame.pts = start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _tag(path: Path, fmt: str, key: str | None, id3v: int) -> None:
    if fmt in ("mp3", "aiff", "wav"):
        import mutagen

        audio = mutagen.File(str(path))
        if audio.tags is None:
            audio.add_tags()
        tags = audio.tags
        tags.add(TIT2(encoding=3, text=["Title ü"]))
        tags.add(TPE1(encoding=3, text=["Artist"]))
        tags.add(TALB(encoding=3, text=["Album"]))
        tags.add(COMM(encoding=3, lang="eng", desc="", text=["a comment"]))
        tags.add(TXXX(encoding=3, desc="CUSTOM", text=["kept"]))
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=COVER))
        if key:
            tags.add(TKEY(encoding=3, text=[key]))
        audio.save(v2_version=id3v) if fmt != "mp3" else audio.save(v2_version=id3v, v1=0)
    elif fmt == "m4a":
        audio = MP4(str(path))
        audio["\xa9nam"] = ["Title ü"]
        audio["\xa9ART"] = ["Artist"]
        audio["\xa9alb"] = ["Album"]
        audio["covr"] = [MP4Cover(COVER, imageformat=MP4Cover.FORMAT_PNG)]
        audio["----:com.apple.iTunes:CUSTOM"] = [MP4FreeForm(b"kept")]
        if key:
            audio["----:com.apple.iTunes:initialkey"] = [MP4FreeForm(key.encode())]
        audio.save()
    else:
        audio = {"flac": FLAC, "ogg": OggVorbis, "opus": OggOpus}[fmt](str(path))
        audio["TITLE"] = ["Title ü"]
        audio["ARTIST"] = ["Artist"]
        audio["ALBUM"] = ["Album"]
        audio["CUSTOM"] = ["kept"]
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/png", COVER
        if fmt == "flac":
            audio.add_picture(picture)
        else:
            import base64

            audio["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
        if key:
            audio["INITIALKEY"] = [key]
        audio.save()


def audio_digest(path: Path) -> tuple[str, str]:
    """(hash of the audio stream's raw packets, hash of the decoded PCM): both must survive a tag write."""
    packets, pcm = hashlib.sha256(), hashlib.sha256()
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            if packet.size:
                packets.update(bytes(packet))
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            pcm.update(np.ascontiguousarray(frame.to_ndarray()).tobytes())
    return packets.hexdigest(), pcm.hexdigest()


def other_tags(path: Path) -> dict[str, object]:
    """Everything but BPM and key, in comparable form: the tags and cover art a write must keep."""
    import mutagen

    audio = mutagen.File(str(path))
    tags = audio.tags
    if isinstance(tags, ID3) or hasattr(tags, "getall"):
        return {k: repr(v) for k, v in tags.items() if not k.startswith(("TBPM", "TKEY"))}
    if isinstance(audio, MP4):
        return {
            k: [bytes(x) if isinstance(x, bytes) else x for x in v]
            for k, v in tags.items()
            if k not in ("tmpo", "----:com.apple.iTunes:initialkey")
        }
    kept = sorted((k.lower(), v) for k, v in tags.items() if k.lower() not in ("bpm", "initialkey"))
    if isinstance(audio, FLAC):
        kept.append(("pictures", [p.data for p in audio.pictures]))
    return {"vorbis": kept}


HOLD_JOURNAL = """
import sys, time
from engine.tagging.journal import Journal
with Journal(sys.argv[1]).exclusive():
    print("held", flush=True)
    time.sleep(120)
"""


@contextmanager
def journal_held_elsewhere(journal_path: Path) -> Iterator[subprocess.Popen]:
    """Another real process holding the tag journal, as a running batch does; killed (not released) at exit."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_JOURNAL, str(journal_path)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
