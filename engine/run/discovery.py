"""Find songs in dropped files and folders."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

AUDIO_EXTENSIONS = frozenset(
    {
        ".wav",
        ".wave",
        ".flac",
        ".aiff",
        ".aif",
        ".aifc",
        ".ogg",
        ".oga",
        ".opus",
        ".mp3",
        # read by PyAV (engine/analysis/pyav_decoding.py): what a Mac music library holds besides
        ".m4a",  # AAC or ALAC
        ".m4p",  # iTunes Store purchases before 2009: reported as copy-protected
        ".m4b",  # audiobooks
        ".mp4",  # music videos: their audio stream
        ".m4v",
        ".aac",  # raw ADTS
        ".adts",
        ".alac",
        ".caf",
        ".wma",
        ".webm",  # Opus or Vorbis in WebM
        ".weba",
        ".mka",
    }
)


@dataclass
class Discovery:
    """What a scan found: songs in natural order, and what it passed over."""

    songs: list[Path] = field(default_factory=list)
    skipped_non_audio: int = 0
    skipped_hidden: int = 0
    duplicates: int = 0
    missing: list[Path] = field(default_factory=list)
    unreadable_dirs: list[Path] = field(default_factory=list)


def natural_key(path: Path) -> tuple:
    """Sort ``track 2`` before ``track 10``, case-insensitively, folder by folder."""
    parts = re.split(r"(\d+)", str(path).casefold())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def is_audio_path(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def discover(paths: Iterable[str | os.PathLike[str]], exclude: Iterable[Path] = ()) -> Discovery:
    """Scan files and folders recursively for audio files.

    Symlinked folders are followed once each (by resolved path), so a link loop cannot
    recurse forever; files are de-duplicated by resolved path, including against ``exclude``
    (songs already queued).
    """
    found = Discovery()
    seen_files: set[Path] = {Path(p).resolve() for p in exclude}
    seen_dirs: set[Path] = set()
    songs: list[Path] = []

    def add_file(path: Path) -> None:
        if _is_hidden(path.name):
            found.skipped_hidden += 1
            return
        if not is_audio_path(path):
            found.skipped_non_audio += 1
            return
        resolved = path.resolve()
        if resolved in seen_files:
            found.duplicates += 1
            return
        seen_files.add(resolved)
        songs.append(path.absolute())

    def walk(folder: Path) -> None:
        stack = [folder]
        while stack:
            current = stack.pop()
            try:
                real = current.resolve(strict=True)
            except (OSError, RuntimeError):
                found.unreadable_dirs.append(current)
                continue
            if real in seen_dirs:
                continue
            seen_dirs.add(real)
            try:
                entries = list(os.scandir(current))
            except OSError:
                found.unreadable_dirs.append(current)
                continue
            for entry in entries:
                entry_path = Path(entry.path)
                try:
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError:
                    is_dir = False
                if not is_dir:
                    add_file(entry_path)
                elif _is_hidden(entry.name):
                    found.skipped_hidden += 1
                else:
                    # Includes folders named like songs ("x.mp3"): they hold songs, they are not one.
                    stack.append(entry_path)

    for raw in paths:
        path = Path(raw).expanduser()
        first = len(songs)
        if path.is_dir():
            walk(path)
        elif path.is_file():
            add_file(path)
        else:
            found.missing.append(path)
        songs[first:] = sorted(songs[first:], key=natural_key)  # keep the order the paths were given in
    found.songs = songs
    return found
