"""What every collection writer shares: matching the user's tracks to our songs, key text, the report.

A DJ collection names a file by URL (rekordbox) or by volume and folder (Traktor), written on
another day, perhaps on another system: paths are compared after Unicode normalisation (macOS
stores names decomposed) and, where that finds nothing, without case (macOS and Windows disks).
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as SafeET

from engine.filekinds import has_utf8_spelling
from engine.references.keynotation import format_key, tonic_and_mode
from engine.selection import OutgoingSong
from engine.wording import file_name, plural

NOTATIONS = ("classic", "camelot", "openkey")
DJ_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""Tonics as rekordbox and Traktor spell them in their classic notation (``Dbm``, ``F#``, ``Bbm``)."""


def key_text(key: str, notation: str = "classic") -> str:
    """An engine label (``"C# minor"``) as a DJ program shows it: ``Dbm``, ``12A`` or ``5m``."""
    parsed = tonic_and_mode(key)
    if parsed is None:
        return ""
    tonic, mode = parsed
    if notation == "classic":
        return DJ_NAMES[tonic] + ("m" if mode == "minor" else "")
    if notation == "camelot":
        return format_key(key, "camelot")
    if notation == "openkey":
        return format_key(key, "open key")
    raise ValueError(f"unknown key notation {notation!r} (choose from {', '.join(NOTATIONS)})")


def parse_collection(data: bytes, root_tag: str, program: str) -> tuple[ET.Element, ET.Element]:
    """The user's collection (through defusedxml: it comes from anyone) and its ``COLLECTION`` element."""
    root = SafeET.fromstring(data)
    if root.tag != root_tag:
        raise ValueError(f"not a {program} collection (its root element is <{root.tag}>)")
    collection = root.find("COLLECTION")
    if collection is None:
        raise ValueError(f"the {program} collection has no COLLECTION element")
    return root, collection


def nameable(songs: Iterable[OutgoingSong], report: ExportReport) -> list[OutgoingSong]:
    """The songs a collection can name; each other one is left out with a note on ``report``.

    A DJ collection is Unicode XML. A Linux file name that is not UTF-8 (``caf\\xe9.flac``, held by Python
    with a lone surrogate) has no spelling there, and rekordbox or Traktor could not find the file by any
    spelling we chose; one such song must not stop the export of the others.
    """
    kept = []
    for song in songs:
        if not all(has_utf8_spelling(text) for text in (song.path, song.title, song.artist)):
            report.notes.append(
                f"{file_name(song.path)} left out: its file name is not UTF-8, which a DJ collection "
                "cannot hold (rename the file to export it)"
            )
            continue
        kept.append(song)
    return kept


def path_key(path: str) -> str:
    return unicodedata.normalize("NFC", path.replace("\\", "/"))


class SongIndex:
    """Our songs by path, found exactly first and then without case."""

    def __init__(self, songs: Iterable[OutgoingSong]) -> None:
        self.songs = list(songs)
        self.exact = {path_key(s.path): s for s in self.songs}
        folded: dict[str, list[OutgoingSong]] = {}
        for song in self.songs:
            folded.setdefault(path_key(song.path).casefold(), []).append(song)
        self.folded = {k: v[0] for k, v in folded.items() if len(v) == 1}
        self.used: set[str] = set()

    def take(self, path: str) -> OutgoingSong | None:
        """The song at ``path`` (each song once: a collection listing a file twice changes the first only)."""
        key = path_key(path)
        song = self.exact.get(key) or self.folded.get(key.casefold())
        if song is None or song.path in self.used:
            return None
        self.used.add(song.path)
        return song

    def left(self) -> list[OutgoingSong]:
        return [s for s in self.songs if s.path not in self.used]


@dataclass
class ExportReport:
    path: Path
    format: str
    updated: int = 0
    """Tracks of the user's collection whose BPM/key/grid we changed."""
    added: int = 0
    kept: int = 0
    """Tracks of the user's collection we left exactly as they were."""
    grids: int = 0
    locked: int = 0
    """Traktor entries the user locked (``LOCK="1"``): left as they are."""
    playlists: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{plural(self.updated, 'track')} updated", f"{self.added} added", f"{self.kept} kept as they were"]
        if self.locked:
            parts.append(f"{self.locked} locked in Traktor and left alone")
        parts.append(f"{plural(self.grids, 'beat grid')} written")
        return f"{self.format} collection written to {self.path}: " + ", ".join(parts)
