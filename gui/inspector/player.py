"""Play a song with an optional click track, without ever blocking the GUI thread.

Decoding and beat tracking run off the GUI thread through :func:`gui.tasks.run_task` (the window's
one way off the GUI thread), which hands the arrays back on the GUI thread. Playback goes through
PortAudio (``sounddevice``): its callback, on PortAudio's own
thread, copies the next block of the decoded array and adds the clicks that fall in it, so no
click track is ever rendered in full (a 10-minute song would need 100 MB). The GUI thread only
polls the play position for the playhead.

Why ``sounddevice`` rather than QtMultimedia: it plays the decoded numpy array directly (the click
is mixed per block), its wheel is 33 kB on Linux (which uses the system's ``libportaudio2``) and
1.0 MB on macOS (PortAudio inside), while QtMultimedia needs PySide6-Addons (a 175 MB wheel beside
PySide6-Essentials) and a QIODevice to feed mixed samples. See docs/inspector.md.

Without PortAudio or an output device (CI, a headless box) :func:`output_problem` says so before
any decoding, and :meth:`Player.play` reports it in :attr:`Player.message` and returns ``False``;
everything else keeps working. Setting
``CALIBRATION_STUDIO_AUDIO=null`` plays into a null sink that consumes samples in real time
through the same callback (tests and benchmarks use it).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from shiboken6 import isValid

from gui.inspector.clicks import BeatGrid, click_sound, click_times, detect_beats, grid_times
from gui.tasks import run_task

BLOCK = 1024
NULL_SINK = "null"
AUDIO_ENV = "CALIBRATION_STUDIO_AUDIO"


class NoAudioOutput(RuntimeError):
    """No way to play sound here; the message says what is missing."""


class NullSink:
    """An output that consumes blocks in real time and discards them (same callback as a device)."""

    def __init__(self, samplerate: int, callback: Any) -> None:
        self.samplerate, self.callback = samplerate, callback
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="null-audio-sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        out = np.zeros((BLOCK, 1), dtype=np.float32)
        period = BLOCK / self.samplerate
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.callback(out, BLOCK, None, None)
            next_at += period
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def close(self) -> None:
        self.stop()


def output_problem() -> str | None:
    """Why nothing can play here (no PortAudio, no output device), or ``None``; asked before decoding a song,
    so that a machine without sound says so at once, not after the song has been decoded."""
    if os.environ.get(AUDIO_ENV, "").lower() == NULL_SINK:
        return None
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library itself is missing
        return f"no audio output: PortAudio is not available ({exc}); on Linux install libportaudio2"
    try:
        sd.query_devices(kind="output")
    except (sd.PortAudioError, ValueError) as exc:
        return f"no audio output device found ({exc})"
    return None


def _decode_song(path: str, track_beats: bool = True) -> tuple[int, np.ndarray, float | None, np.ndarray]:
    """Off the GUI thread: the whole song as float32 at its own rate, and its beats (tracked only for a
    song without a beat grid: the grid's clicks need no tracker, and librosa's costs seconds of CPU)."""
    from engine.analysis.decoding import probe, read_segment
    from engine.run.pool import warm_up_alone

    info = probe(path)
    y = read_segment(path, 0.0, info.duration_s, info.samplerate).astype(np.float32)
    if not track_beats:
        return info.samplerate, y, None, np.zeros(0)
    found: list[tuple[float | None, np.ndarray]] = []
    # librosa's tracker compiles into numba's cache on its first use: under the lock the engine's warm-ups
    # take, so that another window or command cannot write the cache at the same moment (it would corrupt it)
    warm_up_alone(lambda: found.append(detect_beats(y, info.samplerate)), os.environ.get("NUMBA_CACHE_DIR"))
    bpm, beats = found[0]
    return info.samplerate, y, bpm, beats


def open_output(samplerate: int, callback: Any) -> Any:
    """A started-able output stream, or :class:`NoAudioOutput` saying why there is none."""
    if os.environ.get(AUDIO_ENV, "").lower() == NULL_SINK:
        return NullSink(samplerate, callback)
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library itself is missing
        raise NoAudioOutput(
            f"no audio output: PortAudio is not available ({exc}); on Linux install libportaudio2"
        ) from None
    try:
        device = sd.query_devices(kind="output")
    except (sd.PortAudioError, ValueError) as exc:
        raise NoAudioOutput(f"no audio output device found ({exc})") from None
    try:
        return sd.OutputStream(samplerate=samplerate, channels=1, dtype="float32", blocksize=BLOCK, callback=callback)
    except (sd.PortAudioError, ValueError) as exc:
        raise NoAudioOutput(f"cannot open the audio output {device.get('name', '')!r}: {exc}") from None


class Player(QObject):
    """One song at a time: load (background), play/pause/seek, click track on or off at any tempo."""

    loaded = Signal(str)  # path, once decoded and beat-tracked
    stateChanged = Signal(str)  # "idle" | "loading" | "ready" | "playing" | "paused" | "unavailable" | "error"
    positionChanged = Signal(float)  # seconds, ~20 times a second while playing

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = ""
        self.state = "idle"
        self.message = ""
        self.samplerate = 22050
        self.audio = np.zeros(0, dtype=np.float32)
        self.beats = np.zeros(0)
        self.beat_bpm: float | None = None
        self.detected_bpm: float | None = None
        self.click_bpm: float | None = None
        self.click_on = False
        self.grid: BeatGrid | None = None
        self.clicks_follow = ""
        """What the clicks play: "grid", "tracked beats", or "steady" (another tempo, phase-locked)."""
        self._click_samples = np.zeros(0, dtype=np.int64)
        self._blip = click_sound(self.samplerate)
        self.position = 0  # samples; written by the audio callback, read by the GUI thread
        self._stream: Any = None
        self._generation = 0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._poll)

    # -- loading ------------------------------------------------------------------------------------
    def load(self, path: str, detected_bpm: float | None = None, grid: BeatGrid | None = None) -> None:
        """Decode ``path`` off the GUI thread (:func:`gui.tasks.run_task`), beat-tracking it only where it has
        no ``grid``; :attr:`loaded` follows."""
        if path == self.path and self.state not in ("idle", "error") and grid == self.grid:
            self.detected_bpm = detected_bpm or self.detected_bpm
            return
        self.stop()
        self._generation += 1
        generation = self._generation
        self.path, self.detected_bpm, self.grid = path, detected_bpm, grid
        self.audio = np.zeros(0, dtype=np.float32)
        self.position = 0
        self.message = "decoding…" if grid is not None else "decoding and finding beats…"
        self._set_state("loading")

        def decoded(song: Any, error: BaseException | None) -> None:
            if isValid(self):  # the window may have closed while this song was decoding: nobody to tell
                self._on_decoded(generation, path, song, error)

        track_beats = grid is None
        run_task(lambda: _decode_song(path, track_beats), decoded, owner=self)

    def refuse(self, problem: str) -> None:
        """Nothing can play here (:func:`output_problem`): say so without decoding anything."""
        self.message = problem
        self._set_state("unavailable")

    def unload(self) -> None:
        """Forget the song (another one is being inspected): no position, no length, nothing decoding."""
        self.stop()
        self._generation += 1
        self.path = ""
        self.audio = np.zeros(0, dtype=np.float32)
        self.beats = np.zeros(0)
        self.beat_bpm = self.detected_bpm = self.grid = None
        self.position = 0
        self._click_samples = np.zeros(0, dtype=np.int64)
        self.message = ""
        self._set_state("idle")
        self.positionChanged.emit(0.0)

    def _on_decoded(self, generation: int, path: str, song: Any, error: BaseException | None) -> None:
        if generation != self._generation:
            return  # another song was chosen meanwhile
        if error is not None or song is None:
            self.message = f"cannot play {os.path.basename(path)}: {type(error).__name__}: {error}"
            self._set_state("error")
            return
        sr, y, bpm, beats = song
        self.samplerate, self.audio, self.beat_bpm, self.beats = sr, y, bpm, beats
        self._blip = click_sound(sr)
        self.position = min(self.position, y.size)
        self._update_clicks()
        self.message = ""
        self._set_state("ready")
        self.loaded.emit(path)

    # -- click ------------------------------------------------------------------------------------
    def set_click(self, on: bool, bpm: float | None = None) -> None:
        """Click on/off; ``bpm`` a steady tempo phase-locked to the song's beats, ``None`` the song's own beats
        (its grid, else the tracked beats). Always set: choosing the song's own beats again after another tempo
        must go back to them (a ``None`` that kept the last tempo left the click on the reference)."""
        self.click_on = on
        self.click_bpm = bpm
        self._update_clicks()

    def _update_clicks(self) -> None:
        """Where the clicks fall, as sample positions, computed here once so the audio callback only looks them up.

        The song's own beats are its fitted grid where it has one, else the tracked beats; another tempo is
        phase-locked to the grid's first beat, else to the first tracked beat.
        """
        bpm = self.click_bpm or self.detected_bpm or (self.grid.bpm if self.grid else None) or self.beat_bpm
        if not self.click_on or not bpm or self.audio.size == 0:
            self._click_samples = np.zeros(0, dtype=np.int64)
            self.clicks_follow = ""
            return
        duration = self.audio.size / self.samplerate
        if self.grid is not None and self.click_bpm is None:
            times, self.clicks_follow = grid_times(duration, self.grid), "grid"
        elif self.grid is not None:
            times, self.clicks_follow = click_times(duration, bpm, np.array([self.grid.start_s])), "steady"
        else:
            detected = self.beat_bpm if self.click_bpm is None else (self.detected_bpm or self.beat_bpm)
            times = click_times(duration, bpm, self.beats, detected)
            self.clicks_follow = "tracked beats" if self.click_bpm is None else "steady"
        self._click_samples = np.round(times * self.samplerate).astype(np.int64)

    @property
    def click_count(self) -> int:
        return int(self._click_samples.size)

    # -- transport --------------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        return self.audio.size / self.samplerate if self.samplerate else 0.0

    @property
    def position_s(self) -> float:
        return self.position / self.samplerate if self.samplerate else 0.0

    def play(self, from_s: float | None = None) -> bool:
        """Start (or restart at ``from_s``); ``False`` with :attr:`message` set when nothing can play."""
        if self.audio.size == 0:
            self.message = "the song is still loading" if self.state == "loading" else "no song loaded"
            return False
        if from_s is not None:
            self.seek(from_s)
        if self.position >= self.audio.size:
            self.position = 0
        if self._stream is None:
            try:
                self._stream = open_output(self.samplerate, self._callback)
            except NoAudioOutput as exc:
                self.message = str(exc)
                self._set_state("unavailable")
                return False
        self._stream.start()
        self.message = ""
        self._timer.start()
        self._set_state("playing")
        return True

    def pause(self) -> None:
        if self._stream is not None and self.state == "playing":
            self._stream.stop()
            self._timer.stop()
            self._set_state("paused")
            self.positionChanged.emit(self.position_s)

    def toggle(self) -> bool:
        if self.state == "playing":
            self.pause()
            return True
        return self.play()

    def seek(self, seconds: float) -> None:
        self.position = int(max(0.0, min(seconds, self.duration_s)) * self.samplerate)
        self.positionChanged.emit(self.position_s)

    def stop(self) -> None:
        self._timer.stop()
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self.state in ("playing", "paused"):
            self._set_state("ready")

    def _poll(self) -> None:
        self.positionChanged.emit(self.position_s)
        if self.position >= self.audio.size:
            self.pause()
            self.position = self.audio.size

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    # -- the audio thread --------------------------------------------------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        """Runs on the audio thread: the next block of the song, with the clicks that fall in it."""
        start = self.position
        audio = self.audio
        block = outdata[:, 0]
        block[:] = 0.0
        end = min(start + frames, audio.size)
        if end > start:
            block[: end - start] = audio[start:end]
        clicks, blip = self._click_samples, self._blip
        if clicks.size:
            lo = int(np.searchsorted(clicks, start - blip.size, side="right"))
            hi = int(np.searchsorted(clicks, start + frames, side="left"))
            for at in clicks[lo:hi]:
                a, b = max(at, start), min(at + blip.size, start + frames)
                if b > a:
                    block[a - start : b - start] += blip[a - at : b - at]
        self.position = start + frames if end == start + frames else audio.size
