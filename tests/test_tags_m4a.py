"""MP4 tags (title, artist, BPM, key) read from real .m4a files: AAC and ALAC made by PyAV, tagged by mutagen.

The tag names are the ones iTunes/Apple Music and DJ software write: ``©nam``, ``©ART``, ``tmpo``
(an integer atom) and the freeform ``----:com.apple.iTunes:initialkey``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from mutagen.mp4 import MP4, MP4FreeForm

from engine.analysis.decoding import probe
from engine.references.tags import read_tags
from tests import media
from tests.audio import song

SR = 22050


@pytest.fixture(params=["aac", "alac"])
def m4a(request, tmp_path):
    import soundfile as sf

    y, _ = sf.read(str(song(tmp_path / "src.wav", 120, 3.0)), dtype="float32")
    if request.param == "aac":
        return media.aac_m4a(tmp_path / "Track 1.m4a", y, SR)
    return media.alac_m4a(tmp_path / "Track 1.m4a", np.round(y * 32767).astype(np.int16), SR)


def test_itunes_tags_are_read(m4a):
    tagged = MP4(m4a)
    tagged["\xa9nam"] = ["Blue Monday ’88"]
    tagged["\xa9ART"] = ["New Order"]
    tagged["tmpo"] = [128]
    tagged["----:com.apple.iTunes:initialkey"] = [MP4FreeForm(b"Dm")]
    tagged.save()

    tags = read_tags(m4a)
    assert (tags.title, tags.artist, tags.bpm, tags.key, tags.error) == (
        "Blue Monday ’88",
        "New Order",
        "128",
        "Dm",
        "",
    )
    assert probe(m4a).duration_s == pytest.approx(3.0, abs=0.01)  # the tags did not break the audio


def test_album_artist_and_uppercase_key_atom_are_fallbacks(m4a):
    tagged = MP4(m4a)
    tagged["aART"] = ["Various"]
    tagged["----:com.apple.iTunes:KEY"] = [MP4FreeForm(b"8A")]
    tagged.save()
    tags = read_tags(m4a)
    assert (tags.artist, tags.key, tags.title, tags.bpm) == ("Various", "8A", "", "")


def test_untagged_m4a_reads_as_empty_but_knows_its_length(m4a):
    tags = read_tags(m4a)
    assert dataclasses.replace(tags, duration_s=None) == type(tags)()
    assert tags.duration_s == pytest.approx(3.0, abs=0.06)  # pairing uses it; AAC's count includes its priming


def test_protected_m4p_tags_are_still_read(tmp_path):
    """Title and artist of a DRM purchase still match it to a reference row, although its audio cannot be read."""
    path = media.drm_m4p(tmp_path / "bought.m4p", np.zeros(SR, np.float32), SR)
    tagged = MP4(path)
    tagged["\xa9nam"] = ["Old Purchase"]
    tagged.save()
    assert read_tags(path).title == "Old Purchase"
