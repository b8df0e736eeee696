"""Songs and folders dropped on the app icon, the Dock icon or "Open With": ``QFileOpenEvent``.

On macOS, Finder does not pass those paths on the command line: it sends the running app one
``QFileOpenEvent`` per item (declared in the bundle's ``CFBundleDocumentTypes``), possibly before
the window exists. This filter catches them on the application, gathers the burst that one drop
produces into a single batch, and hands it to the window once the window is there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

BATCH_MS = 150
"""Finder sends one event per dropped item; items this close together are one drop."""

log = logging.getLogger(__name__)


class FileOpenQueue(QObject):
    """Application-wide event filter that turns file-open events into batches of paths."""

    def __init__(self, app: QApplication, batch_ms: int = BATCH_MS):
        super().__init__(app)
        self._pending: list[str] = []
        self._deliver: Callable[[list[str]], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(batch_ms)
        self._timer.timeout.connect(self._flush)
        app.installEventFilter(self)

    def deliver_to(self, callback: Callable[[list[str]], None]) -> None:
        """Where batches go (the window's ``add_paths``); paths that came before it are sent now."""
        self._deliver = callback
        if self._pending:
            self._timer.start()

    @property
    def pending(self) -> list[str]:
        return list(self._pending)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.FileOpen:
            return False
        assert isinstance(event, QFileOpenEvent)
        path = event.file() or event.url().toLocalFile()
        if not path:
            return False  # a non-file URL: not ours to handle
        if path not in self._pending:
            self._pending.append(path)
        self._timer.start()
        return True

    def _flush(self) -> None:
        if self._deliver is None or not self._pending:
            return  # kept until the window asks for them
        paths, self._pending = self._pending, []
        log.info("opened from Finder/Dock: %d item(s): %s", len(paths), paths[:5])
        self._deliver(paths)
