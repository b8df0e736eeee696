"""The window's plain parts on their own: run statistics, the queue model at 10,000 rows, demo songs."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from engine.frontends.demo import DEMO_SONGS, STYLES, render_song, write_demo_set
from engine.results import ChunkResult, ChunkStatus, SongResult, SongStatus
from engine.run import events as ev
from gui.run_stats import RunStats, finished_text, format_seconds


def chunk(song: str, index: int, status: ChunkStatus = ChunkStatus.OK, pid: int = 11) -> ChunkResult:
    return ChunkResult(song, index, index * 10.0, index * 10.0 + 10.0, status, seconds=0.5, worker_pid=pid)


def test_run_stats_follow_events_to_progress_eta_realtime_and_busy_workers():
    stats = RunStats()
    stats.reset(["a.wav", "b.wav"], now=100.0)
    stats.on_event(ev.RunStarted(2, 2), 100.0)
    stats.on_event(ev.WarmUp("parent", 0, 1, 0.0), 100.0)
    assert stats.warming and "Preparing analysis engine" in stats.warm_up_text
    assert stats.eta(100.5) is None  # no pace yet
    stats.on_event(ev.WarmUp("done", 2, 2, 5.0), 105.0)
    stats.on_event(ev.SongStarted(0, "a.wav", 20.0, 2), 105.0)
    stats.on_event(ev.ChunkStarted(0, 0, 11, 0.0, 10.0), 105.0)
    stats.on_event(ev.ChunkStarted(0, 1, 12, 10.0, 20.0, started_at=104.2), 105.0)  # began early, announced now
    assert stats.busy_workers == 2 and stats.tasks[12].chunk == 1
    assert stats.tasks[11].since == 105.0 and stats.tasks[12].since == 104.2
    stats.on_event(ev.ChunkFinished(0, chunk("a.wav", 0)), 106.0)
    assert stats.busy_workers == 1 and stats.fraction_done == pytest.approx(0.25)
    stats.on_event(ev.ChunkFinished(0, chunk("a.wav", 1, ChunkStatus.TIMEOUT, 12)), 107.0)
    stats.on_event(ev.PoolRecovered(ev.RecoveryReason.TIMEOUT, 12, "replaced"), 107.0)
    result = SongResult("a.wav", SongStatus.PARTIAL, duration_s=20.0, chunks=[chunk("a.wav", 0)])
    stats.on_event(ev.SongFinished(0, result), 107.0)
    assert stats.timeouts == 1 and stats.replacements == 1
    assert stats.fraction_done == pytest.approx(0.5)
    assert stats.audio_done_s == pytest.approx(20.0)  # the song's duration, not its chunks twice
    assert stats.realtime_factor(107.0) == pytest.approx(10.0)  # 20 s of audio in 2 s since analysis began
    assert stats.eta(107.0) == pytest.approx(2.0)  # half done in 2 s
    failed = SongResult("b.wav", SongStatus.ERROR, error="file is empty (0 bytes)")
    stats.on_event(ev.SongFailed(1, "b.wav", failed.error, failed), 108.0)
    stats.on_event(ev.RunFinished(ev.RunSummary(songs_total=2)), 108.0)
    assert stats.songs_failed == 1 and stats.fraction_done == 1.0 and stats.eta(200.0) == 0.0
    assert stats.elapsed(500.0) == pytest.approx(8.0)  # frozen at the end of the run
    assert [p.status for p in stats.chunk_points] == ["ok", "timeout"]


def test_a_worker_busy_with_the_next_song_shows_busy_in_the_workers_view_until_its_chunk_is_back(qtbot):
    """The runner starts the next song's chunk on a free worker; that song's events wait for its turn, so
    without ``WorkerAhead`` the workers view showed the worker idle while it worked. Read from the real view."""
    from gui.widgets.plot_style import WorkerPalette
    from gui.widgets.pool_view import PoolView

    stats = RunStats()
    stats.reset(["/m/a.wav", "/m/b.wav"], now=100.0)
    stats.on_event(ev.RunStarted(2, 2), 100.0)
    stats.on_event(ev.SongStarted(0, "/m/a.wav", 10.0, 1), 100.0)
    stats.on_event(ev.ChunkStarted(0, 0, 11, 0.0, 10.0), 100.0)
    stats.on_event(ev.WorkerAhead(12, 1, "/m/b.wav", 0, 3, started_at=100.5), 101.0)
    view = PoolView(WorkerPalette())
    qtbot.addWidget(view)

    def shown() -> dict[str, list[str]]:
        view.refresh([11, 12], stats, 0, 102.0)
        table = view.table
        return {table.item(r, 0).text(): [table.item(r, c).text() for c in (1, 2, 3)] for r in range(table.rowCount())}

    assert stats.busy_workers == 2
    assert shown() == {"11": ["a.wav", "1/1", "2.0 s"], "12": ["b.wav (next song, started early)", "1/3", "1.5 s"]}
    stats.on_event(ev.WorkerAhead(12, 1, "/m/b.wav", 0, 3, started_at=100.5, finished=True), 101.5)
    assert stats.busy_workers == 1 and shown()["12"] == ["idle", "", ""]
    # a pool rebuilt under the current song's worker (the watchdog) replaced every worker, those ahead too
    stats.on_event(ev.WorkerAhead(12, 1, "/m/b.wav", 1, 3, started_at=101.6), 101.7)
    stats.on_event(ev.PoolRecovered(ev.RecoveryReason.POOL_REBUILT, 11, "pool rebuilt"), 102.0)
    assert stats.busy_workers == 0


def test_songs_from_the_cache_count_as_progress_but_not_as_throughput():
    """A run of cached songs finishes in a blink; "126,000× realtime" would be a claim about nothing."""
    stats = RunStats()
    stats.reset(["a.wav", "b.wav"], now=100.0)
    stats.on_event(ev.RunStarted(2, 2), 100.0)
    cached = SongResult("a.wav", SongStatus.DONE, duration_s=240.0, cached=True)
    stats.on_event(ev.SongFinished(0, cached), 100.01)
    assert stats.fraction_done == pytest.approx(0.5)
    assert stats.realtime_factor(101.0) == 0.0  # nothing analysed yet: the label stays empty
    stats.on_event(ev.SongStarted(1, "b.wav", 20.0, 2), 101.0)
    stats.on_event(ev.ChunkFinished(1, chunk("b.wav", 0)), 102.0)
    stats.on_event(
        ev.SongFinished(1, SongResult("b.wav", SongStatus.DONE, duration_s=20.0, chunks=[chunk("b.wav", 0)])), 103.0
    )
    assert stats.audio_done_s == pytest.approx(20.0)
    assert stats.realtime_factor(103.0) == pytest.approx(20.0 / 2.99, rel=1e-3)


def test_one_status_enum_says_which_rows_are_analysed_and_text_becomes_the_enum(qtbot):
    from engine.calibration.dataset import AnalysedSong
    from gui.queue_model import QueueModel

    assert [s for s in SongStatus if s.analysed] == [SongStatus.DONE, SongStatus.PARTIAL]
    assert SongStatus.from_text("unknown") is None and SongStatus.from_text("partial").analysed
    # a row of a hand-edited results.csv with a status this engine never writes is scored, as DONE
    assert AnalysedSong.from_row({"path": "a.wav", "bpm": "120", "status": "checked"}).status is SongStatus.DONE
    assert AnalysedSong("a.wav", "queued").status is SongStatus.QUEUED and not SongStatus.QUEUED.analysed
    model = QueueModel()
    model.add_paths(["/music/a.wav", "/music/b.wav"])
    assert model.song(0).status is SongStatus.QUEUED and not model.song(0).analysed
    model.update(0, status="partial")  # text from a caller becomes the enum
    model.update_many({1: {"status": SongStatus.CANCELLED}})
    assert model.song(0).status is SongStatus.PARTIAL and model.song(0).analysed
    assert model.song(1).status is SongStatus.CANCELLED and not model.song(1).analysed
    with pytest.raises(ValueError):
        model.update(0, status="finished")  # not a status: said at once, not shown as a blank cell


def test_a_file_name_that_is_not_utf8_shows_its_unreadable_byte_instead_of_losing_it(qtbot):
    """``caf\xe9 au lait.flac`` (Latin-1 on Linux) reaches Python as a lone surrogate; Qt alone drops it and shows
    ``caf au lait.flac``, a file that does not exist. Read through Qt (``QModelIndex.data``), as a view reads it."""
    from PySide6.QtCore import Qt

    from gui.queue_model import Col, QueueModel

    model = QueueModel()
    model.add_paths(["/music/caf\udce9 au lait.flac"])
    assert model.index(0, int(Col.SONG)).data() == "caf\ufffd au lait.flac"
    assert model.index(0, int(Col.SONG)).data(Qt.ItemDataRole.ToolTipRole) == "/music/caf\ufffd au lait.flac"
    assert model.song(0).path == "/music/caf\udce9 au lait.flac"  # the path itself still opens the file

    from gui.inspector.panel import InspectorPanel, SongView

    panel = InspectorPanel()
    qtbot.addWidget(panel)
    panel.show_song(SongView(path="/music/caf\udce9 au lait.flac", status="done", title="Caf\udce9", artist="X"))
    assert "X – Caf\ufffd</b> <small>(caf\ufffd au lait.flac)</small>" in panel.summary.text()


def test_format_seconds():
    assert [format_seconds(s) for s in (None, 0, 75, 3725)] == ["–", "0:00", "1:15", "1:02:05"]


def test_queue_model_holds_ten_thousand_rows_sorted_by_number_and_copies_tsv(qtbot):
    from PySide6.QtCore import QSortFilterProxyModel, Qt

    from gui.queue_model import SORT_ROLE, Col, QueueModel

    model = QueueModel()
    paths = [f"/music/track {i}.wav" for i in range(10_000)]
    with qtbot.waitSignal(model.rowsInserted):
        assert model.add_paths(paths) == 10_000
    assert model.add_paths(paths[:10]) == 0  # already queued
    model.update_many({i: {"status": "done", "bpm": float(10_000 - i), "key": "A minor"} for i in range(10_000)})
    model.set_all({paths[0]: {"ref_bpm": 5000.0, "ref_key": "C major"}}, clear=("ref_bpm", "ref_key"))
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(int(Col.BPM), Qt.SortOrder.AscendingOrder)
    first = proxy.mapToSource(proxy.index(0, 0)).row()
    assert model.song(first).bpm == 1.0  # numeric order, not "1.0" < "10.0" < "2.0" text order
    top = model.index(0, int(Col.BPM))
    assert model.data(top) == "10000.0"
    assert "octave" in model.data(top, Qt.ItemDataRole.ToolTipRole)  # 10000 vs 5000: ×2
    assert "relative" in model.data(model.index(0, int(Col.KEY)), Qt.ItemDataRole.ToolTipRole)
    tsv = model.rows_as_tsv([1, 0]).splitlines()
    assert tsv[0].split("\t")[:3] == ["Path", "Song", "Duration"]
    assert tsv[1].split("\t")[0] == paths[0] and len(tsv) == 3
    model.update(5, status="analysing", chunks_done=1, chunks_total=4)
    assert model.data(model.index(5, int(Col.STATUS))) == "analysing 1/4"
    from gui.queue_model import PROGRESS_ROLE

    assert model.data(model.index(5, int(Col.STATUS)), PROGRESS_ROLE) == 0.25
    model.update(6, status="error", error="file is empty (0 bytes)")
    assert model.data(model.index(6, int(Col.STATUS)), Qt.ItemDataRole.ToolTipRole) == "file is empty (0 bytes)"
    model.remove_rows([0, 1])
    assert model.rowCount() == 9_998 and model.row_of(paths[2]) == 0 and model.row_of(paths[0]) is None


def test_queue_updates_name_only_the_cells_that_show_them_and_sorting_still_follows(qtbot):
    from dataclasses import fields

    from PySide6.QtCore import QSortFilterProxyModel, Qt

    from gui.queue_model import FIELD_COLUMNS, SORT_ROLE, Col, QueueModel, SongRow

    assert {f.name for f in fields(SongRow)} == set(FIELD_COLUMNS)  # a new field must say where it shows
    model = QueueModel()
    model.add_paths([f"/music/{name}.wav" for name in ("c", "a", "b")])
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setDynamicSortFilter(True)
    spans: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: spans.append((top.column(), bottom.column())))

    model.update_many({r: {"status": "analysing", "chunks_done": 1, "error": ""} for r in range(3)})
    assert spans[-1] == (Col.STATUS, Col.STATUS)  # a table sorted by name or BPM need not re-sort
    model.update(0, ref_bpm=100.0)
    assert spans[-1] == (Col.BPM, Col.CAL_BPM)  # the BPM cells' match colours depend on the reference

    proxy.sort(int(Col.BPM), Qt.SortOrder.AscendingOrder)
    model.update_many({0: {"bpm": 90.0}, 1: {"bpm": 120.0}, 2: {"bpm": 100.0}})
    order = [model.song(proxy.mapToSource(proxy.index(i, 0)).row()).bpm for i in range(3)]
    assert order == [90.0, 100.0, 120.0]
    model.update(0, bpm=130.0)  # the sort column changed: the table re-sorts
    order = [model.song(proxy.mapToSource(proxy.index(i, 0)).row()).bpm for i in range(3)]
    assert order == [100.0, 120.0, 130.0]


@pytest.mark.parametrize("style", STYLES)
def test_demo_songs_are_deterministic_and_audible(style):
    one = render_song(110.0, "Bb major", 3.0, 22050, style)
    two = render_song(110.0, "Bb major", 3.0, 22050, style)
    assert one.dtype == np.float32 and one.shape == (3 * 22050,)
    assert np.array_equal(one, two) and 0.5 < float(np.abs(one).max()) <= 1.0


def test_demo_set_writes_songs_and_a_matching_reference(tmp_path):
    songs, reference = write_demo_set(tmp_path, DEMO_SONGS[:3], seconds=2.0)
    assert [p.name for p in songs] == [s.file for s in DEMO_SONGS[:3]]
    with open(reference, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["file"], float(r["bpm"]), r["key"]) for r in rows] == [(s.file, s.bpm, s.key) for s in DEMO_SONGS[:3]]
    stamp = songs[0].stat().st_mtime_ns
    write_demo_set(tmp_path, DEMO_SONGS[:3], seconds=2.0)  # kept, so the results cache still knows them
    assert songs[0].stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="unknown style"):
        render_song(120.0, "C major", 1.0, 22050, "polka")


def test_importing_the_window_entry_point_stays_cheap():
    import subprocess
    import sys

    heavy = "('librosa', 'numba', 'PySide6', 'engine.run.runner')"
    code = f"import sys, gui.app; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_painting_match_colours_never_imports_the_scorer():
    """``import mir_eval`` takes seconds; on the GUI thread it froze the window when the first key was painted."""
    import subprocess
    import sys

    code = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from gui.queue_model import Col, QueueModel
app = QApplication([])
model = QueueModel()
model.add_paths(["/music/a.wav"])
model.update(0, status="done", bpm=240.0, key="8A", ref_bpm=120.0, ref_key="A minor")
tint = model.data(model.index(0, int(Col.KEY)), Qt.ItemDataRole.BackgroundRole)
tip = model.data(model.index(0, int(Col.KEY)), Qt.ItemDataRole.ToolTipRole)
print(tint is not None, tip, "mir_eval" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "vs", "reference:", "same", "False"]  # Camelot 8A is A minor


def test_the_scorer_agrees_with_mir_eval_in_any_notation_the_reference_reader_accepts():
    import mir_eval

    from engine.references.scoring import key_relation, mirex_score

    pairs = [("A minor", "8A"), ("C major", "G major"), ("C major", "F major"), ("C major", "A minor")]
    pairs += [("C major", "C minor"), ("Bb major", "A# major"), ("F# minor", "Gb minor"), ("C major", "nonsense")]
    expected = [1.0, 0.5, 0.0, 0.3, 0.2, 1.0, 1.0, 0.0]  # MIREX: F is a fifth *below* C, which scores 0
    assert [mirex_score(r, d) for r, d in pairs] == expected
    assert mirex_score("C major", "G major") == mir_eval.key.weighted_score("C major", "G major")
    assert [key_relation(r, d) for r, d in pairs[:5]] == ["same", "fifth", "fifth", "relative", "parallel"]


def test_queue_model_set_all_repaints_only_the_rows_whose_values_change(qtbot):
    """The calibration panel re-sends every row's reference every few seconds during a run."""
    from gui.queue_model import Col, QueueModel

    model = QueueModel()
    paths = [f"/music/track {i}.wav" for i in range(6)]
    model.add_paths(paths)
    signalled: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): signalled.append((top.row(), bottom.row(), top.column(), bottom.column()))
    )
    reference = {p: {"ref_bpm": 100.0 + i, "ref_key": "C major"} for i, p in enumerate(paths[:4])}
    model.set_all(reference, clear=("ref_bpm", "ref_key"))
    assert [(top, bottom) for top, bottom, _, _ in signalled] == [(0, 3)]
    assert signalled[0][2] <= int(Col.REF_BPM) and signalled[0][3] >= int(Col.REF_KEY)
    signalled.clear()
    model.set_all(reference, clear=("ref_bpm", "ref_key"))
    assert signalled == []  # nothing changed: nothing to repaint
    reference[paths[1]] = {"ref_bpm": 90.0, "ref_key": "C major"}
    del reference[paths[3]]  # this song lost its pairing: cleared
    model.set_all(reference, clear=("ref_bpm", "ref_key"))
    assert [(top, bottom) for top, bottom, _, _ in signalled] == [(1, 1), (3, 3)]
    assert model.song(3).ref_bpm is None and model.song(1).ref_bpm == 90.0


def test_queue_model_update_many_signals_only_rows_that_change(qtbot):
    """Start marks every song queued; songs that already are must not repaint the table."""
    from gui.queue_model import Col, QueueModel

    model = QueueModel()
    model.add_paths([f"/music/track {i}.wav" for i in range(5)])
    model.update(2, status=SongStatus.DONE, bpm=120.0)
    signalled: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): signalled.append((top.row(), bottom.row(), top.column(), bottom.column()))
    )
    queued = {"status": SongStatus.QUEUED, "chunks_done": 0, "chunks_total": 0, "error": ""}
    model.update_many({row: dict(queued) for row in range(5)})
    assert [(top, bottom) for top, bottom, _, _ in signalled] == [(2, 2)]  # only the finished song changed
    assert signalled[0][2] <= int(Col.STATUS) <= signalled[0][3]
    assert model.song(2).status is SongStatus.QUEUED
    signalled.clear()
    model.update_many({row: dict(queued) for row in range(5)})
    assert signalled == []


def test_the_finished_line_names_the_engine_start_up_the_elapsed_clock_also_counted() -> None:
    """A first run on a fresh install spends ~30 s starting the engine; "in 0:01" beside "elapsed 0:29"
    read as a contradiction, so the line says where the rest went, and says nothing when it is small."""
    summary = ev.RunSummary(songs_total=10, songs_done=10, audio_seconds=400.0, wall_seconds=1.3)
    assert finished_text(summary, 29.4).endswith("in 0:01, after 0:28 starting the engine")
    assert finished_text(summary, 2.0) == "Run finished: 10 done, 0 partial, 0 failed (0 from cache) in 0:01"


def test_cells_show_plain_status_words_a_mark_on_corrected_references_and_every_colour_is_in_the_legend(qtbot):
    from PySide6.QtCore import Qt

    from gui.queue_model import KEY_COLOURS, KEY_LEGEND, TEMPO_COLOURS, TEMPO_LEGEND, Col, QueueModel
    from gui.widgets.colour_legend import CORRECTED_MARK, ColourLegend

    model = QueueModel()
    model.add_paths(["/music/a.wav", "/music/b.wav"])
    model.update(0, status=SongStatus.DONE, bpm=96.0, ref_bpm=96.0, ref_key="A minor", match_method="file name")
    model.update(0, ref_corrected=frozenset({"bpm"}))
    model.update(1, status=SongStatus.DONE, bpm=96.0, ref_bpm=192.0, match_method="file name")

    def text(row: int, col: Col, role: int = Qt.ItemDataRole.DisplayRole) -> str:
        return model.data(model.index(row, int(col)), role)

    assert text(0, Col.STATUS) == "done"  # the word, not "SongStatus.DONE"
    assert text(0, Col.REF_BPM) == f"96 {CORRECTED_MARK}" and "corrected" in text(
        0, Col.REF_BPM, Qt.ItemDataRole.ToolTipRole
    )
    assert text(0, Col.REF_KEY) == "A minor"  # only the field the verdict changed is marked
    assert text(1, Col.REF_BPM) == "192"  # as the reference gave it, unmarked
    legend = ColourLegend(
        [(TEMPO_COLOURS[k], t) for k, t in TEMPO_LEGEND], [(KEY_COLOURS[k], t) for k, t in KEY_LEGEND]
    )
    qtbot.addWidget(legend)
    explained = {c.rgba() for c, _ in legend.entries}
    used = {c.rgba() for c in (*TEMPO_COLOURS.values(), *KEY_COLOURS.values())}
    assert used <= explained, "a cell colour the legend does not explain"
    assert CORRECTED_MARK in legend.label.text()


def test_an_exact_tempo_shows_two_decimals_and_a_reference_as_given(qtbot):
    """DJ software shows two exact decimals; a tempo with no steady grid keeps one, never a precise-looking guess."""
    from gui.queue_model import Col, QueueModel

    model = QueueModel()
    model.add_paths(["/music/steady.wav", "/music/drifting.wav"])
    model.update(0, status="done", bpm=127.37, tempo_stable=True, ref_bpm=127.37, cal_bpm=63.685)
    model.update(1, status="done", bpm=117.64, tempo_stable=False, ref_bpm=128.0, cal_bpm=117.64)

    def cell(row: int, col: Col) -> str:
        return model.data(model.index(row, int(col)))

    assert cell(0, Col.BPM) == "127.37" and cell(1, Col.BPM) == "117.6"
    assert cell(0, Col.REF_BPM) == "127.37" and cell(1, Col.REF_BPM) == "128"
    assert cell(0, Col.CAL_BPM) == "63.69" and cell(1, Col.CAL_BPM) == "117.6"  # a halved exact tempo is exact
