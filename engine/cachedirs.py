"""Where the engine keeps its caches (results, numba's compiled code, librosa's filters).

The user cache folder is preferred. When it cannot be written (a read-only home, a full disk,
a path taken by a file), analysis must still run, so a private folder in the system's
temporary folder is used instead and a warning says so; only if neither can be written is it
an error. The temporary fallback must be private because numba loads compiled code from it: a
folder that another user created or can write to is never used.
"""

from __future__ import annotations

import getpass
import hashlib
import importlib.util
import logging
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

APP_FOLDER = "CalibrationStudio"

log = logging.getLogger(__name__)
_notices: list[str] = []


def report(message: str) -> None:
    """Log a cache problem once and keep it for :func:`notices` (the window and the command line show it)."""
    if message not in _notices:
        _notices.append(message)
        log.warning("%s", message)


def notices() -> list[str]:
    """Cache problems met so far in this process, oldest first."""
    return list(_notices)


def user_cache_root() -> Path:
    """The platform's per-user cache folder for this app (``~/.cache/CalibrationStudio`` on Linux)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_FOLDER, appauthor=False))


def writable(folder: Path) -> bool:
    """True when ``folder`` exists or can be created, and a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _is_private(folder: Path) -> bool:
    """Owned by this user and not writable by anyone else (always true where there are no owners)."""
    if not hasattr(os, "getuid"):
        return True
    info = folder.lstat()
    return (
        stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def private_fallback_root() -> Path:
    """``<tmp>/CalibrationStudio-<user>``, created private; a fresh one when that name is not safe."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    root = Path(tempfile.gettempdir()) / f"{APP_FOLDER}-{user}"
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        if _is_private(root):
            return root
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix=f"{APP_FOLDER}-"))


def cache_folder(name: str) -> Path:
    """A writable folder ``name`` for one cache: in the user cache, else in the private fallback.

    Raises ``OSError`` naming both places when neither can be written.
    """
    preferred = user_cache_root() / name
    if writable(preferred):
        return preferred
    try:
        fallback = private_fallback_root() / name
    except OSError as exc:  # not even a temporary folder (tempfile found none it can write)
        raise OSError(f"no writable cache folder: {preferred} cannot be written, and {exc}") from exc
    if writable(fallback):
        report(f"cannot write the cache folder {preferred}; using {fallback} instead (it may be emptied on restart)")
        return fallback
    raise OSError(f"no writable cache folder: neither {preferred} nor {fallback} can be written")


def user_cache_subdir(variable: str, name: str) -> str:
    """``$variable`` if set, else :func:`cache_folder` ``name``: an installed or frozen app's own
    folders may be read-only.

    The frozen app sets the numba folder earlier, before numba loads, in a PyInstaller runtime
    hook (packaging/rthooks/numba_cache.py).
    """
    if os.environ.get(variable):
        return os.environ[variable]
    return str(cache_folder(name))


def prepare_compute_caches() -> None:
    """Point numba's JIT cache and librosa's filter cache at writable folders; spawned workers inherit both.

    librosa rebuilds its constant-Q filter bank on every call unless LIBROSA_CACHE_DIR is set;
    with it, a chunk costs about a quarter less CPU (docs/benchmarks.md).
    """
    os.environ.setdefault("NUMBA_CACHE_DIR", user_cache_subdir("NUMBA_CACHE_DIR", "numba"))
    os.environ.setdefault("LIBROSA_CACHE_DIR", user_cache_subdir("LIBROSA_CACHE_DIR", "librosa"))


ENGINE_WARM_UP = "engine.analysis.chunk.warm_up"
"""The warm-up that fills numba's cache for real analysis; a marker left by any other names it."""


def callable_name(function: Callable[..., object] | None) -> str:
    """``module.qualname`` of a function (or of the function inside a ``functools.partial``)."""
    inner = getattr(function, "func", function)
    return f"{getattr(inner, '__module__', '?')}.{getattr(inner, '__qualname__', type(inner).__name__)}"


def jit_marker(warm_up: Callable[..., object] | None = None) -> Path:
    """Marks a numba cache already filled by this combination of libraries, engine and warm-up.

    Call after :func:`prepare_compute_caches`. A marker left after another warm-up than the engine's
    own (a test's stand-in that compiles nothing) carries that warm-up's name, so it can never make
    the real one look done: the real pool's workers would then all compile, and write, at once.
    """
    from importlib.metadata import version

    from engine.version import ENGINE_VERSION

    stamp = f"{version('librosa')}-{version('numba')}-{ENGINE_VERSION}"
    # numba files its cache under each source file's path, so a second install of the same versions
    # (another checkout's virtualenv) starts cold: without the path in the stamp it would skip the
    # one-process warm-up, and its workers would all compile, and write the cache, at once.
    spec = importlib.util.find_spec("librosa")
    origin = (spec.origin if spec is not None else None) or ""
    stamp += "-" + hashlib.sha1(origin.encode()).hexdigest()[:10]
    if getattr(sys, "frozen", False):
        # numba keys a frozen app's cache on the executable, so an updated app starts cold again.
        app = os.stat(sys.executable)
        stamp += f"-app{int(app.st_mtime)}-{app.st_size}"
    if warm_up is not None and callable_name(warm_up) != ENGINE_WARM_UP:
        stamp += "-by-" + hashlib.sha1(callable_name(warm_up).encode()).hexdigest()[:10]
    return Path(os.environ["NUMBA_CACHE_DIR"]) / f".warm-{stamp}"
