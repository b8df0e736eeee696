"""rekordbox collection XML (``DJ_PLAYLISTS`` 1.0.0), as *File ▸ Import ▸ rekordbox xml* reads it.

The shape is the one :mod:`engine.references.readers.rekordbox` reads::

    <DJ_PLAYLISTS Version="1.0.0">
      <PRODUCT Name="Calibration Studio" Version=".." Company=".."/>
      <COLLECTION Entries="N">
        <TRACK TrackID="1" Name=".." Artist=".." Kind="MP3 File" Size=".." TotalTime="215"
               AverageBpm="126.00" Tonality="Am" Location="file://localhost/Users/me/A%20%26%20B.mp3">
          <TEMPO Inizio="0.025" Bpm="126.00" Metro="4/4" Battito="1"/>
        </TRACK>
      </COLLECTION>
      <PLAYLISTS><NODE Type="0" Name="ROOT" Count="1"> .. </NODE></PLAYLISTS>
    </DJ_PLAYLISTS>

``Location`` is the percent-encoded UTF-8 ``file://localhost/`` URL rekordbox writes; ``TEMPO`` is
the beat grid and is only written where one was measured. A merge (:func:`merge_collection`)
changes ``AverageBpm``, ``Tonality`` and, with a grid, the ``TEMPO`` children of our songs and
nothing else: playlists, cues (``POSITION_MARK``), ratings, colours and comments stay.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from urllib.parse import quote

from engine.references.readers.xmlsafe import file_url_to_path
from engine.references.writers.model import ExportReport, SongIndex, key_text, parse_collection
from engine.selection import OutgoingSong
from engine.version import APP_VERSION

PLAYLIST_NAME = "Calibration Studio"
KINDS = {".mp3": "MP3 File", ".m4a": "M4A File", ".aac": "AAC File", ".wav": "WAV File", ".aiff": "AIFF File"}
KINDS.update({".aif": "AIFF File", ".flac": "FLAC File", ".ogg": "OGG File", ".opus": "OPUS File"})


def location_url(path: str) -> str:
    """``/Users/me/A & B.mp3`` → ``file://localhost/Users/me/A%20%26%20B.mp3`` (``C:/x`` → ``…/C:/x``)."""
    text = path.replace("\\", "/")
    return "file://localhost" + quote(text if text.startswith("/") else "/" + text, safe="/:")


def _bpm(value: float) -> str:
    return f"{value:.2f}"


def _grid(track: ET.Element, song: OutgoingSong) -> bool:
    """Replace the track's grid with the measured one; ``False`` (grid untouched) when none was measured."""
    if song.grid_start_s is None or song.bpm is None:
        return False
    for old in track.findall("TEMPO"):
        track.remove(old)
    tempo = ET.Element(
        "TEMPO", {"Inizio": f"{song.grid_start_s:.3f}", "Bpm": _bpm(song.bpm), "Metro": "4/4", "Battito": "1"}
    )
    marks = [i for i, child in enumerate(track) if child.tag == "POSITION_MARK"]
    track.insert(marks[0] if marks else len(track), tempo)  # rekordbox lists TEMPO before POSITION_MARK
    return True


def _new_track(track_id: int, song: OutgoingSong, notation: str) -> ET.Element:
    attrs = {"TrackID": str(track_id), "Name": song.title, "Artist": song.artist}
    suffix = os.path.splitext(song.path)[1].lower()
    if suffix in KINDS:
        attrs["Kind"] = KINDS[suffix]
    try:
        attrs["Size"] = str(os.path.getsize(song.path))
    except OSError:
        pass  # a song on a drive that is not plugged in keeps its other fields
    if song.duration_s:
        attrs["TotalTime"] = str(round(song.duration_s))
    if song.bpm is not None:
        attrs["AverageBpm"] = _bpm(song.bpm)
    attrs["Location"] = location_url(song.path)
    if song.key:
        attrs["Tonality"] = key_text(song.key, notation)
    return ET.Element("TRACK", attrs)


def _update(track: ET.Element, song: OutgoingSong, notation: str) -> None:
    if song.bpm is not None:
        track.set("AverageBpm", _bpm(song.bpm))
    if song.key:
        track.set("Tonality", key_text(song.key, notation))


def new_collection(songs: list[OutgoingSong], notation: str, report: ExportReport) -> str:
    """A collection of our songs only, with one playlist holding them all."""
    root = ET.Element("DJ_PLAYLISTS", {"Version": "1.0.0"})
    ET.SubElement(root, "PRODUCT", {"Name": "Calibration Studio", "Version": APP_VERSION, "Company": ""})
    collection = ET.SubElement(root, "COLLECTION", {"Entries": str(len(songs))})
    for number, song in enumerate(songs, start=1):
        track = _new_track(number, song, notation)
        report.grids += _grid(track, song)
        collection.append(track)
    report.added = len(songs)
    playlists = ET.SubElement(root, "PLAYLISTS")
    top = ET.SubElement(playlists, "NODE", {"Type": "0", "Name": "ROOT", "Count": "1"})
    node = ET.SubElement(top, "NODE", {"Name": PLAYLIST_NAME, "Type": "1", "KeyType": "0", "Entries": str(len(songs))})
    for number in range(1, len(songs) + 1):
        ET.SubElement(node, "TRACK", {"Key": str(number)})
    report.playlists = 1
    ET.indent(root, space="  ")
    return _document(root)


def merge_collection(data: bytes, songs: list[OutgoingSong], notation: str, report: ExportReport) -> str:
    """The user's collection with our songs' BPM, key and grid changed and our other songs added."""
    root, collection = parse_collection(data, "DJ_PLAYLISTS", "rekordbox")
    index = SongIndex(songs)
    ids = []
    for track in collection.findall("TRACK"):
        ids.append(int(track.get("TrackID", "0")) if track.get("TrackID", "").isdigit() else 0)
        song = index.take(file_url_to_path(track.get("Location", "")))
        if song is None:
            report.kept += 1
            continue
        _update(track, song, notation)
        report.grids += _grid(track, song)
        report.updated += 1
    next_id = max(ids, default=0) + 1
    added = index.left()
    if added:
        for number, song in enumerate(added, start=next_id):
            track = _new_track(number, song, notation)
            report.grids += _grid(track, song)
            _append_in_style(collection, track)
        collection.set("Entries", str(len(collection.findall("TRACK"))))
    report.added = len(added)
    report.playlists = len(root.findall("PLAYLISTS//NODE[@Type='1']"))
    return _document(root)


def _append_in_style(parent: ET.Element, child: ET.Element) -> None:
    """Append ``child`` indented like its siblings, so the file still reads as rekordbox wrote it."""
    if len(parent):
        between = parent[-2].tail if len(parent) > 1 else (parent.text or "")
        child.tail, parent[-1].tail = parent[-1].tail, between
        depth = len((between or "").rsplit("\n", 1)[-1]) // 2
        ET.indent(child, space="  ", level=depth)
    parent.append(child)


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
