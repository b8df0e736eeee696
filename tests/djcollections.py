"""A DJ's library for export tests: 20 real audio files with awkward names, an earlier run's results.csv,
and the user's own collections in the shapes rekordbox and Traktor write them.

Names carry ``&``, accents, spaces, ``%``/``+``/``=``, and Japanese, Korean, Cyrillic, Greek and
Arabic script; five songs sit on a second volume (a folder standing for a USB stick, made a "mount
point" with :func:`second_volume`). The collections are written out here by hand from the published
shapes (rekordbox 6 XML: ``PRODUCT``, ``TRACK`` with ``TEMPO``/``POSITION_MARK``, ``PLAYLISTS`` of
``NODE``s keyed by ``TrackID``; Traktor 3 NML 19: ``LOCATION``/``INFO``/``TEMPO``/``MUSICAL_KEY``/
``CUE_V2``, playlists of ``PRIMARYKEY`` volume+dir+file keys), never with the writers under test;
the expected key spellings below are typed from the programs' own key lists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import numpy as np
import soundfile as sf
from mutagen.flac import FLAC

from engine.csv_io import write_csv

USB = "DJ USB"
NAMES = [
    "A & B - Café del Mar",
    "Björk - Jóga",
    "東京事変 - 群青日和",
    "Кино - Группа крови",
    "Daft Punk - One More Time",
    "Mr. Oizo - Flat Beat (Original Mix)",
    "Simon & Garfunkel - Cecilia",
    "فيروز - نسم علينا الهوى",
    "Röyksopp - Eple",
    "Motörhead - Ace of Spades",
    "100% Pure - 50 + 50 = 100",
    "Untitled track",
    "Ólafur Arnalds - Near Light",
    "Salt-N-Pepa - Push It",
    "tagged",  # a FLAC whose tags name it (title "Hoppípolla", artist "Sigur Rós")
    "Àlex - Ça va",  # the last five on the second volume
    "Leftfield - Phat Planet",
    "정국 - Seven",
    "Ζωή - Ελλάδα",
    "Soulwax - NY Excuse",
]
KEYS = ["A minor", "C# minor", "F# major", "Bb major", "E minor", "Eb major"]
CLASSIC = {"A minor": "Am", "C# minor": "Dbm", "F# major": "F#", "Bb major": "Bb", "E minor": "Em", "Eb major": "Eb"}
"""rekordbox's and Traktor's own spelling of these keys (their lists have Dbm, F#, Bb, Eb)."""
CAMELOT = {"A minor": "8A", "C# minor": "12A", "F# major": "2B", "Bb major": "6B", "E minor": "9A", "Eb major": "5B"}
OPEN_KEY = {"A minor": "1m", "C# minor": "5m", "F# major": "7d", "Bb major": "11d", "E minor": "2m", "Eb major": "10d"}
TRAKTOR_VALUE = {"A minor": 21, "C# minor": 13, "F# major": 6, "Bb major": 10, "E minor": 16, "Eb major": 3}
"""MUSICAL_KEY VALUE: 0-11 C..B major, 12-23 C..B minor."""


@dataclass
class Library:
    root: Path
    songs: list[Path]
    results: Path
    rows: dict[str, dict[str, str]]

    @property
    def usb(self) -> Path:
        return self.root / USB


def _tone(path: Path, index: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sr = 8000
    t = np.arange(int(sr * 0.3)) / sr
    sf.write(str(path), (0.2 * np.sin(2 * np.pi * (200 + 10 * index) * t)).astype(np.float32), sr)
    return path


def build(root: Path) -> Library:
    """20 songs and their results.csv: BPM, key, a measured grid on every third song, an unstable tempo
    (with a grid that must not be written) on the next, no grid columns filled on the rest."""
    songs = []
    for index, name in enumerate(NAMES):
        folder = root / USB / "Music" / "Crates & Bins" if index >= 15 else root / "Music" / "House & Техно" / "Café"
        suffix = ".flac" if name == "tagged" else ".wav"
        path = _tone(folder / f"{name}{suffix}", index)
        if suffix == ".flac":
            audio = FLAC(str(path))
            audio["TITLE"], audio["ARTIST"] = ["Hoppípolla"], ["Sigur Rós"]
            audio.save()
        songs.append(path)
    rows = {}
    for index, path in enumerate(songs):
        grid = index % 3
        rows[str(path)] = {
            "path": str(path),
            "status": "done",
            "duration_s": "0.3",
            "bpm": f"{120 + index * 1.37:.2f}",
            "bpm_confidence": "0.8",
            "key": KEYS[index % len(KEYS)],
            "key_confidence": "0.6",
            "tempo_stable": "1" if grid == 0 else "0" if grid == 1 else "",
            "beat_grid_start_s": f"{0.1 + index / 100:.3f}" if grid in (0, 1) else "",
        }
    results = root / "run"
    results.mkdir()
    write_csv(results / "results.csv", list(next(iter(rows.values()))), list(rows.values()))
    return Library(root, songs, results, rows)


def second_volume(monkeypatch, library: Library) -> None:
    """Make the library's ``DJ USB`` folder a mounted volume, as ``/Volumes/DJ USB`` is on a Mac."""
    import engine.references.volumes as volumes

    monkeypatch.setattr(volumes, "mount_points", lambda: [str(library.usb)])


# -- rekordbox --------------------------------------------------------------------------------------
def rekordbox_url(path: Path) -> str:
    return "file://localhost" + quote(str(path), safe="/")


THEIR_REKORDBOX_TRACKS = """\
    <TRACK TrackID="90001" Name="Strings of Life" Artist="Rhythim Is Rhythim" Composer="" Album="" Grouping="" \
Genre="Techno" Kind="MP3 File" Size="9043511" TotalTime="377" DiscNumber="0" TrackNumber="0" Year="1987" \
AverageBpm="124.50" DateAdded="2021-03-14" BitRate="192" SampleRate="44100" Comments="classic &amp; closer" \
PlayCount="12" Rating="255" Location="file://localhost/Users/dj/Music/Strings%20of%20Life.mp3" Remixer="" \
Tonality="Dbm" Label="Transmat" Mix="" Colour="0xFF007F">
      <TEMPO Inizio="0.113" Bpm="124.50" Metro="4/4" Battito="1"/>
      <POSITION_MARK Name="" Type="0" Start="32.891" Num="-1"/>
      <POSITION_MARK Name="drop" Type="0" Start="64.113" Num="0" Red="40" Green="226" Blue="20"/>
    </TRACK>
    <TRACK TrackID="90002" Name="Windowlicker" Artist="Aphex Twin" Kind="WAV File" Size="51000000" TotalTime="366" \
AverageBpm="0.00" DateAdded="2022-01-02" Rating="0" \
Location="file://localhost/Volumes/Other%20Disk/Warp/Windowlicker.wav" Tonality="" Colour="0x0000FF">
    </TRACK>
"""


def rekordbox_collection(library: Library, ours: list[int]) -> bytes:
    """A rekordbox 6 export holding two tracks of the user's own and the songs ``ours`` (with their own old
    values, a rating, a colour, a comment, a grid and cue points), and playlists over all of them."""
    tracks = [THEIR_REKORDBOX_TRACKS]
    for number, index in enumerate(ours, start=1):
        path = library.songs[index]
        tracks.append(
            f'    <TRACK TrackID="{number}" Name={quoteattr(path.stem)} Artist="" Kind="WAV File" Size="5000" '
            f'TotalTime="0" AverageBpm="99.00" DateAdded="2023-05-0{number}" '
            f"Comments={quoteattr(f'set {number} & more')} "
            f'PlayCount="{number}" Rating="{51 * number}" Location="{rekordbox_url(path)}" Tonality="Gm" '
            f'Colour="0xFFA500">\n'
            f'      <TEMPO Inizio="0.050" Bpm="99.00" Metro="4/4" Battito="1"/>\n'
            f'      <POSITION_MARK Name="in" Type="0" Start="0.{number}00" Num="{number - 1}"/>\n'
            f'      <POSITION_MARK Name="loop" Type="4" Start="1.000" End="2.000" Num="-1"/>\n'
            f"    </TRACK>\n"
        )
    keys = "\n".join(f'          <TRACK Key="{n}"/>' for n in range(1, len(ours) + 1))
    text = f"""<?xml version="1.0" encoding="UTF-8"?>

<DJ_PLAYLISTS Version="1.0.0">
  <PRODUCT Name="rekordbox" Version="6.7.4" Company="AlphaTheta"/>
  <COLLECTION Entries="{len(ours) + 2}">
{"".join(tracks)}  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="2">
      <NODE Name="Gigs" Type="0" Count="1">
        <NODE Name="Friday &amp; Saturday" Type="1" KeyType="0" Entries="{len(ours) + 1}">
{keys}
          <TRACK Key="90001"/>
        </NODE>
      </NODE>
      <NODE Name="Ëlectro 東京" Type="1" KeyType="0" Entries="1">
        <TRACK Key="90002"/>
      </NODE>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
"""
    return text.encode("utf-8")


# -- Traktor ----------------------------------------------------------------------------------------
def traktor_location(library: Library, path: Path) -> tuple[str, str, str]:
    """(VOLUME, DIR, FILE) as Traktor on a Mac writes them; the second volume's folders start at its root."""
    if library.usb in path.parents:
        volume, inside = USB, path.parent.relative_to(library.usb).parts
    else:
        volume, inside = "Macintosh HD", path.parent.parts[1:]
    return volume, "/:" + "".join(f"{part}/:" for part in inside), path.name


def _attr(value: str) -> str:
    return '"' + value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;") + '"'


def traktor_collection(library: Library, ours: list[int], locked: int | None = None) -> bytes:
    """A Traktor 3 collection.nml with two entries of the user's own and the songs ``ours`` (rated,
    coloured, commented, with hot cues and an AutoGrid), ``locked`` one of them with ``LOCK="1"``,
    and playlists over them, in Traktor's layout (closing tags, a newline after each)."""
    entries = [
        '<ENTRY MODIFIED_DATE="2024/2/11" MODIFIED_TIME="40210" AUDIO_ID="AWEAZ..." TITLE="Strings of Life" '
        'ARTIST="Rhythim Is Rhythim"><LOCATION DIR="/:Users/:dj/:Music/:" FILE="Strings of Life.mp3" '
        'VOLUME="Macintosh HD" VOLUMEID="Macintosh HD"></LOCATION>\n'
        '<ALBUM TITLE="Innovator"></ALBUM>\n<MODIFICATION_INFO AUTHOR_TYPE="user"></MODIFICATION_INFO>\n'
        '<INFO BITRATE="192000" GENRE="Techno" COMMENT="classic &amp; closer" PLAYCOUNT="12" RANKING="255" '
        'KEY="5m" PLAYTIME="377" PLAYTIME_FLOAT="376.816315" IMPORT_DATE="2021/3/14" COLOR="1" FLAGS="12" '
        'FILESIZE="8831"></INFO>\n<TEMPO BPM="124.500000" BPM_QUALITY="100.000000"></TEMPO>\n'
        '<LOUDNESS PEAK_DB="-0.5" PERCEIVED_DB="-1.2" ANALYZED_DB="-1.2"></LOUDNESS>\n'
        '<MUSICAL_KEY VALUE="13"></MUSICAL_KEY>\n'
        '<CUE_V2 NAME="AutoGrid" DISPL_ORDER="0" TYPE="4" START="113.000000" LEN="0.000000" REPEATS="-1" '
        'HOTCUE="0"><GRID BPM="124.500000"></GRID>\n</CUE_V2>\n'
        '<CUE_V2 NAME="drop" DISPL_ORDER="0" TYPE="0" START="64113.000000" LEN="0.000000" REPEATS="-1" '
        'HOTCUE="1" COLOR="#FF0000"></CUE_V2>\n</ENTRY>\n',
        '<ENTRY MODIFIED_DATE="2024/2/11" MODIFIED_TIME="40211" TITLE="Windowlicker" ARTIST="Aphex Twin">'
        '<LOCATION DIR="/:Warp/:" FILE="Windowlicker.wav" VOLUME="Other Disk" VOLUMEID="8c1f"></LOCATION>\n'
        '<INFO RANKING="0" PLAYTIME="366" COLOR="5"></INFO>\n</ENTRY>\n',
    ]
    keys = []
    for number, index in enumerate(ours, start=1):
        volume, folder, name = traktor_location(library, library.songs[index])
        keys.append(volume + folder + name)
        lock = ' LOCK="1" LOCK_MODIFICATION_TIME="2024-02-11T11:10:09"' if index == locked else ""
        entries.append(
            f'<ENTRY MODIFIED_DATE="2024/2/1{number}" MODIFIED_TIME="3000{number}"{lock} '
            f"TITLE={_attr(library.songs[index].stem)} ARTIST=\"\"><LOCATION DIR={_attr(folder)} "
            f'FILE={_attr(name)} VOLUME={_attr(volume)} VOLUMEID="{volume[:4]}"></LOCATION>\n'
            f'<MODIFICATION_INFO AUTHOR_TYPE="user"></MODIFICATION_INFO>\n'
            f'<INFO COMMENT={_attr(f"set {number} & more")} PLAYCOUNT="{number}" RANKING="{51 * number}" '
            f'KEY="6m" PLAYTIME="0" COLOR="{number % 7}" IMPORT_DATE="2023/5/{number}"></INFO>\n'
            f'<TEMPO BPM="99.000000" BPM_QUALITY="100.000000"></TEMPO>\n'
            f'<MUSICAL_KEY VALUE="19"></MUSICAL_KEY>\n'
            f'<CUE_V2 NAME="AutoGrid" DISPL_ORDER="0" TYPE="4" START="50.000000" LEN="0.000000" REPEATS="-1" '
            f'HOTCUE="-1"><GRID BPM="99.000000"></GRID>\n</CUE_V2>\n'
            f'<CUE_V2 NAME="in" DISPL_ORDER="0" TYPE="0" START="{number}00.000000" LEN="0.000000" REPEATS="-1" '
            f'HOTCUE="{number - 1}"></CUE_V2>\n'
            f'<CUE_V2 NAME="loop" DISPL_ORDER="0" TYPE="5" START="1000.000000" LEN="1000.000000" REPEATS="-1" '
            f'HOTCUE="-1"></CUE_V2>\n</ENTRY>\n'
        )
    playlist = "".join(
        f'<ENTRY><PRIMARYKEY TYPE="TRACK" KEY={_attr(key)}></PRIMARYKEY>\n</ENTRY>\n'
        for key in [*keys, "Macintosh HD/:Users/:dj/:Music/:Strings of Life.mp3"]
    )
    text = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n'
        '<NML VERSION="19"><HEAD COMPANY="www.native-instruments.com" PROGRAM="Traktor"></HEAD>\n'
        "<MUSICFOLDERS></MUSICFOLDERS>\n"
        f'<COLLECTION ENTRIES="{len(entries)}">{"".join(entries)}</COLLECTION>\n'
        '<SETS ENTRIES="0"></SETS>\n'
        '<PLAYLISTS><NODE TYPE="FOLDER" NAME="$ROOT"><SUBNODES COUNT="2">'
        f'<NODE TYPE="PLAYLIST" NAME="Peak &amp; Time"><PLAYLIST ENTRIES="{len(keys) + 1}" TYPE="LIST" '
        f'UUID="5b2c0e7b9d6e4f0f8d3c2a1b0e9f8d7c">{playlist}</PLAYLIST>\n</NODE>\n'
        '<NODE TYPE="FOLDER" NAME="Ελληνικά"><SUBNODES COUNT="1"><NODE TYPE="PLAYLIST" NAME="Warm-up">'
        '<PLAYLIST ENTRIES="1" TYPE="LIST" UUID="0e1d2c3b4a5948e7b6a5f4e3d2c1b0a9"><ENTRY>'
        '<PRIMARYKEY TYPE="TRACK" KEY="Other Disk/:Warp/:Windowlicker.wav"></PRIMARYKEY>\n</ENTRY>\n'
        "</PLAYLIST>\n</NODE>\n</SUBNODES>\n</NODE>\n</SUBNODES>\n</NODE>\n</PLAYLISTS>\n"
        '<INDEXING></INDEXING>\n</NML>\n'
    )
    return text.encode("utf-8")


def realpath(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(path)
