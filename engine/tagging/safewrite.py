"""Change a file's tags so that a crash at any moment leaves it either untouched or fully written.

The tags are written into a copy in the same folder (same file system, so the rename is atomic),
the copy is fsync'ed, given the original's permissions and owner, and renamed over the original;
then the folder is fsync'ed so the rename itself is durable. The original is never opened for
writing. Every reason not to write is a :class:`Refused` with a sentence for that one file.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

COPYFILE_ACL = 1 << 0
COPYFILE_XATTR = 1 << 2
"""``copyfile(3)`` flags (macOS ``<copyfile.h>``): the access control list and the extended attributes."""
TEMP_PREFIX = ".cstag-"
"""Name prefix of the temporary copies; a copy left by a killed process is removed on recovery."""

Identity = tuple[int, int]  # (size, mtime_ns): what the results cache keys a file by, with its path


class Refused(Exception):
    """This file is not written; ``str()`` says why in words meant for the user."""


def identity(path: str | os.PathLike[str]) -> Identity:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def check_writable(path: Path) -> os.stat_result:
    """Why ``path`` must not be written, as :class:`Refused`; its stat when it may be."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise Refused("the file is gone (moved or deleted)") from None
    except OSError as exc:
        raise Refused(f"cannot read the file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise Refused("not a regular file")
    if _read_only_volume(path.parent):
        raise Refused("the file is on a read-only volume")
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise Refused("the file is read-only")  # checked by mode too: root's access() ignores it
    if st.st_nlink > 1:
        raise Refused(f"the file has {st.st_nlink} hard links; replacing it would split them")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise Refused("its folder is not writable (the safe write needs a temporary copy beside the file)")
    return st


def _read_only_volume(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs on Windows: the temporary copy will fail instead
        return False


def _refusal(exc: OSError, doing: str) -> Refused:
    if exc.errno == errno.EROFS:
        return Refused("the file is on a read-only volume")
    if exc.errno == errno.ENOSPC:
        return Refused("no space left for the temporary copy")
    if isinstance(exc, FileNotFoundError):
        return Refused("the file is gone (moved or deleted)")
    return Refused(f"{doing}: {exc.strerror or exc}")


def rewrite(
    path: str | os.PathLike[str], expected: Identity | None, edit: Callable[[Path], None], sync_folder: bool = True
) -> Identity:
    """Apply ``edit`` (which changes tags of the file it is given, in place) atomically to ``path``.

    ``expected`` is the identity the caller read the file at; a file that differs, or changes while
    the copy is edited, is refused. Returns the new identity. ``sync_folder=False`` leaves the
    folder's fsync (which makes the rename itself survive a power cut) to the caller, who can do it
    once per folder for a whole batch with :func:`sync_folders`: until then a power cut may bring
    back the old file, whole, which recovery handles like a file not yet written.
    """
    path = Path(os.path.realpath(path))
    st = check_writable(path)
    if expected is not None and (st.st_size, st.st_mtime_ns) != tuple(expected):
        raise Refused("the file changed since it was read (size or modification time differ)")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise _refusal(exc, "cannot create a temporary copy") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        shutil.copystat(path, tmp)  # mode, flags and (on Linux) extended attributes go with the new inode
        copy_mac_metadata(path, tmp)
        edit(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if hasattr(os, "chown") and (os.stat(tmp).st_uid, os.stat(tmp).st_gid) != (st.st_uid, st.st_gid):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:
                raise Refused("cannot keep the file's owner and group (it belongs to another user)") from None
        try:
            now = os.stat(path)
        except FileNotFoundError:
            raise Refused("the file is gone (moved or deleted while its tags were written)") from None
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
            raise Refused("another program changed the file while its tags were written")
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, Refused):
            raise _refusal(exc, "the write failed") from None
        raise
    if sync_folder:
        _fsync_folder(path.parent)
    return identity(path)


def copy_mac_metadata(source: Path, target: Path) -> None:
    """On macOS, give ``target`` the extended attributes and ACL of ``source``.

    Finder tags, colour labels, Spotlight comments and "Where from" live in extended attributes,
    which ``shutil.copystat`` copies only on Linux; without this, replacing a song by its tagged
    copy would drop them. ``copyfile(3)`` is the system's own way to copy them. A failure is an
    ``OSError``, so the file is refused rather than written without them. Elsewhere: nothing to do.
    """
    if sys.platform != "darwin":
        return
    import ctypes

    if _mac_copyfile()(os.fsencode(source), os.fsencode(target), None, COPYFILE_ACL | COPYFILE_XATTR) < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"cannot keep its Finder tags and other extended attributes: {os.strerror(code)}")


@functools.cache
def _mac_copyfile() -> Callable[..., int]:
    """libSystem's ``copyfile(3)``, looked up once per process (a batch may write thousands of files)."""
    import ctypes
    import ctypes.util

    copyfile = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).copyfile
    copyfile.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_uint32]
    copyfile.restype = ctypes.c_int
    return copyfile


def sync_folders(folders: set[Path]) -> None:
    """fsync each folder once: makes the renames of a batch durable."""
    for folder in folders:
        _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; its rename is durable enough for NTFS's journal
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_leftovers(folders: set[Path]) -> int:
    """Delete temporary copies a killed write left behind in ``folders``; how many were removed."""
    removed = 0
    for folder in folders:
        try:
            entries = list(folder.glob(f"{TEMP_PREFIX}*"))
        except OSError:
            continue
        for entry in entries:
            try:
                entry.unlink()
                removed += 1
            except OSError:
                pass
    return removed
