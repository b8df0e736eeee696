"""A parent process for the orphan test: runs the engine on a song whose every chunk hangs.

    python -m tests.hang_parent SONG

Prints ``started PID`` for every chunk a worker has begun, then waits forever inside the run;
the test kills it with SIGKILL and checks that the hung workers do not outlive it.
"""

from __future__ import annotations

import sys
from functools import partial


def main(song: str) -> None:
    from engine.analysis.chunk import warm_up
    from engine.run import events as ev
    from engine.run.runner import Engine
    from engine.settings import AnalysisSettings, EngineOptions
    from tests.faults import faulty_chunk

    chunk = partial(faulty_chunk, faults={song: "hang"}, every_chunk=True)
    options = EngineOptions(workers=2, use_cache=False, chunk_timeout=600)
    engine = Engine(AnalysisSettings(chunk_seconds=4.0), options, chunk_function=chunk, warm_up=warm_up)
    for event in engine.run([song]):
        if isinstance(event, ev.ChunkStarted):
            print("started", event.worker_pid, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
