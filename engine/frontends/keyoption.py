"""``--key-notation {classic,camelot,openkey}``: one option, one spelling, on every command that shows keys.

``analyze`` and ``calibrate`` had ``--key-notation`` with ``open key`` (a space) and ``tag`` had
``--notation`` with ``openkey``. Both old spellings still work, hidden from ``--help``, so scripts
written against either keep running.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

KEY_NOTATIONS = ("classic", "camelot", "openkey")
VALUE_ALIASES = {"open key": "openkey", "open-key": "openkey", "open_key": "openkey"}
"""Earlier spellings of a value, accepted and mapped to the one shown in ``--help``."""
OLD_OPTION = "--notation"
"""``tag``'s earlier name for the option: accepted, not shown."""


def key_notation(extra: tuple[str, ...] = ()) -> Callable[[str], str]:
    """The argparse type: a notation in any spelling -> its one name; ``extra`` are further accepted values."""

    def parse(text: str) -> str:
        value = text.strip().lower()
        value = VALUE_ALIASES.get(value, value)
        if value in KEY_NOTATIONS or value in extra:
            return value
        raise argparse.ArgumentTypeError(f"{text!r} is not a key notation (choose from {', '.join(KEY_NOTATIONS)})")

    return parse


def add_key_notation_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, help: str, extra: tuple[str, ...] = ()
) -> None:
    """Add ``--key-notation`` (default ``classic``) and its hidden old name; the value lands in ``key_notation``."""
    kind = key_notation(extra)
    parser.add_argument(
        "--key-notation",
        type=kind,
        default="classic",
        metavar="{" + ",".join(KEY_NOTATIONS) + "}",
        help=f"{help} (default %(default)s)",
    )
    parser.add_argument(OLD_OPTION, dest="key_notation", type=kind, help=argparse.SUPPRESS)
