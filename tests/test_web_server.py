"""The app under waitress, as `mat web` serves it: live streams hold threads, and a stream
whose browser went away ends and frees its place."""
from __future__ import annotations

import shutil
import socket
import tempfile
import time
from pathlib import Path

import pytest

from mat.daemon.live_socket import LiveServer
from web import create_app
from web.serve import SPARE_THREADS
from web_seed import waitress_in_thread


@pytest.fixture
def served():
    workdir = Path(tempfile.mkdtemp(prefix="fbs-", dir="/tmp"))
    app = create_app({"DATABASE": str(workdir / "flatback.db"), "LIVE_SOCKET": str(workdir / "mat.sock"),
                      "MAX_LIVE_CLIENTS": 3})
    daemon = LiveServer(str(workdir / "mat.sock"), max_rate_hz=50)
    with waitress_in_thread(app, threads=1) as server:
        yield app, server, daemon
    daemon.close()
    shutil.rmtree(workdir, ignore_errors=True)


def open_stream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, f"stream closed before {marker!r}: {data!r}"
        data += chunk
    return data


def wait_until(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_the_thread_pool_covers_every_live_page_plus_spare_threads(served):
    app, server, _ = served
    assert server.adj.threads == 3 + SPARE_THREADS  # asked for 1: raised to the live-client limit + spares


def test_a_stream_under_waitress_relays_states_and_ends_when_the_browser_goes_away(served):
    app, server, daemon = served
    relay = app.extensions["live_relay"]
    streams = [open_stream(server.effective_port) for _ in range(3)]
    daemon.publish_state({"type": "state", "state": "exercising", "contact": 0.9})
    for sock in streams:
        head = read_until(sock, b'"state":"exercising"')
        assert b"200 OK" in head and b"text/event-stream" in head
    refused = open_stream(server.effective_port)
    assert b"503" in read_until(refused, b"\r\n\r\n")
    refused.close()
    assert relay.subscriber_count == 3
    for sock in streams[:2]:
        sock.close()
    # The next writes to the closed connections fail, and their generators are closed.
    for i in range(20):
        daemon.publish_state({"type": "state", "state": "exercising", "contact": 0.9 - i / 100})
        if relay.subscriber_count == 1:
            break
        time.sleep(0.05)
    assert wait_until(lambda: relay.subscriber_count == 1)
    assert b"contact" in read_until(streams[2], b"0.8")  # the one still open keeps getting states
    streams[2].close()
