"""Render docs/export-preview.png: *File ▸ Export to rekordbox…* previewing a merge into the user's collection.

Demo songs (tagged FLACs with artist and title) are analysed by the real engine; the user's rekordbox
collection, written here in the shape rekordbox exports it, already has three of them (with other
BPMs and keys), a track of its own and a playlist. The dialog opens, merges into it, and the screen
is captured with ImageMagick's ``import`` once the preview is shown. Run on a virtual display::

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/export_preview_screenshot.py docs/export-preview.png
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SONGS = (  # (artist, title, demo song index)
    ("Nightline", "Harbour Lights", 0),
    ("Marta & Jonas", "Vuelta", 1),
    ("Café Solaire", "Été indien", 2),
    ("東京ドリフト", "夜行列車", 4),
    ("Ólöf Arna", "Kvöld", 6),
    ("The Low Hours", "Slow Burn (Extended Mix)", 8),
)
THEIRS = (0, 1, 3)
"""Songs the user's collection already has (rekordbox's values for them: 99 BPM, Gm)."""


def collection(paths: list[Path]) -> str:
    tracks = [
        '    <TRACK TrackID="90001" Name="Strings of Life" Artist="Rhythim Is Rhythim" Kind="MP3 File" '
        'TotalTime="377" AverageBpm="124.50" Rating="255" Tonality="Dbm" Colour="0xFF007F" '
        'Location="file://localhost/Users/dj/Music/Strings%20of%20Life.mp3">\n'
        '      <TEMPO Inizio="0.113" Bpm="124.50" Metro="4/4" Battito="1"/>\n    </TRACK>\n'
    ]
    for number, index in enumerate(THEIRS, start=1):
        artist, title, _ = SONGS[index]
        url = "file://localhost" + quote(str(paths[index]), safe="/")
        tracks.append(
            f'    <TRACK TrackID="{number}" Name="{title}" Artist="{artist.replace("&", "&amp;")}" Kind="FLAC File" '
            f'TotalTime="30" AverageBpm="99.00" Rating="153" Tonality="Gm" Location="{url}">\n'
            f'      <POSITION_MARK Name="drop" Type="0" Start="8.000" Num="0"/>\n    </TRACK>\n'
        )
    keys = "".join(f'        <TRACK Key="{n}"/>\n' for n in (1, 2, 3, 90001))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n\n<DJ_PLAYLISTS Version="1.0.0">\n'
        '  <PRODUCT Name="rekordbox" Version="6.7.4" Company="AlphaTheta"/>\n'
        f'  <COLLECTION Entries="{len(tracks)}">\n{"".join(tracks)}  </COLLECTION>\n'
        '  <PLAYLISTS>\n    <NODE Type="0" Name="ROOT" Count="1">\n'
        f'      <NODE Name="Friday &amp; Saturday" Type="1" KeyType="0" Entries="4">\n{keys}      </NODE>\n'
        "    </NODE>\n  </PLAYLISTS>\n</DJ_PLAYLISTS>\n"
    )


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/export-preview.png").resolve()
    import soundfile as sf
    from mutagen.flac import FLAC
    from PySide6.QtCore import QSettings, QTimer

    from engine.frontends.demo import DEMO_SONGS, render_song
    from gui.app import create_application

    app = create_application()
    work = Path(tempfile.mkdtemp(prefix="export-shot-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    from gui.actions import ActionKey
    from gui.main_window import MainWindow
    from gui.preferences import Preferences

    Preferences(workers=2, chunk_seconds=10.0, use_cache=False).save()
    folder = work / "Music"
    folder.mkdir()
    paths = []
    for artist, title, index in SONGS:
        demo = DEMO_SONGS[index]
        path = folder / f"{index + 1:02d} {title}.flac"
        sf.write(path, render_song(demo.bpm, demo.key, 30.0, 22050, demo.style), 22050)
        tags = FLAC(str(path))
        tags["ARTIST"], tags["TITLE"] = [artist], [title]
        tags.save()
        paths.append(path)
    theirs = work / "my-rekordbox.xml"
    theirs.write_text(collection(paths), encoding="utf-8")
    window = MainWindow(data_dir=work / "data", cache_path=work / "cache.sqlite3")
    window.resize(1366, 768)
    window.show()

    def open_export() -> None:
        window.action(ActionKey.EXPORT_REKORDBOX).trigger()
        dialog = window.dj_export.dialog
        dialog.previewed.connect(lambda: QTimer.singleShot(800, shoot))
        dialog.set_collection(theirs)

    def shoot() -> None:
        if shutil.which("import"):
            subprocess.run(["import", "-window", "root", str(out)], check=True)
        else:
            window.dj_export.dialog.grab().save(str(out))
        print(f"wrote {out}")
        window.controller.shutdown()
        app.quit()

    window.controller.runFinished.connect(lambda _e: QTimer.singleShot(1500, open_export))
    window.songsAdded.connect(lambda _n: window.start())
    window.add_paths([folder])
    QTimer.singleShot(600_000, app.quit)
    app.exec()
    return 0 if out.exists() else 1


if __name__ == "__main__":
    sys.exit(main())
