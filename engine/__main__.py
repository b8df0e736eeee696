"""``python -m engine COMMAND ...``: the command line without the window, as ``main.py COMMAND`` runs it."""

import sys

from engine.frontends.cli import main

if __name__ == "__main__":
    sys.exit(main())
