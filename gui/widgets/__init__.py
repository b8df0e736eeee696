"""The window's widgets, one feature per module (plots, pool view, log, calibration panel)."""
