"""The daemon's live socket: states and events out, commands in, never blocking the loop."""
import json
import socket
import time

import pytest

from mat.daemon.live_socket import LiveClient, LiveServer


@pytest.fixture
def server(tmp_path):
    s = LiveServer(tmp_path / "mat.sock", max_rate_hz=50)
    yield s
    s.close()


def wait_for(predicate, timeout_s=3.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_a_subscriber_gets_the_latest_state_and_every_event(server):
    client = LiveClient(server.path)
    messages = client.messages(timeout_s=2)
    server.publish_event({"type": "event", "event": {"t": 0.0, "type": "warming"}})  # nobody listening yet
    for i in range(5):
        server.publish_state({"type": "state", "n": i})
    got = []
    for message in messages:
        got.append(message)
        if len(got) == 1:
            for k in range(3):
                server.publish_event({"type": "event", "event": {"t": k, "type": "rep"}})
            server.publish_state({"type": "state", "n": 99})
        if any(m.get("n") == 99 for m in got):
            break
    states = [m["n"] for m in got if m["type"] == "state"]
    events = [m["event"]["t"] for m in got if m["type"] == "event"]
    assert states[0] == 4 and states[-1] == 99  # latest wins: 0..3 were never sent
    assert events == [0, 1, 2]
    client.close()


def test_a_client_that_never_reads_never_blocks_the_publisher(server):
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.connect(server.path)
    assert wait_for(lambda: server.client_count == 1)
    big = {"type": "state", "pressure": [[0.5] * 4] * 4, "pad": "x" * 500}
    started = time.monotonic()
    for i in range(10_000):
        server.publish_state(big)
        server.publish_event({"type": "event", "event": {"t": i, "type": "tick"}})
    assert time.monotonic() - started < 5.0  # generous: the point is it returns at all
    assert wait_for(lambda: server.client_count == 0)  # dropped after falling 1000 events behind
    stuck.close()


def test_commands_arrive_and_bad_ones_are_answered_with_an_error(server):
    assert LiveClient(server.path).send_command({"cmd": "calibrate"})
    received = []
    assert wait_for(lambda: received.extend(server.poll_commands()) or received == [{"cmd": "calibrate"}])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(server.path)
        sock.sendall(b'not json\n{"cmd": "explode"}\n{"cmd": "settings_changed"}\n')
        sock.settimeout(2)
        data = b""
        while data.count(b"\n") < 3:
            data += sock.recv(4096)
    replies = [json.loads(line) for line in data.splitlines()[:3]]
    assert [r["type"] for r in replies] == ["error", "error", "ack"]
    assert "not JSON" in replies[0]["message"] and "unknown command" in replies[1]["message"]
    assert wait_for(lambda: {"cmd": "settings_changed"} in server.poll_commands())


def test_the_client_reconnects_when_the_daemon_restarts(tmp_path):
    path = tmp_path / "mat.sock"
    first = LiveServer(path, max_rate_hz=50)
    client = LiveClient(path, reconnect_s=0.05)
    messages = client.messages(timeout_s=5)
    first.publish_state({"type": "state", "daemon": 1})
    assert next(messages)["daemon"] == 1
    first.close()
    second = LiveServer(path, max_rate_hz=50)
    try:
        second.publish_state({"type": "state", "daemon": 2})
        assert next(m for m in messages if m.get("type") == "state")["daemon"] == 2
    finally:
        second.close()
        client.close()


def test_commands_to_a_daemon_that_is_not_running_report_failure(tmp_path):
    assert LiveClient(tmp_path / "nobody.sock").send_command({"cmd": "calibrate"}) is False
