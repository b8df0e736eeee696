"""How far can a tempo prior take the octave decision? A study on the dev set (issue 7).

    python bench/tempo_octave_study.py [--data DIR] [--jobs N]

The engine's remaining Acc1 misses are nearly all half/double errors in opposite directions
(slow chorales read at the eighth-note level, fast grooves read at half tempo). This script
asks three questions of the engine's own tempogram (whole-song envelopes, the engine's
functions), so the answers in ``docs/accuracy.md`` can be re-checked:

1. Prior sweep. Acc1 per source for every prior centre and width. The best row *per source*
   is an upper bound for any fixed prior and for any genre switch between priors, even one
   that knew each song's source.
2. Evidence at the misses. The tempogram's strength at half, at and at double the reference
   tempo: when it is near zero at the reference, the annotated level is not audible in the
   onsets at all.
3. Octave margin. The strongest octave rival's prior-weighted strength over the winner's, as
   a confidence for Acc1 (ROC AUC and buckets).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from pathlib import Path

import numpy as np
from common import DEFAULT_DATA, Reference, load_dev_set

from engine.analysis import tempo
from engine.analysis.chunk import HOP_LENGTH, onset_envelopes
from engine.analysis.decoding import read_segment
from engine.references.scoring import acc1
from engine.settings import AnalysisSettings

SETTINGS = AnalysisSettings()
FRAME_RATE = SETTINGS.sample_rate / HOP_LENGTH
CENTRES = (90.0, 100.0, 110.0, 120.0, 130.0, 140.0, 150.0)
WIDTHS = (0.7, 1.0, 1.5)
OCTAVE_FACTORS = (2.0, 0.5, 1.5, 2 / 3, 3.0, 1 / 3)


def song_envelopes(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Whole-song full-band and high-band onset envelopes, as the engine computes them per chunk."""
    y = read_segment(path, 0.0, 1e9, SETTINGS.sample_rate)
    return onset_envelopes(y, SETTINGS.sample_rate)


def strength_curve(envelopes: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The tempogram over a wider range than the engine reports, so half and double can be read."""
    full, high = envelopes
    return tempo.tempo_strength(full, FRAME_RATE, SETTINGS.min_bpm / 2, SETTINGS.max_bpm * 2, high)


def pick(grid: np.ndarray, strength: np.ndarray, centre: float, width: float) -> tuple[float, float]:
    """``(bpm, octave margin)`` of the prior-weighted tempogram's maximum for one prior."""
    octaves = np.log2(grid / centre)
    in_range = (grid >= SETTINGS.min_bpm) & (grid <= SETTINGS.max_bpm)
    weighted = np.maximum(strength, 0.0) * np.exp(-0.5 * (octaves / width) ** 2) * in_range
    best = int(np.argmax(weighted))
    rivals = [weighted[np.abs(np.log(grid / (grid[best] * f))) < 0.04] for f in OCTAVE_FACTORS]
    rival = max((r.max() for r in rivals if r.size), default=0.0)
    return float(grid[best]), float(rival / weighted[best]) if weighted[best] > 0 else 1.0


def strength_near(grid: np.ndarray, strength: np.ndarray, bpm: float) -> float:
    inside = np.abs(np.log(grid / bpm)) < 0.04
    return float(strength[inside].max()) if inside.any() else float("nan")


def roc_auc(scores: list[float], positive: list[bool]) -> float:
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return float("nan")
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


def prior_sweep(refs: list[Reference], curves: list[tuple[np.ndarray, np.ndarray]]) -> list[str]:
    sources = sorted({r.source for r in refs})
    lines = [
        "| centre BPM | octave width | " + " | ".join(sources) + " | all |",
        "|---|---|" + "---|" * (len(sources) + 1),
    ]
    best: dict[str, float] = dict.fromkeys(sources, 0.0)
    for centre in CENTRES:
        for width in WIDTHS:
            hits = [acc1(pick(g, s, centre, width)[0], r.bpm) for r, (g, s) in zip(refs, curves, strict=True)]
            per = {
                src: float(np.mean([h for h, r in zip(hits, refs, strict=True) if r.source == src])) for src in sources
            }
            for src in sources:
                best[src] = max(best[src], per[src])
            mark = " (engine)" if (centre, width) == (tempo.PRIOR_CENTER_BPM, tempo.PRIOR_OCTAVE_WIDTH) else ""
            cells = " | ".join(f"{per[src]:.3f}" for src in sources)
            lines.append(f"| {centre:.0f}{mark} | {width} | {cells} | {np.mean(hits):.3f} |")
    counts = {src: sum(r.source == src for r in refs) for src in sources}
    bound = sum(best[src] * counts[src] for src in sources) / len(refs)
    cells = " | ".join(f"{best[src]:.3f}" for src in sources)
    lines.append(f"| best per source | – | {cells} | **{bound:.3f}** (upper bound) |")
    return lines


def misses_table(refs: list[Reference], curves: list[tuple[np.ndarray, np.ndarray]]) -> list[str]:
    lines = ["| source | reference BPM | engine BPM | s(ref/2) | s(ref) | s(2·ref) |", "|---|---|---|---|---|---|"]
    for ref, (grid, strength) in sorted(zip(refs, curves, strict=True), key=lambda item: (item[0].source, item[0].bpm)):
        bpm, _ = pick(grid, strength, tempo.PRIOR_CENTER_BPM, tempo.PRIOR_OCTAVE_WIDTH)
        if acc1(bpm, ref.bpm):
            continue
        values = [strength_near(grid, strength, ref.bpm * f) for f in (0.5, 1.0, 2.0)]
        lines.append(f"| {ref.source} | {ref.bpm:.0f} | {bpm:.1f} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    return lines


def margin_table(refs: list[Reference], curves: list[tuple[np.ndarray, np.ndarray]]) -> list[str]:
    rows = []
    for ref, (grid, strength) in zip(refs, curves, strict=True):
        bpm, margin = pick(grid, strength, tempo.PRIOR_CENTER_BPM, tempo.PRIOR_OCTAVE_WIDTH)
        rows.append((1.0 - margin, acc1(bpm, ref.bpm)))
    auc = roc_auc([r[0] for r in rows], [r[1] for r in rows])
    lines = [
        f"ROC AUC of octave confidence for Acc1: {auc:.3f}",
        "",
        "| 1 − octave margin | n | Acc1 |",
        "|---|---|---|",
    ]
    for lo, hi in pairwise((0.0, 0.25, 0.5, 0.75, 1.0001)):
        inside = [hit for conf, hit in rows if lo <= conf < hi]
        share = f"{np.mean(inside):.2f}" if inside else "–"
        lines.append(f"| {lo:.2f}–{min(hi, 1.0):.2f} | {len(inside)} | {share} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    refs = [r for r in load_dev_set(args.data) if r.bpm]
    with ProcessPoolExecutor(args.jobs) as executor:
        envelopes = list(executor.map(song_envelopes, [r.path for r in refs]))
    curves = [strength_curve(e) for e in envelopes]
    print("## Prior sweep (Acc1, whole-song envelopes)\n")
    print("\n".join(prior_sweep(refs, curves)))
    print("\n## Tempogram strength at the engine's misses\n")
    print("\n".join(misses_table(refs, curves)))
    print("\n## Octave margin as a confidence\n")
    print("\n".join(margin_table(refs, curves)))


if __name__ == "__main__":
    main()
