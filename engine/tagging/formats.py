"""Read and write the BPM and key fields of each container with mutagen, keeping everything else.

Why mutagen and not ``mediafile``: mediafile (beets) is a convenience layer over mutagen that
normalises fields, e.g. it always saves ID3 as v2.4 unless told otherwise and maps ``bpm`` to an
integer everywhere. Here the spec of each container decides, the ID3 version must never change,
and undo must put back the exact frames/atoms that were there (text encoding, data type, several
values), so the raw mutagen objects are needed anyway.

A field value travels as ``Raw``: ``None`` for an absent tag, else a JSON-able list (one item per
value, with what is needed to restore it byte-for-byte in meaning: ID3 text encoding, MP4 data
type). :func:`display` turns it into the text the preview shows.

| container | BPM | key |
|---|---|---|
| MP3, AIFF, WAV (ID3v2.3/2.4) | ``TBPM`` (integer, per the ID3 spec) | ``TKEY`` |
| MP4 / M4A | ``tmpo`` (16-bit integer atom) | ``----:com.apple.iTunes:initialkey`` |
| FLAC, Ogg Vorbis, Opus | ``BPM`` (free text: decimals kept) | ``INITIALKEY`` |

The comment (``--comment-key``, Mixed In Key's ``8A - Am`` in front) is ID3 ``COMM`` with an empty
description (the one players show; ``iTunNORM`` and other described comments are left alone), MP4
``©cmt`` and Vorbis ``COMMENT``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import mutagen
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
from mutagen.id3 import COMM, ID3, TBPM, TKEY, Encoding
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, AtomDataType, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from engine.tagging.notation import TAG_FIELDS

Raw = list[Any] | None

NEW_ID3_VERSION = 3
"""A file without any ID3 tag gets v2.3: Windows Explorer, older iTunes and several DJ programs read
no v2.4. An existing tag always keeps its own version."""


class UnsupportedFile(Exception):
    """This file's tags cannot be written safely; the message says why (shown per file)."""


@dataclass(frozen=True)
class Container:
    name: str
    bpm_integer: bool


_ID3_FRAMES = {"bpm": ("TBPM", TBPM), "key": ("TKEY", TKEY)}
_MP4_ATOMS = {"bpm": "tmpo", "key": "----:com.apple.iTunes:initialkey", "comment": "\xa9cmt"}
_VORBIS_NAMES = {"bpm": "BPM", "key": "INITIALKEY", "comment": "COMMENT"}


class TagFile:
    """One opened file's tags; :meth:`save` writes them back in place (callers pass a temporary copy)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = os.fspath(path)
        try:
            audio = mutagen.File(self.path)
        except Exception as exc:  # mutagen raises many types for damaged files
            raise UnsupportedFile(f"tags unreadable: {type(exc).__name__}: {exc}") from None
        if audio is None:
            raise UnsupportedFile("not an audio format with tags this program writes")
        self.audio = audio
        if isinstance(audio, MP3 | AIFF | WAVE):
            self.kind = "id3"
            self.container = Container(type(audio).__name__, bpm_integer=True)
            self.id3_version = audio.tags.version[1] if audio.tags is not None else NEW_ID3_VERSION
            if self.id3_version not in (3, 4):
                raise UnsupportedFile(f"ID3v2.{self.id3_version} tag: writing would convert its version")
        elif isinstance(audio, MP4):
            self.kind = "mp4"
            self.container = Container("MP4", bpm_integer=True)
        elif isinstance(audio, FLAC | OggVorbis | OggOpus):
            self.kind = "vorbis"
            self.container = Container(type(audio).__name__, bpm_integer=False)
        else:
            raise UnsupportedFile(f"{type(audio).__name__} files are not tagged by this program")

    # ---- reading ------------------------------------------------------------------------------
    def get(self, field: str) -> Raw:
        tags = self.audio.tags
        if tags is None:
            return None
        if self.kind == "id3" and field == "comment":
            frames = [f for f in tags.getall("COMM") if f.desc == ""]
            if not frames:
                return None
            return [{"encoding": int(f.encoding), "lang": f.lang, "text": [str(t) for t in f.text]} for f in frames]
        if self.kind == "id3":
            frames = tags.getall(_ID3_FRAMES[field][0])
            if not frames:
                return None
            return [{"encoding": int(f.encoding), "text": [str(t) for t in f.text]} for f in frames]
        if self.kind == "mp4":
            values = tags.get(_MP4_ATOMS[field])
            if values is None:
                return None
            if field == "bpm":
                return [int(v) for v in values]
            if field == "comment":
                return [str(v) for v in values]
            return [{"data": bytes(v).decode("utf-8", "surrogateescape"), "format": int(v.dataformat)} for v in values]
        values = tags.get(_VORBIS_NAMES[field])
        return None if not values else [str(v) for v in values]

    # ---- writing ------------------------------------------------------------------------------
    def raw_for(self, field: str, text: str) -> Raw:
        """The value :meth:`put` writes for ``text``, the way this container's spec wants it."""
        if self.kind == "id3":
            utf = Encoding.UTF8 if self.id3_version == 4 else Encoding.UTF16  # v2.3 has no UTF-8
            raw = {"encoding": int(Encoding.LATIN1 if text.isascii() else utf), "text": [text]}
            return [{**raw, "lang": self._comment_language()}] if field == "comment" else [raw]
        if self.kind == "mp4":
            if field == "comment":
                return [text]
            return [int(text)] if field == "bpm" else [{"data": text, "format": int(AtomDataType.UTF8)}]
        return [text]

    def put(self, field: str, raw: Raw) -> None:
        """Set the field to exactly ``raw`` (as :meth:`get` returned it); ``None`` removes it."""
        if self.audio.tags is None:
            if raw is None:
                return
            self.audio.add_tags()
        tags = self.audio.tags
        if self.kind == "id3" and field == "comment":
            for name in [k for k, f in tags.items() if k.startswith("COMM") and f.desc == ""]:
                del tags[name]
            for item in raw or []:
                tags.add(COMM(encoding=Encoding(item["encoding"]), lang=item["lang"], desc="", text=list(item["text"])))  # type: ignore[call-arg]
        elif self.kind == "id3":
            name, frame = _ID3_FRAMES[field]
            tags.delall(name)
            for item in raw or []:
                tags.add(frame(encoding=Encoding(item["encoding"]), text=list(item["text"])))  # type: ignore[call-arg]
        elif self.kind == "mp4":
            atom = _MP4_ATOMS[field]
            if raw is None:
                tags.pop(atom, None)
            elif field == "bpm":
                tags[atom] = [int(v) for v in raw]
            elif field == "comment":
                tags[atom] = list(raw)
            else:
                tags[atom] = [
                    MP4FreeForm(v["data"].encode("utf-8", "surrogateescape"), dataformat=AtomDataType(v["format"]))  # type: ignore[call-arg]
                    for v in raw
                ]
        else:
            name = _VORBIS_NAMES[field]
            if raw is None:
                if name in tags:
                    del tags[name]
            else:
                tags[name] = list(raw)

    def _comment_language(self) -> str:
        """The language of the comment already there (players show the first), else ``eng``."""
        current = self.get("comment")
        return current[0]["lang"] if current else "eng"

    def save(self) -> None:
        """Write the tags back: same ID3 version, no ID3v1 added, mutagen's padding kept/reused."""
        if self.kind == "id3":
            if isinstance(self.audio, MP3):
                self.audio.save(v1=1, v2_version=self.id3_version)  # v1=1: update an existing v1, never add one
            else:
                self.audio.save(v2_version=self.id3_version)
        else:
            self.audio.save()


def display(raw: Raw) -> str:
    """The text a person sees for a field value; empty for an absent tag.

    An MP4 atom's bytes that are not UTF-8 (another program's Latin-1, say) travel in ``raw`` as
    surrogates, so that undo writes them back exactly; here they become U+FFFD, since no terminal,
    window or UTF-8 journal can hold a surrogate (it made the whole batch fail before any file).
    """
    if raw is None:
        return ""
    parts: list[str] = []
    for item in raw:
        if isinstance(item, dict) and "text" in item:
            parts.extend(item["text"])
        elif isinstance(item, dict):
            parts.append(item["data"].encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        else:
            parts.append(str(item))
    return "; ".join(parts)


def read_fields(path: str | os.PathLike[str]) -> dict[str, Raw]:
    """Both fields of a file (opens it once)."""
    tag_file = TagFile(path)
    return {field: tag_file.get(field) for field in TAG_FIELDS}


def id3_tag_version(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """For tests and checks: the ID3v2 version as it is on disk, or None."""
    try:
        return ID3(os.fspath(path)).version
    except Exception:
        return None
