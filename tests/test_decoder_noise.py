"""What libmpg123 prints about damaged MP3s goes to the log, not the terminal (issue 26, part 4).

The app's own process probes every song before its chunks go to the workers; libmpg123 writes its
notes straight to file descriptor 2 there. The workers' descriptor 2 already goes to
``worker-stderr.log`` (and a worker's own traceback with it: ``test_evidence_doctor.py``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from engine.native_stderr import native_stderr_to_log

MAIN = Path(__file__).resolve().parent.parent / "main.py"
NOTE = "Illegal Audio-MPEG-Header"


def test_decoder_notes_of_a_damaged_mp3_go_to_the_log_and_the_song_still_gets_its_error(tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    (songs / "damaged.mp3").write_bytes(b"ID3" + bytes(500))  # libmpg123 reads its header, and complains
    logs = tmp_path / "logs"
    command = ["analyze", str(songs), "--out", str(tmp_path / "out"), "--workers", "1", "--no-cache"]
    done = subprocess.run(
        [sys.executable, str(MAIN), *command],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "CALIBRATION_STUDIO_LOG_DIR": str(logs)},
    )
    assert done.returncode == 0, done.stderr
    assert NOTE not in done.stderr and "libmpg123" not in done.stderr
    assert "damaged.mp3: error: not a readable audio file" in done.stderr  # what matters is still said
    log = (logs / "calibration-studio.log").read_text(encoding="utf-8")
    assert f"while reading {songs / 'damaged.mp3'}:" in log and NOTE in log


def test_output_on_descriptor_2_inside_the_block_is_logged_and_the_terminal_is_back_after(capfd, caplog):
    caplog.set_level(logging.INFO, logger="engine.native_stderr")
    with native_stderr_to_log("one.mp3"):
        os.write(2, b"Note: from C, this thread\n")
        other = threading.Thread(target=os.write, args=(2, b"Note: from C, another thread\n"))
        other.start()
        other.join()
    os.write(2, b"after the block\n")
    assert capfd.readouterr().err == "after the block\n"
    assert caplog.messages == [
        "what a C library printed while reading one.mp3:\nNote: from C, this thread\nNote: from C, another thread"
    ]


def test_nested_and_concurrent_blocks_restore_descriptor_2_once_at_the_end(capfd, caplog):
    caplog.set_level(logging.INFO, logger="engine.native_stderr")
    inside = threading.Event()
    leave = threading.Event()

    def reader() -> None:
        with native_stderr_to_log("b.mp3"):
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=reader)
    with native_stderr_to_log("a.mp3"):
        thread.start()
        assert inside.wait(10)
    os.write(2, b"still redirected: b.mp3 is being read\n")
    leave.set()
    thread.join(10)
    os.write(2, b"back\n")
    assert capfd.readouterr().err == "back\n"
    assert caplog.messages == [
        "what a C library printed while reading a.mp3, b.mp3:\nstill redirected: b.mp3 is being read"
    ]
