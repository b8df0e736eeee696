"""What an export would change, before anything is written: the window's export preview.

The preview runs the very writer that will write the file (:func:`export_collection`'s ``new_collection``
or ``merge_collection``), on the same songs, and throws the text away; so its counts (updated, added, kept
as they were, locked) are the export's own, not a second estimate. The values a song has *now* come
from the user's collection (a merge, read with our own readers), else from the reference the window
holds (``before``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.references.readers import detect_format, parse_reference_bytes
from engine.references.writers import CollectionError, choose_format, rekordbox, traktor
from engine.references.writers.model import ExportReport, key_text, nameable, path_key
from engine.selection import OutgoingSong

_WRITERS = {"rekordbox": rekordbox, "traktor": traktor}


@dataclass(frozen=True)
class SongChange:
    """One song of the export: what it has now (``None``/``""`` = nothing) and what will be written."""

    path: str
    title: str
    artist: str
    old_bpm: float | None
    new_bpm: float | None
    old_key: str
    new_key: str
    grid: bool
    in_collection: bool
    """The user's collection already has this song (a merge updates it; otherwise it is added)."""


@dataclass
class ExportPreview:
    format: str
    songs: list[OutgoingSong]
    changes: list[SongChange] = field(default_factory=list)
    report: ExportReport | None = None
    """The counts the writer reported on this dry run (its ``path`` is a placeholder)."""
    merge: bool = False


def preview_export(
    songs: list[OutgoingSong],
    fmt: str,
    into: str | os.PathLike[str] | None = None,
    notation: str = "classic",
    before: dict[str, tuple[float | None, str]] | None = None,
) -> ExportPreview:
    """Dry-run the export of ``songs`` as ``fmt`` (merged ``into`` the user's collection when given).

    ``before``: each song's current values by path (the reference the window holds), used when there is
    no collection to merge into. Raises :class:`CollectionError` for a collection that cannot be read.
    """
    into_data = None
    if into is not None:
        try:
            into_data = Path(into).read_bytes()
        except OSError as exc:
            raise CollectionError(f"cannot read the collection {into}: {exc.strerror or exc}") from None
    fmt = choose_format(Path(f"collection.{'xml' if fmt == 'rekordbox' else 'nml'}"), fmt, into_data)
    report = ExportReport(path=Path(into or "."), format=fmt)
    songs = nameable(songs, report)
    writer = _WRITERS[fmt]
    current: dict[str, tuple[float | None, str]] = {}
    try:
        if into_data is None:
            writer.new_collection(songs, notation, report)
        else:
            writer.merge_collection(into_data, songs, notation, report)
            current = _collection_values(into_data, str(into))
    except CollectionError:
        raise
    except Exception as exc:  # defusedxml's and ElementTree's errors: the same words as the export's
        raise CollectionError(f"cannot read the collection {into}: {exc}") from None
    before = {path_key(p): v for p, v in (before or {}).items()}
    changes = []
    for song in songs:
        key = path_key(song.path)
        found = current.get(key) or current.get(key.casefold())
        old_bpm, old_key = found if found is not None else before.get(key, (None, ""))
        changes.append(
            SongChange(
                path=song.path,
                title=song.title,
                artist=song.artist,
                old_bpm=old_bpm,
                new_bpm=song.bpm,
                old_key=key_text(old_key, notation) if old_key else "",
                new_key=key_text(song.key, notation) if song.key else "",
                grid=song.grid_start_s is not None,
                in_collection=found is not None,
            )
        )
    return ExportPreview(format=fmt, songs=songs, changes=changes, report=report, merge=into_data is not None)


def _collection_values(data: bytes, source: str) -> dict[str, tuple[float | None, str]]:
    """The BPM and key each file has in the user's collection, by path (and by path without case)."""
    if detect_format(data) not in _WRITERS:
        return {}
    values: dict[str, tuple[float | None, str]] = {}
    for row in parse_reference_bytes(data, source).rows:
        if row.file:
            key = path_key(row.file)
            values.setdefault(key, (row.bpm, row.key or ""))
            values.setdefault(key.casefold(), (row.bpm, row.key or ""))
    return values
