"""The exit statuses every front end uses: ``analyze``, ``calibrate``, ``doctor``, the launcher, the window.

One definition, so that a shell script (or the integration tests) can tell "the run could not
complete" from "you typed it wrong" whichever command it ran.
"""

from __future__ import annotations

import signal
from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means; a subclass of ``int``, so it is returned as is."""

    OK = 0
    """The command did its job (songs that failed are reported in its output, not here)."""
    FAILED = 1
    """The command could not complete: the run broke, an export failed, doctor found a fault, no display."""
    USAGE = 2
    """Bad arguments or inputs named on the command line: argparse's own status for the same."""
    SIGINT = 128 + signal.SIGINT
    """Stopped by Ctrl-C (130): the shell's status for a command ended by SIGINT."""
    SIGTERM = 128 + signal.SIGTERM
    """Stopped by ``kill`` (143): the shell's status for a command ended by SIGTERM."""


def for_signal(signum: int) -> int:
    """The status a shell reports for a command ended by ``signum`` (128 + its number)."""
    return 128 + int(signum)
