"""The README's promise about the log file, at its real size: "rotating file (1 MB, 3 old copies kept)".

``tests/test_logs.py`` checks rotation with a 2 kB limit; this one writes 4.5 MB through the
default set-up, as a long session would, and measures the files: at most 1 MB each, exactly
three old copies, the newest line in the current file. With rotation off it fails.
"""

from __future__ import annotations

import logging

from engine import logs

README_LIMIT_BYTES = 1_000_000
README_OLD_COPIES = 3


def test_the_log_rotates_at_one_megabyte_and_keeps_three_old_copies(tmp_path, monkeypatch):
    folder = tmp_path / "logs"
    monkeypatch.setenv(logs.ENV_DIR, str(folder))
    logs.stop_logging()
    try:
        path = logs.setup_logging("test")  # the defaults the window and the commands use
        assert path is not None
        line = "x" * 1000
        for i in range(4_500):  # about 4.6 MB with the timestamps
            logging.getLogger("engine.evidence").warning("%06d %s", i, line)
    finally:
        logs.stop_logging()
    files = sorted(folder.iterdir())
    names = sorted(p.name for p in files)
    assert names == sorted([logs.LOG_NAME, *(f"{logs.LOG_NAME}.{n}" for n in range(1, README_OLD_COPIES + 1))])
    sizes = {p.name: p.stat().st_size for p in files}
    assert all(size <= README_LIMIT_BYTES for size in sizes.values()), sizes
    # the old copies are full (rotated at the limit, not earlier)
    assert all(sizes[f"{logs.LOG_NAME}.{n}"] > 0.95 * README_LIMIT_BYTES for n in (1, 2, 3)), sizes
    assert "004499 " in path.read_text(encoding="utf-8")
    assert "000000 " not in "".join(p.read_text(encoding="utf-8") for p in files)  # the oldest were dropped
