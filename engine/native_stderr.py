"""What C libraries print while a file is read goes to the log, not to the terminal.

libmpg123 (inside libsndfile) writes "Note: Illegal Audio-MPEG-Header …" for every damaged MP3 frame
straight to file descriptor 2, where Python's ``sys.stderr`` cannot catch it. Pool workers send their
descriptor 2 to ``worker-stderr.log`` for good (:mod:`engine.run.pool`); the app's own process cannot,
since its terminal is where the command line talks to the user. So the app wraps each read of a file
in :func:`native_stderr_to_log`: descriptor 2 points at a temporary file for its duration, and what
was written there becomes one log record. The song's own error line already says what matters.

Descriptor 2 belongs to the whole process: while a read runs (milliseconds for a probe), whatever
another thread prints there lands in the same record instead of on the terminal. It is logged, never
lost. Reads on several threads at once share one redirection (counted), so none restores descriptor 2
under another. Where descriptor 2 cannot be duplicated (a windowed app on Windows has none) nothing
is redirected.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import IO

log = logging.getLogger(__name__)

_lock = threading.Lock()
_users = 0
_saved_fd: int | None = None
_sink: IO[bytes] | None = None
_reading: list[str] = []


@contextlib.contextmanager
def native_stderr_to_log(what: str) -> Iterator[None]:
    """Send what C code writes to descriptor 2 during this block to the log, naming ``what`` was read."""
    if multiprocessing.parent_process() is not None:  # a pool worker: its descriptor 2 is a log file already
        yield
        return
    redirected = _begin(what)
    try:
        yield
    finally:
        if redirected:
            _end()


def _begin(what: str) -> bool:
    global _users, _saved_fd, _sink
    with _lock:
        if _users == 0:
            try:
                sys.stderr.flush()
                sink = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _end, after the block
                saved = os.dup(2)
                os.dup2(sink.fileno(), 2)
            except (OSError, ValueError, AttributeError):
                return False
            _saved_fd, _sink = saved, sink
        _users += 1
        _reading.append(what)
        return True


def _end() -> None:
    global _users, _saved_fd, _sink
    with _lock:
        _users -= 1
        if _users > 0 or _saved_fd is None or _sink is None:
            return
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(_saved_fd, 2)
        os.close(_saved_fd)
        _sink.seek(0)
        text = _sink.read().decode("utf-8", errors="replace").strip()
        _sink.close()
        reading, _saved_fd, _sink = list(_reading), None, None
        _reading.clear()
    if text:
        log.info("what a C library printed while reading %s:\n%s", ", ".join(reading), text)
