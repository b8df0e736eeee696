"""Reference CSVs: a file/path table, playlist exports (Exportify, "find the BPM" sites), spreadsheets.

Columns are found by header, case and punctuation ignored:

* generic: a file/path column plus ``bpm``/``tempo`` and ``key``;
* playlist exports: ``Song``/``Title``/``Track Name``, ``Artist``/``Artist Name(s)``, ``BPM``/``Tempo``,
  ``Key`` (note, or Spotify's pitch class 0–11) with ``Mode`` (``Minor``/``min``/``m``/``0``,
  ``Major``/``1``), ``Camelot``, ``Open Key``, ``Time`` (mm:ss) or ``Duration (ms)``, and the
  0–100 features (``Dance``, ``Energy``, ``Happy``, ``Loud (Db)`` …).

The delimiter is sniffed (``,`` ``;`` tab), UTF-8 with or without BOM (UTF-16 and cp1252 from
Excel too). A bad cell is a per-row error naming the line and the reason; the row keeps its
good values and every other row loads.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from engine.references.keynotation import KeyNotationError
from engine.references.readers.model import ReferenceFileError, ReferenceRow, ReferenceSet, RowError, add_row
from engine.references.readers.values import key_from_cells, parse_bpm, parse_duration, parse_number

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "file": ("file", "filename", "path", "filepath", "location", "songpath", "audiofile", "audio", "fullpath"),
    "title": ("title", "song", "songtitle", "songname", "track", "trackname", "name", "tracktitle"),
    "artist": ("artist", "artists", "artistname", "artistnames", "artistnames", "performer", "artistsname"),
    "bpm": ("bpm", "tempo", "tempobpm", "referencebpm", "truebpm", "averagebpm"),
    "key": ("key", "initialkey", "musicalkey", "tonality", "keysignature", "songkey"),
    "camelot": ("camelot", "camelotkey", "keycamelot"),
    "open_key": ("openkey", "keyopenkey"),
    "mode": ("mode", "scale", "keymode", "modality"),
    "duration": ("time", "duration", "length", "durations", "durationsec", "durationseconds", "durationmmss"),
    "duration_ms": ("durationms", "lengthms", "durationmilliseconds"),
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


def header_token(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (header or "").lower())


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
    """Read a reference table from text; per-row problems land in ``errors``."""
    delimiter = sniff_delimiter(text)
    lines = io.StringIO(text, newline="").readlines()  # physical lines, endings kept (as csv wants them)
    reader = csv.reader(iter(lines), delimiter=delimiter)
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
    result = ReferenceSet(columns={k.removeprefix("feature:"): v for k, v in names.items()}, formats=["csv"])
    seen: dict[tuple[str, ...], ReferenceRow] = {}
    for line, cells, problem in _records(lines, reader.line_num, delimiter, len(header)):
        if problem:
            result.errors.append(RowError(line, problem, source))
        if cells is None or not any(c.strip() for c in cells):
            continue
        row, errors = _parse_row(cells, header, columns, line, source)
        result.errors.extend(errors)
        if row is not None:
            add_row(result, seen, row)
    return result


def _records(lines: list[str], start: int, delimiter: str, width: int) -> Iterator[tuple[int, list[str] | None, str]]:
    """``(line number, cells, problem)`` per record after the first ``start`` lines.

    A quote that opens in a cell and is not closed by the end of that line makes the csv module read
    every following line into that one cell, to the end of the file or to the next stray quote: the
    rows after it vanish and the user sees unrelated errors. Such a record is reported on the line
    where the quote opened, that line is read with the quote as a plain character, and reading starts
    again on the next line, so every other row loads. (A quoted cell that legitimately holds a line
    break keeps it: its record has the header's width and no swallowed line looks like a row.)
    """
    position = start
    while position < len(lines):
        reader = csv.reader(iter(lines[position:]), delimiter=delimiter)
        consumed = 0
        try:
            for cells in reader:
                consumed_before, consumed = consumed, reader.line_num
                first = position + consumed_before + 1
                swallowed = lines[position + consumed_before + 1 : position + consumed]
                last_line_open = not swallowed and len(cells) != width and lines[first - 1].count('"') % 2 == 1
                if last_line_open or (swallowed and _runaway(cells, swallowed, delimiter, width)):
                    closed = sum(text.count('"') for text in (lines[first - 1], *swallowed)) % 2 == 0
                    problem = _runaway_problem(first, len(swallowed), closed)
                    yield first, _literal(lines[first - 1], delimiter, width), problem
                    position = first  # the next line starts a record of its own
                    break
                yield first, cells, ""
            else:
                return
        except csv.Error as exc:
            yield position + consumed + 1, None, f"unreadable CSV: {exc}"
            return


def _runaway(cells: list[str], swallowed: list[str], delimiter: str, width: int) -> bool:
    """Whether a record spanning several lines is an unclosed quote rather than a cell with line breaks."""
    if len(cells) != width:
        return True
    rowlike = (t for t in swallowed if '"' not in t)  # the line that closes a legitimate cell has a quote
    return width > 1 and any(len(next(csv.reader([t], delimiter=delimiter), [])) == width for t in rowlike)


def _literal(text: str, delimiter: str, width: int) -> list[str]:
    """One line's cells with an unclosed quote read as a plain character (and dropped from its cell)."""
    text = text.rstrip("\r\n")
    cells = next(csv.reader([text], delimiter=delimiter), [])
    if len(cells) != width:
        cells = next(csv.reader([text], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])
    return [c[1:] if c.startswith('"') and c.count('"') == 1 else c for c in cells]


def _runaway_problem(line: int, swallowed: int, closed: bool) -> str:
    until = f"is closed only on line {line + swallowed}" if closed else "is never closed"
    lines = "the line after it" if swallowed == 1 else f"the {swallowed} lines after it"
    swallow = f": it would swallow {lines} into one cell," if swallowed else ","
    return f'a quote (") opens here and {until}{swallow} so it was read as a plain character (close or remove it)'


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
        row.key = key_from_cells(cell("key"), cell("mode"), cell("camelot"), cell("open_key"))
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


def _flag_off(text: str) -> bool:
    return text.strip().lower() in ("0", "false", "no", "n")
