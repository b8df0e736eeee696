"""Bad reference files, end to end through ``calibrate``: per-row errors shown, the good rows used.

The parser's handling of each problem on its own (BOM, ``;``, decimal commas, duplicates,
``BPM "12o"``, ``H minor``, empty and binary files, missing columns) is unit-tested in
``tests/test_reference.py``; here they arrive all at once, as a user's messy export does, and
what the user sees (and what stays on disk) is checked.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.exports import write_results
from engine.frontends.cli import main
from engine.results import SongResult, SongStatus

SONGS = [
    ("a", 120, "A minor"),
    ("b", 99, "C major"),
    ("c", 101, "B minor"),
    ("d", 90, "D major"),
    ("e", 128, "G major"),
]
MESSY = (
    "\ufefffile;BPM;Key\n"  # BOM, semicolons
    "a.wav;120;A minor\n"
    "b.wav;12o;C major\n"  # bad BPM: the key still counts
    "c.wav;100;H minor\n"  # German key name: the BPM still counts
    "a.wav;120;A minor\n"  # duplicate row
    "d.wav;90\n"  # missing cell
    "e.wav;128,5;Em\n"  # decimal comma, short key
)


@pytest.fixture
def analysed(tmp_path) -> Path:
    """A folder as ``analyze`` leaves it (results.csv of five songs); no audio needed to calibrate."""
    folder = tmp_path / "run"
    results = [
        SongResult(str(folder / f"{name}.wav"), SongStatus.DONE, duration_s=30.0, bpm=bpm, key=key, chunks_ok=1)
        for name, bpm, key in SONGS
    ]
    write_results(folder, results)
    return folder


def test_messy_reference_reports_each_bad_row_and_uses_the_good_ones(analysed, capsys):
    reference = analysed.parent / "messy.csv"
    reference.write_text(MESSY, encoding="utf-8")
    code = main(["calibrate", str(analysed), "--reference", str(reference), "--min-songs", "3"])
    err = capsys.readouterr().err
    assert code == 0, err  # the good rows are enough to fit (min-songs 3): 4 BPMs, 3 keys
    assert "reference: 5 rows loaded, 3 problems:" in err
    assert 'messy.csv: line 3: BPM "12o" is not a number' in err
    assert 'messy.csv: line 4: key "H minor"' in err
    assert "messy.csv: line 5: duplicate of line 2; ignored" in err
    assert "matched 5 of 5 songs" in err
    assert "Traceback" not in err
    # calibration used exactly the good values: BPMs of a, c, d, e (b's is bad) and keys of a, b, e
    # (c's "H minor" is bad, d has none; the duplicate of a is ignored)
    with open(analysed / "metrics.csv", encoding="utf-8-sig") as handle:
        metrics = {r["metric"]: r for r in csv.DictReader(handle)}
    assert metrics["tempo_acc1"]["n"] == "4" and metrics["key_exact"]["n"] == "3"
    # c.wav is 101 BPM against the row's 100: within 4 %; e's 128,5 is read as 128.5; e's "Em" is
    # the relative minor of the engine's G major, so 2 of the 3 keys are exact
    assert float(metrics["tempo_acc1"]["raw"]) == 1.0 and float(metrics["key_exact"]["raw"]) == pytest.approx(
        2 / 3, abs=1e-4
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "reference file is empty"),
        (bytes(range(256)) * 8, "is not text (binary data)"),
        (b"file,comment\na.wav,nice\n", "no BPM or key column"),
        (b"\xef\xbb\xbfartist;album\nx;y\n", "no column names the song"),
    ],
)
def test_unusable_reference_is_one_clear_error_and_results_stay_intact(analysed, capsys, content, message):
    reference = analysed.parent / "bad.csv"
    reference.write_bytes(content)
    before = {p.name: p.read_bytes() for p in analysed.iterdir()}
    code = main(["calibrate", str(analysed), "--reference", str(reference)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.startswith("error: ")
    assert {p.name: p.read_bytes() for p in analysed.iterdir()} == before
