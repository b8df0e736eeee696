"""Cross-validated calibration of any system's answers on the dev set, for bench/accuracy.py.

Each song's calibrated answer comes from a profile fitted on the *other* folds (the same
procedure ``main.py calibrate`` uses), so the calibrated rows show what a profile would do for
songs it has not seen, never what it does on the songs it was fitted to.
"""

from __future__ import annotations

from pathlib import Path

from common import Reference

from engine.calibration import AnalysedSong, CalibrationError, Observation, fit_calibration
from engine.reference import ReferenceRow

Answers = dict[Path, tuple[float | None, str]]


def cross_validated(results: Answers, references: list[Reference]) -> tuple[Answers, list[str]]:
    """Out-of-fold calibrated answers for every song, and a line per stage saying what was kept and why."""
    observations = [
        Observation(
            AnalysedSong(str(ref.path), "done", results[ref.path][0], results[ref.path][1] or ""),
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
