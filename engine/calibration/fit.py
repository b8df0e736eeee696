"""Fit a calibration profile and report it honestly.

Corrections are tried in stages (tempo: fold → range factors → linear; key: mode shift →
remap; each feature: a linear scaler). A stage joins the profile only if the pipeline with it
scores better *under cross-validation* than the pipeline without it: every fold refits the
whole pipeline on the other songs and predicts the held-out ones. The profile itself is then
refitted on all songs. Three sets of answers are kept side by side: raw, calibrated in-sample
(optimistic: fitted and scored on the same songs) and calibrated cross-validated (the number
to believe, and the one the UI shows first).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from engine.calibration import feature_rules, key_rules, octave_rules, tempo_rules
from engine.calibration.crossval import (
    ALPHA,
    Scheme,
    Verdict,
    canonical_order,
    cross_val_predict,
    folds,
    scheme_for,
    sign_test,
)
from engine.calibration.dataset import AnalysedSong, Observation
from engine.calibration.metrics import key_rows, tempo_rows
from engine.calibration.profile import Profile
from engine.errors import EngineError
from engine.references.scoring import RATIO_CLASSES, Scores, score

MIN_SONGS = 12
"""Below this, cross-validation cannot tell a real pattern from luck; the fit is refused."""

Fitter = Callable[[Any, Any, int], list[dict[str, Any]]]
TEMPO_STAGES: tuple[tuple[str, Fitter], ...] = (
    ("octave choice", octave_rules.fit),
    ("fold", tempo_rules.on_bpm(tempo_rules.fit_fold)),
    ("range factor", tempo_rules.on_bpm(tempo_rules.fit_range_factors)),
    ("linear", tempo_rules.on_bpm(tempo_rules.fit_linear)),
)
"""Tempo answers travel as evidence rows (BPM in column 0); the octave choice reads the rest."""
KEY_STAGES: tuple[tuple[str, Fitter], ...] = (
    ("mode shift", key_rules.fit_mode_shift),
    ("remap", key_rules.fit_remap),
)


class CalibrationError(EngineError):
    """A calibration cannot be fitted (e.g. too few matched songs); the message says what is needed."""


MIN_SUPPORT = math.ceil(math.log2(1 / ALPHA))
"""Songs a rule must fix (net) on its training songs before cross-validation judges it: 5.

Five held-out wins with no loss is the least that passes the sign test at ALPHA (0.5**5 < 0.05),
and a rule seldom wins more held-out songs than it fixes on its training songs, so a smaller
floor only adds rules that cannot be kept. It does not grow with the library: a rule that fixes
3 % of 2,000 songs is worth keeping when the held-out songs agree, and whether a rule is real is
the sign test's and the cross-validation's call. (It was 3, or 5 % of the songs; on 211 songs that
floor, not the evidence, stopped the calibration from learning a half-time DJ library's
convention: docs/accuracy.md, "Part B: the support floor and the fold layouts".)
"""


class Answers(NamedTuple):
    """One song's calibrated answers: by the profile fitted on every song, and cross-validated."""

    bpm_in_sample: float | None
    bpm_cv: float | None
    key_in_sample: str
    key_cv: str | None


@dataclass
class Calibration:
    """A fitted profile with the evidence: per-song answers in three versions and the metrics table."""

    profile: Profile
    observations: list[Observation]
    bpm_in_sample: list[float | None] = field(default_factory=list)
    bpm_cv: list[float | None] = field(default_factory=list)
    key_in_sample: list[str] = field(default_factory=list)
    key_cv: list[str | None] = field(default_factory=list)
    features_in_sample: dict[str, list[float | None]] = field(default_factory=dict)
    features_cv: dict[str, list[float | None]] = field(default_factory=dict)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cv_folds: dict[str, list[list[int]]] = field(default_factory=dict)
    """Per domain, the held-out sets (observation indices) the shown cross-validated answers came from."""
    _positions: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def answers_for(self, song: AnalysedSong) -> Answers:
        """The song's calibrated answers, in-sample and cross-validated.

        A song the profile was not fitted on (analysed after the fit) gets the profile's answer in
        both places: for it that answer is already out-of-sample.
        """
        index = self._index().get(song.path)
        bpm_in = (
            self.bpm_in_sample[index]
            if index is not None
            else self.profile.calibrate_bpm(song.bpm, song.tempo_evidence)
        )
        key_in = self.key_in_sample[index] if index is not None else self.profile.calibrate_key(song.key)
        bpm_cv = self.bpm_cv[index] if index is not None and self.bpm_cv[index] is not None else bpm_in
        key_cv = self.key_cv[index] if index is not None and self.key_cv[index] is not None else key_in
        return Answers(bpm_in, bpm_cv, key_in, key_cv)

    def _index(self) -> dict[str, int]:
        if self._positions is None:
            self._positions = {o.path: i for i, o in enumerate(self.observations)}
        return self._positions


def fit_calibration(
    observations: Sequence[Observation],
    settings: dict[str, Any] | None = None,
    references: Sequence[dict[str, Any]] = (),
    min_songs: int = MIN_SONGS,
) -> Calibration:
    """Fit, validate and report; raises :class:`CalibrationError` when neither tempo nor key has enough songs."""
    if min_songs < 3:
        raise ValueError("min_songs must be at least 3: cross-validation needs songs to hold out")
    obs = list(observations)
    tempo_idx = _canonical(
        obs, [i for i, o in enumerate(obs) if o.has_tempo], lambda o: (o.row.bpm, _evidence_row(o.song))
    )
    key_idx = _canonical(obs, [i for i, o in enumerate(obs) if o.has_key], lambda o: (o.row.key, o.song.key))
    if len(tempo_idx) < min_songs and len(key_idx) < min_songs:
        raise CalibrationError(
            f"need at least {min_songs} matched songs with a reference BPM or key to fit a calibration; "
            f"have {len(tempo_idx)} with a BPM and {len(key_idx)} with a key"
        )
    profile = Profile(
        n_songs=len(obs),
        n_tempo=len(tempo_idx),
        n_key=len(key_idx),
        min_songs=min_songs,
        settings=dict(settings or {}),
        references=[dict(r) for r in references],
    )
    result = Calibration(profile, obs)
    schemes: dict[str, Scheme] = {}

    # tempo
    det_t = np.array([_evidence_row(obs[i].song) for i in tempo_idx], dtype=float).reshape(
        -1, octave_rules.EVIDENCE_SIZE
    )
    ref_t = np.array([obs[i].row.bpm for i in tempo_idx], dtype=float)
    cv_t = det_t.copy()
    if len(tempo_idx) >= min_songs:
        schemes["tempo"] = scheme_for(len(tempo_idx))
        profile.tempo, cv_t, stages = _select(
            "tempo",
            TEMPO_STAGES,
            det_t,
            ref_t,
            tempo_rules.apply,
            _tempo_score,
            _tempo_better,
            _tempo_per_song,
            schemes["tempo"],
        )
        profile.stages.extend(stages)
    else:
        result.notes.append(_too_few("tempo", "BPM", len(tempo_idx), min_songs))

    # key
    det_k = np.array([obs[i].song.key for i in key_idx], dtype=object)
    ref_k = np.array([obs[i].row.key for i in key_idx], dtype=object)
    cv_k: Sequence[str] = list(det_k)
    if len(key_idx) >= min_songs:
        schemes["key"] = scheme_for(len(key_idx))
        profile.key, cv_k, stages = _select(
            "key", KEY_STAGES, det_k, ref_k, key_rules.apply, _key_score, _key_better, _key_per_song, schemes["key"]
        )
        profile.stages.extend(stages)
    else:
        result.notes.append(_too_few("key", "key", len(key_idx), min_songs))

    profile.cross_validation = {domain: s.to_dict() for domain, s in schemes.items()}
    for domain, indices in (("tempo", tempo_idx), ("key", key_idx)):
        if domain in schemes:
            held_out = folds(len(indices), schemes[domain])
            result.cv_folds[domain] = [[indices[j] for j in test] for test in held_out]
    result.bpm_in_sample = [profile.calibrate_bpm(o.song.bpm, o.song.tempo_evidence) for o in obs]
    det_t, cv_t = tempo_rules.bpm_column(det_t), tempo_rules.bpm_column(cv_t)
    result.key_in_sample = [profile.calibrate_key(o.song.key) for o in obs]
    result.bpm_cv = [None] * len(obs)
    result.key_cv = [None] * len(obs)
    for position, i in enumerate(tempo_idx):
        result.bpm_cv[i] = float(cv_t[position])
    for position, i in enumerate(key_idx):
        result.key_cv[i] = str(cv_k[position])

    metrics: list[dict[str, Any]] = []
    if tempo_idx:
        metrics += tempo_rows(
            list(ref_t),
            {
                "raw": list(det_t),
                "calibrated_in_sample": [result.bpm_in_sample[i] for i in tempo_idx],
                "calibrated_cv": list(cv_t),
            },
        )
    if key_idx:
        metrics += key_rows(
            list(ref_k),
            {
                "raw": list(det_k),
                "calibrated_in_sample": [result.key_in_sample[i] for i in key_idx],
                "calibrated_cv": list(cv_k),
            },
        )
    metrics += _fit_features(result, min_songs)
    result.metrics = metrics
    profile.metrics = {
        column: {r["metric"]: r[column] for r in metrics if not r["metric"].startswith(("tempo_ratio", "key_root"))}
        for column in ("raw", "calibrated_in_sample", "calibrated_cv")
    }
    profile.metrics["n"] = {r["metric"]: r["n"] for r in metrics if r["metric"] in ("tempo_acc1", "key_exact")}
    return result


def _evidence_row(song: AnalysedSong) -> np.ndarray:
    """The song's evidence row with its BPM; NaN evidence when it has none (the octave choice skips it)."""
    row = np.full(octave_rules.EVIDENCE_SIZE, np.nan)
    if song.tempo_evidence is not None and len(song.tempo_evidence) == octave_rules.EVIDENCE_SIZE:
        row[:] = song.tempo_evidence
    row[0] = song.bpm
    return row


def _feature_pair(o: Observation, feature: str, source: str) -> tuple[float, float]:
    """What a feature scaler sees of one song: its measurement and the reference's value."""
    return (o.song.measurements[source], o.row.features[feature])


def _canonical(obs: Sequence[Observation], indices: list[int], seen: Callable[[Observation], tuple]) -> list[int]:
    """``indices`` sorted by what the fit sees of each song (``seen``), so that neither the order
    the songs arrive in nor their names can change a fold, and with it a profile."""
    if not indices:
        return []
    columns = zip(*(seen(obs[i]) for i in indices), strict=True)
    return [indices[j] for j in canonical_order(*columns)]


def _too_few(domain: str, what: str, have: int, need: int) -> str:
    return f"{domain} not calibrated: {have} matched songs have a reference {what}; at least {need} are needed"


# -- stage selection ------------------------------------------------------------------------------
def _chain(fitters: Sequence[Fitter], detected: Any, reference: Any, apply: Callable) -> list[dict[str, Any]]:
    corrections: list[dict[str, Any]] = []
    current = detected
    for fitter in fitters:
        found = fitter(current, reference, MIN_SUPPORT)
        corrections += found
        current = apply(found, current)
    return corrections


def _select(
    domain: str,
    stages: Sequence[tuple[str, Fitter]],
    detected: Any,
    reference: Any,
    apply: Callable,
    measure: Callable[[Any, Any], Scores],
    better: Callable[[str, Scores, Scores], bool],
    per_song: Callable[[str, Any, Any], np.ndarray],
    scheme: Scheme,
) -> tuple[list[dict[str, Any]], Any, list[dict[str, Any]]]:
    """Forward selection of stages by cross-validated score; returns (corrections, out-of-fold answers, reports)."""
    n = len(reference)
    layouts = range(scheme.repeats)
    kept: list[Fitter] = []
    cv_answers = [list(detected)] * scheme.repeats  # out-of-fold answers of the kept stages, per fold layout
    cv_scores = measure(detected, reference)
    reports = []
    for name, fitter in stages:
        trial = [*kept, fitter]

        def fit_predict(train: np.ndarray, test: np.ndarray, trial: list[Fitter] = trial) -> Any:
            corrections = _chain(trial, detected[train], reference[train], apply)
            return apply(corrections, detected[test])

        prior = _chain(kept, detected, reference, apply)
        found = fitter(apply(prior, detected), reference, MIN_SUPPORT)
        if found:
            trial_answers = [cross_val_predict(n, fit_predict, scheme, repeat) for repeat in layouts]
            trial_scores = measure(_pooled(trial_answers), np.concatenate([reference] * scheme.repeats))
            verdict = sign_test(
                np.mean([per_song(name, answers, reference) for answers in cv_answers], axis=0),
                np.mean([per_song(name, answers, reference) for answers in trial_answers], axis=0),
            )
        else:  # nothing to judge: no rule on all the songs has the support, so none can be kept
            trial_answers, trial_scores, verdict = cv_answers, cv_scores, Verdict(0, 0, 1.0)
        accepted = bool(found) and better(name, trial_scores, cv_scores) and verdict.significant
        reports.append(
            {
                "domain": domain,
                "stage": name,
                "kept": accepted,
                "reason": _reason(domain, found, accepted, cv_scores, trial_scores, verdict, n, scheme.repeats),
                "min_support": MIN_SUPPORT,
                "cv_before": _summary(cv_scores),
                "cv_after": _summary(trial_scores),
                "sign_test": verdict.to_dict(),
                "corrections": found,
            }
        )
        if accepted:
            kept.append(fitter)
            cv_answers, cv_scores = trial_answers, trial_scores
    return _chain(kept, detected, reference, apply), cv_answers[0], reports


def _pooled(layouts: list[list[Any]]) -> list[Any]:
    """Every layout's answers in one list: scoring it against the reference repeated scores the mean."""
    return [answer for answers in layouts for answer in answers]


def _tempo_score(answers: Any, reference: Any) -> Scores:
    bpm = tempo_rules.bpm_column(answers)
    return score(list(zip([float(a) for a in bpm], [float(r) for r in reference], strict=True)), [])


def _key_score(answers: Any, reference: Any) -> Scores:
    return score([], list(zip(list(answers), list(reference), strict=True)))


def _tempo_better(stage: str, after: Scores, before: Scores) -> bool:
    if stage == "linear":  # a scaler must lower the error without costing a single Acc1 song, nor exactness:
        # a slope moves every tempo a little, and an exact tempo moved by 0.1 BPM is no longer on a DJ's grid
        return (
            (after.acc1 or 0) >= (before.acc1 or 0)
            and (after.bpm_mae or 0) < (before.bpm_mae or 0)
            and (after.bpm_precise_acc2 or 0) >= (before.bpm_precise_acc2 or 0) - 1e-9
        )
    return (after.acc1 or 0) > (before.acc1 or 0)


def _key_better(stage: str, after: Scores, before: Scores) -> bool:
    """More keys exactly right, and no loss in the MIREX score (which also credits near misses)."""
    return (after.key_exact or 0) > (before.key_exact or 0) and (after.mirex or 0) >= (before.mirex or 0) - 1e-9


def _tempo_per_song(stage: str, answers: Any, reference: Any) -> np.ndarray:
    """What the sign test compares: Acc1 per song for ratio rules; for a linear scaler, how close each
    answer is to the reference or its nearest allowed multiple, so octave errors cannot vote for a scale."""
    a, r = tempo_rules.bpm_column(answers), np.asarray(reference, dtype=float)
    if stage != "linear":
        return tempo_rules.correct(a, r).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.min([np.abs(a / (r * f) - 1.0) for f in RATIO_CLASSES.values()], axis=0)
    return -np.nan_to_num(distance, nan=np.inf)


def _key_per_song(stage: str, answers: Any, reference: Any) -> np.ndarray:
    return np.array([a == r for a, r in zip(answers, reference, strict=True)], dtype=float)


def _summary(s: Scores) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.as_dict().items() if v is not None}


def _reason(
    domain: str, found: list, accepted: bool, before: Scores, after: Scores, verdict: Verdict, n: int, layouts: int
) -> str:
    if not found:
        return f"no rule on all {n} songs fixes at least {MIN_SUPPORT} more songs than it breaks"
    how = "cross-validated" if layouts == 1 else f"cross-validated ({layouts} fold layouts)"
    if domain == "tempo":
        text = f"{how} Acc1 {before.acc1:.3f} → {after.acc1:.3f}, MAE {before.bpm_mae:.2f} → {after.bpm_mae:.2f}"
        exact_before, exact_after = before.bpm_precise_acc2 or 0.0, after.bpm_precise_acc2 or 0.0
        text += f", within 0.05 BPM {exact_before:.0%} → {exact_after:.0%}"
        if not accepted and exact_after < exact_before - 1e-9 and (after.bpm_mae or 0) < (before.bpm_mae or 0):
            held_out = f"held-out songs better/worse {verdict.better}/{verdict.worse}"
            return f"rejected, costs exact tempi: {text}; {held_out}"
    else:
        text = (
            f"{how} exact {before.key_exact:.3f} → {after.key_exact:.3f}, MIREX {before.mirex:.3f} → {after.mirex:.3f}"
        )
    text += f"; held-out songs better/worse {verdict.better}/{verdict.worse} (sign test p = {verdict.p_value:.3f})"
    if accepted:
        return "kept: " + text
    return ("rejected, not better than chance: " if verdict.better > verdict.worse else "rejected, no gain: ") + text


# -- continuous features --------------------------------------------------------------------------
def _fit_features(result: Calibration, min_songs: int) -> list[dict[str, Any]]:
    obs, profile = result.observations, result.profile
    rows: list[dict[str, Any]] = []
    present = sorted({name for o in obs for name in o.row.features})
    for feature in present:
        if feature not in feature_rules.FEATURE_SOURCES:
            result.notes.append(f"{feature} not calibrated: the engine does not measure anything that predicts it")
            continue
        source, same_unit = feature_rules.FEATURE_SOURCES[feature]
        idx = [i for i, o in enumerate(obs) if feature in o.row.features and source in o.song.measurements]
        idx = _canonical(obs, idx, partial(_feature_pair, feature=feature, source=source))
        if len(idx) < min_songs:
            result.notes.append(_too_few(feature, feature, len(idx), min_songs))
            continue
        x = np.array([obs[i].song.measurements[source] for i in idx], dtype=float)
        y = np.array([obs[i].row.features[feature] for i in idx], dtype=float)
        scheme = scheme_for(len(idx))

        def scaler(train: np.ndarray, test: np.ndarray, x: np.ndarray = x, y: np.ndarray = y) -> list[float]:
            slope, intercept = feature_rules.fit_linear(x[train], y[train])
            return list(x[test] * slope + intercept)

        def mean_only(train: np.ndarray, test: np.ndarray, y: np.ndarray = y) -> list[float]:
            return [float(y[train].mean())] * len(test)

        slope, intercept = feature_rules.fit_linear(x, y)
        in_sample = x * slope + intercept
        cv = np.array(cross_val_predict(len(idx), scaler, scheme), dtype=float)
        baseline = x if same_unit else np.array(cross_val_predict(len(idx), mean_only, scheme), dtype=float)
        mae_before = float(np.mean(np.abs(baseline - y)))
        mae_in, mae_cv = float(np.mean(np.abs(in_sample - y))), float(np.mean(np.abs(cv - y)))
        verdict = sign_test(-np.abs(baseline - y), -np.abs(cv - y))
        kept = mae_cv < mae_before and verdict.significant
        correction = {
            "type": "linear",
            "feature": feature,
            "source": source,
            "slope": round(slope, 6),
            "intercept": round(intercept, 4),
            "stats": {
                "n": len(idx),
                "baseline": "engine value" if same_unit else "reference mean (cross-validated)",
                "r2": round(feature_rules.r_squared(y, in_sample), 4),
                "r2_cv": round(feature_rules.r_squared(y, cv), 4),
                "mae_before": round(mae_before, 4),
                "mae_in_sample": round(mae_in, 4),
                "mae_cv": round(mae_cv, 4),
            },
        }
        verdict_text = "kept" if kept else "rejected, no cross-validated gain"
        profile.stages.append(
            {
                "domain": f"feature:{feature}",
                "stage": "linear",
                "kept": kept,
                "reason": f"{verdict_text}: MAE {mae_before:.3f} → {mae_cv:.3f} cross-validated; held-out songs "
                f"better/worse {verdict.better}/{verdict.worse} (sign test p = {verdict.p_value:.3f})",
                "sign_test": verdict.to_dict(),
                "corrections": [correction],
            }
        )
        if kept:
            profile.features.append(correction)
        if kept:
            result.features_in_sample[feature] = [None] * len(obs)
            result.features_cv[feature] = [None] * len(obs)
            for position, i in enumerate(idx):
                result.features_in_sample[feature][i] = round(float(in_sample[position]), 3)
                result.features_cv[feature][i] = round(float(cv[position]), 3)
        n = len(idx)
        rows.append(
            {
                "metric": f"feature_{feature}_mae",
                "n": n,
                "raw": round(mae_before, 4),
                "calibrated_in_sample": round(mae_in if kept else mae_before, 4),
                "calibrated_cv": round(mae_cv if kept else mae_before, 4),
            }
        )
        rows.append(
            {
                "metric": f"feature_{feature}_r2",
                "n": n,
                "raw": round(feature_rules.r_squared(y, baseline), 4),
                "calibrated_in_sample": round(feature_rules.r_squared(y, in_sample if kept else baseline), 4),
                "calibrated_cv": round(feature_rules.r_squared(y, cv if kept else baseline), 4),
            }
        )
    return rows
