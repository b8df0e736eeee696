"""How well songs pair with reference rows, per source format: wrong pairings, right ones, unmatched.

Builds, for each source (a "find the BPM" playlist CSV, an Exportify CSV, a rekordbox collection
XML, a Traktor collection.nml, an iTunes Library.xml), a reference file in that program's real
shape holding every case's rows, reads it with the product's reader and pairs it with the
cases' songs with the product's matcher (default settings: the same as the window and the
command line). The corpus (``bench/matching_corpus.py``) has a tuned part and a held-out part,
reported separately. Also times loading a 10,000-row export against parsing the same bytes with
the ``csv`` module alone (a ratio in the same run; the machine is a loaded 2-core box).

    .venv/bin/python -m bench.matching            # summary + every wrong pairing and every miss
    .venv/bin/python -m bench.matching --show-right
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import quoteattr

from bench.matching_corpus import HELD_OUT, TUNED, Case, build, unseen_conventions
from engine.references.keynotation import label
from engine.references.matching import SongIdentity, match_songs
from engine.references.readers import ReferenceRow, load_reference

FORMATS = ("playlist csv", "exportify", "rekordbox", "traktor", "itunes")


def _key(i: int) -> tuple[int, bool]:
    return (i * 5) % 12, i % 2 == 1


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def _usb_location(n: int, title: str) -> str:
    return f"/Volumes/DJ USB/Contents/Imported/{n:03d} {title.replace('/', ' ')}.mp3"


def write_reference(kind: str, cases: list[Case], folder: Path) -> tuple[Path, dict[int, tuple[int, int]]]:
    """The reference file in ``kind``'s shape, and where each (case, row) landed: line → (case, row index)."""
    rows = [(ci, ri, row) for ci, case in enumerate(cases) for ri, row in enumerate(case.rows)]
    random.Random(7).shuffle(rows)  # exports are not in the songs' order
    where: dict[int, tuple[int, int]] = {}
    if kind in ("playlist csv", "exportify"):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if kind == "playlist csv":
            writer.writerow(["#", "Song", "Artist", "Popularity", "BPM", "Camelot", "Key", "Time"])
        else:
            writer.writerow(
                [
                    "Track URI",
                    "Track Name",
                    "Album Name",
                    "Artist Name(s)",
                    "Release Date",
                    "Duration (ms)",
                    "Popularity",
                    "Added By",
                    "Added At",
                    "Danceability",
                    "Energy",
                    "Key",
                    "Loudness",
                    "Mode",
                    "Speechiness",
                    "Acousticness",
                    "Instrumentalness",
                    "Liveness",
                    "Valence",
                    "Tempo",
                    "Time Signature",
                ]
            )
        for n, (ci, ri, row) in enumerate(rows, start=1):
            pitch, minor = _key(n)
            bpm = 80 + n % 90
            if kind == "playlist csv":
                key = label(pitch, minor).replace(" minor", "m").replace(" major", "")
                writer.writerow([n, row.title, row.artist, 50, bpm, "", key, _clock(row.seconds or 0)])
            else:
                artists = row.artist.replace(" & ", ",").replace(", ", ",")
                writer.writerow(
                    [
                        f"spotify:track:{n:022d}",
                        row.title,
                        "Album",
                        artists,
                        "2011-01-01",
                        int((row.seconds or 0) * 1000),
                        50,
                        "",
                        "2024-01-01T00:00:00Z",
                        0.5,
                        0.6,
                        pitch,
                        -6.1,
                        0 if minor else 1,
                        0.05,
                        0.1,
                        0.0,
                        0.1,
                        0.4,
                        float(bpm),
                        4,
                    ]
                )
            where[n + 1] = (ci, ri)
        path = folder / f"{kind.replace(' ', '_')}.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        return path, where
    lines: list[str] = []
    if kind == "rekordbox":
        lines += [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<DJ_PLAYLISTS Version="1.0.0">',
            '  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>',
            f'  <COLLECTION Entries="{len(rows)}">',
        ]
        for n, (ci, ri, row) in enumerate(rows, start=1):
            pitch, minor = _key(n)
            location = row.location or _usb_location(n, row.title)
            url = "file://localhost" + location.replace(" ", "%20")
            where[len(lines) + 1] = (ci, ri)
            lines.append(
                f'    <TRACK TrackID="{n}" Name={quoteattr(row.title)} Artist={quoteattr(row.artist)} Composer="" '
                f'Album="" Genre="" Kind="MP3 File" Size="8000000" TotalTime="{int(row.seconds or 0)}" '
                f'AverageBpm="{80 + n % 90:.2f}" Tonality="{label(pitch, minor).split()[0]}{"m" if minor else ""}" '
                f'Location={quoteattr(url)} Remixer="" Label="" Mix="">'
            )
            lines.append(f'      <TEMPO Inizio="0.050" Bpm="{80 + n % 90:.2f}" Metro="4/4" Battito="1"/>')
            lines.append("    </TRACK>")
        lines += [
            "  </COLLECTION>",
            '  <PLAYLISTS><NODE Type="0" Name="ROOT" Count="0"/></PLAYLISTS>',
            "</DJ_PLAYLISTS>",
        ]
    elif kind == "traktor":
        lines += [
            '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>',
            '<NML VERSION="19"><HEAD COMPANY="www.native-instruments.com" PROGRAM="Traktor"></HEAD>',
            "<MUSICFOLDERS></MUSICFOLDERS>",
            f'<COLLECTION ENTRIES="{len(rows)}">',
        ]
        for n, (ci, ri, row) in enumerate(rows, start=1):
            pitch, minor = _key(n)
            location = row.location or _usb_location(n, row.title).replace("/Volumes/DJ USB", "")
            folder_part, _, file_part = location.rpartition("/")
            nml_dir = "/:".join(folder_part.split("/")) + "/:"
            where[len(lines) + 1] = (ci, ri)
            lines.append(
                f'<ENTRY MODIFIED_DATE="2024/1/5" MODIFIED_TIME="3600" TITLE={quoteattr(row.title)} '
                f"ARTIST={quoteattr(row.artist)}>"
            )
            lines.append(
                f'<LOCATION DIR={quoteattr(nml_dir)} FILE={quoteattr(file_part)} VOLUME="Macintosh HD" '
                'VOLUMEID="Macintosh HD"></LOCATION>'
            )
            lines.append(
                f'<INFO BITRATE="320000" PLAYTIME="{int(row.seconds or 0)}" '
                f'PLAYTIME_FLOAT="{row.seconds or 0:.6f}" IMPORT_DATE="2024/1/5"></INFO>'
            )
            lines.append(f'<TEMPO BPM="{80 + n % 90:.6f}" BPM_QUALITY="100.000000"></TEMPO>')
            lines.append(f'<MUSICAL_KEY VALUE="{pitch + (12 if minor else 0)}"></MUSICAL_KEY>')
            lines.append("</ENTRY>")
        lines += ["</COLLECTION>", "<PLAYLISTS></PLAYLISTS>", "</NML>"]
    else:
        lines += [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" '
            '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
            '<plist version="1.0">',
            "<dict>",
            "\t<key>Major Version</key><integer>1</integer>",
            "\t<key>Tracks</key>",
            "\t<dict>",
        ]
        for n, (ci, ri, row) in enumerate(rows, start=1):
            location = row.location or f"/Users/me/Music/Music/Media.localized/Music/{n:03d} {row.title}.m4a"
            url = "file://" + location.replace(" ", "%20")
            where[n] = (ci, ri)  # iTunes rows are numbered by entry
            esc = lambda t: t.replace("&", "&amp;").replace("<", "&lt;")  # noqa: E731
            lines.append(f"\t\t<key>{1000 + n}</key>")
            lines.append(
                f"\t\t<dict><key>Track ID</key><integer>{1000 + n}</integer>"
                f"<key>Name</key><string>{esc(row.title)}</string>"
                + (f"<key>Artist</key><string>{esc(row.artist)}</string>" if row.artist else "")
                + f"<key>Total Time</key><integer>{int((row.seconds or 0) * 1000)}</integer>"
                f"<key>BPM</key><integer>{80 + n % 90}</integer>"
                f"<key>Location</key><string>{esc(url)}</string></dict>"
            )
        lines += ["\t</dict>", "</dict>", "</plist>"]
    path = folder / {"rekordbox": "rekordbox.xml", "traktor": "collection.nml", "itunes": "Library.xml"}[kind]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, where


def identities(cases: list[Case], kind: str) -> list[SongIdentity]:
    songs = []
    for n, case in enumerate(cases):
        if case.song_file:
            songs.append(SongIdentity.from_path(case.song_file, use_tags=False))
        else:
            path = f"/music/{kind}/{n:04d}.flac"
            songs.append(SongIdentity(path, case.song_title, case.song_artist, "tags", case.song_seconds))
    return songs


OLD_MATCHER = """
import json, sys
from engine.references.matching import SongIdentity, match_songs
from engine.references.readers import load_reference
path, songs_json, fuzzy = sys.argv[1], sys.argv[2], sys.argv[3]
rows = load_reference(path).rows
songs = [SongIdentity(**s) for s in json.loads(open(songs_json).read())]
report = match_songs(songs, rows, None if fuzzy == "off" else float(fuzzy))
print(json.dumps({m.song: [rows[m.row].line, m.method, m.score] for m in report.matches}))
"""


def old_pairs(revision_dir: Path, reference: Path, songs: list[SongIdentity], fuzzy: str) -> dict[int, tuple]:
    """Pairs made by an earlier revision's matcher (run in its own process, from its own sources)."""
    songs_json = reference.with_suffix(".songs.json")
    fields = ("path", "title", "artist", "names_from")
    songs_json.write_text(json.dumps([{f: getattr(s, f) for f in fields} for s in songs]), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", OLD_MATCHER, str(reference), str(songs_json), fuzzy],
        cwd=revision_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    return {int(k): tuple(v) for k, v in json.loads(done.stdout).items()}


def run(kind: str, cases: list[Case], folder: Path, old: tuple[Path, str] | None = None) -> dict[str, list[str]]:
    path, where = write_reference(kind, cases, folder)
    reference = load_reference(path)
    assert not [e for e in reference.errors if e.line > 0], [str(e) for e in reference.errors]
    songs = identities(cases, kind)
    report = match_songs(songs, reference.rows)
    outcome: dict[str, list[str]] = {"wrong": [], "right": [], "missed": [], "rightly unmatched": []}
    paired = report.by_song()
    by_line = {r.line: i for i, r in enumerate(reference.rows)}
    if old is not None:  # the earlier revision's pairs, mapped onto this reader's rows by line
        from engine.references.matching import Match

        earlier = old_pairs(old[0], path, songs, old[1])
        paired = {s: Match(s, by_line[line], method, score) for s, (line, method, score) in earlier.items()}
    for n, case in enumerate(cases):
        match = paired.get(n)
        got = where.get(reference.rows[match.row].line) if match else None
        shown = f"[{case.kind}] {case.song_artist or case.song_file} - {case.song_title}"
        if match is None:
            if case.expected is None:
                outcome["rightly unmatched"].append(shown)
            else:
                why = "; ".join(f"{reference.rows[c.row].describe()}: {c.why}" for c in report.candidates.get(n, []))
                outcome["missed"].append(f"{shown}  (candidates: {why or 'none'})")
        elif got == (n, case.expected):
            outcome["right"].append(
                f"{shown} -> {reference.rows[match.row].describe()} ({match.method}, {match.score:.2f})"
            )
        else:
            outcome["wrong"].append(
                f"{shown} -> {reference.rows[match.row].describe()} ({match.method}, {match.score:.2f})"
            )
    return outcome


def load_timing(folder: Path, rows: int = 10_000) -> tuple[float, float]:
    """Seconds to load a ``rows``-row Exportify export with the product's reader, and with ``csv`` alone."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Track Name", "Artist Name(s)", "Duration (ms)", "Key", "Mode", "Tempo", "Energy"])
    for n in range(rows):
        writer.writerow(
            [f"Song number {n}", f"Artist {n % 977},Guest {n % 13}", 180000 + n, n % 12, n % 2, 90 + n % 80 + 0.5, 0.5]
        )
    path = folder / "big.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    start = time.perf_counter()
    reference = load_reference(path)
    product = time.perf_counter() - start
    assert len(reference.rows) == rows, len(reference.rows)
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        baseline_rows = list(csv.reader(handle))
    baseline = time.perf_counter() - start
    assert len(baseline_rows) == rows + 1
    return product, baseline


def match_timing(songs: int = 500, rows: int = 10_000) -> tuple[float, int]:
    """Seconds to pair ``songs`` tagged songs with a ``rows``-row library whose titles share many words."""
    words = [
        "love",
        "night",
        "heart",
        "dance",
        "fire",
        "baby",
        "time",
        "light",
        "world",
        "dream",
        "girl",
        "life",
        "sky",
        "rain",
        "blue",
        "gold",
    ]
    rnd = random.Random(1)
    library = [
        ReferenceRow(
            i + 2, "big.csv", title=" ".join(rnd.sample(words, 3)) + f" {i}", artist=f"Artist {i % 700}", bpm=120.0
        )
        for i in range(rows)
    ]
    step = rows // songs
    queue = [
        SongIdentity(f"/m/{i}.flac", library[i * step].title, library[i * step].artist, "tags") for i in range(songs)
    ]
    start = time.perf_counter()
    report = match_songs(queue, library)
    return time.perf_counter() - start, len(report.matches)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-right", action="store_true", help="also list every right pairing")
    parser.add_argument(
        "--compare-with",
        metavar="REV",
        help="score an earlier git revision's matcher instead (CSV sources only: it read no XML)",
    )
    parser.add_argument("--old-fuzzy", default="off", help="the earlier matcher's fuzzy threshold (default off)")
    args = parser.parse_args(argv)
    totals: dict[str, Counter[str]] = {"tuned": Counter(), "held-out": Counter(), "unseen": Counter()}
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        old = None
        if args.compare_with:
            source = Path(tmp) / "revision"
            source.mkdir()
            archive = subprocess.run(["git", "archive", args.compare_with, "engine"], capture_output=True, check=True)
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(source, filter="data")
            old = (source, args.old_fuzzy)
        for offset, kind in enumerate(FORMATS):
            if old is not None and kind not in ("playlist csv", "exportify"):
                continue
            for part, pools, repeat in (("tuned", TUNED, 2), ("held-out", HELD_OUT, 1), ("unseen", None, 0)):
                if pools is None:
                    cases = unseen_conventions()
                else:
                    paths = kind not in ("playlist csv", "exportify")
                    cases = build(pools, offset * 7, repeat, part == "held-out", paths=paths)
                folder = Path(tmp) / f"{part}-{offset}"
                folder.mkdir()
                outcome = run(kind, cases, folder, old)
                counts = {k: len(v) for k, v in outcome.items()}
                totals[part].update(counts)
                positives = sum(case.expected is not None for case in cases)
                totals[part]["positives"] += positives
                recall = counts["right"] / max(1, positives)  # a wrong pair on a song with a row is a miss too
                print(
                    f"{kind:13} {part:9} cases {len(cases):3}  wrong {counts['wrong']}  right {counts['right']:3}  "
                    f"missed {counts['missed']}  rightly unmatched {counts['rightly unmatched']:2}  "
                    f"recall {recall:.1%}"
                )
                for label_, items in (("WRONG", outcome["wrong"]), ("missed", outcome["missed"])):
                    for item in items:
                        print(f"    {label_}: {item}")
                if args.show_right:
                    for item in outcome["right"]:
                        print(f"    right: {item}")
                worst += counts["wrong"]
        for part, counts in totals.items():
            positives = counts.pop("positives", 0)
            print(
                f"TOTAL {part:9} cases {sum(counts.values()):3}  wrong {counts['wrong']}  right {counts['right']}  "
                f"missed {counts['missed']}  rightly unmatched {counts['rightly unmatched']}  "
                f"recall {counts['right'] / max(1, positives):.1%}"
            )
        if old is None:
            seconds, paired = match_timing()
            print(f"pair 500 songs with a 10,000-row library: {seconds:.2f} s ({paired} paired)")
        for attempt in range(0 if old else 3):  # the first includes one-off costs (imports, regex compilation)
            product, baseline = load_timing(Path(tmp))
            print(
                f"load 10,000-row Exportify export, run {attempt + 1}: {product:.3f} s "
                f"(csv module alone: {baseline:.3f} s, ratio {product / baseline:.1f}x)"
            )
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
