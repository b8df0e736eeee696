"""The calibration profile: a JSON file of validated corrections that later runs apply.

It records what it was fitted on (engine version and settings, song count, SHA-256 and row
count of each reference file) and every correction with its statistics, so a profile read
months later still says how much to trust it. Only corrections that improved the
cross-validated score are in ``corrections``; the rejected ones are listed under ``stages``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from engine.calibration import feature_rules, key_rules, octave_rules, tempo_rules
from engine.errors import EngineError
from engine.version import APP_VERSION, ENGINE_VERSION

FORMAT = "calibration-studio-profile"
FORMAT_VERSION = 1


class ProfileError(EngineError):
    """A profile file cannot be used; the message says why."""


@dataclass
class Profile:
    n_songs: int
    tempo: list[dict[str, Any]] = field(default_factory=list)
    key: list[dict[str, Any]] = field(default_factory=list)
    features: list[dict[str, Any]] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    cross_validation: dict[str, Any] = field(default_factory=dict)
    references: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    n_tempo: int = 0
    n_key: int = 0
    min_songs: int = 0
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    app_version: str = APP_VERSION
    engine_version: str = ENGINE_VERSION

    # -- applying ---------------------------------------------------------------------------------
    def calibrate_bpm(self, bpm: float | None, evidence: Sequence[float] | np.ndarray | None = None) -> float | None:
        """Calibrated BPM; with the song's tempo ``evidence`` an ``octave_choice`` correction can act on it."""
        return tempo_rules.apply_one_value(self.tempo, bpm, None if evidence is None else np.asarray(evidence))

    def calibrate_key(self, key: str) -> str:
        return key_rules.apply_one_value(self.key, key)

    def calibrate_features(self, measurements: Mapping[str, float | None]) -> dict[str, float | None]:
        return feature_rules.apply(self.features, measurements)

    @property
    def feature_names(self) -> list[str]:
        return [c["feature"] for c in self.features]

    def warnings_for(self, engine_version: str, settings: dict[str, Any]) -> list[str]:
        """Why applying this profile to a run may be unsound (it was fitted on different analysis)."""
        notes = []
        if engine_version != self.engine_version:
            notes.append(
                f"profile was fitted with engine {self.engine_version}, this run uses {engine_version}; refit it"
            )
        differing = sorted(k for k in set(settings) | set(self.settings) if settings.get(k) != self.settings.get(k))
        if self.settings and differing:
            notes.append(f"profile was fitted with different analysis settings ({', '.join(differing)})")
        return notes

    # -- the file ---------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": self.created,
            "app_version": self.app_version,
            "engine_version": self.engine_version,
            "settings": self.settings,
            "n_songs": self.n_songs,
            "n_tempo": self.n_tempo,
            "n_key": self.n_key,
            "min_songs": self.min_songs,
            "cross_validation": self.cross_validation,
            "corrections": {"tempo": self.tempo, "key": self.key, "features": self.features},
            "stages": self.stages,
            "metrics": self.metrics,
            "references": self.references,
        }

    @classmethod
    def from_json(cls, data: Any) -> Profile:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ProfileError("not a Calibration Studio profile (no 'format' marker)")
        version = data.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ProfileError(f"profile format version {version!r} is newer than this app reads ({FORMAT_VERSION})")
        corrections = data.get("corrections") or {}
        profile = cls(
            n_songs=int(data.get("n_songs", 0)),
            tempo=list(corrections.get("tempo") or []),
            key=list(corrections.get("key") or []),
            features=list(corrections.get("features") or []),
            stages=list(data.get("stages") or []),
            metrics=dict(data.get("metrics") or {}),
            cross_validation=dict(data.get("cross_validation") or {}),
            references=list(data.get("references") or []),
            settings=dict(data.get("settings") or {}),
            n_tempo=int(data.get("n_tempo", 0)),
            n_key=int(data.get("n_key", 0)),
            min_songs=int(data.get("min_songs", 0)),
            created=str(data.get("created", "")),
            app_version=str(data.get("app_version", "")),
            engine_version=str(data.get("engine_version", "")),
        )
        profile._check()
        return profile

    def _check(self) -> None:
        """Apply every correction once so a damaged file fails on load, not halfway through a run."""
        try:
            self.calibrate_bpm(120.0)
            self.calibrate_bpm(120.0, octave_rules.evidence_row(120.0, [(120.0, 0.5)], 4.0, 0.5, 0.0))
            self.calibrate_key("A minor")
            self.calibrate_features({c.get("source", ""): 0.0 for c in self.features})
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"profile has a malformed correction: {type(exc).__name__}: {exc}") from None


def save_profile(profile: Profile, path: str | os.PathLike[str]) -> Path:
    from engine.csv_io import write_json

    write_json(path, profile.to_json())
    return Path(path)


def load_profile(path: str | os.PathLike[str]) -> Profile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"profile not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read profile {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"profile {path} is not valid JSON: {exc}") from None
    try:
        return Profile.from_json(data)
    except ProfileError as exc:
        raise ProfileError(f"{path}: {exc}") from None
