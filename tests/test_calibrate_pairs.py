"""``calibrate DIR`` reads DIR/pairs.csv (or ``--pairs``), and every export row says how it was paired."""

from __future__ import annotations

from pathlib import Path

from engine.csv_io import read_csv_rows
from engine.frontends.cli import main
from engine.references.pairs import ManualPair, save_pairs

SONGS = [  # (results.csv path, detected bpm, detected key)
    ("/m/Avicii - Levels.flac", 126.0, "C# minor"),
    ("/m/The Weeknd - Blinding Lights (Chromatics Remix).flac", 171.0, "F minor"),
    ("/m/Royksopp - Eple.flac", 108.0, "A minor"),
    ("/m/Katy Perry - Teenage Dream.flac", 120.0, "A# major"),
    ("/m/Queen - Dont Stop Me Now.flac", 156.0, "F major"),
    ("/m/mystery.flac", 90.0, "D minor"),
]
REFERENCE = (
    "Song,Artist,BPM,Key,Mode\n"
    "Levels,Avicii,126,C#,Minor\n"  # 2
    "Blinding Lights,The Weeknd,171,F,Minor\n"  # 3: the original; the song is a remix
    "Eple,Røyksopp,108,A,Minor\n"  # 4
    "Teenage Dreem,Katy Perry,120,A#,Major\n"  # 5: a typo, fuzzy
    "Don't Stop Me Now,Queen,156,F,Major\n"  # 6
    "Unknown Track,Someone,90,D,min\n"  # 7: the mystery song, paired by hand
)


def write_run(folder: Path) -> None:
    lines = ["path,status,bpm,key"] + [f"{p},done,{b},{k}" for p, b, k in SONGS]
    (folder / "results.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_calibrate_uses_dir_pairs_csv_and_exports_say_how_each_song_was_paired(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    write_run(folder)
    reference = tmp_path / "ref.csv"
    reference.write_text(REFERENCE, encoding="utf-8")
    save_pairs(folder / "pairs.csv", [ManualPair("/m/mystery.flac", str(reference), 7, "ana", "2025-01-01T00:00:00")])
    main(["calibrate", str(folder), "--reference", str(reference), "--min-songs", "3"])
    assert "pairs: 1 decisions loaded" in capsys.readouterr().err
    _, comparison = read_csv_rows(folder / "comparison.csv")
    got = {Path(r["path"]).name: (r["ref_line"], r["match_method"], r["match_score"]) for r in comparison}
    assert got["mystery.flac"] == ("7", "manual", "1.0")
    assert got["Avicii - Levels.flac"] == ("2", "title and artist", "1.0")
    assert got["Royksopp - Eple.flac"] == ("4", "title and artist", "1.0")
    line, method, score = got["Katy Perry - Teenage Dream.flac"]
    assert (line, method) == ("5", "fuzzy") and 0.9 <= float(score) < 1.0
    _, unmatched = read_csv_rows(folder / "unmatched.csv")
    (remix,) = [r for r in unmatched if r["kind"] == "song"]
    assert remix["candidates"] == (
        "ref.csv line 3: The Weeknd - Blinding Lights (1.00: different version: remix (chromatics) vs original)"
    )
    _, results = read_csv_rows(folder / "results.csv")
    assert {Path(r["path"]).name: r["match_method"] for r in results}["mystery.flac"] == "manual"


def test_calibrate_pairs_option_names_a_missing_file(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    write_run(folder)
    reference = tmp_path / "ref.csv"
    reference.write_text(REFERENCE, encoding="utf-8")
    code = main(["calibrate", str(folder), "--reference", str(reference), "--pairs", str(tmp_path / "nope.csv")])
    assert code == 2
    assert "pairs file not found" in capsys.readouterr().err
