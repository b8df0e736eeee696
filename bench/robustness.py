"""Tempo accuracy under recording conditions the rendered dev sets lack, per source, beside the baselines.

    python bench/robustness.py [--data DIR ...] [--condition NAME ...] [--workers N]
                               [--no-baseline] [--no-essentia] [--every K] [--source NAME ...]

The dev sets are MIDI renders: clean, full-band, dry, unclipped and metronomic. The music the
product meets is recorded: hiss, an old or radio band limit, a hall, a loud master, a drummer
without a click. Each condition transforms every song the same way (seeded), writes it as FLAC
into a temporary folder and runs every system on it: the engine through its worker pool, the naive
librosa script and, when ``essentia`` is importable (benchmark only), Essentia's
RhythmExtractor2013 (multifeature), tempo only. Where a condition changes the tempo, the
reference is scaled by that song's mean rate. Prints Acc1 / Acc2 per source for every system and
condition, and each condition's Acc1 over all songs as a ratio of the same system's clean Acc1
in the same run. Keys are not scored: several conditions move the pitch.

A second table gives the exactness per condition: for each system the median BPM error at the
matched level and the share within 0.05 BPM over its Acc2 hits, and for the engine the share of
songs it calls ``tempo_stable`` and the precision over those. Where the tempo moves (``wander2``,
``speedup4``) the reference is a mean and there is no exact tempo: those rows say how many songs
the engine calls stable, how many of the songs whose true beats leave one constant grid by more than the
drift tolerance ``tempo_stable`` states (0.06 of a beat, as a median over 8 beats) it wrongly calls stable,
and each stable song with its true departure (the warp applied to the song's clock; at the label's level).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import DEFAULT_DATA, Reference, load_dev_set, naive_analyse, run_engine_on

from engine.analysis.grid import DRIFT_TOLERANCE
from engine.references.scoring import acc1, acc2, bpm_error_at_level

SAMPLE_RATE = 22050
GROOVES = DEFAULT_DATA.parent / "dev-grooves"
Transform = Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, float]]
"""``(samples, rng) -> (new samples, mean tempo rate)``; the rate is 1 unless the tempo moves."""


def pink_noise(count: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with equal power per octave (hiss and room noise are closer to pink than to white)."""
    spectrum = np.fft.rfft(rng.standard_normal(count))
    bins = np.arange(spectrum.size, dtype=float)
    bins[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(bins), count)


def add_noise(snr_db: float) -> Transform:
    def transform(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        noise = pink_noise(y.size, rng)
        gain = np.sqrt(np.mean(y**2) / max(np.mean(noise**2), 1e-20) / 10 ** (snr_db / 10))
        return y + gain * noise, 1.0

    return transform


def low_pass(cutoff_hz: float) -> Transform:
    """Sixth-order Butterworth: an AM broadcast or an old transfer, hi-hats gone."""

    def transform(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        from scipy.signal import butter, sosfilt

        return sosfilt(butter(6, cutoff_hz, fs=SAMPLE_RATE, output="sos"), y), 1.0

    return transform


def hall(rt60_s: float, wet: float) -> Transform:
    """Exponentially decaying noise as the room's impulse response (a diffuse hall), mixed in."""

    def transform(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        from scipy.signal import fftconvolve

        t = np.arange(int(rt60_s * SAMPLE_RATE)) / SAMPLE_RATE
        response = np.random.default_rng(1).standard_normal(t.size) * np.exp(-6.9 * t / rt60_s)
        tail = fftconvolve(y, response)[: y.size]
        return (1 - wet) * y / np.std(y) + wet * tail / np.std(tail), 1.0

    return transform


def clip_above_rms(crest_db: float) -> Transform:
    """Hard clipping this far above the song's RMS: a master pushed into its limiter."""

    def transform(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        ceiling = np.sqrt(np.mean(y**2)) * 10 ** (crest_db / 20)
        return np.clip(y, -ceiling, ceiling), 1.0

    return transform


def warp(y: np.ndarray, rate: np.ndarray) -> tuple[np.ndarray, float]:
    """Play ``y`` at a rate that varies per output sample (tape speed: pitch moves with tempo)."""
    read_at = np.cumsum(rate) / SAMPLE_RATE
    keep = read_at < (y.size - 1) / SAMPLE_RATE
    return np.interp(read_at[keep], np.arange(y.size) / SAMPLE_RATE, y), float(np.mean(rate[keep]))


def wander(depth: float, step_s: float = 2.0) -> Transform:
    """A random walk of the tempo that reaches ``±depth`` within the song, a new step every ``step_s``: no click track.

    The walk is scaled over the song's own samples. Until round 11 it was scaled over its knots, the last of
    which lie up to two steps past the song's end: where the walk's extreme fell there, the song itself
    wandered far less (dev-grooves 0117: within ±0.7 %, its beats within 0.04 of a beat of one grid).
    """

    def transform(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        times = np.arange(y.size) / SAMPLE_RATE
        knots = np.arange(int(y.size / SAMPLE_RATE / step_s) + 2) * step_s
        walk = np.interp(times, knots, np.cumsum(rng.standard_normal(knots.size)))
        walk -= walk.mean()
        walk *= depth / max(np.abs(walk).max(), 1e-9)
        return warp(y, 1.0 + walk)

    return transform


def speed_up(total: float) -> Transform:
    """The tempo rises steadily by ``total`` from the first second to the last: a band pushing."""

    def transform(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        return warp(y, 1.0 + total * (np.arange(y.size) / y.size - 0.5))

    return transform


LEVELS = (1 / 3, 1 / 2, 2 / 3, 1.0, 3 / 2, 2.0, 3.0)
"""Beat levels as multiples of the label's tempo (0.5: half time), where a grid's departure is measured."""
MOVING = ("wander2", "speedup4")
"""Conditions under which the tempo moves: no song whose beats leave one grid should be stable there."""

CONDITIONS: dict[str, tuple[str, Transform | None]] = {
    "clean": ("as rendered", None),
    "noise20": ("pink noise at 20 dB SNR", add_noise(20.0)),
    "noise10": ("pink noise at 10 dB SNR", add_noise(10.0)),
    "lowpass3k": ("low-pass at 3 kHz", low_pass(3000.0)),
    "hall": ("1.2 s hall, half wet", hall(1.2, 0.5)),
    "clip6": ("clipped 6 dB above RMS", clip_above_rms(6.0)),
    "wander2": ("tempo wanders, reaching ±2 %", wander(0.02)),
    "speedup4": ("tempo rises 4 % over the song", speed_up(0.04)),
}


def render(
    references: list[Reference],
    transform: Transform | None,
    folder: Path,
    departures: dict[Path, dict[float, tuple[float, float]]] | None = None,
) -> list[Reference]:
    """Each song through ``transform``, as FLAC in ``folder``; references carry the scaled tempo.

    With ``departures`` (for the conditions that move the tempo), each new path gets how far its true beats
    leave one constant grid at each metrical level of :data:`LEVELS`: :func:`grid_departure` of the same
    transform applied to the song's clock.
    """
    import librosa
    import soundfile

    if transform is None:
        return references
    out = []
    for index, ref in enumerate(references):
        y = librosa.load(str(ref.path), sr=SAMPLE_RATE, mono=True)[0].astype(float)
        changed, rate = transform(y, np.random.default_rng(index))
        changed = 0.9 * changed / max(float(np.abs(changed).max()), 1e-9)
        path = folder / f"{index:04d}.flac"
        soundfile.write(path, changed.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
        out.append(replace(ref, path=path, bpm=None if ref.bpm is None else ref.bpm * rate))
        if departures is not None and ref.bpm is not None:
            clock, _rate = transform(np.arange(y.size) / SAMPLE_RATE, np.random.default_rng(index))
            departures[path] = {level: grid_departure(clock, 60.0 / (ref.bpm * level)) for level in LEVELS}
    return out


def grid_departure(clock: np.ndarray, period_s: float, window: int = 8) -> tuple[float, float]:
    """How far the beats of a warped song leave the constant grid that fits them best, in beats.

    ``clock`` is the warp applied to the song's own time (the source time each output sample plays), so its
    beats, every ``period_s`` of source time, are where the clock passes them. Returns the largest
    ``window``-beat median offset (the measure ``tempo_stable``'s drift tolerance, 0.06 of a beat, is stated
    in) and the largest single offset, at the label's level.
    """
    times = np.arange(clock.size) / SAMPLE_RATE
    beats = np.interp(np.arange(0.0, clock[-1], period_s), clock, times)
    index = np.arange(beats.size)
    slope, intercept = np.polyfit(index, beats, 1)
    offset = (beats - (intercept + slope * index)) / slope
    medians = [abs(float(np.median(offset[i : i + window]))) for i in range(0, max(offset.size - window, 0) + 1, 4)]
    return max(medians, default=0.0), float(np.abs(offset).max())


def essentia_tempi(references: list[Reference]) -> dict[Path, float]:
    import essentia.standard as es
    from essentia_systems import rhythm_extractor

    rhythm = rhythm_extractor()
    return {ref.path: float(rhythm(es.MonoLoader(filename=str(ref.path), sampleRate=44100)())[0]) for ref in references}


def tempi(
    references: list[Reference], args: argparse.Namespace, stable: dict[Path, bool]
) -> dict[str, dict[Path, float]]:
    """``{system: {path: bpm}}`` for every system this run compares; ``stable`` gets the engine's ``tempo_stable``."""
    engine, _wall = run_engine_on(references, workers=args.workers)
    found = {"engine": {path: result.bpm or 0.0 for path, result in engine.items()}}
    stable.update({path: result.tempo_stable for path, result in engine.items()})
    if not args.no_baseline:
        found["naive librosa"] = {ref.path: naive_analyse(ref.path)[0] for ref in references}
    if not args.no_essentia:
        from essentia_systems import available

        if available():
            found["Essentia multifeature"] = essentia_tempi(references)
    return found


def scores(references: list[Reference], answers: dict[Path, float], source: str | None) -> tuple[float, float, int]:
    rows = [r for r in references if r.bpm is not None and (source is None or r.source == source)]
    hits1 = sum(acc1(answers.get(r.path, 0.0), r.bpm) for r in rows)
    hits2 = sum(acc2(answers.get(r.path, 0.0), r.bpm) for r in rows)
    return hits1 / max(len(rows), 1), hits2 / max(len(rows), 1), len(rows)


def precision(references: list[Reference], answers: dict[Path, float], only: set[Path] | None = None) -> str:
    """``median error / share within 0.05 BPM (hits)`` over the Acc2 hits (among ``only`` when given)."""
    errors = [bpm_error_at_level(answers.get(r.path, 0.0), r.bpm) for r in references if only is None or r.path in only]
    hits = [e for e in errors if e is not None]
    if not hits:
        return "–"
    return f"{np.median(hits):.3f} / {100 * np.mean(np.array(hits) <= 0.05 + 1e-9):.0f} % ({len(hits)})"


def moving_verdict(
    references: list[Reference],
    answers: dict[Path, float],
    steady: set[Path],
    departures: dict[Path, dict[float, tuple[float, float]]],
) -> str:
    """Where the tempo moves: how many songs whose true beats leave one grid beyond the drift tolerance were
    called stable, and each stable song with its true departure (8-beat median / single beat), both at the
    level the engine read (the label's when it read none of :data:`LEVELS`)."""
    leaving, wrong, named = 0, 0, []
    for ref in references:
        if ref.path not in departures or ref.bpm is None:
            continue
        ratio = answers.get(ref.path, 0.0) / ref.bpm
        level = min(LEVELS, key=lambda lv: abs(np.log(max(ratio, 1e-9) / lv)))
        level = level if abs(ratio / level - 1) <= 0.08 else 1.0
        median, single = departures[ref.path][level]
        leaving += median > DRIFT_TOLERANCE
        wrong += ref.path in steady and median > DRIFT_TOLERANCE
        if ref.path in steady:
            named.append(f"{ref.source} {ref.path.name} ×{level:.2g} {median:.3f}/{single:.3f}")
    return f"{wrong} of {leaving} leaving the tolerance | stable: {', '.join(named) or 'none'} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", help="a data set (repeatable); default dev + dev-grooves")
    parser.add_argument("--condition", action="append", choices=sorted(CONDITIONS), help="repeatable; default all")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-essentia", action="store_true")
    parser.add_argument("--every", type=int, default=1, help="every k-th song of each data set only (a shorter run)")
    parser.add_argument("--source", action="append", help="only songs of this source (repeatable), e.g. mma")
    args = parser.parse_args()
    references = [
        r
        for d in (args.data or [DEFAULT_DATA, GROOVES])
        for r in load_dev_set(d)[:: args.every]
        if r.bpm is not None and (not args.source or r.source in args.source)
    ]
    sources = sorted({r.source for r in references})
    names = ["clean"] + [c for c in (args.condition or CONDITIONS) if c != "clean"]
    table: dict[str, dict[str, dict[str | None, tuple[float, float, int]]]] = {}
    exact: dict[str, list[str]] = {}
    for name in names:
        description, transform = CONDITIONS[name]
        with tempfile.TemporaryDirectory(prefix=f"robustness-{name}-") as folder:
            departures: dict[Path, dict[float, tuple[float, float]]] = {}
            changed = render(references, transform, Path(folder), departures if name in MOVING else None)
            stable: dict[Path, bool] = {}
            for system, answers in tempi(changed, args, stable).items():
                table.setdefault(system, {})[name] = {s: scores(changed, answers, s) for s in [*sources, None]}
                cells = [precision([r for r in changed if r.source == s], answers) for s in sources]
                line = f"| {system} | {name} | {' | '.join(cells)} | {precision(changed, answers)} |"
                if system == "engine":
                    steady = {p for p, ok in stable.items() if ok}
                    line += f" {len(steady)} of {len(changed)} | {precision(changed, answers, steady)} |"
                    if departures:
                        line += " " + moving_verdict(changed, answers, steady, departures)
                exact.setdefault(system, []).append(line)
                print(f"exactness so far: {line}", flush=True)
                level = " | ".join(f"{a1:.3f} / {a2:.3f}" for a1, a2, _n in table[system][name].values())
                print(f"Acc1 / Acc2 so far (per source, then all): | {system} | {name} | {level} |", flush=True)
        print(f"done: {name} ({description})", flush=True)
    header = " | ".join(f"{s} ({table['engine']['clean'][s][2]})" for s in sources)
    print(f"\n| system | condition | {header} | all ({len(references)}) | Acc1 / clean |")
    print("|---" * (len(sources) + 4) + "|")
    for system, rows in table.items():
        clean = rows["clean"][None][0]
        for name, by_source in rows.items():
            cells = " | ".join(f"{a1:.3f} / {a2:.3f}" for a1, a2, _n in (by_source[s] for s in [*sources, None]))
            ratio = by_source[None][0] / clean if clean else float("nan")
            print(f"| {system} | {name}: {CONDITIONS[name][0]} | {cells} | {ratio:.3f} |")
    print("\nExactness: median BPM error at the matched level / share within 0.05 BPM (Acc2 hits)")
    print(f"\n| system | condition | {' | '.join(sources)} | all | engine: tempo_stable | engine: stable songs |")
    print("|---" * (len(sources) + 5) + "|")
    for lines in exact.values():
        print("\n".join(lines))


if __name__ == "__main__":
    main()
