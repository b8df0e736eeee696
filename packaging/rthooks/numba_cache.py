"""PyInstaller runtime hook: point numba's cache at the user cache folder before numba loads.

Runs first in the app and in every pool worker (the same binary). numba reads NUMBA_CACHE_DIR
once, when it is imported, and picks each function's cache folder when librosa defines it; set
later, the frozen app would fall back to a folder derived from the current directory and
recompile librosa for every new working directory. Same folder as ``engine.cachedirs.prepare_compute_caches`` picks.
"""

import os

if not os.environ.get("NUMBA_CACHE_DIR"):
    from engine.cachedirs import cache_folder

    try:
        os.environ["NUMBA_CACHE_DIR"] = str(cache_folder("numba"))
    except OSError:
        pass  # nothing writable: numba falls back to its own cache locations
