"""Reliability of the engine's confidences: confidence bucket -> fraction correct, on the dev set.

    python bench/reliability_table.py [--data DIR] [--workers N]

A confidence means something when the fraction correct rises with it, so a user can trust a
"low confidence" flag. Tempo counts as correct within 4 % (Acc1) and, in a second column,
at any octave (Acc2); key counts as correct when exact.
"""

from __future__ import annotations

import argparse
from itertools import pairwise
from pathlib import Path

from common import DEFAULT_DATA, load_dev_set, run_engine_on

from engine.references.scoring import acc1, acc2

BUCKETS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0001)


def reliability(rows: list[tuple[float, bool, bool]], title: str, second: str = "") -> str:
    """Markdown table of ``(confidence, correct, correct_loose)`` rows per bucket."""
    head = f"| {title} | n | fraction correct |" + (f" {second} |" if second else "")
    lines = [head, "|---|---|---|" + ("---|" if second else "")]
    for lo, hi in pairwise(BUCKETS):
        inside = [r for r in rows if lo <= r[0] < hi]
        label = f"{lo:.2f}–{min(hi, 1.0):.2f}"
        if not inside:
            lines.append(f"| {label} | 0 | – |" + (" – |" if second else ""))
            continue
        strict = sum(r[1] for r in inside) / len(inside)
        loose = f" {sum(r[2] for r in inside) / len(inside):.2f} |" if second else ""
        lines.append(f"| {label} | {len(inside)} | {strict:.2f} |{loose}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    references = load_dev_set(args.data)
    results, _ = run_engine_on(references, workers=args.workers)
    tempo_rows, key_rows = [], []
    for ref in references:
        song = results[ref.path]
        if ref.bpm is not None:
            bpm = song.bpm or 0.0
            tempo_rows.append((song.bpm_confidence, acc1(bpm, ref.bpm), acc2(bpm, ref.bpm)))
        if ref.key is not None:
            key_rows.append((song.key_confidence, song.key == ref.key, song.key == ref.key))
    print(reliability(tempo_rows, "bpm_confidence", "Acc2"))
    print()
    print(reliability(key_rows, "key_confidence"))


if __name__ == "__main__":
    main()
