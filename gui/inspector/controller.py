"""Wires the inspector into the main window: selection, live engine events, verdicts, player, shortcuts.

Everything here runs on the GUI thread. Engine events arrive as the window controller's Qt
signals (queued from the engine thread), never from a worker thread; decoding for playback
runs on the player's own background thread.

The window is reached through a few attributes only (listed in :data:`WINDOW_ATTRIBUTES`), so
the window can be split or rearranged without touching this module, as long as they remain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QScrollArea

from engine.calibration.corrections import corrections_path_for
from engine.results import ChunkResult, SongResult
from engine.run import events as ev
from gui.inspector.evidence import chunk_bars, key_candidates, tempo_candidates
from gui.inspector.panel import InspectorPanel, SongView
from gui.inspector.player import Player
from gui.inspector.review import DISAGREE_ROLE, ReviewNavigator
from gui.inspector.verdicts import VerdictStore

WINDOW_ATTRIBUTES = (
    "table",  # QueueView: selection
    "proxy",  # its QSortFilterProxyModel: disagreement filter, navigation
    "model",  # QueueModel: rows, confidence, key notation
    "controller",  # EngineController: songStarted/chunkFinished/songFinished/songFailed signals
    "session",  # CalibrationSession: reference, matched, verdicts
    "results",  # dict[path, SongResult]
    "tabs",  # bottom QTabWidget: the inspector's tab
    "chunk_plot",  # the per-worker chunk timing plot the inspector replaces for one-chunk songs
    "prefs",  # Preferences: export_dir, key_notation
    "data_dir",
    "referenceLoaded",
    "calibrationUpdated",
    "calibration",  # CalibrationController: show(), can_fit(), fit_calibration()
    "log",
)
REFIT_DELAY_MS = 400
"""Verdicts made in quick succession (undo, redo, a run of ×2) cause one refit, not one each."""
SHORTCUTS = {
    "play": "Space",
    "double": "D",
    "halve": "H",
    "two_thirds": "T",
    "three_halves": "Shift+T",
    "key": "K",
    "exclude": "X",
    "confirm": "C",
    "next": "N",
    "previous": "P",
    "undo": QKeySequence.StandardKey.Undo,
    "redo": QKeySequence.StandardKey.Redo,
}


class Inspector(QObject):
    """The inspector of one window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.panel = InspectorPanel()
        self.store = VerdictStore(self)
        self.player = Player(self)
        self.review = ReviewNavigator(window.table, window.proxy)
        self.path = ""
        self.live: dict[str, list[ChunkResult]] = {}
        self.live_total: dict[str, tuple[float, int]] = {}
        self.refit_timer = QTimer(self)
        self.refit_timer.setSingleShot(True)
        self.refit_timer.setInterval(REFIT_DELAY_MS)
        self.refit_timer.timeout.connect(self._refit)
        current = window.tabs.currentWidget()
        # scrolled, so the panel's many rows never set the window's minimum size (it would be ~950 px wide)
        self.page = QScrollArea()
        self.page.setWidget(self.panel)
        self.page.setWidgetResizable(True)
        self.page.setFrameShape(QFrame.Shape.NoFrame)
        window.tabs.insertTab(0, self.page, "Inspector")
        window.tabs.setCurrentWidget(current)  # the run's own view stays first until a song is picked
        self._connect()
        self._build_actions()
        self.set_notation(getattr(window.prefs, "key_notation", "classic"))

    # -- wiring -------------------------------------------------------------------------------------
    def _connect(self) -> None:
        w = self.window
        w.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        c = w.controller
        c.songStarted.connect(self._on_song_started)
        c.chunkFinished.connect(self._on_chunk_finished)
        c.songFinished.connect(self._on_song_finished)
        c.songFailed.connect(self._on_song_finished)
        c.batchDone.connect(self._refresh_if_stale)
        w.referenceLoaded.connect(self._on_reference_loaded)
        w.calibrationUpdated.connect(self.refresh)
        self.store.changed.connect(self._on_verdicts_changed)
        self.store.failed.connect(lambda text: w.log.add("error", text))
        self.store.failed.connect(self.panel.player_note.setText)
        p = self.panel
        p.playToggled.connect(self.toggle_play)
        p.seekRequested.connect(self.play_from)
        p.clickChanged.connect(self.player.set_click)
        p.bpmVerdict.connect(self.correct_bpm)
        p.keyVerdict.connect(self.correct_key)
        p.excludeRequested.connect(self.exclude)
        p.confirmRequested.connect(self.confirm)
        self.player.stateChanged.connect(lambda _s: self._show_player())
        self.player.loaded.connect(self._on_player_loaded)
        self.player.positionChanged.connect(lambda _p: self._show_player())

    def _build_actions(self) -> None:
        p = self.panel
        self.actions: dict[str, QAction] = {}
        undo = self.store.undo_stack.createUndoAction(self.window, "Undo Verdict")
        redo = self.store.undo_stack.createRedoAction(self.window, "Redo Verdict")
        slots = {
            "play": self.toggle_play,
            "double": lambda: p.scale_reference(2.0, "×2"),
            "halve": lambda: p.scale_reference(0.5, "×½"),
            "two_thirds": lambda: p.scale_reference(2 / 3, "×⅔"),
            "three_halves": lambda: p.scale_reference(1.5, "×3/2"),
            "key": p._picked_key,
            "exclude": lambda: self.exclude(p.reason_edit.text().strip()),
            "confirm": self.confirm,
            "next": lambda: self.review.step(+1),
            "previous": lambda: self.review.step(-1),
        }
        texts = {
            "play": "Play / Pause",
            "double": "Reference BPM ×2",
            "halve": "Reference BPM ×½",
            "two_thirds": "Reference BPM ×⅔",
            "three_halves": "Reference BPM ×3/2",
            "key": "Reference Key = Selected Candidate",
            "exclude": "Exclude from Calibration",
            "confirm": "Detection Confirmed",
            "next": "Next Disagreement",
            "previous": "Previous Disagreement",
        }
        for name, slot in slots.items():
            action = QAction(texts[name], self.window)
            action.triggered.connect(slot)
            self.actions[name] = action
        self.actions["undo"], self.actions["redo"] = undo, redo
        for name, action in self.actions.items():
            action.setShortcut(QKeySequence(SHORTCUTS[name]))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.window.addAction(action)
        self.filter_action = QAction("Show Only Disagreements", self.window)
        self.filter_action.setCheckable(True)
        self.filter_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.filter_action.toggled.connect(self.review.set_filter)
        self.window.addAction(self.filter_action)
        menu = self.window.menuBar().addMenu("&Review")
        for name in ("previous", "next"):
            menu.addAction(self.actions[name])
        menu.addAction(self.filter_action)
        menu.addSeparator()
        for name in ("undo", "redo"):
            menu.addAction(self.actions[name])
        menu.addSeparator()
        for name in ("double", "halve", "two_thirds", "three_halves", "key", "exclude", "confirm"):
            menu.addAction(self.actions[name])
        menu.addSeparator()
        menu.addAction(self.actions["play"])

    # -- which song ---------------------------------------------------------------------------------
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.window.proxy.mapToSource(current).row()
        self.show_path(self.window.model.song(row).path)

    def show_path(self, path: str) -> None:
        """Inspect ``path`` and bring the inspector tab forward."""
        self._following = False
        if path != self.path:
            self.player.stop()
            self.path = path
        self.window.tabs.setCurrentWidget(self.page)
        self.refresh()

    def refresh(self) -> None:
        self._stale = False
        if self.path:
            self.panel.show_song(self.song_view(self.path))

    def song_view(self, path: str) -> SongView:
        """Everything known about ``path`` now: finished result, live chunks, reference, verdicts."""
        w = self.window
        result: SongResult | None = w.results.get(path)
        view = SongView(path=path)
        row_index = w.model.row_of(path)
        if row_index is not None:
            row = w.model.song(row_index)
            view.status, view.duration_s = row.status, row.duration_s or 0.0
            view.bpm, view.key = row.bpm, row.key
            view.ref_bpm, view.ref_key, view.match_method = row.ref_bpm, row.ref_key, row.match_method
            view.chunks_total = row.chunks_total
        if result is not None:
            view.status = result.status.value
            view.duration_s = result.duration_s or view.duration_s
            view.bpm, view.key = result.bpm, result.key
            view.bpm_confidence, view.key_confidence = result.bpm_confidence, result.key_confidence
            view.chunks = chunk_bars(result.chunks)
            view.chunks_total = result.chunks_total
            view.tempo = tempo_candidates(result)
            view.keys = key_candidates(result.key_scores)
        elif path in self.live:
            view.chunks = chunk_bars(self.live[path])
            view.duration_s, view.chunks_total = self.live_total.get(path, (view.duration_s, view.chunks_total))
        self._fill_reference(view)
        view.verdicts = self.store.verdicts.for_song(path)
        return view

    def _fill_reference(self, view: SongView) -> None:
        matched = self.window.session.matched
        if matched is None:
            return
        for index, song in enumerate(matched.songs):
            if song.path == view.path:
                found = matched.row_for(index)
                if found is None:
                    return
                given, method = found
                view.match_method = method
                view.ref_bpm_given, view.ref_key_given = given.bpm, given.key or ""
                where = f"{Path(given.source).name} line {given.line}"
                view.ref_source = "song tags" if given.source == "tags" else where
                used = next((o.row for o in matched.observations if o.path == view.path), given)
                view.ref_bpm, view.ref_key = used.bpm, used.key or ""
                return

    # -- live ---------------------------------------------------------------------------------------
    def _on_song_started(self, event: ev.SongStarted) -> None:
        self.live = {event.path: []}  # only the song in progress is kept
        self.live_total = {event.path: (event.duration_s, event.chunks_total)}
        if event.chunks_total == 1 and self.window.tabs.currentWidget() is self.window.chunk_plot:
            self.window.tabs.setCurrentWidget(self.page)  # one bar of wall time says nothing; show the song
        if not self.path or self._following:
            self._following = True
            self.path = event.path
            self._stale = True

    _following = False
    _stale = False
    """Live events only mark the view stale; it is redrawn once per batch of engine events."""

    def _refresh_if_stale(self) -> None:
        if self._stale:
            self.refresh()

    def _on_chunk_finished(self, event: ev.ChunkFinished) -> None:
        chunks = self.live.get(event.result.song_path)
        if chunks is None:
            return
        chunks.append(event.result)
        if event.result.song_path == self.path and self.window.tabs.currentWidget() is self.page:
            self._stale = True

    def _on_song_finished(self, event: ev.SongFinished | ev.SongFailed) -> None:
        result = getattr(event, "result", None)
        path = result.path if result is not None else getattr(event, "path", "")
        if result is not None:
            row = self.window.model.row_of(path)
            if row is not None:
                confidence = min(result.bpm_confidence, result.key_confidence) if result.bpm else None
                self.window.model.update(row, confidence=confidence)
        self.live.pop(path, None)
        if path == self.path:
            self._stale = True

    # -- verdicts -----------------------------------------------------------------------------------
    def _on_reference_loaded(self, reference: str) -> None:
        export_dir = self.window.prefs.export_dir or str(self.window.data_dir)
        target = corrections_path_for([reference], export_dir)
        for warning in self.store.open(target):
            self.window.log.add("warning", warning)
        self.window.session.verdicts = self.store.verdicts
        self.window.session.corrections_path = target
        if len(self.store.verdicts):
            self.window.log.add("info", f"{len(self.store.verdicts)} verdicts loaded from {target}")

    def _on_verdicts_changed(self, _path: str) -> None:
        session = self.window.session
        session.verdicts = self.store.verdicts
        if session.matched is not None:
            session.matched.apply_verdicts(self.store.verdicts)
            if session.calibration is not None:  # a fit made before the verdict no longer holds
                if self.window.calibration.can_fit():
                    self.refit_timer.start()
                else:
                    session.calibration = None  # too few songs left: show no fit rather than a stale one
            self.window.calibration.show()
        self.refresh()

    def _refit(self) -> None:
        if self.window.controller.running:
            return  # the run's own fit at its end will include the verdicts
        self.window.calibration.fit_calibration()

    def _reference_text(self, field: str) -> str:
        view = self.panel.view
        if field == "bpm":
            value = view.ref_bpm_given if view.ref_bpm_given is not None else view.ref_bpm
            return f"{value:g}" if value else ""
        return view.ref_key_given or view.ref_key

    def correct_bpm(self, value: float, how: str = "typed") -> bool:
        if not self.path:
            return False
        reason = self.panel.reason_edit.text().strip() or how
        return self.store.record(self.path, "bpm", self._reference_text("bpm"), f"{value:g}", reason)

    def correct_key(self, key: str) -> bool:
        if not self.path:
            return False
        reason = self.panel.reason_edit.text().strip() or "picked from the key candidates"
        return self.store.record(self.path, "key", self._reference_text("key"), key, reason)

    def exclude(self, reason: str = "") -> bool:
        if not self.path:
            return False
        return self.store.record(self.path, "exclude", "", "yes", reason)

    def confirm(self) -> bool:
        if not self.path:
            return False
        return self.store.record(self.path, "confirmed", "", "yes", self.panel.reason_edit.text().strip())

    # -- listening ----------------------------------------------------------------------------------
    # -- listening ----------------------------------------------------------------------------------
    # A song is decoded and beat-tracked only when the user asks to hear it: doing it on selection
    # (Qt selects the first row by itself) ran librosa's beat tracker, and its one-off numba compile,
    # in this process during every run, and the GUI thread stalled up to 200 ms waiting for the GIL.
    def toggle_play(self) -> bool:
        if self.player.state == "playing" and self.player.path == self.path:
            return self.player.toggle()
        return self.play_from(None)

    def play_from(self, seconds: float | None) -> bool:
        """Play the inspected song (from ``seconds``, else where it stopped), decoding it first if needed."""
        if self._needs_loading():
            result = self.window.results.get(self.path)
            if result is None or not result.analysed:
                self.panel.player_note.setText("the song can be played once it has been analysed")
                return False
            self._play_when_loaded = (self.path, seconds)
            self.player.load(self.path, result.bpm)
            self.panel.player_note.setText("decoding the song…")
            return True
        ok = self.player.play(seconds)
        self._show_player()
        return ok

    def _needs_loading(self) -> bool:
        p = self.player
        return bool(self.path) and (p.path != self.path or p.state in ("idle", "error", "loading"))

    def _on_player_loaded(self, path: str) -> None:
        wanted, self._play_when_loaded = self._play_when_loaded, None
        if wanted is not None and wanted[0] == path == self.path:
            self.player.play(wanted[1])
            self._show_player()

    _play_when_loaded: tuple[str, float | None] | None = None

    def _show_player(self) -> None:
        p = self.player
        self.panel.show_player(p.state, p.message, p.position_s, p.duration_s)

    # -- preferences --------------------------------------------------------------------------------
    def set_notation(self, notation: str) -> None:
        self.panel.set_notation(notation)
        self.window.model.set_key_notation(notation)
        self.window.session.key_notation = notation

    def close(self) -> None:
        self.player.stop()


def disagrees_at(index: QModelIndex) -> bool:
    return index.data(DISAGREE_ROLE) == "1"
