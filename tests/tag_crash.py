"""SIGKILL a real ``tag`` process in the middle of a batch, then check every file and recover from the journal.

Shared by ``tests/test_tagging_crash.py`` (a few rounds, CI) and ``bench/tag_crash.py`` (many rounds,
numbers for docs/reliability.md). Each round: start ``python -m engine tag DIR --yes`` on N files,
kill it at a random moment, then

1. every file decodes to the same packets and PCM as before and holds *all* its old or *all* its
   new values (never one tag of two, never a torn file);
2. the journal's interrupted batch is finished (even rounds) or undone (odd rounds), after which
   every file holds all new (resp. all old) values and no temporary copy is left;
3. the files are put back to their old values for the next round (fresh copies).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.csv_io import write_csv
from engine.references.tags import read_tags
from engine.tagging.batch import Tagger
from engine.tagging.journal import Journal
from tests.tagfiles import audio_digest, make

ROOT = Path(__file__).resolve().parent.parent
OLD = ("", "Dm")  # (bpm, key) every file starts with: BPM absent, a key present
NEW_KEY = "Em"


@dataclass
class Setup:
    folder: Path
    results: Path
    journal: Path
    files: list[Path]
    digests: dict[str, tuple[str, str]]
    new_bpm: dict[str, str]


@dataclass
class Round:
    killed_after_s: float
    files_new_at_kill: int
    recovery: str  # "finish", "undo", "none (killed before the batch began)", "none (batch had ended)"
    problems: list[str] = field(default_factory=list)


def prepare(folder: Path, n: int, formats: tuple[str, ...] = ("mp3", "flac", "wav", "m4a", "ogg")) -> Setup:
    """``n`` real files (copies of one generated file per format) with a results.csv asking for BPM 140, key Em."""
    templates = {fmt: make(folder / "templates" / f"t.{fmt}", seconds=0.5, key="Dm") for fmt in formats}
    digests_by_format = {fmt: audio_digest(p) for fmt, p in templates.items()}
    music = folder / "music"
    music.mkdir(parents=True, exist_ok=True)
    files, digests, new_bpm = [], {}, {}
    for i in range(n):
        fmt = formats[i % len(formats)]
        path = music / f"song {i:04d}.{fmt}"
        files.append(path)
        digests[str(path)] = digests_by_format[fmt]
        new_bpm[str(path)] = "140" if fmt in ("mp3", "wav", "m4a", "aiff") else "140.2"
    setup = Setup(folder, folder / "results", folder / "data" / "tag-journal.csv", files, digests, new_bpm)
    reset(setup)
    return setup


def reset(setup: Setup) -> None:
    """Fresh copies of the templates, then a results.csv written after them (so they count as analysed)."""
    for path in setup.files:
        shutil.copyfile(setup.folder / "templates" / f"t{path.suffix}", path)
    setup.results.mkdir(exist_ok=True)
    write_csv(
        setup.results / "results.csv",
        ["path", "status", "bpm", "key"],
        [{"path": str(p), "status": "done", "bpm": 140.2, "key": "E minor"} for p in setup.files],
    )


def states(setup: Setup) -> tuple[int, int, list[str]]:
    """(files with all new values, files with all old values, problems)."""
    new = old = 0
    problems = []
    for path in setup.files:
        tags = read_tags(path)
        if tags.error:
            problems.append(f"{path.name}: {tags.error}")
        elif (tags.bpm, tags.key) == (setup.new_bpm[str(path)], NEW_KEY):
            new += 1
        elif (tags.bpm, tags.key) == OLD:
            old += 1
        else:
            problems.append(f"{path.name}: mixed tags {tags.bpm!r}/{tags.key!r}")
    return new, old, problems


def audio_problems(setup: Setup) -> list[str]:
    return [f"{p.name}: audio changed" for p in setup.files if audio_digest(p) != setup.digests[str(p)]]


def run_tag(setup: Setup, nice: int = 0) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "engine",
        "tag",
        str(setup.results),
        "--yes",
        "--no-cache",
        "--journal",
        str(setup.journal),
    ]
    lower = (lambda: os.nice(nice)) if nice and hasattr(os, "nice") else None
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=lower)


def written_rows(journal: Path) -> int:
    try:
        return journal.read_bytes().count(b",written,")
    except FileNotFoundError:
        return 0


def crash_round(setup: Setup, rng: random.Random, index: int, check_audio: bool = True) -> Round:
    """Kill once: after a random number of files of the batch plus a random 0-30 ms, so the kill
    also lands inside a file's copy, fsync or rename; in 15% of rounds at a random moment of the
    first 1.5 s instead (start-up, reading the tags, appending the plan to the journal)."""
    base = written_rows(setup.journal)
    target = 0 if rng.random() < 0.15 else rng.randint(1, len(setup.files) - 1)
    started = time.monotonic()
    process = run_tag(setup)
    if target == 0:
        time.sleep(rng.uniform(0.0, 1.5))
    else:
        while written_rows(setup.journal) - base < target and process.poll() is None:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.03))
    delay = time.monotonic() - started
    process.send_signal(signal.SIGKILL)
    process.wait()
    new, _old, problems = states(setup)
    if check_audio:
        problems += audio_problems(setup)
    recovery = recover(setup, index, new, problems)
    return Round(delay, new, recovery, problems)


def recover(setup: Setup, index: int, new: int, problems: list[str]) -> str:
    """Finish (even rounds) or undo (odd) the interrupted batch; check all new (resp. old), no copy left, a clean
    journal; put the old values back for the next round. Appends to ``problems``; returns what was done."""
    tagger = Tagger(Journal(setup.journal))
    pending = tagger.interrupted()
    if pending:
        batch = pending[-1].batch
        recovery = "finish" if index % 2 == 0 else "undo"
        report = tagger.finish(batch) if recovery == "finish" else tagger.undo(batch)
        problems += [f"{o.path}: refused: {o.reason}" for o in report.outcomes if o.status == "refused"]
        want_new = recovery == "finish"
    else:
        last = tagger.journal.batches()
        ended = bool(last) and last[-1].info.get("kind") == "write" and last[-1].ended and new == len(setup.files)
        recovery = "none (batch had ended)" if ended else "none (killed before the batch began)"
        want_new = ended
    after_new, after_old, after_problems = states(setup)
    problems += after_problems
    if (after_new, after_old) != ((len(setup.files), 0) if want_new else (0, len(setup.files))):
        problems.append(f"after {recovery}: {after_new} new, {after_old} old of {len(setup.files)}")
    leftovers = list((setup.folder / "music").glob(".cstag-*"))
    if leftovers:
        problems.append(f"{len(leftovers)} temporary copies left")
    if want_new:
        reset(setup)  # back to the old values for the next round (undo is what odd rounds test)
    if tagger.interrupted():
        problems.append("journal still has an interrupted batch")
    return recovery


# -- large files: a kill while a file's bytes are being written -------------------------------------------------
LARGE_MB = 48


def prepare_large(folder: Path, n: int, megabytes: int = LARGE_MB) -> Setup:
    """``n`` MP3 files of ``megabytes`` MB of real MP3 frames behind an ID3v2.3 tag with *no padding*.

    Adding the BPM grows the tag, so mutagen must move all the audio after it (1 MB at a time, from the end:
    tenths of a second per file). Written in place, a file killed in that window is torn: part of its audio
    shifted, or zeros appended behind a header that still gives the old size. The temporary copy and the rename
    exist for exactly that window.
    """
    import mutagen

    small = make(folder / "templates" / "small.mp3", seconds=2.0, key="Dm", id3v=3)
    audio = mutagen.File(str(small))
    audio.save(v2_version=3, v1=0, padding=lambda info: 0)
    data = small.read_bytes()
    tag, frames = data[: id3_size(data)], data[id3_size(data) :]
    template = folder / "templates" / "t.mp3"
    template.write_bytes(tag + frames * max(1, megabytes * 2**20 // len(frames)))
    small.unlink()
    music = folder / "music"
    music.mkdir(parents=True, exist_ok=True)
    files = [music / f"big {i}.mp3" for i in range(n)]
    setup = Setup(folder, folder / "results", folder / "data" / "tag-journal.csv", files, {}, {})
    setup.new_bpm = {str(p): "140" for p in files}
    reset(setup)
    return setup


def id3_size(data: bytes) -> int:
    """Bytes taken by the ID3v2 tag at the start of ``data`` (header, frames, padding, footer); 0 without one."""
    if data[:3] != b"ID3":
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return 10 + size + (10 if data[5] & 0x10 else 0)


def torn_files(setup: Setup, old: bytes) -> list[str]:
    """Files that are neither the old file byte for byte nor its audio, byte for byte, behind all-new tags."""
    old_audio = old[id3_size(old) :]
    problems = []
    for path in setup.files:
        data = path.read_bytes()
        if data == old:
            continue
        tags = read_tags(path)
        if data[id3_size(data) :] == old_audio and (tags.bpm, tags.key) == (setup.new_bpm[str(path)], NEW_KEY):
            continue
        problems.append(f"{path.name}: torn ({len(data)} bytes, was {len(old)}; tags {tags.bpm!r}/{tags.key!r})")
    return problems


def kill_while_writing(setup: Setup, into_copy: float) -> tuple[float, str]:
    """Start ``tag`` (niced, so that this watcher wins the CPU) and SIGKILL it the moment a file's bytes are being
    written: its temporary copy has reached ``into_copy`` x the file's size (past 1.0, mutagen is moving the copy's
    audio to grow its tag), or the file itself, same inode, changed size (a write in place). Returns (seconds,
    what was seen); "" when the process ended first."""
    old_size = setup.files[0].stat().st_size
    inodes = {p: p.stat().st_ino for p in setup.files}
    music = setup.folder / "music"
    started = time.monotonic()
    process = run_tag(setup, nice=10)
    seen = ""
    while not seen and process.poll() is None:
        for copy in music.glob(".cstag-*"):
            try:
                if copy.stat().st_size > into_copy * old_size:
                    seen = f"copy at {copy.stat().st_size / old_size:.2f} of the file"
            except FileNotFoundError:
                pass
        for path in setup.files:
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if st.st_ino == inodes[path] and st.st_size != old_size:
                seen = "the file itself growing (written in place)"
        if not seen:
            time.sleep(0.0005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return time.monotonic() - started, seen


def large_round(setup: Setup, index: int, into_copy: float) -> Round:
    """One kill while a large file is being written, then the whole-file check and recovery."""
    old = (setup.folder / "templates" / "t.mp3").read_bytes()
    delay, seen = kill_while_writing(setup, into_copy)
    new, _old, problems = states(setup)
    problems += torn_files(setup, old)
    if not seen:
        problems.append("the kill did not land while a file was being written")
    recovery = recover(setup, index, new, problems)
    return Round(delay, new, f"{recovery}; killed on {seen or 'nothing'}", problems)
