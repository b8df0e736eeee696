"""Errors the engine reports on a song; each message is meant to be shown to a user as is."""

from __future__ import annotations


class EngineError(Exception):
    """Base class for errors the engine reports with a user-facing message."""


class AudioDecodeError(EngineError):
    """The file cannot be decoded; retrying will not help."""


class NestedPoolError(EngineError, RuntimeError):
    """A pool worker tried to start processes of its own (the deadlock this product exists to prevent)."""


class PoolClosedError(EngineError):
    """The engine was closed or cancelled while work was waiting for the pool."""


class ExportError(OSError):
    """A file could not be written; the message says which and why (``engine.csv_io``, ``engine.staging``)."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()  # the message alone, without "[Errno 28]"
