"""What does a content hash cost, next to the (path, size, mtime) identity the cache uses?

    python bench/cache_key.py [FOLDER]

Reads every file cold-ish (after the OS cache has seen it once) and prints the time for a stat
versus a full SHA-256, as a share of the engine's analysis time at its measured speed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

from common import DEFAULT_DATA

from engine.analysis.decoding import probe
from engine.run.discovery import discover

ENGINE_SPEED_X_REALTIME = 150.0  # order of magnitude from bench/throughput.py; see docs/benchmarks.md


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DATA / "audio")
    args = parser.parse_args()
    paths = discover([args.folder]).songs
    audio_s = sum(probe(p).duration_s for p in paths)
    size = sum(p.stat().st_size for p in paths)
    started = time.perf_counter()
    for p in paths:
        os.stat(p)
    stat_s = time.perf_counter() - started
    started = time.perf_counter()
    for p in paths:
        sha256(p)
    hash_s = time.perf_counter() - started
    analysis_s = audio_s / ENGINE_SPEED_X_REALTIME
    print(f"{len(paths)} files, {size / 2**20:.1f} MB, {audio_s / 60:.1f} min of audio")
    print(f"stat:    {stat_s * 1000:8.2f} ms total ({stat_s / analysis_s:.4%} of analysis time)")
    print(
        f"sha256:  {hash_s * 1000:8.2f} ms total ({hash_s / analysis_s:.2%} of analysis time, page cache warm; "
        "a cold disk or network share reads every byte again)"
    )


if __name__ == "__main__":
    main()
