"""Traktor ``collection.nml``.

Shape (Traktor Pro 2–3, NML VERSION 19/20)::

    <NML VERSION="19"><HEAD .../>
      <COLLECTION ENTRIES="N">
        <ENTRY TITLE=".." ARTIST="..">
          <LOCATION DIR="/:Users/:me/:Music/:" FILE="x.mp3" VOLUME="Macintosh HD"/>
          <INFO KEY="1m" PLAYTIME="203" PLAYTIME_FLOAT="202.84" .../>
          <TEMPO BPM="126.000000" BPM_QUALITY="100.000000"/>
          <MUSICAL_KEY VALUE="21"/>
        </ENTRY>
      </COLLECTION>
      <PLAYLISTS> ... (ENTRY/PRIMARYKEY references, skipped) </PLAYLISTS>
    </NML>

``MUSICAL_KEY VALUE`` is 0–11 for C…B major and 12–23 for C…B minor; ``INFO KEY`` is the text
Traktor shows (Open Key ``1m`` or ``Am``). When both are present and disagree, the row's key is
an error naming both.
"""

from __future__ import annotations

import re

from engine.analysis.keys import PITCH_NAMES
from engine.references import volumes
from engine.references.keynotation import KeyNotationError, label, parse_key
from engine.references.readers.model import ReferenceRow, ReferenceSet, RowError, add_row
from engine.references.readers.values import parse_bpm, parse_number
from engine.references.readers.xmlsafe import Attributes, ElementHandler, parse_xml


def traktor_path(volume: str, directory: str, file: str, mounts: list[str] | None = None) -> str:
    """``VOLUME``/``DIR``/``FILE`` → a path: ``C:`` volumes are kept, a mounted volume's name becomes its
    mount point (a USB stick), any other name (the system disk) leaves ``DIR`` as the path."""
    folder = directory.replace("/:", "/")
    if not file:
        return ""
    path = f"{folder.rstrip('/')}/{file}" if folder else file
    return volumes.join_volume(volume, path, mounts)


def traktor_dir(inside: str) -> str:
    """A folder inside a volume in Traktor's ``/:`` form: ``/Music/House`` → ``/:Music/:House/:``."""
    parts = [p for p in inside.replace("\\", "/").split("/") if p]
    return "/:" + "".join(f"{p}/:" for p in parts)


def musical_key_value(key: str) -> int:
    """Traktor's ``MUSICAL_KEY VALUE`` for an engine label: 0–11 C…B major, 12–23 C…B minor."""
    tonic, mode = key.split()
    return PITCH_NAMES.index(tonic) + (12 if mode == "minor" else 0)


def parse_traktor(data: bytes, source: str) -> ReferenceSet:
    result = ReferenceSet(
        formats=["traktor"],
        columns={
            "title": "TITLE",
            "artist": "ARTIST",
            "bpm": "TEMPO BPM",
            "key": "MUSICAL_KEY VALUE",
            "file": "LOCATION",
        },
    )
    seen: dict[tuple[str, ...], ReferenceRow] = {}
    current: dict[str, object] = {}
    skipped = 0
    mounts = volumes.mount_points()

    def on_start(name: str, attrs: Attributes, line: int, parents: tuple[str, ...]) -> None:
        if name == "ENTRY" and parents and parents[-1] == "COLLECTION":
            current.clear()
            current.update(line=line, attrs=attrs)
        elif current and parents and parents[-1] == "ENTRY":
            current[name] = attrs

    def on_end(name: str) -> None:
        nonlocal skipped
        if name != "ENTRY" or not current:
            return
        errors_before = len(result.errors)
        finished = _entry_row(current, source, result, mounts)
        current.clear()
        if finished is None:
            return
        if finished.has_values:
            add_row(result, seen, finished)
        elif len(result.errors) == errors_before:  # an entry with bad values is reported, not "not analysed"
            skipped += 1

    parse_xml(data, source, ElementHandler(on_start, on_end), result, "Traktor NML")
    if skipped:
        result.errors.append(RowError(0, f"{skipped} entries have no BPM or key (not analysed); skipped", source))
    return result


def _entry_row(entry: dict[str, object], source: str, result: ReferenceSet, mounts: list[str]) -> ReferenceRow | None:
    line = int(entry["line"])  # type: ignore[call-overload]
    attrs: Attributes = entry["attrs"]  # type: ignore[assignment]
    location: Attributes = entry.get("LOCATION", {})  # type: ignore[assignment]
    info: Attributes = entry.get("INFO", {})  # type: ignore[assignment]
    tempo: Attributes = entry.get("TEMPO", {})  # type: ignore[assignment]
    musical: Attributes = entry.get("MUSICAL_KEY", {})  # type: ignore[assignment]
    row = ReferenceRow(
        line=line,
        source=source,
        file=traktor_path(location.get("VOLUME", ""), location.get("DIR", ""), location.get("FILE", ""), mounts),
        title=attrs.get("TITLE", "").strip(),
        artist=attrs.get("ARTIST", "").strip(),
        cells=(repr(sorted(attrs.items())), repr(sorted(tempo.items())), repr(sorted(musical.items()))),
    )
    if not (row.file or row.title):
        result.errors.append(RowError(line, "ENTRY has neither LOCATION nor TITLE; skipped", source))
        return None
    try:
        row.bpm = parse_bpm(tempo.get("BPM", ""), zero_is_missing=True)
    except ValueError as exc:
        result.errors.append(RowError(line, f"TEMPO {exc}", source))
    try:
        row.key = _entry_key(musical.get("VALUE", ""), info.get("KEY", ""))
    except KeyNotationError as exc:
        result.errors.append(RowError(line, str(exc), source))
    seconds = info.get("PLAYTIME_FLOAT") or info.get("PLAYTIME") or ""
    try:
        row.duration_s = parse_number(seconds, "PLAYTIME") if seconds else None
    except ValueError as exc:
        result.errors.append(RowError(line, str(exc), source))
    return row


def _entry_key(value: str, text: str) -> str | None:
    numeric = None
    if value.strip():
        if not re.fullmatch(r"\d{1,2}", value.strip()) or int(value) > 23:
            raise KeyNotationError(f'MUSICAL_KEY VALUE "{value}" is not 0–23')
        number = int(value)
        numeric = label(number % 12, number >= 12)
    written = parse_key(text) if text.strip() else None
    if numeric is not None and written is not None and numeric != written:
        raise KeyNotationError(f'MUSICAL_KEY VALUE "{value}" ({numeric}) and INFO KEY "{text}" ({written}) disagree')
    return numeric or written
