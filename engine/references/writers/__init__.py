"""Writing our values back into DJ software: one writer per format, as the readers are one per format.

* :mod:`.rekordbox`: rekordbox collection XML (*File ▸ Import* in rekordbox, or its XML view);
* :mod:`.traktor`: Traktor ``collection.nml``.

:func:`export_collection` writes a new collection of our songs, or (``into``) the user's own
collection with only our songs' BPM, key and grid changed. Either way the file is written atomically
(a temporary file beside it, then renamed), so a full disk, a read-only folder or a crash leaves the
old file as it was and no half-written one; the user's collection is never the output.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.csv_io import write_text
from engine.errors import EngineError
from engine.references.readers import detect_format
from engine.references.writers import rekordbox, traktor
from engine.references.writers.model import NOTATIONS, ExportReport, key_text, nameable
from engine.selection import OutgoingSong

FORMATS = ("rekordbox", "traktor")
SUFFIXES = {".xml": "rekordbox", ".nml": "traktor"}
_WRITERS = {"rekordbox": rekordbox, "traktor": traktor}

__all__ = ["FORMATS", "NOTATIONS", "CollectionError", "ExportReport", "export_collection", "key_text"]


class CollectionError(EngineError):
    """The export cannot be made as asked (unknown format, unreadable collection, output = input)."""


def choose_format(to: Path, given: str | None, into_data: bytes | None) -> str:
    """The format from ``--format``, else the output's extension, else the collection merged into."""
    found = given or SUFFIXES.get(to.suffix.lower())
    if into_data is not None:
        theirs = detect_format(into_data)
        if theirs not in FORMATS:
            raise CollectionError("the collection to merge into is neither rekordbox XML nor a Traktor NML")
        if found is not None and found != theirs:
            raise CollectionError(f"--into is a {theirs} collection, but the output is asked to be {found}")
        found = theirs
    if found is None:
        raise CollectionError(f"cannot tell the format from {to.name!r}: name it .xml or .nml, or pass --format")
    return found


def export_collection(
    songs: list[OutgoingSong],
    to: str | os.PathLike[str],
    fmt: str | None = None,
    into: str | os.PathLike[str] | None = None,
    notation: str = "classic",
) -> ExportReport:
    """Write ``songs`` as a rekordbox or Traktor collection at ``to``; raises :class:`CollectionError`
    or :class:`~engine.csv_io.ExportError` (nothing written) when it cannot."""
    to = Path(to)
    into_data = None
    if into is not None:
        into = Path(into)
        if _same_file(to, into):
            raise CollectionError(f"--to {to} is the collection given with --into: write the merge to a new file")
        try:
            into_data = into.read_bytes()
        except OSError as exc:
            raise CollectionError(f"cannot read the collection {into}: {exc.strerror or exc}") from None
    fmt = choose_format(to, fmt, into_data)
    report = ExportReport(path=to, format=fmt)
    songs = nameable(songs, report)
    writer = _WRITERS[fmt]
    if into_data is None:
        text = writer.new_collection(songs, notation, report)
    else:
        try:
            text = writer.merge_collection(into_data, songs, notation, report)
        except Exception as exc:  # defusedxml's and ElementTree's errors, a TrackID that is not a number …
            raise CollectionError(f"cannot read the collection {into}: {exc}") from None
    write_text(to, text)  # raises ExportError naming the file; the old file, if any, stays
    return report


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))
