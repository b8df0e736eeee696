"""The licence texts and the source offer that must ship with PyAV's GPL encoders (issue 26, part 4).

The frozen bundle is checked in ``tests/test_frozen.py``; here, in every run, that the texts exist,
that the offer names the PyAV and FFmpeg this checkout installs (a new wheel must come with a new
offer), and that the About box points at them next to the LGPL notice.
"""

from __future__ import annotations

import av

from engine.licences import GPL_FILES, LGPL_FILES, licence_folder


def test_the_licence_texts_are_the_gnu_ones():
    folder = licence_folder()
    first_lines = {
        "GPL-2.0.txt": ("GNU GENERAL PUBLIC LICENSE", "Version 2, June 1991"),
        "GPL-3.0.txt": ("GNU GENERAL PUBLIC LICENSE", "Version 3, 29 June 2007"),
        "LGPL-3.0.txt": ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 3, 29 June 2007"),
    }
    for name, expected in first_lines.items():
        assert tuple(line.strip() for line in (folder / name).read_text().splitlines()[:2]) == expected
    assert {*GPL_FILES, *LGPL_FILES} <= {p.name for p in folder.iterdir()}


def test_the_source_offer_names_the_installed_pyav_ffmpeg_and_encoders():
    offer = (licence_folder() / "SOURCE-OFFER.txt").read_text(encoding="utf-8")
    assert f"PyAV {av.__version__}" in offer and f"FFmpeg {av.ffmpeg_version_info}" in offer
    configuration = av._core.library_meta["libavcodec"]["configuration"]
    for encoder in ("x264", "x265"):
        if f"--enable-lib{encoder}" in configuration:
            assert encoder in offer and "written offer" in offer.lower()


def test_the_about_box_names_the_gpl_encoders_and_where_their_texts_are():
    from gui.about import about_text

    text = about_text()
    assert "GNU LGPL" in text  # the notice that was there
    assert "x264 and x265" in text and "GNU GPL version 2" in text
    assert "SOURCE-OFFER.txt" in text and str(licence_folder()) in text
