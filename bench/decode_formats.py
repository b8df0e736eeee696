"""Every format a Mac music library holds, through `analyze`: × realtime per format, old path beside new.

    python bench/decode_formats.py [--songs 8] [--song-minutes 3] [--mix-minutes 60] [--old-timeout 900]

Renders eight three-minute songs and one 60-minute mix (drums + chords + bass, numpy) into a
temporary folder, writes each as FLAC and MP3 (soundfile) and as AAC and ALAC .m4a (PyAV's
encoders), and runs `main.py analyze --no-cache --workers 2` on the songs and on the mix, per
format. The old path is the commit before PyAV (`--old-commit`, extracted with `git archive`):
it read .m4a through audioread, which needs a system FFmpeg and cannot seek; it is measured only
when `ffmpeg` is on PATH, and stopped after `--old-timeout` seconds.

It also times the decoders alone on the same files (every 30 s chunk of the eight songs, as the
workers read them), libsndfile against PyAV for FLAC and MP3, with the largest difference
between their samples: that measurement decides which decoder the product uses per format.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.analysis import pyav_decoding  # noqa: E402
from engine.analysis.decoding import probe, read_segment, resample, to_mono  # noqa: E402
from engine.analysis.pyav_encoding import write_encoded  # noqa: E402

SR = 44100
OLD_COMMIT = "0fc1f7d"
"""The last commit that read .m4a through audioread."""
FORMATS = ("flac", "mp3", "aac.m4a", "alac.m4a")


# -- music -------------------------------------------------------------------------------------------
def render(seconds: float, seed: int) -> np.ndarray:
    """Stereo float32: kick/snare/hat pattern and a four-chord progression, tempo and key from ``seed``."""
    rng = np.random.default_rng(seed)
    bpm = float(rng.uniform(90, 140))
    root = 110.0 * 2 ** (int(rng.integers(0, 12)) / 12)
    n = int(seconds * SR)
    y = np.zeros((n, 2), np.float32)
    beat = 60.0 / bpm
    kick_t = np.arange(int(0.12 * SR)) / SR
    kick = (np.sin(2 * np.pi * 55 * kick_t * (1 + 2 * np.exp(-kick_t * 40))) * np.exp(-kick_t * 25)).astype(np.float32)
    noise = rng.standard_normal(int(0.08 * SR)).astype(np.float32)
    snare = noise * np.exp(-np.arange(noise.size) / SR * 30).astype(np.float32)
    hat = (noise[: int(0.03 * SR)] * np.exp(-np.arange(int(0.03 * SR)) / SR * 150)).astype(np.float32)
    for i, start in enumerate(np.arange(0.0, seconds - 0.2, beat / 2)):
        at = int(start * SR)
        parts = [(hat, 0.15, (0.4, 0.6))]
        if i % 4 == 0:
            parts.append((kick, 0.8, (0.5, 0.5)))
        if i % 4 == 2:
            parts.append((snare, 0.35, (0.55, 0.45)))
        for sound, gain, (left, right) in parts:
            end = min(n, at + sound.size)
            y[at:end, 0] += gain * left * sound[: end - at]
            y[at:end, 1] += gain * right * sound[: end - at]
    bar = 4 * beat
    t = np.arange(n) / SR
    progression = ([0, 4, 7], [5, 9, 12], [7, 11, 14], [-3, 0, 4])  # I IV V vi
    chord_index = (t // bar).astype(int) % len(progression)
    pad = np.zeros(n, np.float32)
    for k, chord in enumerate(progression):
        mask = chord_index == k
        for semitone in chord:
            pad[mask] += (0.06 * np.sin(2 * np.pi * root * 2 ** (semitone / 12) * t[mask])).astype(np.float32)
    y[:, 0] += pad
    y[:, 1] += 0.9 * pad
    return (0.9 * y / max(1e-9, float(np.abs(y).max()))).astype(np.float32)


ITUNES = {"movflags": "faststart"}


def write_all(y: np.ndarray, stem: Path) -> None:
    sf.write(str(stem.parent / "flac" / f"{stem.name}.flac"), y, SR, subtype="PCM_16")
    sf.write(str(stem.parent / "mp3" / f"{stem.name}.mp3"), y, SR, format="MP3")
    fast = {"aac_coder": "fast"}  # FFmpeg's default AAC coder runs near realtime on a loaded machine
    aac = stem.parent / "aac.m4a" / f"{stem.name}.m4a"
    write_encoded(aac, y, SR, "aac", bit_rate=256_000, container_options=ITUNES, codec_options=fast)
    pcm16 = np.round(y * 32767).astype(np.int16)
    write_encoded(stem.parent / "alac.m4a" / f"{stem.name}.m4a", pcm16, SR, "alac", sample_format="s16p")


def concatenate(inputs: list[Path], output: Path) -> None:
    """One long file from the packets of ``inputs`` (no re-encoding): a DJ mix of the same songs."""
    import av

    options = ITUNES if output.suffix == ".m4a" else {}
    with av.open(str(inputs[0])) as first, av.open(str(output), "w", options=options) as out:
        stream = out.add_stream_from_template(first.streams.audio[0])
        offset = 0
        for path in inputs:
            with av.open(str(path)) as container:
                source = container.streams.audio[0]
                end, shift = offset, None
                for packet in container.demux(source):
                    if packet.dts is None:
                        continue
                    shift = offset - packet.dts if shift is None else shift  # AAC starts at -1024 (priming)
                    packet.pts += shift
                    packet.dts += shift
                    end = max(end, packet.pts + (packet.duration or 0))
                    packet.stream = stream
                    out.mux(packet)
                offset = end


def make_library(root: Path, songs: int, song_minutes: float, mix_minutes: float) -> None:
    """The songs, and a mix of them played over and over until ``mix_minutes``, in every format."""
    for kind in ("songs", "mix"):
        for fmt in FORMATS:
            (root / kind / fmt).mkdir(parents=True, exist_ok=True)
    renders = []
    for i in range(songs):
        renders.append(render(song_minutes * 60, i))
        write_all(renders[-1], root / "songs" / f"song {i + 1:02d}")
    repeats = int(np.ceil(mix_minutes / song_minutes))
    order = [i % songs for i in range(repeats)]
    mix = np.concatenate([renders[i] for i in order])[: int(mix_minutes * 60 * SR)]
    sf.write(str(root / "mix" / "flac" / "mix.flac"), mix, SR, subtype="PCM_16")
    for fmt in ("mp3", "aac.m4a", "alac.m4a"):
        suffix = fmt.split(".")[-1]
        parts = [root / "songs" / fmt / f"song {i + 1:02d}.{suffix}" for i in order]
        concatenate(parts, root / "mix" / fmt / f"mix.{suffix}")


# -- analyze runs ------------------------------------------------------------------------------------
def analyze(code: Path, folder: Path, out: Path, timeout: float) -> tuple[float, list[dict[str, str]] | None]:
    """Wall seconds of `main.py analyze` from ``code`` and its results rows (None: stopped at ``timeout``)."""
    command = [sys.executable, str(code / "main.py"), "analyze", str(folder), "--out", str(out), "--no-cache"]
    command += ["--workers", "2"]
    began = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=code)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - began, None
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"analyze failed in {code}:\n{done.stderr[-2000:]}")
    with open(out / "results.csv", newline="", encoding="utf-8-sig") as handle:
        return took, list(csv.DictReader(handle))


def old_checkout(commit: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


# -- decoders alone ----------------------------------------------------------------------------------
def decode_chunks(paths: list[Path], reader) -> float:
    began = time.perf_counter()
    for path in paths:
        duration = probe(path).duration_s
        for start in np.arange(0.0, duration, 30.0):
            reader(path, float(start), float(min(duration, start + 30.0)))
    return time.perf_counter() - began


def soundfile_reader(path: Path, start: float, end: float) -> np.ndarray:
    return read_segment(path, start, end, 22050)


def pyav_reader(path: Path, start: float, end: float) -> np.ndarray:
    mono, sr = pyav_decoding.read(path, start, end)
    return resample(to_mono(mono), sr, 22050)


def decoder_table(root: Path) -> list[str]:
    lines = ["| format | libsndfile | PyAV | PyAV / libsndfile | largest sample difference | slice length differs |"]
    lines.append("|---|---|---|---|---|---|")
    for fmt in ("flac", "mp3"):
        paths = sorted((root / "songs" / fmt).iterdir())
        times = {}
        for name, reader in (
            ("sf", soundfile_reader),
            ("av", pyav_reader),
            ("sf2", soundfile_reader),
            ("av2", pyav_reader),
        ):
            times[name] = decode_chunks(paths, reader)
        sf_s, av_s = min(times["sf"], times["sf2"]), min(times["av"], times["av2"])
        worst, sizes = 0.0, 0
        for path in paths:
            duration = probe(path).duration_s
            for start in (0.0, duration / 3 + 0.37, duration - 30.0):
                a, b = soundfile_reader(path, start, start + 30.0), pyav_reader(path, start, start + 30.0)
                sizes += a.size != b.size
                m = min(a.size, b.size)
                worst = max(worst, float(np.abs(a[:m] - b[:m]).max()))
        lines.append(f"| {fmt} | {sf_s:.2f} s | {av_s:.2f} s | {av_s / sf_s:.2f}× | {worst:.2e} | {sizes} of 24 |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--songs", type=int, default=8)
    parser.add_argument("--song-minutes", type=float, default=3.0)
    parser.add_argument("--mix-minutes", type=float, default=60.0)
    parser.add_argument("--old-commit", default=OLD_COMMIT)
    parser.add_argument("--old-timeout", type=float, default=900.0, help="stop an old-path run after this long")
    parser.add_argument("--keep", type=Path, default=None, help="render into this folder and keep it")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="decode-formats-"))
    root = args.keep or tmp / "library"
    try:
        began = time.perf_counter()
        if not (root / "mix" / "alac.m4a" / "mix.m4a").exists():
            make_library(root, args.songs, args.song_minutes, args.mix_minutes)
        print(f"rendered and encoded in {time.perf_counter() - began:.0f} s into {root}", flush=True)
        for line in decoder_table(root):
            print(line, flush=True)

        ffmpeg = shutil.which("ffmpeg")
        old = old_checkout(args.old_commit, tmp / "old") if ffmpeg else None
        songs_audio = args.songs * args.song_minutes * 60
        mix_audio = args.mix_minutes * 60
        rows = []
        print(
            "\n| format | path | 8 songs: wall | × realtime | per song (analysis_s) | mix: wall | × realtime | "
            "mix / one song |",
            flush=True,
        )
        print("|---|---|---|---|---|---|---|---|", flush=True)
        runs = [(fmt, "new", REPO) for fmt in FORMATS]
        if old is not None:
            runs += [(fmt, "old (audioread + ffmpeg)", old) for fmt in ("aac.m4a", "alac.m4a")]
        for fmt, label, code in runs:
            s_wall, s_rows = analyze(code, root / "songs" / fmt, tmp / f"out-{fmt}-{len(rows)}-s", args.old_timeout)
            m_wall, m_rows = analyze(code, root / "mix" / fmt, tmp / f"out-{fmt}-{len(rows)}-m", args.old_timeout)
            per_song = np.mean([float(r["analysis_s"]) for r in s_rows]) if s_rows else float("nan")
            mix_s = float(m_rows[0]["analysis_s"]) if m_rows else float("nan")
            bad = [r["status"] for r in (s_rows or []) + (m_rows or []) if r["status"] != "done"]
            mix_text = f"{m_wall:.1f} s" if m_rows else f"> {m_wall:.0f} s (stopped)"
            line = (
                f"| {fmt} | {label} | {s_wall:.1f} s | {songs_audio / s_wall:.0f}× | {per_song:.2f} s | {mix_text} | "
                f"{mix_audio / m_wall:.0f}× | {mix_s / per_song:.1f}× |" + (f" not done: {bad}" if bad else "")
            )
            rows.append((fmt, label, s_wall, m_wall))
            print(line, flush=True)
        flac = next(r for r in rows if r[0] == "flac")
        print("\nwall time against FLAC (8 songs + mix, new path):")
        for fmt, label, s_wall, m_wall in rows:
            print(f"  {fmt:9s} {label:26s} {(s_wall + m_wall) / (flac[2] + flac[3]):.2f}×")
        if ffmpeg is None:
            print("old path not measured: no ffmpeg on PATH (audioread needs it for .m4a on Linux)")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            shutil.rmtree(tmp / "old", ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
