"""Read title, artist, BPM and key from an audio file's own tags (mutagen).

Tags serve twice: title/artist let a song be matched to a playlist export that has no file
column, and BPM/key written by DJ software can serve as reference values. Reading is
metadata only (no audio), so it is cheap enough to do in the parent process for every song.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.filekinds import irregular_kind


@dataclass(frozen=True)
class SongTags:
    title: str = ""
    artist: str = ""
    bpm: str = ""
    key: str = ""
    error: str = ""
    duration_s: float | None = None
    """The stream's length (mutagen ``info.length``): evidence when pairing with a playlist export."""


# Tag names per container, most specific first.
_ID3 = {"title": ("TIT2",), "artist": ("TPE1", "TPE2"), "bpm": ("TBPM",), "key": ("TKEY",)}
_MP4 = {
    "title": ("\xa9nam",),
    "artist": ("\xa9ART", "aART"),
    "bpm": ("tmpo",),
    "key": ("----:com.apple.iTunes:initialkey", "----:com.apple.iTunes:KEY"),
}
_VORBIS = {
    "title": ("title",),
    "artist": ("artist", "albumartist"),
    "bpm": ("bpm", "tempo"),
    "key": ("initialkey", "key"),
}


def read_tags(path: str | os.PathLike[str]) -> SongTags:
    """Whatever of title/artist/BPM/key the file carries; an unreadable file gives ``error``, not an exception."""
    kind = irregular_kind(path)
    if kind is not None:  # never opened: a named pipe would block this thread until something wrote into it
        return SongTags(error=f"tags unreadable: the path is {kind}")
    try:
        import mutagen

        audio = mutagen.File(Path(path))
    except Exception as exc:  # mutagen raises many types for damaged files
        return SongTags(error=f"tags unreadable: {type(exc).__name__}: {exc}")
    if audio is None:
        return SongTags()
    length = getattr(getattr(audio, "info", None), "length", None)
    duration = float(length) if isinstance(length, int | float) and length > 0 else None
    if audio.tags is None:
        return SongTags(duration_s=duration)
    tags = audio.tags
    kind = type(tags).__name__
    if kind == "ID3" or hasattr(tags, "getall"):
        names = _ID3
    elif kind == "MP4Tags":
        names = _MP4
    else:
        names = _VORBIS
    values = {field: _first(tags, candidates) for field, candidates in names.items()}
    return SongTags(**values, duration_s=duration)


def _first(tags: Any, candidates: tuple[str, ...]) -> str:
    for name in candidates:
        value = _get(tags, name)
        if value:
            return value
    return ""


def _get(tags: Any, name: str) -> str:
    try:
        if hasattr(tags, "getall"):  # ID3
            frames = tags.getall(name)
            values = [str(v) for frame in frames for v in getattr(frame, "text", [])]
        else:
            raw = tags.get(name) if name in tags else tags.get(name.upper())
            if raw is None:
                return ""
            values = [_text(v) for v in (raw if isinstance(raw, list) else [raw])]
    except (KeyError, ValueError, TypeError):
        return ""
    values = [v.strip() for v in values if v is not None and str(v).strip()]
    return values[0] if values else ""


def _text(value: Any) -> str:
    if isinstance(value, bytes):  # MP4 freeform atoms
        return value.decode("utf-8", errors="replace")
    return str(value)


def title_and_artist(path: str | os.PathLike[str], tags: SongTags | None = None) -> tuple[str, str]:
    """The song's title and artist as a DJ program would list it: from its tags, else from its file name
    (``Artist - Title.ext`` gives both, :func:`engine.references.textnorm.split_stem`).

    This names a song for people (results, exports, the queue); it is never evidence for an answer.
    """
    from engine.references.textnorm import split_stem

    tags = read_tags(path) if tags is None else tags
    if tags.title.strip():
        return tags.title.strip(), tags.artist.strip()
    artist, title = split_stem(Path(str(path).replace("\\", "/")).stem)
    return title, artist or tags.artist.strip()
