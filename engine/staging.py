"""A command's output files all at once, or not at all: staged beside their targets, swapped in at the end.

A command writes files that belong together (``results.csv``, ``comparison.csv``, ``metrics.csv``,
``profile.json``, ``run.json``, ``history.csv``). :mod:`engine.csv_io` writes each one atomically, but a
command that failed after its third file still left three new files beside four old ones, and a
``run.json`` naming a reference the rest was not made from. Inside ``with staged_outputs() as stage``
every write through :mod:`engine.csv_io` (or to a path from :meth:`StagedOutputs.path_for`) lands in a
hidden staging folder inside the target's own folder (the same file system, so a rename is atomic),
and nothing a user can see changes until :meth:`StagedOutputs.commit`:

1. every staged file is complete and fsync'ed (each was written to a temporary name, fsync'ed, renamed);
2. each target that exists is hard-linked (or, where links are refused, copied) into the staging folder;
3. each staged file is renamed over its target with :func:`os.replace`, in the order they were written;
4. when a rename fails (on Windows a file held open by Excel, anywhere a folder in the way), the targets
   already replaced are put back from step 2 and :class:`engine.errors.ExportError` is raised;
5. the target folders are fsync'ed (POSIX: the renames are then on disk) and the staging folders removed.

Leaving the block without ``commit()`` (an exception, or a command that decided it failed) removes the
staging folders: every target is byte for byte as it was.

**The crash window, honestly.** Each rename is atomic, the set of them is not: POSIX has no
multi-file rename, and swapping the whole folder would need an atomic exchange of two directories
(Linux ``renameat2(RENAME_EXCHANGE)`` only; macOS ``renamex_np``; nothing on Windows) and would drop
the files the command did not write (``pairs.csv``, ``reference_corrections.csv``, a user's own). A
power cut or SIGKILL *during step 3* (a handful of renames: well under a millisecond on a local
disk) leaves some targets new and some old; each file is still whole. The staging folder
(``.staging-<pid>-…``, with the backups of step 2) then stays behind until the next command that
writes into that folder removes it. A crash at any other moment leaves the targets as they were.
On Windows, folders cannot be fsync'ed: step 5 relies on NTFS's own journal there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from engine.errors import ExportError
from engine.tagging.safewrite import sync_folders

STAGING_PREFIX = ".staging-"
"""Staging folders are ``<target folder>/.staging-<pid>-<random>``: hidden, and owned by a process."""

_active: ContextVar[StagedOutputs | None] = ContextVar("staged_outputs", default=None)


class StagedOutputs:
    """The files one command is writing, held back until :meth:`commit`; see the module docstring."""

    def __init__(self) -> None:
        self._staging: dict[Path, Path] = {}  # target folder -> its staging folder
        self._files: dict[Path, Path] = {}  # target file -> staged file (insertion order = write order)
        self._created: list[Path] = []  # target folders this stage created (removed again on discard)
        self._depth = 0  # nested ``staged_outputs()`` blocks share one stage; the outermost commits

    # -- where to write ---------------------------------------------------------------------------
    def path_for(self, target: str | os.PathLike[str]) -> Path:
        """Where to write ``target`` now: a file in the staging folder, swapped in by :meth:`commit`."""
        target = Path(os.path.abspath(target))
        staged = self._files.get(target)
        if staged is None:
            staged = self._staging_folder(target.parent) / target.name
            self._files[target] = staged
        return staged

    def current(self, target: str | os.PathLike[str]) -> Path:
        """The file that holds ``target``'s content as this command sees it (its staged version, if any)."""
        staged = self._files.get(Path(os.path.abspath(target)))
        return staged if staged is not None and staged.exists() else Path(target)

    def _staging_folder(self, folder: Path) -> Path:
        existing = self._staging.get(folder)
        if existing is not None:
            return existing
        try:
            self._make_folders(folder)
            _remove_abandoned(folder)
            staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=folder))
        except OSError as exc:
            raise ExportError(exc.errno, f"cannot write to {folder}: {exc.strerror or exc}") from None
        self._staging[folder] = staging
        return staging

    def _make_folders(self, folder: Path) -> None:
        missing = []
        for parent in (folder, *folder.parents):
            if parent.exists():
                break
            missing.append(parent)
        for parent in reversed(missing):
            parent.mkdir()
            self._created.append(parent)

    # -- the swap ---------------------------------------------------------------------------------
    def commit(self) -> None:
        """Swap every staged file in (all of them, or none when a rename fails); see the module docstring.

        Inside a nested ``staged_outputs()`` block this does nothing: the outermost block commits.
        """
        if self._depth > 1:
            return
        written = {t: s for t, s in self._files.items() if s.exists()}  # a writer that failed left no file
        for staged in written.values():
            _fsync_file(staged)
        backups = {target: self._backup(target, staged) for target, staged in written.items()}
        replaced: list[Path] = []
        for target, staged in written.items():
            try:
                os.replace(staged, target)
            except OSError as exc:
                kept = self._roll_back(replaced, backups)
                note = "; nothing was changed"
                if kept:  # keep the staging folders: they hold the backups of what could not be put back
                    note = f"; could not put back {', '.join(map(str, kept))} (its earlier version is in "
                    note += f"{backups[kept[0]] or 'no file'})"
                    self._staging.clear()
                raise ExportError(exc.errno, f"cannot write {target}: {exc.strerror or exc}{note}") from None
            replaced.append(target)
        sync_folders(set(self._staging))  # the renames are on disk (POSIX; Windows cannot open a folder)
        self._files.clear()
        self._created.clear()  # they hold the committed files now
        self.discard()

    def _backup(self, target: Path, staged: Path) -> Path | None:
        """A second name for ``target``'s current content, for the roll-back; ``None`` if it does not exist."""
        if not target.is_file():
            return None
        backup = staged.with_name(f"{staged.name}.before")
        try:
            os.link(target, backup)
        except OSError:  # a file system without hard links (FAT, some network shares)
            try:
                shutil.copy2(target, backup)
            except OSError as exc:
                raise ExportError(exc.errno, f"cannot write to {target.parent}: {exc.strerror or exc}") from None
        return backup

    @staticmethod
    def _roll_back(replaced: list[Path], backups: dict[Path, Path | None]) -> list[Path]:
        """Put the replaced targets back as they were; returns those that could not be."""
        failed = []
        for target in reversed(replaced):
            backup = backups.get(target)
            try:
                if backup is None:
                    target.unlink()
                else:
                    os.replace(backup, target)
            except OSError:
                failed.append(target)
        return failed

    def discard(self) -> None:
        """Remove the staging folders (and the target folders this stage had to create, when still empty)."""
        for staging in self._staging.values():
            shutil.rmtree(staging, ignore_errors=True)
        self._staging.clear()
        self._files.clear()
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._created.clear()


@contextlib.contextmanager
def staged_outputs() -> Iterator[StagedOutputs]:
    """Hold back every file written through :mod:`engine.csv_io` in this block until ``commit()``.

    Without ``commit()`` nothing is changed. A block inside another shares the outer stage (so a
    command can stage a step that stages itself); only the outermost ``commit()`` swaps the files in.
    """
    stage = _active.get()
    token = None
    if stage is None:
        stage = StagedOutputs()
        token = _active.set(stage)
    stage._depth += 1
    try:
        yield stage
    finally:
        stage._depth -= 1
        if token is not None:
            _active.reset(token)
            stage.discard()  # after a commit there is nothing left to discard


def write_path(target: str | os.PathLike[str]) -> Path:
    """Where a writer should put ``target``: its staged path inside a ``staged_outputs()`` block, else itself."""
    stage = _active.get()
    return stage.path_for(target) if stage is not None else Path(target)


def read_path(target: str | os.PathLike[str]) -> Path:
    """Where ``target``'s current content is: its staged version when this block already wrote it."""
    stage = _active.get()
    return stage.current(target) if stage is not None else Path(target)


def _remove_abandoned(folder: Path) -> None:
    """Staging folders left by a process that no longer runs (a crash during a command): remove them."""
    import psutil

    for leftover in folder.glob(f"{STAGING_PREFIX}*"):
        pid = leftover.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
