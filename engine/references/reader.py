"""Reference values (the truth a user knows) from CSV files in the shapes people have, or from tags.

Two CSV shapes are read by their headers, case and punctuation ignored:

* generic: a file/path column plus ``bpm``/``tempo`` and ``key``;
* playlist exports (Spotify tools): ``Song``/``Title``, ``Artist``, ``BPM``, ``Key``, ``Camelot``,
  ``Time`` (mm:ss), ``Dance``, ``Energy``, ``Acoustic``, ``Happy``, ``Loud (Db)`` …

The delimiter is sniffed (``,`` ``;`` tab), UTF-8 with or without BOM (UTF-16 and cp1252 from
Excel too). A bad cell is a per-row error naming the line and the reason; the row keeps its
good values and every other row loads. Only a file that cannot be read as a table at all
raises :class:`ReferenceFileError`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import EngineError
from engine.references.keynotation import MISSING, KeyNotationError, label, parse_key
from engine.references.tags import read_tags
from engine.references.textnorm import normalise_artist, normalise_title

BPM_RANGE = (1.0, 999.0)

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "file": ("file", "filename", "path", "filepath", "location", "songpath", "audiofile", "audio", "fullpath"),
    "title": ("title", "song", "songtitle", "songname", "track", "trackname", "name"),
    "artist": ("artist", "artists", "artistname", "artistnames", "performer"),
    "bpm": ("bpm", "tempo", "tempobpm", "referencebpm", "truebpm"),
    "key": ("key", "initialkey", "musicalkey", "tonality", "keysignature"),
    "camelot": ("camelot", "camelotkey"),
    "open_key": ("openkey",),
    "mode": ("mode",),
    "duration": ("time", "duration", "length", "durations", "durationsec", "durationseconds"),
    "duration_ms": ("durationms",),
    "tempo_reliable": ("temporeliable", "bpmreliable"),
    "key_reliable": ("keyreliable",),
}
"""Our field → accepted header spellings after :func:`header_token` (lower case, letters and digits only)."""

FEATURE_ALIASES: dict[str, tuple[str, ...]] = {
    "danceability": ("dance", "danceability"),
    "energy": ("energy",),
    "acousticness": ("acoustic", "acousticness"),
    "valence": ("happy", "valence"),
    "loudness_db": ("loud", "loudness", "louddb", "loudnessdb"),
    "instrumentalness": ("instrumental", "instrumentalness"),
    "speechiness": ("speech", "speechiness"),
    "liveness": ("live", "liveness"),
    "popularity": ("popularity", "popular", "pop"),
}
"""Continuous features a playlist export carries (0–100 percentages, loudness in dB)."""


class ReferenceFileError(EngineError):
    """The file cannot be read as a reference table at all (missing, binary, no usable columns)."""


@dataclass
class ReferenceRow:
    """One song's reference values; ``line`` is where it starts in its file (1 = the header)."""

    line: int
    source: str
    file: str = ""
    title: str = ""
    artist: str = ""
    bpm: float | None = None
    key: str | None = None
    duration_s: float | None = None
    features: dict[str, float] = field(default_factory=dict)
    cells: tuple[str, ...] = field(default=(), repr=False, compare=False)
    """The row as read (stripped, case-folded), to tell an exact duplicate from a conflicting one."""

    @property
    def has_values(self) -> bool:
        return self.bpm is not None or self.key is not None or bool(self.features)

    def identity(self) -> tuple[str, ...]:
        if self.file:
            return ("file", self.file.replace("\\", "/").casefold())
        return ("song", normalise_title(self.title), normalise_artist(self.artist))

    def describe(self) -> str:
        if self.file:
            return self.file
        return f"{self.artist} - {self.title}" if self.artist else self.title


@dataclass(frozen=True)
class RowError:
    line: int
    message: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{Path(self.source).name}: " if self.source else ""
        line = f"line {self.line}: " if self.line > 0 else ""  # tags have no lines
        return f"{where}{line}{self.message}"


@dataclass(frozen=True)
class Fingerprint:
    """Which reference file a profile was fitted on: SHA-256 of its bytes and how many rows loaded."""

    path: str
    sha256: str
    rows: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows}


@dataclass
class ReferenceSet:
    rows: list[ReferenceRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    fingerprints: list[Fingerprint] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    """Our field → the header it was read from (the first file's), for the UI and run.json."""

    def extend(self, other: ReferenceSet) -> None:
        self.rows.extend(other.rows)
        self.errors.extend(other.errors)
        self.fingerprints.extend(other.fingerprints)
        for name, header in other.columns.items():
            self.columns.setdefault(name, header)

    @property
    def feature_names(self) -> list[str]:
        return sorted({name for row in self.rows for name in row.features})


def header_token(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (header or "").lower())


def load_reference(path: str | os.PathLike[str]) -> ReferenceSet:
    """Read one reference CSV. Per-row problems land in ``errors``; the good rows load."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReferenceFileError(f"reference file not found: {path}") from None
    except IsADirectoryError:
        raise ReferenceFileError(f"reference path is a folder, not a CSV file: {path}") from None
    except OSError as exc:
        raise ReferenceFileError(f"cannot read reference file {path}: {exc.strerror or exc}") from None
    text = decode_text(data, path)
    result = parse_reference_text(text, source=str(path))
    result.fingerprints.append(Fingerprint(str(path), hashlib.sha256(data).hexdigest(), len(result.rows)))
    return result


def load_references(paths: Iterable[str | os.PathLike[str]]) -> ReferenceSet:
    combined = ReferenceSet()
    for path in paths:
        combined.extend(load_reference(path))
    return combined


def decode_text(data: bytes, path: Path | str = "") -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252 (Excel on Windows); binary is refused."""
    if not data.strip():
        raise ReferenceFileError(f"reference file is empty: {path}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ReferenceFileError(f"reference file {path} has a UTF-16 mark but is not UTF-16 text") from None
    if b"\x00" in data[:4096]:
        raise ReferenceFileError(f"reference file {path} is not text (binary data); export it as CSV")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if text.count("\ufffd") > max(3, len(text) // 100):
            raise ReferenceFileError(f"reference file {path} is not UTF-8 or Windows text; export it as CSV") from None
        return text


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever splits the header and the first rows most consistently."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        header = text.splitlines()[0] if text.splitlines() else ""
        counts = {d: header.count(d) for d in (",", ";", "\t")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def parse_reference_text(text: str, source: str = "") -> ReferenceSet:
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ReferenceFileError(f"reference file {source} has no header row") from None
    except csv.Error as exc:
        raise ReferenceFileError(f"reference file {source}: {exc}") from None
    columns = _map_columns(header)
    names = {name: header[index] for name, index in columns.items()}
    if "file" not in columns and "title" not in columns:
        raise ReferenceFileError(
            f"reference file {source}: no column names the song; need a file/path column or a title/song column "
            f"(found: {', '.join(h for h in header if h.strip()) or 'nothing'})"
        )
    value_columns = {"bpm", "key", "camelot", "open_key"} | {n for n in columns if n.startswith("feature:")}
    if not value_columns & columns.keys():
        raise ReferenceFileError(
            f"reference file {source}: no BPM or key column (found: {', '.join(h for h in header if h.strip())})"
        )
    result = ReferenceSet(columns={k.removeprefix("feature:"): v for k, v in names.items()})
    seen: dict[tuple[str, ...], ReferenceRow] = {}
    last_line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(RowError(last_line + 1, f"unreadable CSV: {exc}", source))
            break
        line, last_line = last_line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        row, errors = _parse_row(cells, header, columns, line, source)
        result.errors.extend(errors)
        if row is None:
            continue
        identity = row.identity()
        if identity in seen:
            first = seen[identity]
            if _same_values(first, row):
                result.errors.append(RowError(line, f"duplicate of line {first.line}; ignored", source))
            else:
                result.errors.append(
                    RowError(
                        line, f"same song as line {first.line} with different values; line {first.line} kept", source
                    )
                )
            continue
        seen[identity] = row
        result.rows.append(row)
    return result


def _map_columns(header: list[str]) -> dict[str, int]:
    tokens = [header_token(h) for h in header]
    columns: dict[str, int] = {}
    for name, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in tokens:
                columns[name] = tokens.index(alias)
                break
    taken = set(columns.values())
    for name, aliases in FEATURE_ALIASES.items():
        for alias in aliases:
            if alias in tokens and tokens.index(alias) not in taken:
                columns[f"feature:{name}"] = tokens.index(alias)
                break
    return columns


def _parse_row(
    cells: list[str], header: list[str], columns: dict[str, int], line: int, source: str
) -> tuple[ReferenceRow | None, list[RowError]]:
    errors: list[RowError] = []

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
        errors.append(RowError(line, f"{len(cells)} fields but the header has {len(header)}; row ignored", source))
        return None, errors
    row = ReferenceRow(
        line=line,
        source=source,
        file=cell("file"),
        title=cell("title"),
        artist=cell("artist"),
        cells=tuple(c.strip().casefold() for c in cells),
    )
    if not row.file and not row.title:
        errors.append(RowError(line, "no file name or title; row ignored", source))
        return None, errors
    try:
        row.bpm = parse_bpm(cell("bpm"))
    except ValueError as exc:
        errors.append(RowError(line, str(exc), source))
    if _flag_off(cell("tempo_reliable")):
        row.bpm = None
    try:
        row.key = _row_key(cell)
    except KeyNotationError as exc:
        errors.append(RowError(line, str(exc), source))
    if _flag_off(cell("key_reliable")):
        row.key = None
    try:
        row.duration_s = parse_duration(cell("duration"))
        if row.duration_s is None and cell("duration_ms"):
            row.duration_s = parse_number(cell("duration_ms"), "duration_ms") / 1000.0
    except ValueError as exc:
        errors.append(RowError(line, str(exc), source))
    for name in (n for n in columns if n.startswith("feature:")):
        text = cell(name)
        if not text:
            continue
        try:
            row.features[name.removeprefix("feature:")] = parse_number(text, header[columns[name]].strip())
        except ValueError as exc:
            errors.append(RowError(line, str(exc), source))
    if not row.has_values:
        if not errors:
            errors.append(RowError(line, "no BPM, key or feature value; row ignored", source))
        return None, errors
    return row, errors


def _row_key(cell: Callable[[str], str]) -> str | None:
    """Key from the Key column, else Camelot/Open Key; Spotify's numeric key + mode columns too."""
    text = cell("key")
    key = None
    if re.fullmatch(r"-?\d{1,2}", text) and cell("mode") in ("0", "1"):
        pitch = int(text)
        if pitch == -1:
            return None
        if not 0 <= pitch <= 11:
            raise KeyNotationError(f'key "{text}" is not a pitch class 0–11')
        return label(pitch, cell("mode") == "0")
    if text:
        key = parse_key(text)
    for column in ("camelot", "open_key"):
        other_text = cell(column)
        if not other_text:
            continue
        other = parse_key(other_text)
        if key is None:
            key = other
        elif other is not None and other != key:
            raise KeyNotationError(f'key "{text}" and {column.replace("_", " ")} "{other_text}" disagree')
    return key


def _flag_off(text: str) -> bool:
    return text.strip().lower() in ("0", "false", "no", "n")


def parse_number(text: str, what: str) -> float:
    """A finite number; ``"120,5"`` (decimal comma) and ``"85%"`` are accepted."""
    cleaned = text.strip().rstrip("%").strip()
    if re.fullmatch(r"[+-]?\d+,\d+", cleaned):
        cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f'{what} "{text}" is not a number') from None
    if not math.isfinite(value):
        raise ValueError(f'{what} "{text}" is not a finite number')
    return value


def parse_bpm(text: str) -> float | None:
    text = text.strip()
    if text.lower() in MISSING:
        return None
    value = parse_number(re.sub(r"\s*bpm$", "", text, flags=re.IGNORECASE), "BPM")
    if not BPM_RANGE[0] <= value <= BPM_RANGE[1]:
        raise ValueError(f'BPM "{text}" is out of range ({BPM_RANGE[0]:g}–{BPM_RANGE[1]:g})')
    return value


def parse_duration(text: str) -> float | None:
    """``"3:25"``, ``"1:02:03"`` or plain seconds."""
    text = text.strip()
    if not text:
        return None
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3 or not all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
            raise ValueError(f'time "{text}" is not mm:ss')
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + float(part)
        return seconds
    value = parse_number(text, "time")
    if value < 0:
        raise ValueError(f'time "{text}" is negative')
    return value


def _same_values(a: ReferenceRow, b: ReferenceRow) -> bool:
    if a.cells and b.cells:
        return a.cells == b.cells
    return a.bpm == b.bpm and a.key == b.key and a.features == b.features


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
