"""User preferences stored with ``QSettings``: analysis settings, engine options, the export folder,
and where the main window and its panels were left.

Kept apart from the dialog that edits them so tests (and the launch options) can read and
write them without building any widget. Tests point ``QSettings`` at a temporary folder
with :func:`QSettings.setPath`, so they never touch the user's real settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from engine.references.keynotation import NOTATIONS
from engine.settings import AnalysisSettings, BpmRange, EngineOptions, default_workers

ORGANIZATION = "CalibrationStudio"
APPLICATION = "CalibrationStudio"


def qsettings() -> QSettings:
    """The one settings store (INI format everywhere, so tests can redirect it with ``setPath``)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


@dataclass
class Preferences:
    """Everything the settings dialog edits, plus remembered folders."""

    workers: int = field(default_factory=default_workers)
    chunk_seconds: float = AnalysisSettings.chunk_seconds
    overlap_seconds: float = AnalysisSettings.overlap_seconds
    chunk_timeout: float | None = None
    use_cache: bool = True
    export_dir: str = ""
    last_folder: str = ""
    key_notation: str = "classic"  # how keys are shown: table, inspector, export (NOTATIONS)
    bpm_range_on: bool = False
    """Fold the BPM the user sees and writes into ``bpm_low``–``bpm_high`` (off by default, as in the CLI)."""
    bpm_low: float = 78.0
    bpm_high: float = 155.0  # Traktor's default range, the first one a DJ is likely to know

    @property
    def bpm_range(self) -> BpmRange | None:
        """The range when it is on (a display and export choice: scoring and calibration never see it)."""
        return BpmRange(self.bpm_low, self.bpm_high) if self.bpm_range_on else None

    def analysis_settings(self) -> AnalysisSettings:
        return AnalysisSettings(chunk_seconds=self.chunk_seconds, overlap_seconds=self.overlap_seconds)

    def engine_options(self, cache_path: Path | None = None) -> EngineOptions:
        return EngineOptions(
            workers=self.workers, chunk_timeout=self.chunk_timeout, use_cache=self.use_cache, cache_path=cache_path
        )

    @classmethod
    def load(cls, store: QSettings | None = None) -> Preferences:
        """Read the stored values; anything missing or unreadable falls back to the default."""
        store = store or qsettings()
        default = cls()

        def number(name: str, fallback: float, kind: type = float) -> float:
            try:
                return kind(store.value(name, fallback))
            except (TypeError, ValueError):
                return fallback

        timeout = store.value("engine/chunk_timeout", "")
        try:
            chunk_timeout = float(str(timeout)) if timeout not in ("", None) else None
        except (TypeError, ValueError):
            chunk_timeout = None
        prefs = cls(
            workers=max(1, int(number("engine/workers", default.workers, int))),
            chunk_seconds=number("analysis/chunk_seconds", default.chunk_seconds),
            overlap_seconds=number("analysis/overlap_seconds", default.overlap_seconds),
            chunk_timeout=chunk_timeout if chunk_timeout and chunk_timeout > 0 else None,
            use_cache=str(store.value("engine/use_cache", "true")).lower() in ("true", "1"),
            export_dir=str(store.value("paths/export_dir", "") or ""),
            last_folder=str(store.value("paths/last_folder", "") or ""),
            key_notation=str(store.value("display/key_notation", "classic") or "classic"),
        )
        prefs.bpm_range_on = str(store.value("display/bpm_range_on", "false")).lower() in ("true", "1")
        prefs.bpm_low = number("display/bpm_low", default.bpm_low)
        prefs.bpm_high = number("display/bpm_high", default.bpm_high)
        try:
            prefs.bpm_range  # noqa: B018 (validates the stored pair)
        except ValueError:  # hand-edited into something invalid: off, with the default range
            prefs.bpm_range_on, prefs.bpm_low, prefs.bpm_high = False, default.bpm_low, default.bpm_high
        if prefs.key_notation not in NOTATIONS:
            prefs.key_notation = "classic"
        try:
            prefs.analysis_settings()
        except ValueError:  # hand-edited into something invalid: keep the analysis defaults
            prefs.chunk_seconds, prefs.overlap_seconds = default.chunk_seconds, default.overlap_seconds
        return prefs

    def save(self, store: QSettings | None = None) -> None:
        store = store or qsettings()
        store.setValue("engine/workers", self.workers)
        store.setValue("analysis/chunk_seconds", self.chunk_seconds)
        store.setValue("analysis/overlap_seconds", self.overlap_seconds)
        store.setValue("engine/chunk_timeout", "" if self.chunk_timeout is None else self.chunk_timeout)
        store.setValue("engine/use_cache", self.use_cache)
        store.setValue("paths/export_dir", self.export_dir)
        store.setValue("paths/last_folder", self.last_folder)
        store.setValue("display/key_notation", self.key_notation)
        store.setValue("display/bpm_range_on", self.bpm_range_on)
        store.setValue("display/bpm_low", self.bpm_low)
        store.setValue("display/bpm_high", self.bpm_high)
        store.sync()


def load_window_state(store: QSettings | None = None) -> tuple[bytes | None, bytes | None]:
    """The main window's saved geometry and dock/toolbar state (``None`` for what was never saved)."""
    store = store or qsettings()

    def blob(name: str) -> bytes | None:
        value = store.value(name)
        if isinstance(value, QByteArray):
            value = value.data()
        return bytes(value) if isinstance(value, bytes | bytearray) and value else None

    return blob("window/geometry"), blob("window/state")


def save_window_state(geometry: bytes, state: bytes, store: QSettings | None = None) -> None:
    """Remember where the window and its panels are (called when it closes)."""
    store = store or qsettings()
    store.setValue("window/geometry", QByteArray(geometry))
    store.setValue("window/state", QByteArray(state))
    store.sync()
