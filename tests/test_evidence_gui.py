"""Window promises with no test of their own, on real widgets, the real engine and its real pool.

* *Try with demo songs* runs a whole calibration: songs rendered, reference loaded, run, fitted,
  exported. Only the demo songs' length is shortened (8 s instead of 45 s, all fourteen kept) so
  the test stays quick; everything else is the product's own path from the button click on.
* A reference file that cannot be loaded leaves the results, the table and the loaded reference
  exactly as they were.
* When the user cache folder cannot be written, the fallback warning appears in the window's log.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from functools import partial
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

import engine.frontends.demo as demo
from gui.main_window import MainWindow
from gui.preferences import Preferences
from tests import test_gui_window as window_tests
from tests.test_gui_window import RUN_TIMEOUT_MS, queue_folder

# the window fixtures of test_gui_window.py (settings in a temp folder, 1 worker, 4 s chunks, shutdown after)
song_folder = window_tests.song_folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def table_text(window: MainWindow) -> list[list[str]]:
    model = window.model
    return [
        [str(model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)) for col in range(model.columnCount())]
        for row in range(model.rowCount())
    ]


def test_try_with_demo_songs_renders_loads_runs_fits_and_exports(qtbot, make_window, tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "write_demo_set", partial(demo.write_demo_set, seconds=8.0))
    window = make_window()
    assert window.drop_zone.demo_button.isEnabled()
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(window.drop_zone.demo_button, Qt.MouseButton.LeftButton)
    folder = window.data_dir / "demo"
    rendered = sorted(p.name for p in folder.iterdir() if p.suffix == ".wav")
    assert rendered == sorted(s.file for s in demo.DEMO_SONGS) and len(rendered) == 14
    assert window.session.reference is not None and len(window.session.reference.rows) == 14
    qtbot.waitUntil(lambda: window.session.calibration is not None, timeout=60_000)
    calibration = window.session.calibration
    assert len(calibration.observations) == 14
    assert any("calibration fitted on 14 matched songs" in line for line in window.log.lines), window.log.lines
    labels = [row.label for row in window.session.metrics_view()]
    assert labels and all(
        row.calibrated_cv is not None for row in window.session.metrics_view()
    )  # the CV column is filled
    statuses = {window.model.song(row).status for row in range(window.model.rowCount())}
    assert statuses <= {"done", "partial"} and window.model.rowCount() == 14
    out = tmp_path / "export"
    with qtbot.waitSignal(window.exportFinished, timeout=60_000) as exported:
        window.export_to(out)
    assert exported.args == [str(out), ""]
    assert len(read_csv(out / "results.csv")) == 14 and len(read_csv(out / "comparison.csv")) == 14
    metrics = {r["metric"]: r for r in read_csv(out / "metrics.csv")}
    assert metrics["tempo_acc1"]["n"] == "14" and metrics["tempo_acc1"]["calibrated_cv"] != ""
    shown = {
        window.panel.metrics.item(r, 0).text(): [window.panel.metrics.item(r, c).text() for c in (1, 2)]
        for r in range(window.panel.metrics.rowCount())
    }
    for label, metric in (
        ("±BPM (Acc2)", "tempo_bpm_error_median_acc2"),
        ("≤0.05 (Acc1)", "tempo_within_0.05_acc1"),
    ):
        # the tempo's exactness is in the window's table too, the same numbers as metrics.csv (issue 23)
        in_csv = [f"{float(metrics[metric][column]):.3f}" for column in ("raw", "calibrated_cv")]
        assert shown[label] == in_csv, (label, shown, metrics[metric])
    profile = json.loads((out / "profile.json").read_text())
    assert profile["n_songs"] == 14 and profile["cross_validation"]["tempo"]["scheme"] == "leave-one-out"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gui-cache") / "cache.sqlite3"


def matches(window: MainWindow) -> list[tuple]:
    return [(o.path, o.method, o.row.bpm, o.row.key) for o in window.session.matched.observations]


@pytest.mark.parametrize("content", [b"", bytes(range(256)) * 8, b"title,artist\nx,y\n"])
def test_a_reference_that_cannot_be_loaded_leaves_results_and_table_untouched(
    qtbot, make_window, song_folder, tmp_path, content, shared_cache
):
    Preferences(workers=1, chunk_seconds=4.0, use_cache=True).save()  # the songs are analysed once for all three
    window = make_window(cache=shared_cache)
    assert window.load_reference(song_folder / "reference.csv")
    queue_folder(qtbot, window, song_folder)
    with qtbot.waitSignal(window.controller.runFinished, timeout=RUN_TIMEOUT_MS):
        window.start()
    qtbot.waitUntil(lambda: window.session.matched is not None and window.session.counts()[0] == 3, timeout=30_000)
    results_before = {p: (r.status, r.bpm, r.key, r.error) for p, r in window.results.items()}
    table_before = table_text(window)
    matched_before = matches(window)
    assert any(cell for row in table_before for cell in row if "120" in cell)  # reference values are shown

    bad = tmp_path / "broken.csv"
    bad.write_bytes(content)
    assert not window.load_reference(bad)
    assert "Cannot load reference" in window.error_box.windowTitle()
    window.error_box.close()
    qtbot.wait(200)  # any stray re-match would have landed by now
    assert {p: (r.status, r.bpm, r.key, r.error) for p, r in window.results.items()} == results_before
    assert table_text(window) == table_before
    assert window.session.reference_path == song_folder / "reference.csv"
    assert matches(window) == matched_before and len(matched_before) == 3


def test_the_cache_folder_fallback_warning_appears_in_the_windows_log(qtbot, settings_dir, tmp_path, monkeypatch):
    """The user cache folder lies under a file; the window is made as the app makes it (no cache path given)."""
    from engine import cachedirs

    warm = cachedirs.user_cache_root()  # numba and librosa keep their warm caches: a cold compile costs ~30 s
    monkeypatch.setenv("NUMBA_CACHE_DIR", os.environ.get("NUMBA_CACHE_DIR", str(warm / "numba")))
    monkeypatch.setenv("LIBROSA_CACHE_DIR", os.environ.get("LIBROSA_CACHE_DIR", str(warm / "librosa")))
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    monkeypatch.setattr(cachedirs, "_notices", [])
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    Preferences(workers=1, chunk_seconds=4.0, use_cache=True).save()
    window = MainWindow(None, data_dir=settings_dir / "data")
    window.confirm_close_during_run = lambda: True
    qtbot.addWidget(window)
    window.show()
    try:
        with qtbot.waitSignal(
            window.controller.warmUp, timeout=240_000, check_params_cb=lambda event: event.stage == "done"
        ):
            window.prewarm_engine()
        warnings = [line for line in window.log.lines if "cannot write the cache folder" in line]
        assert len(warnings) == 1, window.log.lines
        assert "WARNING" in warnings[0].upper() and str(blocker) in warnings[0] and str(temp) in warnings[0]
    finally:
        window.controller.shutdown()
