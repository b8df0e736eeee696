"""The command line as a new user meets it (issue 25, item 5): one key-notation option, help that lists
every command and every reference format, and an undo that says what it did."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from engine.csv_io import write_csv
from engine.exports import write_results
from engine.frontends.cli import COMMANDS, build_parser
from engine.frontends.cli import main as cli_main
from engine.references.tags import read_tags
from engine.results import SongResult, SongStatus
from tests.tagfiles import make

MAIN = Path(__file__).resolve().parent.parent / "main.py"
KEY_COMMANDS = ("analyze", "calibrate", "tag")
"""The commands that show or write keys; ``doctor`` shows none."""
MINIMAL_ARGS = {"analyze": ["song.wav", "--out", "o"], "calibrate": ["o"], "tag": ["o"]}


def command_help(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines wherever the terminal is


@pytest.mark.parametrize("command", KEY_COMMANDS)
def test_every_command_that_shows_keys_has_one_key_notation_option(command, capsys):
    assert "--key-notation {classic,camelot,openkey}" in command_help(command, capsys)
    assert "--notation" not in command_help(command, capsys).replace("--key-notation", "")

    def parsed(*option: str) -> str:
        return build_parser().parse_args([command, *MINIMAL_ARGS[command], *option]).key_notation

    assert parsed() == "classic"
    assert parsed("--key-notation", "openkey") == "openkey"
    assert parsed("--key-notation", "open key") == "openkey"  # analyze's and calibrate's earlier value
    assert parsed("--notation", "camelot") == "camelot"  # tag's earlier option, hidden
    with pytest.raises(SystemExit):
        parsed("--key-notation", "german")
    assert "is not a key notation (choose from classic, camelot, openkey)" in capsys.readouterr().err


def test_calibrate_writes_the_chosen_notation_given_in_the_new_spelling(tmp_path):
    songs = {"a.wav": 120.0, "b.wav": 100.0, "c.wav": 90.0}
    write_results(
        tmp_path,
        [
            SongResult(str(tmp_path / n), SongStatus.DONE, duration_s=60.0, bpm=b, key="A minor")
            for n, b in songs.items()
        ],
    )
    reference = tmp_path / "truth.csv"
    reference.write_text("file,bpm,key\n" + "".join(f"{n},{b:g},C major\n" for n, b in songs.items()))
    command = ["calibrate", str(tmp_path), "--reference", str(reference), "--min-songs", "3"]
    done = subprocess.run(
        [sys.executable, str(MAIN), *command, "--key-notation", "openkey"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "comparison.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["key_display"], r["ref_key_display"]) for r in rows} == {("1m", "1d")}  # Open Key, by hand


def test_main_help_lists_every_command():
    shown = subprocess.run([sys.executable, str(MAIN), "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    listed = {line.split()[0] for line in shown.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert {*COMMANDS, "test"} <= listed
    import main

    assert set(main.CLI_COMMANDS) == set(COMMANDS)  # what --help lists is what main.py dispatches


def test_the_windows_reference_help_names_every_reference_format():
    from gui.app import build_parser as window_parser

    text = " ".join(window_parser().format_help().split())
    for name in ("CSV", "Exportify", "rekordbox collection XML", "Traktor collection.nml", "iTunes Library.xml"):
        assert name in text


def test_tag_undo_says_restored(tmp_path, capsys):
    music = make(tmp_path / "music" / "song.flac", key="Dm")
    results = tmp_path / "results"
    results.mkdir()
    write_csv(
        results / "results.csv",
        ["path", "status", "bpm", "key"],
        [{"path": str(music), "status": "done", "bpm": 128, "key": "A minor"}],
    )
    journal = tmp_path / "journal.csv"
    assert cli_main(["tag", str(results), "--yes", "--journal", str(journal), "--no-cache"]) == 0
    assert "1 file written" in capsys.readouterr().out
    assert cli_main(["tag", "--undo", "last", "--journal", str(journal), "--no-cache"]) == 0
    said = capsys.readouterr().out
    assert "1 file restored" in said and "written" not in said
    assert read_tags(music).key == "Dm"
