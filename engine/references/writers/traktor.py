"""Traktor ``collection.nml``, in the layout Traktor itself writes.

The shape is the one :mod:`engine.references.readers.traktor` reads::

    <?xml version="1.0" encoding="UTF-8" standalone="no" ?>
    <NML VERSION="19"><HEAD COMPANY="www.native-instruments.com" PROGRAM="Traktor"></HEAD>
    <COLLECTION ENTRIES="N"><ENTRY TITLE=".." ARTIST="..">
    <LOCATION DIR="/:Users/:me/:Music/:" FILE="A &amp; B.mp3" VOLUME="Macintosh HD"></LOCATION>
    <INFO KEY="Am" PLAYTIME="203" PLAYTIME_FLOAT="202.840000"></INFO>
    <TEMPO BPM="126.000000" BPM_QUALITY="100.000000"></TEMPO>
    <MUSICAL_KEY VALUE="21"></MUSICAL_KEY>
    <CUE_V2 NAME="AutoGrid" DISPL_ORDER="0" TYPE="4" START="25.000000" LEN="0.000000" REPEATS="-1" HOTCUE="-1">
    <GRID BPM="126.000000"></GRID></CUE_V2>
    </ENTRY>
    </COLLECTION> <PLAYLISTS> .. </PLAYLISTS></NML>

Traktor writes every element with a closing tag, a newline after each closing tag, numbers with six
decimals, and ``>`` unescaped in values. ``MUSICAL_KEY VALUE`` uses Traktor's 0–23 numbering and
``INFO KEY`` the chosen notation. The grid is a ``CUE_V2 TYPE="4"`` marker (``START`` in ms) at
the first beat, written only where one was measured. A merge leaves entries the user locked
(``LOCK="1"``) alone, as Traktor's own analysis does.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import date

from engine.references import volumes
from engine.references.readers.traktor import musical_key_value, traktor_dir, traktor_path
from engine.references.writers.model import ExportReport, SongIndex, key_text, parse_collection
from engine.selection import OutgoingSong

PLAYLIST_NAME = "Calibration Studio"
GRID_CUE = "4"
ORDER = ("LOCATION", "ALBUM", "MODIFICATION_INFO", "INFO", "TEMPO", "LOUDNESS", "MUSICAL_KEY", "LOOPINFO", "CUE_V2")
"""Children of ``ENTRY`` in the order Traktor writes them."""


def _six(value: float) -> str:
    return f"{value:.6f}"


def _place(entry: ET.Element, child: ET.Element) -> ET.Element:
    """Insert ``child`` where Traktor puts an element of its kind (after every earlier kind)."""
    rank = ORDER.index(child.tag) if child.tag in ORDER else len(ORDER)
    position = 0
    for i, existing in enumerate(entry):
        if existing.tag in ORDER and ORDER.index(existing.tag) <= rank:
            position = i + 1
    entry.insert(position, child)
    return child


def _set_values(entry: ET.Element, song: OutgoingSong, notation: str) -> None:
    if song.bpm is not None:
        tempo = entry.find("TEMPO")
        if tempo is None:
            tempo = _place(entry, ET.Element("TEMPO", {"BPM": "", "BPM_QUALITY": _six(100.0)}))
        tempo.set("BPM", _six(song.bpm))
    if song.key:
        musical = entry.find("MUSICAL_KEY")
        if musical is None:
            musical = _place(entry, ET.Element("MUSICAL_KEY"))
        musical.set("VALUE", str(musical_key_value(song.key)))
        info = entry.find("INFO")
        if info is None:
            info = _place(entry, ET.Element("INFO"))
        info.set("KEY", key_text(song.key, notation))


def _grid(entry: ET.Element, song: OutgoingSong) -> bool:
    """Replace the grid marker with the measured first beat; ``False`` (untouched) when none was measured."""
    if song.grid_start_s is None or song.bpm is None:
        return False
    for old in [c for c in entry.findall("CUE_V2") if c.get("TYPE") == GRID_CUE]:
        entry.remove(old)
    cue = ET.Element(
        "CUE_V2",
        {
            "NAME": "AutoGrid",
            "DISPL_ORDER": "0",
            "TYPE": GRID_CUE,
            "START": _six(song.grid_start_s * 1000.0),
            "LEN": _six(0.0),
            "REPEATS": "-1",
            "HOTCUE": "-1",
        },
    )
    ET.SubElement(cue, "GRID", {"BPM": _six(song.bpm)})
    cues = [i for i, c in enumerate(entry) if c.tag == "CUE_V2"]
    if cues:
        entry.insert(cues[0], cue)
    else:
        _place(entry, cue)
    return True


def _location(song: OutgoingSong, mounts: list[str]) -> tuple[dict[str, str], str]:
    """``LOCATION`` attributes and the playlist ``PRIMARYKEY`` (volume + dir + file)."""
    volume, inside = volumes.split_volume(song.path, mounts)
    folder, _, name = inside.rpartition("/")
    attrs = {"DIR": traktor_dir(folder), "FILE": name, "VOLUME": volume}
    return attrs, volume + attrs["DIR"] + name


def _new_entry(song: OutgoingSong, notation: str, mounts: list[str]) -> tuple[ET.Element, str]:
    day = date.today()
    today = f"{day.year}/{day.month}/{day.day}"  # Traktor's own date form, no leading zeros
    entry = ET.Element("ENTRY", {"MODIFIED_DATE": today, "TITLE": song.title, "ARTIST": song.artist})
    location, primary = _location(song, mounts)
    ET.SubElement(entry, "LOCATION", location)
    ET.SubElement(entry, "MODIFICATION_INFO", {"AUTHOR_TYPE": "user"})
    info = {"IMPORT_DATE": today}
    if song.duration_s:
        info.update(PLAYTIME=str(round(song.duration_s)), PLAYTIME_FLOAT=_six(song.duration_s))
    ET.SubElement(entry, "INFO", info)
    _set_values(entry, song, notation)
    return entry, primary


def new_collection(songs: list[OutgoingSong], notation: str, report: ExportReport) -> str:
    """A collection of our songs only, with one playlist holding them all."""
    mounts = volumes.mount_points()
    root = ET.Element("NML", {"VERSION": "19"})
    ET.SubElement(root, "HEAD", {"COMPANY": "www.native-instruments.com", "PROGRAM": "Traktor"})
    ET.SubElement(root, "MUSICFOLDERS")
    collection = ET.SubElement(root, "COLLECTION", {"ENTRIES": str(len(songs))})
    keys = []
    for song in songs:
        entry, primary = _new_entry(song, notation, mounts)
        report.grids += _grid(entry, song)
        collection.append(entry)
        keys.append(primary)
    report.added = len(songs)
    ET.SubElement(root, "SETS", {"ENTRIES": "0"})
    playlists = ET.SubElement(root, "PLAYLISTS")
    top = ET.SubElement(playlists, "NODE", {"TYPE": "FOLDER", "NAME": "$ROOT"})
    subnodes = ET.SubElement(top, "SUBNODES", {"COUNT": "1"})
    node = ET.SubElement(subnodes, "NODE", {"TYPE": "PLAYLIST", "NAME": PLAYLIST_NAME})
    playlist = ET.SubElement(
        node, "PLAYLIST", {"ENTRIES": str(len(keys)), "TYPE": "LIST", "UUID": uuid.uuid4().hex}
    )
    for key in keys:
        ET.SubElement(ET.SubElement(playlist, "ENTRY"), "PRIMARYKEY", {"TYPE": "TRACK", "KEY": key})
    report.playlists = 1
    ET.SubElement(root, "INDEXING")
    return document(root)


def merge_collection(data: bytes, songs: list[OutgoingSong], notation: str, report: ExportReport) -> str:
    """The user's collection with our songs' BPM, key and grid changed and our other songs added."""
    root, collection = parse_collection(data, "NML", "Traktor")
    mounts = volumes.mount_points()
    index = SongIndex(songs)
    for entry in collection.findall("ENTRY"):
        where = entry.find("LOCATION")
        attrs = where.attrib if where is not None else {}
        song = index.take(traktor_path(attrs.get("VOLUME", ""), attrs.get("DIR", ""), attrs.get("FILE", ""), mounts))
        if song is None:
            report.kept += 1
        elif entry.get("LOCK") == "1":
            report.locked += 1
        else:
            _set_values(entry, song, notation)
            report.grids += _grid(entry, song)
            report.updated += 1
    added = index.left()
    for song in added:
        entry, _ = _new_entry(song, notation, mounts)
        report.grids += _grid(entry, song)
        collection.append(entry)
    report.added = len(added)
    collection.set("ENTRIES", str(len(collection.findall("ENTRY"))))
    report.playlists = len([n for n in root.iter("NODE") if n.get("TYPE") == "PLAYLIST"])
    return document(root)


# -- Traktor's layout --------------------------------------------------------------------------------
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _write(element: ET.Element, out: list[str]) -> None:
    attrs = "".join(f' {name}="{_escape(value)}"' for name, value in element.attrib.items())
    out.append(f"<{element.tag}{attrs}>")
    if element.text and element.text.strip():
        out.append(_escape(element.text))
    for child in element:
        _write(child, out)
    out.append(f"</{element.tag}>\n")


def document(root: ET.Element) -> str:
    """The tree as Traktor writes it: closing tags everywhere, a newline after each one."""
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n']
    _write(root, out)
    return "".join(out)
