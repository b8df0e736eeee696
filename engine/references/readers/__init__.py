"""Reference files in the shapes people have, one reader per format, and the songs' own tags.

:func:`load_reference` looks at the file's content (not its name) to pick the reader:

* ``<DJ_PLAYLISTS`` → rekordbox collection XML (:mod:`.rekordbox`);
* ``<NML`` → Traktor ``collection.nml`` (:mod:`.traktor`);
* ``<plist`` → Apple Music / iTunes ``Library.xml`` (:mod:`.itunes`);
* anything else → a CSV / playlist export (:mod:`.csv_export`).

Every reader returns a :class:`ReferenceSet`; a bad row is a :class:`RowError` naming its line
(or entry) and the rest loads. Only a file that cannot be read at all raises
:class:`ReferenceFileError`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from engine.references.keynotation import KeyNotationError, parse_key
from engine.references.readers.csv_export import decode_text, parse_reference_text
from engine.references.readers.itunes import parse_itunes
from engine.references.readers.model import Fingerprint, ReferenceFileError, ReferenceRow, ReferenceSet, RowError
from engine.references.readers.rekordbox import parse_rekordbox
from engine.references.readers.traktor import parse_traktor
from engine.references.readers.values import parse_bpm
from engine.references.tags import read_tags

__all__ = [
    "Fingerprint",
    "ReferenceFileError",
    "ReferenceRow",
    "ReferenceSet",
    "RowError",
    "detect_format",
    "load_reference",
    "load_references",
    "parse_reference_bytes",
    "reference_from_tags",
]

_ROOT = re.compile(rb"<\s*(DJ_PLAYLISTS|NML|plist)\b")


REFERENCE_SUFFIXES = (".csv", ".tsv", ".txt", ".xml", ".nml")
"""Files a user drops or opens as a reference (the content decides the format, not the name)."""


def detect_format(data: bytes) -> str:
    """``rekordbox``, ``traktor``, ``itunes`` or ``csv``, from the first element of an XML file."""
    if data.startswith(b"bplist00"):  # a binary property list (an iTunes library saved by plutil)
        return "itunes"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return "csv"
    found = _ROOT.search(head)
    if found is None:
        return "xml"
    return {b"DJ_PLAYLISTS": "rekordbox", b"NML": "traktor", b"plist": "itunes"}[found.group(1)]


def parse_reference_bytes(data: bytes, source: str = "") -> ReferenceSet:
    """Read a reference file's bytes with the reader its content calls for."""
    kind = detect_format(data)
    if kind == "rekordbox":
        return parse_rekordbox(data, source)
    if kind == "traktor":
        return parse_traktor(data, source)
    if kind == "itunes":
        return parse_itunes(data, source)
    if kind == "xml":
        raise ReferenceFileError(
            f"reference file {source} is XML but not a rekordbox collection, Traktor NML or iTunes Library.xml"
        )
    return parse_reference_text(decode_text(data, source), source=source)


def load_reference(path: str | os.PathLike[str]) -> ReferenceSet:
    """Read one reference file (CSV, rekordbox XML, Traktor NML, iTunes Library.xml)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReferenceFileError(f"reference file not found: {path}") from None
    except IsADirectoryError:
        raise ReferenceFileError(f"reference path is a folder, not a reference file: {path}") from None
    except OSError as exc:
        raise ReferenceFileError(f"cannot read reference file {path}: {exc.strerror or exc}") from None
    if not data.strip():
        raise ReferenceFileError(f"reference file is empty: {path}")
    result = parse_reference_bytes(data, source=str(path))
    result.fingerprints.append(Fingerprint(str(path), hashlib.sha256(data).hexdigest(), len(result.rows)))
    return result


def load_references(paths: Iterable[str | os.PathLike[str]]) -> ReferenceSet:
    """Several reference files at once, in order; each row keeps its own file and line."""
    combined = ReferenceSet()
    for path in paths:
        combined.extend(load_reference(path))
    return combined


def reference_from_tags(paths: Iterable[str | os.PathLike[str]]) -> ReferenceSet:
    """Reference values from the songs' own tags (ID3 TBPM/TKEY, MP4 tmpo, Vorbis BPM/INITIALKEY).

    Each row names its file by full path, so it matches its own song; a row's ``line`` is the
    song's position in the list (1-based); an error names the file (``line`` 0).
    """
    result = ReferenceSet()
    for position, path in enumerate(paths, start=1):
        source = str(path)
        tags = read_tags(path)
        if tags.error:
            result.errors.append(RowError(0, tags.error, source))
            continue
        row = ReferenceRow(line=position, source="tags", file=str(path), title=tags.title, artist=tags.artist)
        try:
            row.bpm = parse_bpm(tags.bpm)
        except ValueError as exc:
            result.errors.append(RowError(0, f"tag {exc}", source))
        try:
            row.key = parse_key(tags.key) if tags.key else None
        except KeyNotationError as exc:
            result.errors.append(RowError(0, f"tag {exc}", source))
        if row.bpm is not None or row.key is not None:
            result.rows.append(row)
    return result
