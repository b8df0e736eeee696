"""Cross-validated calibration of any system's answers on the dev set, for bench/accuracy.py.

Each song's calibrated answer comes from a profile fitted on the *other* folds (the same
procedure ``main.py calibrate`` uses), so the calibrated rows show what a profile would do for
songs it has not seen, never what it does on the songs it was fitted to.
"""

from __future__ import annotations

from pathlib import Path

from common import Reference

from engine.calibration import AnalysedSong, CalibrationError, Observation, fit_calibration
from engine.references.readers import ReferenceRow

Answers = dict[Path, tuple]
"""Per song ``(bpm, key)`` or ``(bpm, key, tempo evidence row)``: the engine's answers carry the
evidence its octave choice decides from; other systems have none, so that stage never acts on them."""


def cross_validated(results: Answers, references: list[Reference]) -> tuple[Answers, list[str]]:
    """Out-of-fold calibrated answers for every song, and a line per stage saying what was kept and why."""
    observations = [
        Observation(
            AnalysedSong(
                str(ref.path),
                "done",
                results[ref.path][0],
                results[ref.path][1] or "",
                tempo_evidence=results[ref.path][2] if len(results[ref.path]) > 2 else None,
            ),
            ReferenceRow(line=i + 2, source="ground_truth.csv", file=ref.path.name, bpm=ref.bpm, key=ref.key),
            "file name",
        )
        for i, ref in enumerate(references)
    ]
    try:
        calibration = fit_calibration(observations)
    except CalibrationError as exc:
        return dict(results), [str(exc)]
    answers: Answers = {}
    for i, ref in enumerate(references):
        bpm = calibration.bpm_cv[i] if calibration.bpm_cv[i] is not None else calibration.bpm_in_sample[i]
        key = calibration.key_cv[i] if calibration.key_cv[i] is not None else calibration.key_in_sample[i]
        answers[ref.path] = (bpm, key)
    notes = [f"{s['domain']} {s['stage']}: {s['reason']}" for s in calibration.profile.stages]
    return answers, notes + calibration.notes


def straight_line(results: Answers, references: list[Reference]) -> str:
    """The replaced system's correction, a line through every song, scored in-sample and cross-validated.

    It fitted ``ref = a·bpm + b`` on all its songs and reported the in-sample error; octave errors
    drag such a line around, so on songs it has not seen it does worse than no correction.
    """
    import numpy as np

    from engine.calibration.crossval import cross_val_predict

    pairs = [(results[r.path][0], r.bpm) for r in references if r.bpm is not None and results[r.path][0]]
    x, y = np.array([p[0] for p in pairs], dtype=float), np.array([p[1] for p in pairs], dtype=float)

    def fit_predict(train: np.ndarray, test: np.ndarray) -> list[float]:
        slope, intercept = np.polyfit(x[train], y[train], 1)
        return list(x[test] * slope + intercept)

    slope, intercept = np.polyfit(x, y, 1)
    in_sample = np.mean(np.abs(x * slope + intercept - y))
    cv = np.mean(np.abs(np.array(cross_val_predict(len(x), fit_predict)) - y))
    raw = np.mean(np.abs(x - y))
    return (
        f"a straight line through all {len(x)} songs (the replaced system's correction): MAE raw {raw:.2f} BPM, "
        f"in-sample {in_sample:.2f}, cross-validated {cv:.2f}"
    )
