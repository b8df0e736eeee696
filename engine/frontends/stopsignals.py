"""SIGINT and SIGTERM during a headless run: stop the pool cleanly instead of dying mid-write.

Python's default SIGTERM ends the process at once, so the pool's queues and locks are never
released (the resource tracker then reports leaked semaphores) and the songs finished so far are
never written to the CSV files. With :class:`StopOnSignal` the first signal asks the engine to
cancel, which it notices within one poll (0.1 s): it SIGKILLs its own workers, and the command
writes what finished and exits with the shell's conventional status (128 + the signal number:
130 for Ctrl-C, 143 for ``kill``; see :mod:`engine.frontends.exitcodes`). A second signal while
the engine is still stopping (it may be compiling numba code in this process on a first launch)
raises :class:`KeyboardInterrupt`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


class StopOnSignal:
    """While active, SIGINT/SIGTERM call ``on_stop`` once and are remembered in :attr:`received`.

    Only the main thread can install signal handlers; elsewhere (a test driving the command in a
    thread) this does nothing and the defaults stay.
    """

    def __init__(self, on_stop: Callable[[], None]):
        self._on_stop = on_stop
        self.received: signal.Signals | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise KeyboardInterrupt  # asked twice: stop waiting for a clean cancel
        self.received = signal.Signals(signum)
        self._on_stop()

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
