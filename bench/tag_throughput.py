"""Tag writing speed, and that the results cache stays warm after a tag write.

    python bench/tag_throughput.py [--files 60] [--seconds 3] [--formats mp3,flac,...] [--songs 20] [--workers 2]

Part 1, per format: N real files (3 s, with tags and cover art) are previewed (tags read, plan
built), then written the safe way (journal, temporary copy, fsync, rename, folder fsync), and, as
the baseline measured in the same run, written the way most taggers do it: mutagen saving in place,
no copy, no fsync, no journal. Reports files/s and the ratio.

Part 2, the cache: ``analyze`` M songs with a results cache, ``tag`` them with that cache, ``analyze``
again (re-keyed: should come from the cache), then undo the tags *without* the cache (no re-key,
as a tagger that ignored it would) and ``analyze`` a third time (should re-analyse everything).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.tagging.batch import Tagger  # noqa: E402
from engine.tagging.formats import TagFile  # noqa: E402
from engine.tagging.journal import Journal  # noqa: E402
from engine.tagging.tag_plan import Wanted, build_plan  # noqa: E402
from tests.audio import song  # noqa: E402
from tests.tagfiles import FORMATS, make  # noqa: E402


def copies(template: Path, folder: Path, n: int) -> list[Path]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    paths = [folder / f"{i:04d}{template.suffix}" for i in range(n)]
    for path in paths:
        shutil.copyfile(template, path)
    return paths


def per_format(root: Path, n: int, seconds: float, formats: tuple[str, ...]) -> None:
    print("| format | preview (files/s) | safe write (files/s) | in-place baseline (files/s) | safe / baseline |")
    print("|---|---|---|---|---|")
    for fmt in formats:
        template = make(root / "templates" / f"t.{fmt}", seconds=seconds, key="Dm")
        paths = copies(template, root / fmt, n)
        wanted = [Wanted(str(p), 123.4, "E minor") for p in paths]
        started = time.perf_counter()
        plan = build_plan(wanted)
        preview = n / (time.perf_counter() - started)
        started = time.perf_counter()
        report = Tagger(Journal(root / "journal.csv")).write(plan)
        safe = n / (time.perf_counter() - started)
        assert report.count("written") == n, report.outcomes[:3]
        paths = copies(template, root / fmt, n)
        started = time.perf_counter()
        for path in paths:  # the baseline: what an in-place tagger does
            tag_file = TagFile(path)
            for field, text in (("bpm", "123"), ("key", "Em")):
                tag_file.put(field, tag_file.raw_for(field, text))
            tag_file.save()
        unsafe = n / (time.perf_counter() - started)
        size = template.stat().st_size / 1e6
        print(
            f"| {fmt} ({size:.1f} MB) | {preview:.0f} | {safe:.0f} | {unsafe:.0f} | {safe / unsafe:.2f} |", flush=True
        )


def cli(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, check=False, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def cached_count(results_dir: Path) -> tuple[int, int]:
    with open(results_dir / "results.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return sum(r["cached"] == "1" for r in rows), len(rows)


def cache_warmth(root: Path, m: int, workers: int) -> None:
    music = root / "songs"
    for i in range(m):
        song(music / f"{i:03d}.{('wav', 'flac', 'ogg')[i % 3]}", bpm=90 + 2 * i, seconds=8.0)
    cache, journal = root / "cache.sqlite3", root / "journal.csv"
    common = ["--cache-file", str(cache), "--workers", str(workers), "--quiet"]
    first = cli("analyze", str(music), "--out", str(root / "r1"), *common)
    tag_s = cli("tag", str(root / "r1"), "--yes", "--cache-file", str(cache), "--journal", str(journal))
    second = cli("analyze", str(music), "--out", str(root / "r2"), *common)
    undo_s = cli("tag", "--undo", "last", "--no-cache", "--journal", str(journal))
    third = cli("analyze", str(music), "--out", str(root / "r3"), *common)
    print()
    print("| step | seconds | songs from cache |")
    print("|---|---|---|")
    print(f"| analyze {m} songs (cold) | {first:.1f} | {cached_count(root / 'r1')[0]}/{m} |")
    print(f"| tag (with the cache: re-keyed) | {tag_s:.1f} | |")
    print(f"| analyze again | {second:.1f} | {cached_count(root / 'r2')[0]}/{m} |")
    print(f"| tag --undo without the cache (no re-key) | {undo_s:.1f} | |")
    print(f"| analyze again | {third:.1f} | {cached_count(root / 'r3')[0]}/{m} |")
    print(f"\nre-keyed second run took {second / first:.2f}× the cold run; without re-key {third / first:.2f}×")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60, help="files per format in part 1")
    parser.add_argument("--songs", type=int, default=20, help="songs analysed in part 2")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the part-1 files")
    parser.add_argument("--formats", default=",".join(FORMATS), help="part-1 formats, comma-separated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tag-bench-") as folder:
        per_format(Path(folder) / "formats", args.files, args.seconds, tuple(args.formats.split(",")))
        if args.songs:
            cache_warmth(Path(folder) / "cache", args.songs, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
