"""From analysed songs and reference files to matched observations: the steps every front end runs.

The command line and the window call the same functions, so a calibration made in one is
the calibration the other would make. Reference rows from CSV files are matched first; the
songs' own tags only fill in for songs no CSV row matched (a hand-checked CSV outranks a tag
some other program wrote).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.calibration.corrections import Applied, Verdicts, apply_verdicts
from engine.calibration.dataset import AnalysedSong, Observation, observations
from engine.references.matching import DEFAULT_FUZZY, Candidate, Match, MatchReport, SongIdentity, match_songs
from engine.references.pairs import ManualPair
from engine.references.readers import ReferenceRow, ReferenceSet, reference_from_tags


@dataclass
class Matched:
    """Songs paired with reference rows, with everything that did not pair."""

    songs: list[AnalysedSong]
    rows: list[ReferenceRow]
    report: MatchReport
    reference: ReferenceSet
    observations: list[Observation] = field(default_factory=list)
    """What scoring and fitting use: the reference corrected by the user's verdicts, excluded songs left out."""
    verdicts: Verdicts | None = None
    applied: Applied | None = None

    @property
    def given_observations(self) -> list[Observation]:
        """Every matched song with its reference as given (before verdicts; excluded songs included)."""
        return self.applied.given if self.applied is not None else self.observations

    def apply_verdicts(self, verdicts: Verdicts | None) -> None:
        """Re-apply (new) verdicts without matching again: a verdict in the window is a cheap refit."""
        self.verdicts = verdicts
        self.applied = apply_verdicts(self.given_observations, verdicts)
        self.observations = self.applied.observations

    @property
    def unmatched_songs(self) -> list[AnalysedSong]:
        return [self.songs[i] for i in self.report.unmatched_songs]

    @property
    def unmatched_rows(self) -> list[ReferenceRow]:
        return [self.rows[i] for i in self.report.unmatched_rows if self.rows[i].source != "tags"]

    def row_for(self, song_index: int) -> tuple[ReferenceRow, str] | None:
        match = self.report.by_song().get(song_index)
        return (self.rows[match.row], match.method) if match else None

    def match_for(self, song_index: int) -> Match | None:
        return self.report.by_song().get(song_index)

    def candidates_for(self, song_index: int) -> list[tuple[ReferenceRow, Candidate]]:
        """An unmatched song's ranked candidate rows, each with why it was not taken."""
        return [(self.rows[c.row], c) for c in self.report.candidates.get(song_index, [])]


def match_reference(
    songs: Sequence[AnalysedSong],
    reference: ReferenceSet,
    use_tags: bool = False,
    fuzzy_threshold: float | None = DEFAULT_FUZZY,
    read_song_tags: bool = True,
    manual: Sequence[ManualPair] = (),
    verdicts: Verdicts | None = None,
) -> Matched:
    """Match reference rows to songs (hand-made ``manual`` pairs first), then (``use_tags``) each remaining
    song to its own tags; ``verdicts`` (:mod:`engine.calibration.corrections`) then correct reference values
    and exclude songs. The window and the command line both call this, with the same defaults."""
    songs = list(songs)
    rows = list(reference.rows)
    # tags are read only when some row names a song by title: a file-only reference never needs them
    read_song_tags = read_song_tags and any(row.title for row in rows)
    identities = [SongIdentity.from_path(s.path, use_tags=read_song_tags) for s in songs]
    report = match_songs(identities, rows, fuzzy_threshold, manual)
    combined = ReferenceSet(
        rows=rows, errors=list(reference.errors), fingerprints=list(reference.fingerprints), columns=reference.columns
    )
    if use_tags and report.unmatched_songs:
        remaining = [i for i in report.unmatched_songs if i not in report.declined]
        tags = reference_from_tags(songs[i].path for i in remaining)
        for row in tags.rows:  # a tag row's line is its song's position in ``remaining``
            report.matches.append(Match(remaining[row.line - 1], len(combined.rows), "tags"))
            combined.rows.append(row)
        combined.errors.extend(tags.errors)
        matched_songs = {m.song for m in report.matches}
        report.unmatched_songs = [i for i in report.unmatched_songs if i not in matched_songs]
        report.matches.sort(key=lambda m: m.song)
    matched = Matched(songs, combined.rows, report, combined)
    matched.observations = observations(songs, combined.rows, report)
    matched.apply_verdicts(verdicts)
    return matched
