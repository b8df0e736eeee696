"""One calibration session, owned by no front end: the window and ``calibrate`` both work through it.

A session holds what a calibration is made of (the reference, hand-made pairs, the user's
verdicts, a loaded profile) and what it has made so far (the match, the fit). It does the four
things a front end must never do on its own, so that the window and the command line cannot
disagree: it **matches** songs to reference rows, **fits** a profile, computes each song's
**calibrated values**, and builds the **metrics view** (the headline scores, raw beside
calibrated). Like beets' import session, it never prints and never asks: a front end shows what
it returns.

The slow steps are split so a front end can run them off its own thread: :meth:`match` and
:meth:`fit_matched` only *read* the session and return a value, which the caller then stores with
:meth:`adopt_match` / :meth:`adopt_fit` on the thread that owns the session.

Writing the file set (``results.csv``, ``comparison.csv``, ``run.json`` …) is
:class:`~engine.calibration.plan.CalibrationPlan`'s job, which this class extends.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from engine.calibration.dataset import AnalysedSong, CalibratedValue, calibrated_value
from engine.calibration.fit import Calibration
from engine.calibration.metrics import HEADLINE, WINDOW_METRICS, MetricRow, headline_view, key_rows, tempo_rows
from engine.calibration.plan import CalibrationPlan
from engine.calibration.profile import Profile, load_profile, save_profile
from engine.calibration.workflow import Matched
from engine.references.pairs import PAIRS_FILE, save_pairs
from engine.references.readers import ReferenceSet, load_reference
from engine.results import SongResult, SongStatus

EXPORT_FILES = ("results.csv", "chunks.csv", "comparison.csv", "metrics.csv", "run.json", "history.csv")
EXPORT_EXTRAS = ("unmatched.csv", "profile.json", PAIRS_FILE)


class ReferenceValue(NamedTuple):
    """The reference row a song is compared against (after the user's verdicts) and how it was paired."""

    bpm: float | None
    key: str
    method: str
    """How it was paired: ``file``, ``title``, ``manual``… (a fuzzy pair says its score and where the row is)."""
    corrected: frozenset[str]
    """The fields (``bpm``, ``key``) whose value a verdict changed from what the reference file gave."""


class MatchCounts(NamedTuple):
    matched: int
    unmatched_songs: int
    unmatched_rows: int


def song_for(path: str, result: SongResult | None) -> AnalysedSong:
    """A queued song not analysed yet still takes part in matching (its row shows its reference values)."""
    if result is None:
        return AnalysedSong(path, SongStatus.QUEUED)
    return AnalysedSong.from_result(result)


@dataclass
class CalibrationSession(CalibrationPlan):
    """The calibration state of one window or one ``calibrate`` command (see the module's docstring)."""

    apply_profile: bool = True
    """The window's *Apply profile* switch: calibrated values shown (and exported) only while it is on.
    A profile loaded from a file is :attr:`profile` (with :attr:`profile_path`), as ``--profile`` loads it."""

    # -- reference -------------------------------------------------------------------------------
    @property
    def reference_path(self) -> Path | None:
        return self.reference_paths[0] if self.reference_paths else None

    def load_reference(self, path: str | os.PathLike[str]) -> ReferenceSet:
        """Read a reference file in place of those loaded (raises ``ReferenceFileError``); bad rows in ``.errors``."""
        reference = load_reference(path)
        self.reference, self.reference_paths = reference, [Path(path)]
        self.matched, self.calibration = None, None
        return reference

    def add_reference(self, path: str | os.PathLike[str]) -> ReferenceSet:
        """One more reference file beside those loaded (the first listed wins when two name the same song)."""
        added = load_reference(path)
        if self.reference is None:
            self.reference = added
        else:
            combined = ReferenceSet()
            combined.extend(self.reference)
            combined.extend(added)
            self.reference = combined
        self.reference_paths.append(Path(path))
        self.matched, self.calibration = None, None
        return self.reference

    # -- matching (:meth:`match` is the plan's) -------------------------------------------------
    def adopt_match(self, matched: Matched | None) -> None:
        self.matched = matched

    @property
    def can_fit(self) -> bool:
        return len(self.analysed_observations()) >= self.min_songs

    def counts(self) -> MatchCounts:
        if self.matched is None:
            return MatchCounts(0, 0, 0)
        return MatchCounts(
            len(self.matched.report.matches), len(self.matched.unmatched_songs), len(self.matched.unmatched_rows)
        )

    def reference_values(self) -> dict[str, ReferenceValue]:
        """Each matched song's reference values (as corrected by the verdicts), by path."""
        if self.matched is None:
            return {}
        used = {o.path: o.row for o in self.matched.observations}
        corrected = self.matched.applied.corrected if self.matched.applied is not None else {}
        values = {}
        for index, song in enumerate(self.matched.songs):
            match = self.matched.match_for(index)
            if match is None:
                continue
            row = used.get(song.path, self.matched.rows[match.row])
            method = f"fuzzy (score {match.score:.2f}), {row.where()}" if match.method == "fuzzy" else match.method
            fields = frozenset(corrected.get(song.path, {}))
            values[song.path] = ReferenceValue(row.bpm, row.key or "", method, fields)
        return values

    # -- fitting (:meth:`fit_matched` is the plan's) ---------------------------------------------
    def adopt_fit(self, calibration: Calibration | None) -> None:
        self.calibration = calibration

    # -- the profile in force --------------------------------------------------------------------
    def load_profile_file(self, path: str | os.PathLike[str]) -> Profile:
        """Load a profile to apply (raises ``ProfileError``); a loaded profile wins over one fitted here."""
        self.profile = load_profile(path)
        self.profile_path = Path(path)
        return self.profile

    def save_profile(self, path: str | os.PathLike[str]) -> Path:
        profile = self.current_profile
        if profile is None:
            raise ValueError("there is no profile to save yet: fit a calibration or load a profile")
        return save_profile(profile, path)

    @property
    def current_profile(self) -> Profile | None:
        """The profile in force: a loaded one wins over the one fitted here (as ``--profile`` does)."""
        if self.profile is not None:
            return self.profile
        return self.calibration.profile if self.calibration is not None else None

    @property
    def applied_profile(self) -> Profile | None:
        return self.current_profile if self.apply_profile else None

    def calibrated(self, song: AnalysedSong) -> CalibratedValue | None:
        profile = self.applied_profile
        return calibrated_value(profile, song) if profile is not None else None

    def calibrated_values(self, results: Iterable[SongResult]) -> dict[str, CalibratedValue]:
        values = {}
        for result in results:
            value = self.calibrated(AnalysedSong.from_result(result))
            if value is not None:
                values[result.path] = value
        return values

    # -- the metrics view ------------------------------------------------------------------------
    def metrics_view(self) -> list[MetricRow]:
        """The headline scores and the tempo's exactness: from the fit (raw, cross-validated, in-sample) or,
        before one, raw only."""
        if self.calibration is not None:
            return headline_view(self.calibration.metrics, WINDOW_METRICS)
        analysed = self.analysed_observations()
        tempo = [o for o in analysed if o.has_tempo]
        keyed = [o for o in analysed if o.has_key]
        rows: list[dict[str, Any]] = []
        if tempo:
            rows += tempo_rows([o.row.bpm or 0.0 for o in tempo], {"raw": [o.song.bpm for o in tempo]})
        if keyed:
            rows += key_rows([o.row.key or "" for o in keyed], {"raw": [o.song.key for o in keyed]})
        return headline_view(rows, WINDOW_METRICS)

    def tempo_pairs(self, calibrated: bool = False) -> list[tuple[float, float]]:
        """(reference, detected) BPM of the analysed matched songs, for a scatter plot."""
        profile = self.applied_profile if calibrated else None
        pairs = []
        for o in self.analysed_observations():
            if o.has_tempo:
                detected = profile.calibrate_bpm(o.song.bpm, o.song.tempo_evidence) if profile else o.song.bpm
                if detected:
                    pairs.append((float(o.row.bpm or 0.0), float(detected)))
        return pairs

    def key_relation_counts(self, calibrated: bool = False) -> dict[str, int]:
        from engine.references.scoring import key_relation

        profile = self.applied_profile if calibrated else None
        counts: dict[str, int] = {}
        for o in self.analysed_observations():
            if o.has_key:
                key = profile.calibrate_key(o.song.key) if profile else o.song.key
                relation = key_relation(o.row.key or "", key)
                counts[relation] = counts.get(relation, 0) + 1
        return counts

    # -- the window's export ---------------------------------------------------------------------
    def export_window(
        self,
        directory: str | os.PathLike[str],
        results: Sequence[SongResult],
        settings: Any,
        summary: Any,
        bpm_range: Any = None,
    ) -> list[Path]:
        """Write the calibration file set of the songs in ``results`` into ``directory``; returns the files.

        ``bpm_range`` (the window's BPM range preference) only fills ``results.csv``'s ``bpm_in_range``.

        The session itself is not changed (a failed export loses nothing and can be retried): the
        export is written from a copy matched over exactly the exported songs.
        """
        out = Path(directory)
        plan = CalibrationPlan(
            reference=self.reference,
            reference_paths=list(self.reference_paths),
            use_tags=self.use_tags,
            fuzzy=self.fuzzy,
            manual=list(self.manual),
            min_songs=self.min_songs,
            profile=self.applied_profile if self.profile is not None else None,
            profile_path=self.profile_path if self.profile is not None and self.apply_profile else None,
            started=self.started,
            verdicts=self.verdicts,
            corrections_path=self.corrections_path,
            key_notation=self.key_notation,
        )
        if self.reference is not None and results:
            plan.matched = self.match([AnalysedSong.from_result(r) for r in results])
            plan.calibration = self.calibration
        plan.export(out, results, settings, summary, command="window", bpm_range=bpm_range)
        if self.manual:  # beside the exports, so `calibrate DIR` finds the review work
            save_pairs(out / PAIRS_FILE, self.manual)
        return [out / name for name in (*EXPORT_FILES, *EXPORT_EXTRAS) if (out / name).exists()]


__all__ = [
    "HEADLINE",
    "CalibratedValue",
    "CalibrationSession",
    "MatchCounts",
    "MetricRow",
    "ReferenceValue",
    "calibrated_value",
    "song_for",
]
