"""``analyze --reference-tags`` on the command line, with BPM/key tags written into real files.

Three generated songs carry tags written with mutagen in three containers (Vorbis comments in
FLAC, ID3 in MP3, ID3 in WAV); a fourth has no tags. One tag says double the song's real tempo,
so the reference visibly comes from the tag and not from the analysis. No reference CSV is given:
every reference value must come from the files themselves.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TBPM, TKEY
from mutagen.wave import WAVE

from tests.audio import click_track, song, write
from tests.reliability import run_cli

pytestmark = pytest.mark.usefixtures("no_stray_workers")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def common(tagged: Path) -> list[str]:
    """The same settings and cache for both runs: the second takes the songs from the cache."""
    return ["--workers", "2", "--chunk-seconds", "4", "--cache-file", str(tagged.parent / "cache.sqlite3")]


def id3_tags(bpm: str, key: str) -> list:
    return [TBPM(encoding=3, text=[bpm]), TKEY(encoding=3, text=[key])]


@pytest.fixture(scope="module")
def tagged(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tagged") / "songs"
    folder.mkdir()
    flac = song(folder / "vorbis.flac", 120, 5.0)
    tags = FLAC(flac)
    tags.update({"BPM": "120", "INITIALKEY": "Am"})
    tags.save()
    mp3 = write(folder / "id3.mp3", click_track(100, 5.0))
    id3 = ID3()
    for frame in id3_tags("200", "F#m"):  # double the real 100 BPM: the reference is the tag's
        id3.add(frame)
    id3.save(mp3)
    wav = song(folder / "riff.wav", 90, 5.0)
    wave = WAVE(wav)
    wave.add_tags()
    for frame in id3_tags("90", "8B"):
        wave.tags.add(frame)
    wave.save()
    song(folder / "untagged.wav", 140, 5.0)
    return folder


def test_reference_tags_take_bpm_and_key_from_the_files_own_tags(tagged, tmp_path):
    out = tmp_path / "out"
    done = run_cli("analyze", str(tagged), "--out", str(out), "--reference-tags", "--min-songs", "3", *common(tagged))
    assert done.returncode == 0, done.stdout + done.stderr
    comparison = {r["file"]: r for r in read_csv(out / "comparison.csv")}
    assert set(comparison) == {"vorbis.flac", "id3.mp3", "riff.wav"}
    got = {f: (r["match_method"], r["ref_source"], float(r["ref_bpm"]), r["ref_key"]) for f, r in comparison.items()}
    assert got == {
        "vorbis.flac": ("tags", "tags", 120.0, "A minor"),
        "id3.mp3": ("tags", "tags", 200.0, "F# minor"),
        "riff.wav": ("tags", "tags", 90.0, "C major"),
    }
    # the mp3's analysis found its real tempo, half the tag's
    assert comparison["id3.mp3"]["ratio_class"] == "half", comparison["id3.mp3"]
    results = {r["file"]: r for r in read_csv(out / "results.csv")}
    assert results["untagged.wav"]["match_method"] == "" and results["untagged.wav"]["ref_bpm"] == ""
    unmatched = read_csv(out / "unmatched.csv")
    assert [(r["kind"], Path(r["path"]).name) for r in unmatched] == [("song", "untagged.wav")]
    run = json.loads((out / "run.json").read_text())
    assert run["calibration"]["reference_tags"] is True and run["calibration"]["match_methods"] == {"tags": 3}
    metrics = {r["metric"]: r for r in read_csv(out / "metrics.csv")}
    assert metrics["tempo_acc1"]["n"] == "3" and float(metrics["tempo_acc1"]["raw"]) == pytest.approx(2 / 3, abs=1e-4)


def test_without_the_flag_the_tags_are_not_a_reference(tagged, tmp_path):
    done = run_cli("analyze", str(tagged), "--out", str(tmp_path / "out"), *common(tagged))
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "out" / "comparison.csv").exists()
    results = read_csv(tmp_path / "out" / "results.csv")
    assert len(results) == 4 and all("ref_bpm" not in r and "match_method" not in r for r in results)
