"""Volumes as DJ libraries name them: Traktor keeps a file as ``VOLUME`` + a path inside that volume.

Traktor writes a song on the system disk as ``VOLUME="Macintosh HD"`` (``"C:"`` on Windows) with
the full folder, and a song on a USB stick as ``VOLUME="DJ USB"`` with the folder *inside* the
stick (``/Volumes/DJ USB/Music/x.mp3`` → ``DIR="/:Music/:"``). Reading and writing both need the
mounted volumes, so both ask :func:`mount_points` (tests replace it with folders of their own).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path, PurePosixPath

DRIVE = re.compile(r"^[A-Za-z]:$")
DEFAULT_SYSTEM_VOLUME = "Macintosh HD"
"""What Traktor calls the system disk on a Mac unless the disk was renamed."""


def mount_points() -> list[str]:
    """Mounted volumes other than the system root (``/Volumes/X`` on a Mac, ``/media/u/X`` on Linux)."""
    try:
        import psutil

        found = [p.mountpoint for p in psutil.disk_partitions(all=False)]
    except Exception:  # psutil cannot list mounts here (sandbox, permissions): the system disk only
        found = []
    return [m for m in found if m and m not in ("/", "\\") and not DRIVE.match(m.rstrip("\\/"))]


def system_volume_name() -> str:
    """The system disk's name on a Mac (the ``/Volumes`` entry that leads back to ``/``), else the default."""
    if sys.platform == "darwin":
        try:
            for entry in os.scandir("/Volumes"):
                if os.path.realpath(entry.path) == "/":
                    return entry.name
        except OSError:
            pass
    return DEFAULT_SYSTEM_VOLUME


def split_volume(path: str, mounts: list[str] | None = None) -> tuple[str, str]:
    """``path`` → (volume name, path inside that volume, starting with ``/``)."""
    text = path.replace("\\", "/")
    if len(text) >= 2 and DRIVE.match(text[:2]):
        return text[:2].upper(), text[2:] or "/"
    for mount in sorted(mounts if mounts is not None else mount_points(), key=len, reverse=True):
        root = mount.replace("\\", "/").rstrip("/")
        if text.startswith(root + "/"):
            return PurePosixPath(root).name, text[len(root) :]
    return system_volume_name(), text


def join_volume(volume: str, inside: str, mounts: list[str] | None = None) -> str:
    """Inverse of :func:`split_volume`: a drive is a prefix, a mounted volume's name its mount point,
    and any other name (the system disk, or a volume not plugged in) leaves the path as written."""
    volume = volume.strip()
    if DRIVE.match(volume):
        return volume + inside
    if volume:
        for mount in mounts if mounts is not None else mount_points():
            if Path(mount).name == volume:
                return mount.replace("\\", "/").rstrip("/") + inside
    return inside
