"""`mat demo` as the README's `make demo` runs it: the page answers at the printed URL, and
stopping the demo (Ctrl-C or `kill`) stops its daemon and web server too."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_demo_serves_the_page_and_stops_with_both_its_processes(tmp_path, signum):
    port = _free_port()
    demo = subprocess.Popen([sys.executable, "-m", "mat.cli", "demo", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, TMPDIR=str(tmp_path)))
    try:
        line = demo.stdout.readline()
        assert line.strip() == f"Flatback is running at http://localhost:{port}/"
        children = _children(demo.pid)
        assert len(children) == 2  # mat run --emulated and mat web
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/settings", timeout=10) as page:
            assert page.status == 200 and b"Your floor" in page.read()
        demo.send_signal(signum)
        assert demo.wait(timeout=15) == 0
        deadline = time.monotonic() + 5
        while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.stdout.close()
