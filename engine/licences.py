"""The licence texts and the written source offer that ship with the app, and where they are.

PyAV's wheels bring FFmpeg (LGPL-3.0-or-later) and, linked into it, the x264 and x265 encoders
(GPL-2.0-or-later). Distributing them means shipping their licence texts and an offer of their
exact source: ``packaging/licenses/`` in a checkout, ``licenses/`` inside the frozen bundle
(``packaging/calibration_studio.spec`` copies the folder; ``tests/test_frozen.py`` checks it).
"""

from __future__ import annotations

import sys
from pathlib import Path

BUNDLE_FOLDER = "licenses"
"""The folder's name inside the frozen bundle."""
GPL_FILES = ("GPL-2.0.txt", "SOURCE-OFFER.txt")
"""What the GPL asks for x264/x265: its text and the written offer of their source."""
LGPL_FILES = ("LGPL-3.0.txt", "GPL-3.0.txt")
"""FFmpeg's licence: the LGPL-3.0 is a set of permissions added to the GPL-3.0, so both ship."""


def licence_folder() -> Path:
    """Where the texts are: inside the bundle when frozen, else ``packaging/licenses`` of the checkout."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / BUNDLE_FOLDER
    return Path(__file__).resolve().parent.parent / "packaging" / "licenses"


def gpl_notice() -> str:
    """One sentence for the About box, beside the LGPL notice."""
    return (
        "The same FFmpeg build links the x264 and x265 video encoders, licensed under the GNU GPL version 2 "
        "or later (Calibration Studio never calls them). Their licence and a written offer of their exact "
        f"source code ({', '.join(GPL_FILES)}) are in {licence_folder()}"
    )
