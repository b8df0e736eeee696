"""Apple Music / iTunes ``Library.xml`` (*File ▸ Library ▸ Export Library…*), an XML property list.

Shape::

    <plist version="1.0"><dict>
      <key>Tracks</key>
      <dict>
        <key>1234</key>
        <dict><key>Track ID</key><integer>1234</integer><key>Name</key><string>..</string>
              <key>Artist</key><string>..</string><key>Total Time</key><integer>215000</integer>
              <key>BPM</key><integer>126</integer>
              <key>Location</key><string>file:///Users/me/Music/x.m4a</string></dict>
      </dict>
      <key>Playlists</key> ...
    </dict></plist>

Read with :mod:`plistlib`, which refuses entity declarations (no entity expansion attack).
A plist has no usable line numbers, so rows and errors are numbered by **entry** (the track's
position in ``Tracks``, 1-based) and errors also give the ``Track ID``.
"""

from __future__ import annotations

import plistlib
import xml.parsers.expat

from engine.references.readers.model import ReferenceFileError, ReferenceRow, ReferenceSet, RowError, add_row
from engine.references.readers.values import BPM_RANGE
from engine.references.readers.xmlsafe import file_url_to_path


def parse_itunes(data: bytes, source: str) -> ReferenceSet:
    try:
        library = plistlib.loads(data)  # XML, or binary ("bplist00")
    except (plistlib.InvalidFileException, xml.parsers.expat.ExpatError, ValueError) as exc:
        raise ReferenceFileError(f"iTunes library {source} is not a readable property list: {exc}") from None
    tracks = library.get("Tracks") if isinstance(library, dict) else None
    if not isinstance(tracks, dict):
        raise ReferenceFileError(f"iTunes library {source} has no Tracks dictionary")
    result = ReferenceSet(
        formats=["itunes"], columns={"title": "Name", "artist": "Artist", "bpm": "BPM", "file": "Location"}
    )
    seen: dict[tuple[str, ...], ReferenceRow] = {}
    skipped = 0
    for entry, (track_id, track) in enumerate(tracks.items(), start=1):
        if not isinstance(track, dict):
            result.errors.append(RowError(entry, f"Track ID {track_id} is not a dictionary; skipped", source, "entry"))
            continue
        row = ReferenceRow(
            line=entry,
            source=source,
            file=file_url_to_path(str(track.get("Location", ""))),
            title=str(track.get("Name", "")).strip(),
            artist=str(track.get("Artist", "")).strip(),
            cells=(str(track.get("BPM")), str(track.get("Name")), str(track.get("Artist"))),
            unit="entry",
        )
        bpm = track.get("BPM")
        if bpm is not None:
            if isinstance(bpm, int | float) and not isinstance(bpm, bool) and BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
                row.bpm = float(bpm)
            elif bpm != 0:
                result.errors.append(
                    RowError(entry, f'Track ID {track_id}: BPM "{bpm}" is not a tempo in range', source, "entry")
                )
        total = track.get("Total Time")
        if isinstance(total, int | float) and not isinstance(total, bool) and total > 0:
            row.duration_s = total / 1000.0
        if not (row.file or row.title):
            result.errors.append(RowError(entry, f"Track ID {track_id} has neither Location nor Name", source, "entry"))
        elif row.has_values:
            add_row(result, seen, row)
        else:
            skipped += 1
    if skipped:
        result.errors.append(RowError(0, f"{skipped} tracks have no BPM; skipped", source))
    return result
