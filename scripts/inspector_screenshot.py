"""Render docs/screenshot.png: the inspector on a disagreement (a half-time reference BPM).

Demo songs are analysed by the real engine; the reference says half the tempo for one of them,
which is then selected in the queue. Run on a (virtual) display::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/inspector_screenshot.py docs/screenshot.png
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png").resolve()
    import soundfile as sf
    from PySide6.QtCore import QSettings, QTimer

    from engine.frontends.demo import DEMO_SONGS, render_song
    from gui.app import create_application

    app = create_application()
    work = Path(tempfile.mkdtemp(prefix="inspector-shot-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    from gui.main_window import MainWindow
    from gui.preferences import Preferences
    from gui.queue_model import Col

    Preferences(workers=2, chunk_seconds=10.0, use_cache=False, key_notation="camelot").save()
    songs = work / "songs"
    songs.mkdir()
    chosen = DEMO_SONGS[:8]
    with open(work / "reference.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "bpm", "key"])
        for i, s in enumerate(chosen):
            sf.write(songs / s.file, render_song(s.bpm, s.key, 30.0, 22050, s.style), 22050)
            writer.writerow([s.file, f"{s.bpm / 2 if i == 1 else s.bpm:g}", s.key])  # song 2: a half-time export
    window = MainWindow(data_dir=work / "data", cache_path=work / "cache.sqlite3")
    window.resize(1500, 940)
    window.show()
    window.load_reference(work / "reference.csv")

    def select_and_shoot() -> None:
        path = str(songs / chosen[1].file)
        index = window.model.index(window.model.row_of(path), int(Col.SONG))
        window.table.setCurrentIndex(window.proxy.mapFromSource(index))
        window.inspector.panel.click_box.setChecked(True)
        window.inspector.player.loaded.connect(lambda _p: QTimer.singleShot(1500, shoot))
        window.inspector.play_from(9.0)  # decodes, then plays from 9 s

    def shoot() -> None:
        window.grab().save(str(out))
        print(f"wrote {out}")
        window.inspector.close()
        window.controller.shutdown()
        app.quit()

    window.controller.runFinished.connect(lambda _e: QTimer.singleShot(3000, select_and_shoot))
    window.songsAdded.connect(lambda _n: window.start())
    window.add_paths([songs])
    QTimer.singleShot(900_000, app.quit)
    app.exec()
    return 0 if out.exists() else 1


if __name__ == "__main__":
    sys.exit(main())
