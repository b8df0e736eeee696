"""rekordbox collection XML (*File ▸ Export Collection in xml format*).

Shape (rekordbox 5–7)::

    <DJ_PLAYLISTS Version="1.0.0">
      <PRODUCT Name="rekordbox" .../>
      <COLLECTION Entries="N">
        <TRACK TrackID=".." Name=".." Artist=".." Mix=".." TotalTime="215" AverageBpm="126.00"
               Tonality="Am" Location="file://localhost/Users/me/Music/x.mp3"> <TEMPO .../> </TRACK>
      </COLLECTION>
      <PLAYLISTS> ... <TRACK Key="1"/> (references only, skipped) </PLAYLISTS>
    </DJ_PLAYLISTS>

Only ``COLLECTION/TRACK`` elements are rows; ``Tonality`` is a key in any notation rekordbox is
set to show (``Am``, ``8A``, ``F#m``), ``AverageBpm`` of 0 means "not analysed".
"""

from __future__ import annotations

from engine.references.keynotation import KeyNotationError, parse_key
from engine.references.readers.model import ReferenceRow, ReferenceSet, RowError, add_row
from engine.references.readers.values import parse_bpm, parse_number
from engine.references.readers.xmlsafe import Attributes, ElementHandler, file_url_to_path, parse_xml
from engine.references.textnorm import with_mix


def parse_rekordbox(data: bytes, source: str) -> ReferenceSet:
    result = ReferenceSet(
        formats=["rekordbox"],
        columns={"title": "Name", "artist": "Artist", "bpm": "AverageBpm", "key": "Tonality", "file": "Location"},
    )
    seen: dict[tuple[str, ...], ReferenceRow] = {}
    skipped = 0

    def on_start(name: str, attrs: Attributes, line: int, parents: tuple[str, ...]) -> None:
        nonlocal skipped
        if name != "TRACK" or not parents or parents[-1] != "COLLECTION":
            return
        row = ReferenceRow(
            line=line,
            source=source,
            file=file_url_to_path(attrs.get("Location", "")),
            title=with_mix(attrs.get("Name", "").strip(), attrs.get("Mix", "").strip()),
            artist=attrs.get("Artist", "").strip(),
            cells=tuple(sorted((k, v.casefold()) for k, v in attrs.items() if k != "TrackID")),
        )
        try:
            row.bpm = parse_bpm(attrs.get("AverageBpm", ""), zero_is_missing=True)
        except ValueError as exc:
            result.errors.append(RowError(line, f"AverageBpm: {exc}", source))
        try:
            row.key = parse_key(attrs.get("Tonality", ""))
        except KeyNotationError as exc:
            result.errors.append(RowError(line, f"Tonality: {exc}", source))
        try:
            seconds = attrs.get("TotalTime", "").strip()
            row.duration_s = parse_number(seconds, "TotalTime") if seconds else None
        except ValueError as exc:
            result.errors.append(RowError(line, str(exc), source))
        if not (row.file or row.title):
            result.errors.append(RowError(line, "TRACK has neither Location nor Name; skipped", source))
        elif row.has_values:
            add_row(result, seen, row)
        else:
            skipped += 1

    parse_xml(data, source, ElementHandler(on_start), result, "rekordbox XML")
    if skipped:
        result.errors.append(RowError(0, f"{skipped} tracks have no BPM or key (not analysed); skipped", source))
    return result
