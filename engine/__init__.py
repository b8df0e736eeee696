"""Calibration Studio's analysis engine: plain Python, no Qt.

Kept free of heavy imports: pool workers import this package before their thread limits
are set, and numpy/librosa must load after that.
"""

from engine.version import APP_VERSION, ENGINE_VERSION

__all__ = ["APP_VERSION", "ENGINE_VERSION"]
