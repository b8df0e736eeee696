"""Reference verdicts: saved crash-safely, read back, and respected by scoring, fitting and the exports."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.analysis.keys import KEY_LABELS
from engine.calibration.corrections import FILE_NAME, Correction, CorrectionLog, CorrectionsError, load_verdicts
from engine.calibration.dataset import AnalysedSong
from engine.calibration.fit import fit_calibration
from engine.calibration.workflow import match_reference
from engine.references.keynotation import format_key, parse_key
from engine.references.readers import load_references

MAIN = Path(__file__).resolve().parent.parent / "main.py"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


# -- the log file ----------------------------------------------------------------------------------
def test_verdicts_are_appended_and_the_last_row_per_field_wins(tmp_path):
    log = CorrectionLog(tmp_path / FILE_NAME)
    log.append(Correction("/m/a.wav", "bpm", "60", "120", "half-time export"))
    log.append(Correction("/m/b.wav", "exclude", "", "yes", "live recording, tempo drifts"))
    log.append(Correction("/m/a.wav", "bpm", "60", "", "undo"))  # withdrawn
    log.append(Correction("/m/a.wav", "bpm", "60", "180", "3/2"))
    text = (tmp_path / FILE_NAME).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "path,field,reference,corrected,reason,time"
    assert len(text.splitlines()) == 5  # one header, four rows: nothing rewritten
    verdicts = load_verdicts(tmp_path / FILE_NAME)
    assert verdicts.get("/m/a.wav", "bpm").corrected == "180"
    assert verdicts.excluded("/m/b.wav") and not verdicts.excluded("/m/a.wav")
    assert verdicts.get("/m/b.wav", "exclude").reason == "live recording, tempo drifts"
    assert verdicts.get("/m/a.wav", "bpm").time  # stamped when saved
    log.append(Correction("/m/b.wav", "exclude", "", "", "undone"))  # withdrawn as the last word
    assert not load_verdicts(tmp_path / FILE_NAME).excluded("/m/b.wav")


def test_a_torn_last_row_is_skipped_and_the_next_verdict_still_lands(tmp_path):
    path = tmp_path / FILE_NAME
    log = CorrectionLog(path)
    log.append(Correction("/m/a.wav", "bpm", "60", "120", ""))
    with open(path, "a", encoding="utf-8") as handle:  # a crash in the middle of a row
        handle.write("/m/b.wav,key,A minor")
    log.append(Correction("/m/c.wav", "confirmed", "", "yes", "listened"))
    verdicts = load_verdicts(path)
    assert verdicts.get("/m/a.wav", "bpm").corrected == "120"
    assert verdicts.get("/m/c.wav", "confirmed") is not None
    assert verdicts.get("/m/b.wav", "key") is None
    assert any("line 3" in w and "incomplete" in w for w in verdicts.warnings), verdicts.warnings


def test_a_formula_looking_reason_is_stored_as_text_and_read_back_unchanged(tmp_path):
    log = CorrectionLog(tmp_path / FILE_NAME)
    log.append(Correction("=cmd.wav", "exclude", "", "yes", "=1+1 is not a reason"))
    rows = read_csv(tmp_path / FILE_NAME)
    assert rows[0]["reason"].startswith("'") and rows[0]["path"].startswith("'")
    verdict = load_verdicts(tmp_path / FILE_NAME).get("=cmd.wav", "exclude")
    assert verdict.reason == "=1+1 is not a reason"


def test_unknown_fields_and_foreign_files_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match='unknown verdict field "tempo"'):
        Correction("/m/a.wav", "tempo", "", "1")
    other = tmp_path / "other.csv"
    other.write_text("file,bpm\na.wav,120\n", encoding="utf-8")
    with pytest.raises(CorrectionsError, match="not a corrections file"):
        load_verdicts(other)
    bad = tmp_path / FILE_NAME
    bad.write_text("path,field,reference,corrected,reason,time\n/m/a.wav,tempo,1,2,,\n", encoding="utf-8")
    verdicts = load_verdicts(bad)
    assert len(verdicts) == 0 and "line 2" in verdicts.warnings[0]


# -- scoring and fitting use the corrected reference -----------------------------------------------
def _dataset(tmp_path: Path, n: int = 8) -> tuple[list[AnalysedSong], Path]:
    """``n`` songs detected at 120 BPM in A minor; the reference says half time for the first three."""
    songs = [AnalysedSong(f"/m/s{i}.wav", "done", 120.0, "A minor") for i in range(n)]
    lines = ["file,bpm,key"] + [f"/m/s{i}.wav,{60 if i < 3 else 120},A minor" for i in range(n)]
    ref = tmp_path / "truth.csv"
    ref.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return songs, ref


def test_corrected_bpm_is_scored_and_excluded_songs_leave_the_fit(tmp_path):
    songs, ref = _dataset(tmp_path)
    log = CorrectionLog(tmp_path / FILE_NAME)
    for i in range(3):
        log.append(Correction(f"/m/s{i}.wav", "bpm", "60", "120", "half-time export"))
    log.append(Correction("/m/s7.wav", "exclude", "", "yes", "a medley"))
    matched = match_reference(songs, load_references([ref]), verdicts=load_verdicts(tmp_path / FILE_NAME))
    assert [o.row.bpm for o in matched.given_observations][:3] == [60.0, 60.0, 60.0]
    assert [o.row.bpm for o in matched.observations] == [120.0] * 7
    assert "/m/s7.wav" not in {o.path for o in matched.observations}
    calibration = fit_calibration(matched.observations, {}, (), 3)
    assert calibration.profile.n_songs == 7
    assert calibration.profile.metrics["raw"]["tempo_acc1"] == 1.0


def test_an_unreadable_corrected_value_is_reported_for_that_song_only(tmp_path):
    songs, ref = _dataset(tmp_path, 4)
    log = CorrectionLog(tmp_path / FILE_NAME)
    log.append(Correction("/m/s0.wav", "bpm", "60", "fast", ""))
    log.append(Correction("/m/s1.wav", "key", "A minor", "H moll", ""))
    log.append(Correction("/m/s2.wav", "bpm", "60", "120", ""))
    matched = match_reference(songs, load_references([ref]), verdicts=load_verdicts(tmp_path / FILE_NAME))
    assert [o.row.bpm for o in matched.observations] == [60.0, 60.0, 120.0, 120.0]
    problems = matched.applied.problems
    assert any("/m/s0.wav" in p and '"fast"' in p for p in problems)
    assert any("/m/s1.wav" in p and "German B" in p for p in problems)


def test_calibrate_with_corrections_reports_both_references(tmp_path):
    songs, ref = _dataset(tmp_path, 8)
    out = tmp_path / "run"
    out.mkdir()
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "file", "status", "bpm", "key"])
        for s in songs:
            writer.writerow([s.path, Path(s.path).name, "done", s.bpm, s.key])
    corrections = tmp_path / FILE_NAME
    log = CorrectionLog(corrections)
    log.append(Correction("/m/s0.wav", "bpm", "60", "120", "half-time export"))
    log.append(Correction("/m/s1.wav", "exclude", "", "yes", "not this song"))
    log.append(Correction("/m/s3.wav", "key", "A minor", "8B", "relative"))
    args = ["--reference", str(ref), "--corrections", str(corrections), "--min-songs", "3"]
    done = subprocess.run(
        [sys.executable, str(MAIN), "calibrate", str(out), *args, "--key-notation", "camelot"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "verdicts: 2 reference values corrected, 1 songs excluded" in done.stderr
    metrics = {r["metric"]: r for r in read_csv(out / "metrics.csv")}
    # as given: 5 of 8 at 120 are right (3 half-time rows); corrected: s0 fixed, s1 gone, s2 still half time
    assert metrics["tempo_acc1"]["n_as_given"] == "8" and float(metrics["tempo_acc1"]["raw_as_given"]) == 5 / 8
    assert metrics["tempo_acc1"]["n"] == "7" and float(metrics["tempo_acc1"]["raw"]) == pytest.approx(6 / 7, abs=1e-4)
    assert float(metrics["key_exact"]["raw_as_given"]) == 1.0
    assert float(metrics["key_exact"]["raw"]) == pytest.approx(6 / 7, abs=1e-4)
    rows = {r["path"]: r for r in read_csv(out / "comparison.csv")}
    assert len(rows) == 8  # the excluded song is still listed, marked
    s0, s1, s3 = rows["/m/s0.wav"], rows["/m/s1.wav"], rows["/m/s3.wav"]
    assert (s0["ref_bpm"], s0["ref_bpm_given"], s0["ref_bpm_corrected"], s0["ref_bpm_used"]) == (
        "120.0",
        "60.0",
        "120.0",
        "corrected",
    )
    assert rows["/m/s2.wav"]["ref_bpm_used"] == "given" and rows["/m/s2.wav"]["ratio_class"] == "double"
    assert s1["excluded"] == "1" and "not this song" in s1["verdict_reason"]
    assert (s3["ref_key"], s3["ref_key_given"], s3["ref_key_used"]) == ("C major", "A minor", "corrected")
    assert (s3["key_display"], s3["ref_key_display"]) == ("8A", "8B")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["calibration"]["verdicts"]["excluded"] == 1
    assert run["calibration"]["corrections_file"] == str(corrections)


def test_calibrate_refuses_a_missing_corrections_file(tmp_path):
    _songs, ref = _dataset(tmp_path, 4)
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.csv").write_text("path,status,bpm,key\n/m/s0.wav,done,120,A minor\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(MAIN), "calibrate", str(out), "--reference", str(ref), "--corrections", "nope.csv"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 2 and "corrections file nope.csv not found" in done.stderr


# -- key notation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "notation", "shown"),
    [
        ("A minor", "camelot", "8A"),
        ("C major", "camelot", "8B"),
        ("C minor", "camelot", "5A"),
        ("E major", "camelot", "12B"),
        ("D minor", "camelot", "7A"),
        ("A minor", "open key", "1m"),
        ("C major", "open key", "1d"),
        ("D minor", "open key", "12m"),
        ("G major", "open key", "2d"),
        ("Bb minor", "sharps", "A# minor"),
        ("C# major", "flats", "Db major"),
        ("F# minor", "flats", "Gb minor"),
        ("8A", "classic", "A minor"),
        ("", "camelot", ""),
        ("not a key", "camelot", "not a key"),
    ],
)
def test_format_key_writes_each_notation(key, notation, shown):
    assert format_key(key, notation) == shown


@pytest.mark.parametrize("notation", ["classic", "sharps", "flats", "camelot", "open key"])
def test_every_key_survives_a_round_trip_through_each_notation(notation):
    assert [parse_key(format_key(k, notation)) for k in KEY_LABELS] == list(KEY_LABELS)
