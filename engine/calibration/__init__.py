"""Calibration: fit validated corrections from songs whose true BPM and key are known.

Typical use (the CLI and the window do exactly this)::

    refs = load_reference("truth.csv")
    songs = [AnalysedSong.from_result(r) for r in results]
    report = match_songs([SongIdentity.from_path(s.path) for s in songs], refs.rows)
    calibration = fit_calibration(observations(songs, refs.rows, report), settings, refs.fingerprints)
    save_profile(calibration.profile, "profile.json")
"""

from engine.calibration.dataset import AnalysedSong, Observation, observations
from engine.calibration.fit import MIN_SONGS, Calibration, CalibrationError, fit_calibration
from engine.calibration.profile import Profile, ProfileError, load_profile, save_profile

__all__ = [
    "MIN_SONGS",
    "AnalysedSong",
    "Calibration",
    "CalibrationError",
    "Observation",
    "Profile",
    "ProfileError",
    "fit_calibration",
    "load_profile",
    "observations",
    "save_profile",
]
