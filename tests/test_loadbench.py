"""`mat bench --load`'s parts: the pages its load generator requests exist, the generator holds
its streams and counts what it did, and the bench scenario gives arches that are all alike."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from mat.tools.bench import measure_latency
from mat.daemon.live_socket import LiveServer
from mat.tools.loadbench import PAGES, SSE_CLIENTS, steady_arches
from web import create_app
from web_seed import waitress_in_thread


def test_every_page_the_load_generator_requests_exists(client, seeded):
    newest = seeded[1][-1]
    for path in PAGES + (f"/sessions/{newest}", f"/api/sessions/{newest}"):
        assert client.get(path).status_code == 200, path


def test_steady_arches_alert_every_time_with_the_same_latency_through_the_pipeline():
    from hardware.emulation.person import Scenario, SimulatedPerson

    text = steady_arches(12)
    liftoffs = SimulatedPerson(Scenario.parse(text)).liftoffs(0.5)
    assert len(liftoffs) == 12
    gaps = np.diff([start for start, _ in liftoffs])
    assert gaps == pytest.approx(np.full(len(gaps), 1.8), abs=0.2)  # one arch a rep (arches vary a little)
    latencies = measure_latency({"steady": text})  # emulated time: no machine in the figures
    assert len(latencies) == 12
    # nothing creeps or drifts: the spread is one frame's phase (7.5 ms) and the cells' noise
    assert max(latencies) - min(latencies) < 0.015
    assert max(latencies) < 0.05


@pytest.fixture
def served(short_dir, seeded):
    app = create_app({"DATABASE": str(seeded[0]), "LIVE_SOCKET": str(short_dir / "mat.sock")})
    daemon = LiveServer(str(short_dir / "mat.sock"))
    stop = threading.Event()

    def publish():
        n = 0
        while not stop.wait(0.02):
            n += 1
            daemon.publish_state({"type": "state", "n": n})

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    with waitress_in_thread(app) as server:
        yield server.effective_port
        stop.set()
        publisher.join(timeout=2)
    daemon.close()


def test_load_generator_holds_every_stream_and_reports_its_requests(served):
    with subprocess.Popen([sys.executable, "-m", "mat.tools.loadbench", f"http://127.0.0.1:{served}", "60"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as load:
        assert load.stdout.readline().split() == ["ready", str(SSE_CLIENTS)]
        time.sleep(1.5)
        load.stdin.close()  # end of input: the generator stops and reports
        report = json.loads(load.stdout.read().strip().splitlines()[-1])
        assert load.wait(timeout=10) == 0
    assert report["streams_min"] == report["streams_max"] == SSE_CLIENTS
    assert report["stream_drops"] == 0
    assert report["sse_messages"] > SSE_CLIENTS
    assert report["failed_requests"] == 0, report["failures"]
    assert report["page_requests"] > 20
    # the newest session was found through /api/sessions and its pages requested too
    assert set(report["pages"]) == set(PAGES) | {"/sessions/ID", "/api/sessions/ID"}
