"""Compatibility names: the readers now live in :mod:`engine.references.readers` (one module per format).

Kept so ``from engine.references.reader import load_reference, ReferenceRow`` keeps working
in code written before the split.
"""

from engine.references.readers import (
    Fingerprint,
    ReferenceFileError,
    ReferenceRow,
    ReferenceSet,
    RowError,
    load_reference,
    load_references,
    reference_from_tags,
)
from engine.references.readers.csv_export import (
    COLUMN_ALIASES,
    FEATURE_ALIASES,
    decode_text,
    header_token,
    parse_reference_text,
    sniff_delimiter,
)
from engine.references.readers.values import BPM_RANGE, parse_bpm, parse_duration, parse_number

__all__ = [
    "BPM_RANGE",
    "COLUMN_ALIASES",
    "FEATURE_ALIASES",
    "Fingerprint",
    "ReferenceFileError",
    "ReferenceRow",
    "ReferenceSet",
    "RowError",
    "decode_text",
    "header_token",
    "load_reference",
    "load_references",
    "parse_bpm",
    "parse_duration",
    "parse_number",
    "parse_reference_text",
    "reference_from_tags",
    "sniff_delimiter",
]
