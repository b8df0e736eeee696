"""Bad and unusual files: each gets a correct result or a clear per-song error, and the run finishes.

All cases go through ONE engine run (one pool warm-up) over a dropped folder, driven by its event
stream so files can be deleted or replaced while the run is going; each case is then its own
test. Unreadable permissions need a process without root's override: see
``test_reliability_exports.py``. The 60-minute song is in ``test_reliability_load.py``. Probe-level
decoding of the same formats is in ``test_decoding.py``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.chunk import warm_up
from engine.analysis.pyav_encoding import write_encoded
from engine.results import SongResult, SongStatus
from engine.run import events as ev
from engine.run.discovery import discover
from engine.run.pool import worker_processes
from engine.run.runner import Engine
from engine.settings import AnalysisSettings, EngineOptions
from tests import media
from tests.audio import SR, click_track, song, tone, write
from tests.faults import faulty_chunk
from tests.reliability import leftover_files, private_tempdir

pytestmark = pytest.mark.usefixtures("no_stray_workers")

BPM = 120.0
KEY = "A major"  # the music is A3 and C#4 (a major third on A) over the click: what the clean file must give
SECONDS = 6.0
SETTINGS = AnalysisSettings(chunk_seconds=4.0)  # two chunks per song, in parallel


def music(seconds: float = SECONDS, sr: int = SR) -> np.ndarray:
    """The reference content every 'same music, odd format' case is made of."""
    y = click_track(BPM, seconds, sr) + tone(220.0, seconds, sr, 0.1) + tone(277.18, seconds, sr, 0.08)
    return y.astype(np.float32)


def truncated(path: Path, keep: float) -> Path:
    """The first part of a 9 s file: headers promise more audio than there is."""
    write(path, music(9.0))
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def pcm16(y: np.ndarray) -> np.ndarray:
    return np.round(y * 32767).astype(np.int16)


def random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(len(path.name)).bytes(20000))
    return path


def with_samples(path: Path, y: np.ndarray, sr: int = SR, subtype: str | None = None) -> Path:
    return write(path, y, sr, subtype)


def nan_and_inf(path: Path) -> Path:
    y = music()
    y[1000:3000] = np.nan
    y[5000] = np.inf
    y[7000:7100] = -np.inf
    return write(path, y, subtype="FLOAT")


def channels(path: Path, count: int) -> Path:
    y = music()
    gains = np.linspace(1.0, 0.5, count, dtype=np.float32)
    return write(path, y[:, None] * gains[None, :] / count**0.5)


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    expect: str  # "error" (clear per-song error) | "same" (the reference result) | "result" | "partial" | "any"
    message: str = ""  # for "error": a regex the error must match


LONG_DIR = "/".join(["a" * 100, "b" * 100, "c" * 100])

CASES: dict[str, Case] = {
    "zero bytes": Case(lambda f: _touch(f / "empty.wav"), "error", r"empty \(0 bytes\)"),
    "truncated wav": Case(lambda f: truncated(f / "cut.wav", 0.4), "result"),
    "truncated flac": Case(lambda f: truncated(f / "cut.flac", 0.4), "partial"),
    "truncated mp3": Case(lambda f: truncated(f / "cut.mp3", 0.4), "partial"),
    "random bytes .mp3": Case(lambda f: random_bytes(f / "noise.mp3"), "error", "not a readable audio file"),
    "random bytes .wav": Case(lambda f: random_bytes(f / "noise.wav"), "error", "not a readable audio file"),
    "random bytes .flac": Case(lambda f: random_bytes(f / "noise.flac"), "error", "not a readable audio file"),
    "0.1 s song": Case(lambda f: with_samples(f / "tenth.wav", music(0.1)), "error", r"too short to analyse: 0\.10 s"),
    "1 s song": Case(lambda f: with_samples(f / "one second.wav", music(1.0)), "result"),
    "silence": Case(
        lambda f: with_samples(f / "silence.wav", np.zeros(int(SECONDS * SR), np.float32)), "error", "silent"
    ),
    "white noise": Case(
        lambda f: with_samples(
            f / "white noise.wav", 0.3 * np.random.default_rng(7).standard_normal(int(SECONDS * SR)).astype(np.float32)
        ),
        "result",
    ),
    "DC offset": Case(lambda f: with_samples(f / "dc.wav", music() * 0.5 + 0.4), "same"),
    "clipping": Case(lambda f: with_samples(f / "clipped.wav", np.clip(music() * 8.0, -1.0, 1.0)), "same"),
    "NaN and infinity": Case(lambda f: nan_and_inf(f / "nan inf.wav"), "same"),
    "1 channel": Case(lambda f: channels(f / "mono.wav", 1), "same"),
    "2 channels": Case(lambda f: channels(f / "stereo.flac", 2), "same"),
    "6 channels": Case(lambda f: channels(f / "surround.wav", 6), "same"),
    "8 kHz": Case(lambda f: with_samples(f / "8k.wav", music(sr=8000), 8000), "same"),
    "96 kHz": Case(lambda f: with_samples(f / "96k.flac", music(sr=96000), 96000, "PCM_24"), "same"),
    "192 kHz": Case(lambda f: with_samples(f / "192k.wav", music(sr=192000), 192000, "FLOAT"), "same"),
    "8-bit": Case(lambda f: with_samples(f / "8bit.wav", music(), SR, "PCM_U8"), "same"),
    "24-bit": Case(lambda f: with_samples(f / "24bit.wav", music(), SR, "PCM_24"), "same"),
    "32-bit float": Case(lambda f: with_samples(f / "float.wav", music(), SR, "FLOAT"), "same"),
    "Unicode name": Case(lambda f: with_samples(f / "Ünïcødé – 歌 ☃.wav", music()), "same"),
    "emoji name": Case(lambda f: with_samples(f / "🎵🔥 song 👩‍🎤.flac", music()), "same"),
    "very long path": Case(lambda f: with_samples(f / LONG_DIR / ("long " + "x" * 200 + ".wav"), music()), "same"),
    "song in a folder named x.mp3": Case(lambda f: with_samples(f / "x.mp3" / "inside.wav", music()), "same"),
    # What a Mac music library holds, decoded by PyAV (tests/media.py makes them with PyAV's encoders)
    "AAC .m4a": Case(lambda f: media.aac_m4a(f / "bought.m4a", music(), SR), "same"),
    "ALAC .m4a": Case(lambda f: media.alac_m4a(f / "ripped.m4a", pcm16(music()), SR), "same"),
    "music video .mp4": Case(lambda f: media.music_video(f / "clip.mp4", music(), SR), "same"),
    "truncated .m4a": Case(lambda f: media.truncated(media.aac_m4a(f / "cut.m4a", music(9.0), SR), 0.4), "partial"),
    "DRM .m4p": Case(lambda f: media.drm_m4p(f / "2006.m4p", music(), SR), "error", r"copy-protected \(DRM"),
    ".m4a cut before its index": Case(
        lambda f: media.truncated(write_encoded(f / "half.m4a", music(), SR), 0.5), "error", "truncated or incomplete"
    ),
    ".m4a without audio": Case(lambda f: media.video_only(f / "silent film.m4a"), "error", "no audio stream"),
    "unknown codec .m4a": Case(
        lambda f: media.unknown_codec_m4a(f / "odd.m4a", music(), SR), "error", "unknown audio codec"
    ),
    "random bytes .m4a": Case(lambda f: random_bytes(f / "noise.m4a"), "error", "not a readable audio file"),
}
if hasattr(os, "mkfifo"):  # a pipe left by a script: opening it to read waits for a writer, maybe forever
    CASES["named pipe .wav"] = Case(lambda f: _named_pipe(f / "pipe.wav"), "error", "is a named pipe, not an audio")
if Path("/dev/zero").exists():  # reading it never ends
    CASES["link to a device .mp3"] = Case(lambda f: _linked(f / "zero.mp3", "/dev/zero"), "error", "is a device, not")
QUEUED_CASES = ("folder named x.mp3 queued as a file", "deleted after it was queued", "replaced while analysed")


def _named_pipe(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _linked(path: Path, target: str) -> Path:
    path.symlink_to(target)
    return path


def _touch(path: Path) -> Path:
    path.write_bytes(b"")
    return path


@dataclass
class Matrix:
    paths: dict[str, Path]
    results: dict[str, SongResult]
    rerun: dict[str, SongResult]
    events: list[ev.Event]
    found_songs: list[Path]
    dropped: Path


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Matrix:
    root = tmp_path_factory.mktemp("files")
    dropped = root / "dropped"
    dropped.mkdir()
    with pytest.MonkeyPatch.context() as patch, private_tempdir(root, patch):
        paths = {name: case.make(dropped) for name, case in CASES.items()}
        reference = song(dropped / "reference.wav", BPM, SECONDS)
        (dropped / "loop").symlink_to(dropped, target_is_directory=True)  # a symlink loop in the drop
        (dropped / "x.mp3" / "back").symlink_to(dropped, target_is_directory=True)
        found = discover([dropped])
        queued = root / "queued"
        paths["folder named x.mp3 queued as a file"] = (queued / "folder.mp3").resolve()
        paths["folder named x.mp3 queued as a file"].mkdir(parents=True)
        paths["deleted after it was queued"] = song(queued / "deleted.wav", 100, 3.0)
        paths["replaced while analysed"] = song(queued / "replaced.wav", BPM, SECONDS)
        queue = [*found.songs, *(paths[name] for name in QUEUED_CASES)]
        events, rerun = _run(root, queue, paths)
        assert not worker_processes()
        assert not leftover_files(root)
    results = {}
    by_path = {r.path: r for r in events[-1].results}
    for name, path in [("reference", reference), *paths.items()]:
        results[name] = by_path[str(path)]
    return Matrix(paths, results, rerun, events, found.songs, dropped)


def _run(root: Path, queue: list[Path], paths: dict[str, Path]) -> tuple[list[ev.Event], dict[str, SongResult]]:
    """One run; deletes and replaces files from the event stream, as a user would mid-run."""
    deleted, replaced = paths["deleted after it was queued"], paths["replaced while analysed"]
    slow = partial(faulty_chunk, faults={str(replaced): "slow"})  # 2 s in its first chunk: time to replace it
    options = EngineOptions(workers=2, cache_path=root / "cache.sqlite3")
    events: list[ev.Event] = []
    with Engine(SETTINGS, options, chunk_function=slow, warm_up=warm_up) as engine:
        for event in engine.run(queue):
            events.append(event)
            if isinstance(event, ev.SongStarted | ev.SongFinished | ev.SongFailed) and deleted.exists():
                deleted.unlink()  # the run has begun: the file was queued, now it is gone
            if isinstance(event, ev.ChunkStarted) and queue[event.index] == replaced and event.chunk_index == 0:
                new = song(replaced.with_name("new.wav"), 90, 3.0)
                os.replace(new, replaced)
        rerun = {r.path: r for r in list(engine.run([replaced]))[-1].results}
    return events, {"replaced while analysed": rerun[str(replaced)]}


def test_the_run_finishes_with_one_result_per_queued_song(matrix):
    finished = matrix.events[-1]
    assert isinstance(finished, ev.RunFinished) and not finished.summary.cancelled
    assert len(finished.results) == finished.summary.songs_total == len(matrix.paths) + 1
    clean = matrix.results["reference"]
    assert clean.status is SongStatus.DONE
    # "same as the clean file" below must also mean "right": the clean file gives the known answer
    assert clean.bpm == pytest.approx(BPM, rel=0.04) and clean.key == KEY, (clean.bpm, clean.key)


def test_symlink_loop_and_song_named_folder_in_a_dropped_folder(matrix):
    """Discovery ends, finds every song once, and descends into a folder named like a song."""
    dropped_songs = {p for name, p in matrix.paths.items() if name in CASES}
    assert {p.resolve() for p in matrix.found_songs} == {p.resolve() for p in dropped_songs} | {
        (matrix.dropped / "reference.wav").resolve()
    }
    assert len(matrix.found_songs) == len({p.resolve() for p in matrix.found_songs})


@pytest.mark.parametrize("name", list(CASES))
def test_file_case(matrix, name):
    case, result = CASES[name], matrix.results[name]
    reference = matrix.results["reference"]
    if case.expect == "error":
        assert result.status is SongStatus.ERROR
        assert re.search(case.message, result.error), result.error
        return
    _assert_sane(result)
    if case.expect in ("result", "same"):
        assert result.status is SongStatus.DONE, result.error
    if case.expect == "partial":  # the part that is there is analysed; the missing part is named
        assert result.status is SongStatus.PARTIAL and "chunk 2" in result.error
        assert result.bpm == pytest.approx(reference.bpm, rel=0.04)
    if case.expect == "same":
        assert result.bpm == pytest.approx(reference.bpm, rel=0.04)
        assert result.key == reference.key
        assert result.bpm == pytest.approx(BPM, rel=0.04) and result.key == KEY  # the known answer, not only equal
        assert result.duration_s == pytest.approx(SECONDS, abs=0.01)


def _assert_sane(result: SongResult) -> None:
    """Either a clear error or numbers a user can trust to be numbers."""
    if result.status is SongStatus.ERROR:
        assert len(result.error) > 10, result
        return
    for value in (result.bpm, result.bpm_confidence, result.key_confidence, result.loudness_db):
        assert value is None or np.isfinite(value)
    if result.status is SongStatus.PARTIAL:
        assert result.error  # says which chunks failed and why


def test_folder_queued_as_a_file(matrix):
    result = matrix.results["folder named x.mp3 queued as a file"]
    assert result.status is SongStatus.ERROR and "is a folder" in result.error


def test_file_deleted_after_it_was_queued(matrix):
    result = matrix.results["deleted after it was queued"]
    assert result.status is SongStatus.ERROR and "not found" in result.error


def test_file_replaced_while_analysed(matrix):
    """Its chunks may mix old and new audio: a clear error now, and a fresh analysis on the next run."""
    during = matrix.results["replaced while analysed"]
    assert during.status is SongStatus.ERROR and "changed while it was being analysed" in during.error
    after = matrix.rerun["replaced while analysed"]
    assert not after.cached
    assert after.status is SongStatus.DONE and after.duration_s == pytest.approx(3.0, abs=0.01)
