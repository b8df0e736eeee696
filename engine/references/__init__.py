"""Reference values: reading reference files and tags, pairing them with songs, key notation and scoring."""

REFERENCE_FORMATS = (
    "a CSV or playlist export (file or title/artist columns; Exportify too), a rekordbox collection XML, "
    "a Traktor collection.nml or an iTunes Library.xml"
)
"""Every format a reference file may have (:mod:`engine.references.readers`), for the help texts of the
window and the commands; here, so the window's ``--help`` need not import the readers."""
