"""Which songs and values leave the program (``tag`` and ``export``): verdicts, agreement, confidence,
unstable tempi, the BPM range, the key in the comment, and title/artist in results.

Real FLAC files (``tests/tagfiles.py``) and a hand-written results.csv per case; the tags are read back
with mutagen, never with the writer under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.flac import FLAC

from engine.calibration.corrections import FILE_NAME, Correction, CorrectionLog
from engine.csv_io import read_csv_rows, write_csv
from engine.exports import write_results
from engine.frontends.cli import main as cli_main
from engine.results import SongResult, SongStatus
from engine.selection import Choice, SelectionError, select
from engine.settings import BpmRange
from tests.tagfiles import make

COLUMNS = ["path", "status", "bpm", "bpm_confidence", "key", "key_confidence", "ref_bpm", "ref_key", "tempo_stable"]


def results(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "results.csv", COLUMNS, rows)
    return folder


def row(path: Path | str, bpm: float, key: str, **more: object) -> dict:
    return {"path": str(path), "status": "done", "bpm": bpm, "key": key, "bpm_confidence": 0.9, "key_confidence": 0.9,
            **more}


def tag(folder: Path, journal: Path, *args: str) -> int:
    return cli_main(["tag", str(folder), "--yes", "--journal", str(journal), "--no-cache", *args])


def flac_tags(path: Path) -> dict[str, list[str]]:
    audio = FLAC(str(path))
    return {k.upper(): list(v) for k, v in (audio.tags or {}).items()}


def test_verified_values_take_the_verdict_the_jazz_waltz_of_the_issue(tmp_path):
    """Detected 83, reference 166, and the user's verdict says 166: --values verified writes 166."""
    waltz = make(tmp_path / "songs" / "waltz.flac")
    run = results(tmp_path / "run", [row(waltz, 83.0, "Bb major", ref_bpm=166.0, ref_key="Bb major")])
    CorrectionLog(run / FILE_NAME).append(Correction(str(waltz), "bpm", "166", "166", "heard it: 166 is right"))
    journal = tmp_path / "journal.csv"

    assert tag(run, journal, "--values", "verified") == 0
    assert flac_tags(waltz)["BPM"] == ["166"]
    assert flac_tags(waltz)["INITIALKEY"] == ["Bb"]  # no key verdict: the analysed key
    assert tag(run, journal) == 0  # the analysed value, as before issue 24
    assert flac_tags(waltz)["BPM"] == ["83"]


def test_only_agreeing_and_only_verified(tmp_path):
    agrees = tmp_path / "agrees.wav"
    octave = tmp_path / "octave.wav"
    no_ref = tmp_path / "no-ref.wav"
    key_verdict = tmp_path / "key-verdict.wav"
    confirmed = tmp_path / "confirmed.wav"
    run = results(
        tmp_path / "run",
        [
            row(agrees, 121.0, "A minor", ref_bpm=120.0, ref_key="A minor"),
            row(octave, 83.0, "A minor", ref_bpm=166.0, ref_key="A minor"),
            row(no_ref, 100.0, "C major"),
            row(key_verdict, 90.0, "D major", ref_bpm=90.0, ref_key="G major"),
            row(confirmed, 140.0, "E minor", ref_bpm=70.0),
        ],
    )
    log = CorrectionLog(run / FILE_NAME)
    log.append(Correction(str(key_verdict), "key", "G major", "D major", "the reference is a fifth off"))
    log.append(Correction(str(confirmed), "confirmed", "", "yes"))

    agreeing = select(run, Choice(only="agreeing"))
    assert [s.path for s in agreeing.songs] == [str(agrees), str(key_verdict)]  # its corrected reference agrees
    assert agreeing.left_out == {"not agreeing with the reference": 2, "without a reference": 1}

    verified = {s.path: s for s in select(run, Choice(values="verified", only="verified")).songs}
    assert set(verified) == {str(key_verdict), str(confirmed)}
    assert (verified[str(key_verdict)].bpm, verified[str(key_verdict)].key) == (None, "D major")  # its key only
    assert (verified[str(confirmed)].bpm, verified[str(confirmed)].key) == (140.0, "E minor")


def test_min_confidence_and_unstable_tempo_leave_fields_out_verdicts_do_not(tmp_path):
    unsure = make(tmp_path / "unsure.flac")
    unstable = make(tmp_path / "unstable.flac")
    sure_by_ear = make(tmp_path / "sure-by-ear.flac")
    run = results(
        tmp_path / "run",
        [
            row(unsure, 128.0, "A minor", bpm_confidence=0.2, key_confidence=0.7, tempo_stable=1),
            row(unstable, 97.0, "E minor", tempo_stable=0),
            row(sure_by_ear, 101.0, "C major", bpm_confidence=0.1, key_confidence=0.1, tempo_stable=0),
        ],
    )
    CorrectionLog(run / FILE_NAME).append(Correction(str(sure_by_ear), "confirmed", "", "yes"))
    journal = tmp_path / "journal.csv"
    assert tag(run, journal, "--min-confidence", "0.5", "--values", "verified") == 0
    assert "BPM" not in flac_tags(unsure) and flac_tags(unsure)["INITIALKEY"] == ["Am"]
    assert "BPM" not in flac_tags(unstable) and flac_tags(unstable)["INITIALKEY"] == ["Em"]  # tempo_stable=0
    assert flac_tags(sure_by_ear)["BPM"] == ["101"]  # a confirmed detection counts whatever its confidence
    assert tag(run, journal, "--unstable-bpm") == 0
    assert flac_tags(unstable)["BPM"] == ["97"]


def test_bpm_range_folds_only_what_is_written(tmp_path):
    song = make(tmp_path / "song.flac")
    run = results(tmp_path / "run", [row(song, 166.0, "A minor", ref_bpm=166.0, ref_key="A minor")])
    assert tag(run, tmp_path / "journal.csv", "--bpm-range", "78:155") == 0
    assert flac_tags(song)["BPM"] == ["83"]
    agreeing = select(run, Choice(only="agreeing", bpm_range=BpmRange(78, 155)))
    assert [s.bpm for s in agreeing.songs] == [83.0]  # agreement is judged before folding


@pytest.mark.parametrize(
    ("bpm", "folded"), [(166.0, 83.0), (60.0, 120.0), (300.0, 150.0), (77.0, 154.0), (77.95, 77.95), (120.0, 120.0)]
)
def test_bpm_range_folding(bpm, folded):
    assert BpmRange(78, 155).fold(bpm) == pytest.approx(folded)


@pytest.mark.parametrize("text", ["155:78", "abc", "0:100", "70"])
def test_bpm_range_refuses_nonsense(text):
    with pytest.raises(ValueError, match="BPM range"):
        BpmRange.parse(text)


def test_comment_key_goes_before_the_comment_and_undo_restores_it(tmp_path):
    song = make(tmp_path / "song.flac")
    audio = FLAC(str(song))
    audio["COMMENT"] = ["warm-up & peak"]
    audio.save()
    run = results(tmp_path / "run", [row(song, 126.0, "A minor")])
    journal = tmp_path / "journal.csv"
    assert tag(run, journal, "--comment-key") == 0
    assert flac_tags(song)["COMMENT"] == ["8A - Am - warm-up & peak"]
    run2 = results(tmp_path / "run2", [row(song, 126.0, "C# minor")])
    assert tag(run2, journal, "--comment-key") == 0  # a new key replaces ours, it does not stack
    assert flac_tags(song)["COMMENT"] == ["12A - Dbm - warm-up & peak"]
    assert cli_main(["tag", "--undo", "last", "--journal", str(journal), "--no-cache"]) == 0
    assert cli_main(["tag", "--undo", "last", "--journal", str(journal), "--no-cache"]) == 0
    assert flac_tags(song)["COMMENT"] == ["warm-up & peak"]
    assert "BPM" not in flac_tags(song)


def test_results_have_title_artist_and_bpm_in_range_next_to_bpm(tmp_path):
    tagged = make(tmp_path / "x.flac")  # tags: title "Title ü", artist "Artist"
    untagged = tmp_path / "Björk & Co - Jóga.wav"
    untagged.write_bytes(b"")
    songs = [
        SongResult(str(tagged), SongStatus.DONE, bpm=166.0, key="A minor"),
        SongResult(str(untagged), SongStatus.DONE, bpm=100.0, key="A minor"),
    ]
    from engine.references.tags import title_and_artist

    for song in songs:
        song.title, song.artist = title_and_artist(song.path)
    write_results(tmp_path / "out", songs, bpm_range=BpmRange(70, 140))
    header, rows = read_csv_rows(tmp_path / "out" / "results.csv")
    assert header[header.index("bpm") + 1] == "bpm_in_range"
    assert [(r["title"], r["artist"], r["bpm"], r["bpm_in_range"]) for r in rows] == [
        ("Title ü", "Artist", "166.0", "83.0"),
        ("Jóga", "Björk & Co", "100.0", "100.0"),
    ]
    write_results(tmp_path / "off", songs)
    assert [r["bpm_in_range"] for r in read_csv_rows(tmp_path / "off" / "results.csv")[1]] == ["", ""]


def test_calibrated_values_and_a_run_without_them(tmp_path):
    song = tmp_path / "song.wav"
    folder = tmp_path / "run"
    folder.mkdir()
    write_csv(
        folder / "results.csv",
        [*COLUMNS, "bpm_calibrated", "key_calibrated"],
        [{**row(song, 83.0, "A minor"), "bpm_calibrated": 166.0, "key_calibrated": "C major"}],
    )
    [chosen] = select(folder, Choice(values="calibrated")).songs
    assert (chosen.bpm, chosen.key, chosen.bpm_from) == (166.0, "C major", "calibrated")
    plain = results(tmp_path / "plain", [row(song, 83.0, "A minor")])
    with pytest.raises(SelectionError, match="no calibrated values"):
        select(plain, Choice(values="calibrated"))
