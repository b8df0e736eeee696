"""A progress bar that is painted with the rest of the window, not on its own."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar


class DeferredProgressBar(QProgressBar):
    """``QProgressBar`` whose ``setValue`` schedules a paint instead of painting at once.

    Qt's ``setValue`` calls ``repaint()`` whenever the bar moves by a pixel, and a synchronous
    repaint paints everything else that is dirty in the window too, in the middle of the event
    handler. During a run that doubled the window's painting per batch of engine events and was
    the largest single block in the GUI-latency stalls (``bench/gui_latency.py --stall-stacks``).
    """

    def setValue(self, value: int) -> None:
        if value == self.value():
            return
        self.setUpdatesEnabled(False)  # repaint() is a no-op while updates are off
        super().setValue(value)
        self.setUpdatesEnabled(True)  # which schedules an ordinary update()
