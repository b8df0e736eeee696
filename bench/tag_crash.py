"""Crash test of tag writing, many rounds: SIGKILL ``tag`` mid-batch at random moments, check, recover.

    python bench/tag_crash.py [--files 300] [--rounds 20] [--seed 1]

Each round (see ``tests/tag_crash.py``): a real ``python -m engine tag`` process on N real files
(MP3, FLAC, WAV, M4A, Ogg) is killed after a random number of files plus 0-30 ms (or at a random
moment of its start-up); every file must decode to the same packets and PCM and hold all its old
or all its new values; the journal's interrupted batch is then finished (even rounds) or undone
(odd rounds), after which every file must hold all new (resp. all old) values, with no temporary
copy left. ``--large-rounds N`` then kills N times while a 48 MB file's bytes are being written (its
temporary copy half written, or mutagen moving its audio) and checks every file byte for byte. Prints one
line per round and a summary; exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.tag_crash import crash_round, large_round, prepare, prepare_large  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--large-rounds",
        type=int,
        default=0,
        help="then N kills while a 48 MB file's bytes are written (tests/tag_crash.py: large_round)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    problems = 0
    recoveries: Counter[str] = Counter()
    mid_batch = 0
    with tempfile.TemporaryDirectory(prefix="tag-crash-") as folder:
        setup = prepare(Path(folder), args.files)
        for index in range(args.rounds):
            result = crash_round(setup, rng, index, check_audio=True)
            recoveries[result.recovery] += 1
            mid_batch += 0 < result.files_new_at_kill < args.files
            problems += len(result.problems)
            print(
                f"round {index + 1:>3}: killed after {result.killed_after_s:5.2f} s, "
                f"{result.files_new_at_kill:>4}/{args.files} files new; {result.recovery}; "
                f"{'OK' if not result.problems else result.problems[:3]}",
                flush=True,
            )
        if args.large_rounds:
            large = prepare_large(Path(folder) / "large", 2)
            for index in range(args.large_rounds):
                result = large_round(large, index, into_copy=0.5 if index % 2 == 0 else 1.0)
                problems += len(result.problems)
                print(
                    f"large {index + 1:>3}: killed after {result.killed_after_s:5.2f} s; {result.recovery}; "
                    f"{'OK' if not result.problems else result.problems[:3]}",
                    flush=True,
                )
    print(
        f"{args.rounds} kills ({mid_batch} mid-batch), {args.files} files each, recoveries {dict(recoveries)}, "
        f"problems {problems}, {time.monotonic() - started:.0f} s"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
