"""Which songs the beat grid calls ``tempo_stable``, re-scored offline on saved chunk features.

    python bench/grid_stability.py harvest OUT.pkl [--data DIR ...] [--condition NAME ...] [--workers N] [--every K]
    python bench/grid_stability.py score OUT.pkl [OUT.pkl ...]

``harvest`` runs the engine's pool once over every song of the data sets (``--every 2``: every other song),
clean and under each ``--condition`` of ``bench/robustness.py`` (``wander2``, ``speedup4`` ...), and saves the
song results with their chunks' features. ``score`` re-runs only the song's consensus
(:func:`engine.analysis.consensus.song_tempo`: the tempo, the grid and its stability) on them, with the code as
it is now, so a change to ``engine/analysis/grid.py`` is measured in seconds instead of a pool run. It prints,
per condition and source, how many songs are called stable, with the round-10 local-tempo check and without it
(the same code with :func:`engine.analysis.grid._local_deviation` always 0), and the precision over the
stable songs (median BPM error at the matched level / share within 0.05 BPM, Acc2 hits). Where the tempo
is constant (``clean``) every unstable song is listed with the evidence; where it moves (``wander2``,
``speedup4``) every stable one is.

Only a reliable tempo label makes a song constant here (dev-tracker's ``tempo_reliable=0`` rows change tempo
inside the clip: they are counted apart).
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
from pathlib import Path

import numpy as np
from common import DEFAULT_DATA, load_dev_set, run_engine_on
from robustness import CONDITIONS, GROOVES, MOVING, render

from engine.analysis import consensus
from engine.analysis import grid as beat_grid
from engine.analysis.chunking import plan_chunks
from engine.references.scoring import bpm_error_at_level
from engine.results import ChunkStatus
from engine.settings import AnalysisSettings


def harvest(args: argparse.Namespace) -> None:
    references = [r for d in (args.data or [DEFAULT_DATA, GROOVES]) for r in load_dev_set(d)][:: args.every]
    saved = {}
    for name in args.condition or ["clean"]:
        _description, transform = CONDITIONS[name]
        with tempfile.TemporaryDirectory(prefix=f"grid-stability-{name}-") as folder:
            # the unreliable rows have no label to scale; render() keeps them as they are
            changed = render(references, transform, Path(folder))
            results, wall = run_engine_on(changed, workers=args.workers)
            saved[name] = [(ref, results.get(ref.path)) for ref in changed]
            print(f"{name}: {len(changed)} songs in {wall:.0f} s", flush=True)
    with open(args.out, "wb") as handle:
        pickle.dump(saved, handle)


def rescore(result, settings: AnalysisSettings) -> consensus.SongTempo | None:
    if result is None:
        return None
    good = [c for c in result.chunks if c.status is ChunkStatus.OK and c.features is not None]
    if not good:
        return None
    spans = {s.index: s for s in plan_chunks(result.duration_s, settings)}
    return consensus.song_tempo(good, spans, settings, result.duration_s)


def precision(errors: list[float | None]) -> str:
    hits = [e for e in errors if e is not None]
    if not hits:
        return "–"
    return f"{np.median(hits):.3f} / {100 * np.mean(np.array(hits) <= 0.05 + 1e-9):.0f} % ({len(hits)})"


def is_stable(found: consensus.SongTempo | None) -> bool:
    return bool(found and found.grid and found.grid.stable)


def exactness(found: list[consensus.SongTempo | None], rows: list, picked: list[int]) -> str:
    """:func:`precision` over the songs ``picked`` (the Acc2 hits among them count)."""
    return precision([bpm_error_at_level(found[i].bpm if found[i] else 0.0, rows[i][0].bpm) for i in picked])  # type: ignore[union-attr]


def rescore_all(rows: list, settings: AnalysisSettings, local_check: bool) -> list[consensus.SongTempo | None]:
    """Every song's consensus again; without ``local_check`` the local-tempo check never objects."""
    kept = beat_grid._local_deviation
    if not local_check:
        beat_grid._local_deviation = lambda *a, **k: 0.0  # type: ignore[assignment]
    try:
        return [rescore(result, settings) for _ref, result in rows]
    finally:
        beat_grid._local_deviation = kept  # type: ignore[assignment]


def score(args: argparse.Namespace) -> None:
    settings = AnalysisSettings()
    saved: dict[str, list] = {}
    for path in args.files:
        with open(path, "rb") as handle:
            for name, rows in pickle.load(handle).items():
                saved.setdefault(name, []).extend(rows)
    print(
        "| condition | source | songs | stable before | stable now | precision, stable songs (before) | (now) "
        "| precision, all Acc2 hits (before) | (now) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    notes = []
    for name, rows in saved.items():
        before, now = rescore_all(rows, settings, False), rescore_all(rows, settings, True)
        for source in sorted({ref.source for ref, _ in rows}):
            for reliable in (True, False):
                picked = [
                    i for i, (ref, _) in enumerate(rows) if ref.source == source and (ref.bpm is not None) == reliable
                ]
                if not picked:
                    continue
                cells = []
                for found in (before, now):
                    stable = [i for i in picked if is_stable(found[i])]
                    cells += [
                        str(len(stable)),
                        exactness(found, rows, stable if reliable else []),
                        exactness(found, rows, picked if reliable else []),
                    ]
                label = source if reliable else f"{source} (no reliable label)"
                print(
                    f"| {name} | {label} | {len(picked)} | {cells[0]} | {cells[3]} | {cells[1]} | {cells[4]} "
                    f"| {cells[2]} | {cells[5]} |"
                )
                # a constant song called unstable, or a moving one called stable
                odd = [i for i in picked if reliable and is_stable(now[i]) == (name in MOVING)]
                notes += [f"{name} {source} {Path(str(rows[i][0].path)).name}: {describe(now[i])}" for i in odd]
    print("\n" + "\n".join(notes))


def describe(found: consensus.SongTempo | None) -> str:
    grid = found.grid if found else None
    if grid is None:
        return "no grid"
    return (
        f"{'stable' if grid.stable else 'unstable'}, "
        f"bpm {grid.bpm:.3f} inliers {grid.inlier_share:.2f} coverage {grid.coverage:.2f} "
        f"drift {grid.max_drift:.3f} local {grid.local_deviation:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("harvest")
    run.add_argument("out", type=Path)
    run.add_argument("--data", type=Path, action="append", help="a data set (repeatable); default dev + dev-grooves")
    run.add_argument("--condition", action="append", choices=sorted(CONDITIONS), help="repeatable; default clean")
    run.add_argument("--workers", type=int, default=None)
    run.add_argument("--every", type=int, default=1, help="every k-th song only")
    again = commands.add_parser("score")
    again.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args()
    harvest(args) if args.command == "harvest" else score(args)


if __name__ == "__main__":
    main()
