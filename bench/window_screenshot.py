"""docs/screenshot.png: the window at 1366x768 on the demo songs, with three reference rows given at
double tempo, after the run and the fit, Show Only Disagreements on and the inspector on the first one.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python bench/window_screenshot.py docs/screenshot.png
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DOUBLED = (1, 4, 7)
"""Demo songs whose reference row says twice their tempo: disagreements for the inspector to show."""


def main() -> int:
    from PySide6.QtCore import QSettings, QTimer

    from engine.frontends.demo import DEMO_SONGS, write_demo_set, write_reference_csv
    from gui.app import build_window, create_application
    from gui.preferences import Preferences

    out = Path(sys.argv[1])
    work = Path(tempfile.mkdtemp(prefix="calibration-studio-screenshot-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    app = create_application()
    Preferences(workers=2, chunk_seconds=6.0, use_cache=True).save()
    write_demo_set(work / "songs", seconds=20.0)
    given = [replace(s, bpm=s.bpm * 2) if i in DOUBLED else s for i, s in enumerate(DEMO_SONGS)]
    reference = write_reference_csv(work / "songs" / "reference.csv", given)
    window = build_window(data_dir=work / "data", cache_path=work / "cache.sqlite3")
    window.resize(1366, 768)
    window.move(0, 0)
    window.show()
    window.load_reference(reference)

    def after_fit() -> None:
        if window.session.calibration is None:
            QTimer.singleShot(500, after_fit)
            return
        window.inspector.filter_action.setChecked(True)
        window.inspector.review.step(+1)
        QTimer.singleShot(1500, shoot)

    def shoot() -> None:
        window.grab().save(str(out))
        print(f"saved {out}: inspector on {Path(window.inspector.path).name}")
        app.quit()

    window.controller.runFinished.connect(lambda _event: QTimer.singleShot(1000, after_fit))
    window.songsAdded.connect(lambda _count: window.start())
    window.add_paths([work / "songs"])
    QTimer.singleShot(600_000, app.quit)
    app.exec()
    window.controller.shutdown()
    return 0


if __name__ == "__main__":  # the pool's spawned workers import this module too
    sys.exit(main())
