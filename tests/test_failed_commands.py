"""A command that fails changes nothing: the results folder is byte for byte as it was (issue 26, part 1).

Each test runs the real ``main.py`` on a folder an ``analyze --reference`` run wrote, makes the
command fail in one way a user meets (a reference that cannot be fitted, a file in the way that
cannot be replaced, a folder that cannot be written), and compares every file's bytes before and
after. The staging itself (:mod:`engine.staging`) is tested directly at the end.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.csv_io import ExportError, append_csv_row, read_csv_rows, write_csv, write_json
from engine.exports import write_results
from engine.results import SongResult, SongStatus
from engine.staging import STAGING_PREFIX, staged_outputs
from tests.audio import song
from tests.reliability import as_ordinary_user, fill_disk, permissions_can_be_denied, run_cli, small_tmpfs

DETECTED = {"a.wav": (120.0, 120.0), "b.wav": (100.0, 50.2), "c.wav": (90.0, 180.4), "d.wav": (140.0, 139.0)}
"""Song -> (reference BPM, "detected" BPM): two octave errors, so the fit has something to learn."""


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` (hidden ones too): a file's bytes, ``None`` for a folder."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """A results folder with a fitted calibration in it, made by the real ``calibrate`` command.

    ``calibrate`` reads results.csv, never the audio, and its outputs are what is under test, so the
    results.csv is written by the engine's own writer instead of an analysis (seconds instead of a
    minute on a busy machine); ``analyze`` gets its own real run below.
    """
    root = tmp_path_factory.mktemp("failed-commands")
    out = root / "out"
    write_results(
        out,
        [
            SongResult(str(root / "songs" / name), SongStatus.DONE, duration_s=180.0, bpm=detected, key="A minor")
            for name, (_, detected) in DETECTED.items()
        ],
    )
    truth = root / "truth.csv"
    truth.write_text("file,bpm,key\n" + "".join(f"{n},{r:g},A minor\n" for n, (r, _) in DETECTED.items()))
    done = run_cli("calibrate", str(out), "--reference", str(truth), "--min-songs", "3")
    assert done.returncode == 0, done.stderr
    assert (out / "profile.json").is_file() and (out / "run.json").is_file()
    return root, out, truth


@pytest.fixture
def results(calibrated, tmp_path):
    """A private copy of the calibrated folder, and the reference it was calibrated with."""
    _root, out, truth = calibrated
    folder = tmp_path / "out"
    shutil.copytree(out, folder)
    return folder, truth


def test_calibrate_that_cannot_fit_changes_nothing_and_the_next_calibrate_keeps_the_old_reference(results, tmp_path):
    folder, truth = results
    broken = tmp_path / "broken.csv"
    broken.write_text("file,bpm\na.wav,120\nb.wav,100\n", encoding="utf-8")  # 2 songs: too few to fit
    before = snapshot(folder)
    failed = run_cli(
        "calibrate", str(folder), "--reference", str(broken), "--min-songs", "3", "--out", str(tmp_path / "p.json")
    )
    assert failed.returncode == 1, failed.stderr
    assert "nothing in" in failed.stderr and "was changed" in failed.stderr
    assert snapshot(folder) == before
    assert not (tmp_path / "p.json").exists()
    again = run_cli("calibrate", str(folder), "--min-songs", "3")  # no --reference: the one run.json names
    assert again.returncode == 0, again.stderr
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert [f["path"] for f in run["calibration"]["reference_files"]] == [str(truth)]


def test_calibrate_whose_last_file_cannot_be_replaced_puts_the_others_back(results):
    """``run.json`` is written last; a folder in its place fails the swap after every CSV was swapped in."""
    folder, truth = results
    (folder / "run.json").unlink()
    (folder / "run.json").mkdir()  # os.replace cannot put a file over a folder, on any system
    before = snapshot(folder)
    failed = run_cli("calibrate", str(folder), "--reference", str(truth), "--min-songs", "3")
    assert failed.returncode == 1
    assert "cannot write" in failed.stderr and "run.json" in failed.stderr and "Traceback" not in failed.stderr
    assert snapshot(folder) == before


def test_analyze_whose_outputs_fail_partway_changes_nothing(results, tmp_path):
    folder, truth = results
    song(tmp_path / "songs" / "a.wav", 120.0, 4.0)
    (folder / "metrics.csv").unlink()
    (folder / "metrics.csv").mkdir()  # results.csv, chunks.csv and comparison.csv come before it
    before = snapshot(folder)
    failed = run_cli(
        "analyze",
        str(tmp_path / "songs"),
        "--out",
        str(folder),
        "--reference",
        str(truth),
        "--workers",
        "1",
        "--no-cache",
    )
    assert failed.returncode == 1
    assert "metrics.csv" in failed.stderr and "Traceback" not in failed.stderr
    assert snapshot(folder) == before


def test_calibrate_with_a_profile_path_that_cannot_be_written_changes_nothing(results, tmp_path):
    if not permissions_can_be_denied():
        pytest.skip("this machine cannot run a child without root's permission override")
    folder, truth = results
    changed = tmp_path / "changed.csv"  # other reference values: every file would change
    changed.write_text(truth.read_text().replace("140,", "141,"))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    before = snapshot(folder)
    try:
        failed = run_cli(
            "calibrate",
            str(folder),
            "--reference",
            str(changed),
            "--min-songs",
            "3",
            "--out",
            str(locked / "p.json"),
            preexec=as_ordinary_user(),
        )
    finally:
        locked.chmod(0o755)
    assert failed.returncode == 1
    assert f"cannot write to {locked}: Permission denied" in failed.stderr
    assert snapshot(folder) == before and list(locked.iterdir()) == []


def test_calibrate_on_a_disk_that_fills_partway_changes_nothing(results, tmp_path):
    """A real full disk (a small tmpfs): the staged files run out of room after the first few.

    Staging needs room for the new files beside the old ones until the swap; before, each file was
    replaced on its own and this run "succeeded" with whatever fitted (so this test was red too).
    """
    folder, truth = results
    changed = tmp_path / "changed.csv"
    changed.write_text(truth.read_text().replace("140,", "141,"))
    with small_tmpfs(tmp_path / "disk", "128k") as disk:
        shutil.copytree(folder, disk / "out")
        filler = fill_disk(disk, leave=3 * 4096)  # room for three of the eight files
        before = snapshot(disk / "out")
        failed = run_cli("calibrate", str(disk / "out"), "--reference", str(changed), "--min-songs", "3")
        assert failed.returncode == 1
        assert "No space left on device" in failed.stderr and "Traceback" not in failed.stderr
        assert snapshot(disk / "out") == before
        filler.unlink()
        retried = run_cli("calibrate", str(disk / "out"), "--reference", str(changed), "--min-songs", "3")
        assert retried.returncode == 0, retried.stderr


# -- the staging itself ----------------------------------------------------------------------------
def test_staged_files_appear_only_on_commit_and_all_together(tmp_path):
    write_csv(tmp_path / "old.csv", ["a"], [{"a": 1}])
    before = snapshot(tmp_path)
    with staged_outputs() as stage:
        write_csv(tmp_path / "old.csv", ["a"], [{"a": 2}])
        write_json(tmp_path / "new" / "run.json", {"x": 1})
        added = snapshot(tmp_path).keys() - before.keys()
        assert {e for e in added if STAGING_PREFIX not in e} == {"new"}  # the folder to stage run.json in
        assert read_csv_rows(tmp_path / "old.csv")[1] == [{"a": "1"}]
        stage.commit()
    assert read_csv_rows(tmp_path / "old.csv")[1] == [{"a": "2"}]
    assert json.loads((tmp_path / "new" / "run.json").read_text()) == {"x": 1}
    assert not [p for p in tmp_path.rglob("*") if STAGING_PREFIX in p.name]


def test_a_block_left_without_commit_changes_nothing_not_even_new_folders(tmp_path):
    write_csv(tmp_path / "old.csv", ["a"], [{"a": 1}])
    before = snapshot(tmp_path)
    with pytest.raises(RuntimeError), staged_outputs():
        write_csv(tmp_path / "old.csv", ["a"], [{"a": 2}])
        write_json(tmp_path / "deep" / "new" / "run.json", {})
        raise RuntimeError("the command failed")
    assert snapshot(tmp_path) == before


def test_appends_inside_a_stage_build_on_the_staged_version(tmp_path):
    history = tmp_path / "history.csv"
    append_csv_row(history, ["n"], {"n": 1})
    with staged_outputs() as stage:
        append_csv_row(history, ["n"], {"n": 2})
        append_csv_row(history, ["n"], {"n": 3})
        stage.commit()
    assert [r["n"] for r in read_csv_rows(history)[1]] == ["1", "2", "3"]


def test_a_nested_stage_is_committed_by_the_outer_one_only(tmp_path):
    with staged_outputs() as outer:
        with staged_outputs() as inner:
            write_json(tmp_path / "a.json", 1)
            inner.commit()
        assert not (tmp_path / "a.json").exists()
        outer.commit()
    assert (tmp_path / "a.json").read_text() == "1"


def test_a_failed_swap_puts_back_what_it_replaced(tmp_path):
    write_json(tmp_path / "first.json", "old")
    (tmp_path / "second.json").mkdir()  # cannot be replaced by a file
    before = snapshot(tmp_path)
    with pytest.raises(ExportError, match=r"second\.json.*nothing was changed"), staged_outputs() as stage:
        write_json(tmp_path / "first.json", "new")
        write_json(tmp_path / "second.json", "new")
        write_json(tmp_path / "third.json", "new")
        stage.commit()
    assert snapshot(tmp_path) == before
