"""The song inspector: the evidence behind one song's answer, playback with a click track, and verdicts.

``evidence`` (plain Python) turns a :class:`~engine.results.SongResult` and its reference into what
the panel shows; ``panel`` draws it; ``verdicts`` records the user's verdicts on an undo stack and
in ``reference_corrections.csv``; ``player`` plays the song with an optional click track.
"""
