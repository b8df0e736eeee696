"""The inspector feature: selection, live engine events, verdicts, player and their shortcuts.

Everything here runs on the GUI thread. Engine events arrive as the workspace engine's Qt
signals (queued from the engine thread), never from a worker thread; decoding for playback runs
through :func:`gui.tasks.run_task`, and PortAudio calls back on its own audio thread.

Like every feature it receives the :class:`~gui.workspace.Workspace` and the
:class:`~gui.shell.Shell`, and declares its commands as :class:`~gui.actions.ActionDef`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QScrollArea

from engine.calibration.corrections import corrections_path_for
from engine.results import ChunkResult, SongResult
from engine.run import events as ev
from engine.wording import file_name, plural
from gui.actions import ActionDef, ActionKey, Menu, Place, Section
from gui.inspector.panel import InspectorPanel, SongView
from gui.inspector.player import Player, output_problem
from gui.inspector.review import DISAGREE_ROLE, ReviewNavigator
from gui.inspector.song_evidence import chunk_bars, key_candidates, song_grid, tempo_candidates
from gui.inspector.verdicts import VerdictStore
from gui.queue_model import Col
from gui.shell import Shell
from gui.workspace import Workspace

CURRENT_SONG_PLOT = "currentSongPlot"
"""Object name of the run's per-worker chunk plot, which the inspector replaces for one-chunk songs."""

REFIT_DELAY_MS = 400
"""Verdicts made in quick succession (undo, redo, a run of ×2) cause one refit, not one each."""
SHORTCUTS: dict[ActionKey, str | QKeySequence.StandardKey] = {
    ActionKey.PLAY: "Space",
    ActionKey.VERDICT_DOUBLE: "D",
    ActionKey.VERDICT_HALVE: "H",
    ActionKey.VERDICT_TWO_THIRDS: "T",
    ActionKey.VERDICT_THREE_HALVES: "Shift+T",
    ActionKey.VERDICT_KEY: "K",
    ActionKey.VERDICT_EXCLUDE: "X",
    ActionKey.VERDICT_CONFIRM: "C",
    ActionKey.REVIEW_NEXT: "N",
    ActionKey.REVIEW_PREVIOUS: "P",
    ActionKey.VERDICT_UNDO: QKeySequence.StandardKey.Undo,
    ActionKey.VERDICT_REDO: QKeySequence.StandardKey.Redo,
}


class Inspector(QObject):
    """The inspector of one window."""

    def __init__(self, workspace: Workspace, shell: Shell) -> None:
        super().__init__(workspace)
        self.ws = workspace
        self.shell = shell
        self.panel = InspectorPanel()
        self.store = VerdictStore(self)
        self.player = Player(self)
        self.review = ReviewNavigator(shell.queue_view, workspace.proxy)
        self.path = ""
        self.live: dict[str, list[ChunkResult]] = {}
        self.live_total: dict[str, tuple[float, int]] = {}
        self.refit_timer = QTimer(self)
        self.refit_timer.setSingleShot(True)
        self.refit_timer.setInterval(REFIT_DELAY_MS)
        self.refit_timer.timeout.connect(self._refit)
        # scrolled, so the panel's many rows never set the window's minimum size (it would be ~950 px wide)
        self.page = QScrollArea()
        self.page.setWidget(self.panel)
        self.page.setWidgetResizable(True)
        self.page.setFrameShape(QFrame.Shape.NoFrame)
        shell.add_tab(self.page, "Inspector", index=0)  # the run's own view stays in front until a song is picked
        self._connect()
        self._declare_actions()
        self.set_notation(workspace.prefs.key_notation)

    # -- wiring -------------------------------------------------------------------------------------
    def _connect(self) -> None:
        ws = self.ws
        self.shell.queue_view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        c = ws.engine
        c.songStarted.connect(self._on_song_started)
        c.chunkFinished.connect(self._on_chunk_finished)
        c.batchDone.connect(self._refresh_if_stale)
        ws.resultChanged.connect(self._on_result_changed)
        ws.referenceLoaded.connect(self._on_reference_loaded)
        ws.calibrationChanged.connect(self.refresh)
        ws.preferencesChanged.connect(lambda: self.set_notation(ws.prefs.key_notation))
        self.store.changed.connect(self._on_verdicts_changed)
        self.store.failed.connect(lambda text: self.shell.note("error", text))
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

    def _declare_actions(self) -> None:
        p, shell = self.panel, self.shell
        review = Menu.REVIEW
        bound: list[tuple[ActionKey, str, Callable[[], object], Section]] = [
            (ActionKey.REVIEW_PREVIOUS, "Previous Disagreement", lambda: self.review.step(-1), Section.FIRST),
            (ActionKey.REVIEW_NEXT, "Next Disagreement", lambda: self.review.step(+1), Section.FIRST),
            (ActionKey.VERDICT_DOUBLE, "Reference BPM ×2", lambda: p.scale_reference(2.0, "×2"), Section.THIRD),
            (ActionKey.VERDICT_HALVE, "Reference BPM ×½", lambda: p.scale_reference(0.5, "×½"), Section.THIRD),
            (ActionKey.VERDICT_TWO_THIRDS, "Reference BPM ×⅔", lambda: p.scale_reference(2 / 3, "×⅔"), Section.THIRD),
            (
                ActionKey.VERDICT_THREE_HALVES,
                "Reference BPM ×3/2",
                lambda: p.scale_reference(1.5, "×3/2"),
                Section.THIRD,
            ),
            (ActionKey.VERDICT_KEY, "Reference Key = Selected Candidate", p.pick_key, Section.THIRD),
            (
                ActionKey.VERDICT_EXCLUDE,
                "Exclude from Calibration",
                lambda: self.exclude(p.reason_edit.text().strip()),
                Section.THIRD,
            ),
            (ActionKey.VERDICT_CONFIRM, "Detection Confirmed", self.confirm, Section.THIRD),
            (ActionKey.PLAY, "Play / Pause", self.toggle_play, Section.FOURTH),
        ]
        self.actions: dict[ActionKey, QAction] = {}
        for key, text, handler, section in bound:
            self.actions[key] = shell.add_action(
                ActionDef(key, text, handler, Place(review, section), SHORTCUTS[key], window_wide=True)
            )
        self.filter_action = shell.add_action(
            ActionDef(
                ActionKey.REVIEW_FILTER,
                "Show Only Disagreements",
                None,
                Place(review, Section.FIRST),
                "Ctrl+Shift+D",
                checkable=True,
                toggled=self.review.set_filter,
                window_wide=True,
            )
        )
        undo = self.store.undo_stack.createUndoAction(shell.window, "Undo Verdict")
        redo = self.store.undo_stack.createRedoAction(shell.window, "Redo Verdict")
        for key, action in ((ActionKey.VERDICT_UNDO, undo), (ActionKey.VERDICT_REDO, redo)):
            definition = ActionDef(
                key, action.text(), None, Place(review, Section.SECOND), SHORTCUTS[key], window_wide=True
            )
            self.actions[key] = shell.adopt_action(definition, action)

    # -- which song ---------------------------------------------------------------------------------
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.ws.proxy.mapToSource(current).row()
        self.show_path(self.ws.model.song(row).path)

    def show_path(self, path: str) -> None:
        """Inspect ``path`` and bring the inspector tab forward."""
        self._following = False
        if path != self.path:
            self.player.unload()  # the player line must not show the previous song's position and length
            self.path = path
        self.shell.tabs.setCurrentWidget(self.page)
        self.refresh()

    def refresh(self) -> None:
        self._stale = False
        if self.path:
            self.panel.show_song(self.song_view(self.path))

    def song_view(self, path: str) -> SongView:
        """Everything known about ``path`` now: finished result, live chunks, reference, verdicts."""
        ws = self.ws
        result: SongResult | None = ws.results.get(path)
        view = SongView(path=path)
        row_index = ws.model.row_of(path)
        if row_index is not None:
            row = ws.model.song(row_index)
            view.status, view.duration_s = row.status.value, row.duration_s or 0.0
            view.bpm, view.key = row.bpm, row.key
            view.ref_bpm, view.ref_key, view.match_method = row.ref_bpm, row.ref_key, row.match_method
            view.chunks_total = row.chunks_total
            view.title, view.artist = row.title, row.artist
        if result is not None:
            view.status = result.status.value
            view.duration_s = result.duration_s or view.duration_s
            view.bpm, view.key = result.bpm, result.key
            view.bpm_confidence, view.key_confidence = result.bpm_confidence, result.key_confidence
            view.chunks = chunk_bars(result.chunks)
            view.chunks_total = result.chunks_total
            view.tempo = tempo_candidates(result)
            view.keys = key_candidates(result.key_scores)
            if result.analysed:
                view.tempo_stable = result.tempo_stable
                view.beat_grid_start_s, view.bpm_error = result.beat_grid_start_s, result.bpm_error
        elif path in self.live:
            view.chunks = chunk_bars(self.live[path])
            view.duration_s, view.chunks_total = self.live_total.get(path, (view.duration_s, view.chunks_total))
        self._fill_reference(view)
        view.verdicts = self.store.verdicts.for_song(path)
        return view

    def _fill_reference(self, view: SongView) -> None:
        matched = self.ws.session.matched
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
                where = f"{file_name(given.source)} line {given.line}"
                view.ref_source = "song tags" if given.source == "tags" else where
                used = next((o.row for o in matched.observations if o.path == view.path), given)
                view.ref_bpm, view.ref_key = used.bpm, used.key or ""
                return

    # -- live ---------------------------------------------------------------------------------------
    def _on_song_started(self, event: ev.SongStarted) -> None:
        self.live = {event.path: []}  # only the song in progress is kept
        self.live_total = {event.path: (event.duration_s, event.chunks_total)}
        current = self.shell.tabs.currentWidget()
        if event.chunks_total == 1 and current is not None and current.objectName() == CURRENT_SONG_PLOT:
            self.shell.tabs.setCurrentWidget(self.page)  # one bar of wall time says nothing; show the song
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
        if event.result.song_path == self.path and self.shell.tabs.currentWidget() is self.page:
            self._stale = True

    def _on_result_changed(self, path: str) -> None:
        self.live.pop(path, None)
        if path == self.path:
            self._stale = True

    # -- verdicts -----------------------------------------------------------------------------------
    def _on_reference_loaded(self, reference: str) -> None:
        ws = self.ws
        export_dir = ws.prefs.export_dir or str(ws.data_dir)
        target = corrections_path_for([reference], export_dir)
        for warning in self.store.open(target):
            self.shell.note("warning", warning)
        ws.session.verdicts = self.store.verdicts
        ws.session.corrections_path = target
        if len(self.store.verdicts):
            self.shell.note("info", f"{plural(len(self.store.verdicts), 'verdict')} loaded from {target}")

    def _on_verdicts_changed(self, path: str) -> None:
        judged_row = self._current_proxy_row(path)
        self.ws.session.verdicts = self.store.verdicts
        if self.ws.calibration.verdicts_changed():
            self.refit_timer.start()
        if judged_row is not None and self._current_proxy_row(path) is None:
            self._select_after_hidden(judged_row)
        self.refresh()

    def _current_proxy_row(self, path: str) -> int | None:
        """The table row of ``path`` when it is the selected song and shown (not filtered out), else ``None``."""
        ws, table = self.ws, self.shell.queue_view
        source = ws.model.row_of(path)
        if source is None:
            return None
        index = ws.proxy.mapFromSource(ws.model.index(source, 0))
        current = table.currentIndex()
        if not index.isValid() or not current.isValid() or current.row() != index.row():
            return None
        return index.row()

    def _select_after_hidden(self, row: int) -> None:
        """The judged song left the filtered table: the song below it takes its row; after the last, none.

        Qt itself moves the selection to the row *above* a removed current row, so the next key press
        would judge a song the user never looked at.
        """
        table, proxy = self.shell.queue_view, self.ws.proxy
        if row < proxy.rowCount():
            table.setCurrentIndex(proxy.index(row, int(Col.SONG)))
            table.selectRow(row)
        else:
            table.selectionModel().clear()

    def _refit(self) -> None:
        if self.ws.running:
            return  # the run's own fit at its end will include the verdicts
        self.ws.calibration.fit()

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
    # A song is decoded and beat-tracked only when the user asks to hear it: doing it on selection
    # (Qt selects the first row by itself) ran librosa's beat tracker, and its one-off numba compile,
    # in this process during every run, and the GUI thread stalled up to 200 ms waiting for the GIL.
    def toggle_play(self) -> bool:
        if self.player.state == "playing" and self.player.path == self.path:
            return self.player.toggle()
        return self.play_from(None)

    def play_from(self, seconds: float | None) -> bool:
        """Play the inspected song (from ``seconds``, else where it stopped), decoding it first if needed."""
        if self.player.state != "playing" and (problem := output_problem()) is not None:
            self.player.refuse(problem)  # said at once, before any decoding
            self._show_player()
            return False
        if self._needs_loading():
            result = self.ws.results.get(self.path)
            if result is None or not result.analysed:
                self.panel.player_note.setText("the song can be played once it has been analysed")
                return False
            self._play_when_loaded = (self.path, seconds)
            self.player.load(self.path, result.bpm, song_grid(result))
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
        self.ws.model.set_key_notation(notation)
        self.ws.session.key_notation = notation

    def close(self) -> None:
        self.player.stop()


def disagrees_at(index: QModelIndex) -> bool:
    return index.data(DISAGREE_ROLE) == "1"
