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


@pytest.mark.slow
def test_the_demo_publishes_its_mat_to_a_broker(tmp_path, broker):
    """`mat demo --mqtt HOST:PORT`: the simulated person's session appears on the broker, with
    the Home Assistant device, as any mat's would."""
    import json

    from mqtt_broker import Recorder

    recorder = Recorder(broker.port, topics=("flatback/#", "homeassistant/#"))
    port = _free_port()
    demo = subprocess.Popen([sys.executable, "-m", "mat.cli", "demo", "--port", str(port), "--mqtt",
                             f"127.0.0.1:{broker.port}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, TMPDIR=str(tmp_path)))
    try:
        assert demo.stdout.readline().startswith("Flatback is running at")
        assert demo.stdout.readline().startswith(f"Publishing to MQTT 127.0.0.1:{broker.port} as flatback/demo/")
        recorder.wait_for(lambda r: r.on("flatback/demo/availability")[-1:] == ["online"], timeout_s=20,
                          what="the demo online")
        recorder.wait_for(lambda r: r.on("homeassistant/device/demo/config"), what="its discovery message")
        states = recorder.wait_for(lambda r: [s for s in r.json_on("flatback/demo/state") if s["present"]],
                                   timeout_s=30, what="the simulated person on the mat")
        assert states[-1]["mat"] == "demo"
        recorder.wait_for(lambda r: any(json.loads(p)["type"] == "calibrated" for p in r.on("flatback/demo/event")),
                          timeout_s=30, what="a calibration event")
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=15) == 0
        recorder.wait_for(lambda r: r.on("flatback/demo/availability")[-1:] == ["offline"], what="offline on the way out")
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.stdout.close()
        recorder.close()


def test_a_fresh_demo_database_gets_two_people_with_history_and_the_demo_person_is_recognised_as_anna(tmp_path):
    import numpy as np

    from hardware.emulation.person import Scenario, SimulatedPerson
    from hardware.emulation.scenarios import DEMO
    from mat.pipeline import Pipeline
    from mat.profiles.recognition import body_signature, suggest
    from mat.storage.store import Store
    from mat.tools.demo_people import seed_demo_people

    path = tmp_path / "flatback.db"
    assert seed_demo_people(path)
    store = Store(path)
    try:
        anna, ben, guest = store.list_profiles()
        assert (anna["name"], ben["name"], guest["guest"]) == ("Anna", "Ben", True)
        assert anna["sessions"] >= 6 and ben["sessions"] >= 4 and guest["sessions"] == 0
        assert all(s["status"] == "closed" and s["reps"] >= 20 for s in store.list_sessions())
        assert len(store.floor_tests(anna["id"])) >= 2 and store.current_profile_id() == anna["id"]
        # The demo's simulated person on another day (the mat's cells read a little differently)
        # is Anna to the mat: her floor, not the guest's, guards the demo from its first calibration.
        person = SimulatedPerson(Scenario.parse("mat seed=11 day=5\n" + DEMO))
        times = np.arange(0.0, 20.0, 0.01)
        pipeline = Pipeline()
        signature = next(body_signature(pipeline.calibration) for t, counts in zip(times, person.frames(times))
                         if any(e["type"] == "calibrated" for e in pipeline.process(float(t), counts)))
        assert suggest(signature, store.body_signatures()).profile_id == anna["id"]
    finally:
        store.close()
    # Only a fresh database: one already in use is left as it is.
    assert not seed_demo_people(path)
    assert len(Store(path).list_sessions()) == anna["sessions"] + ben["sessions"]
