"""`mat bench --mqtt`: the MQTT figures, on a real Mosquitto started here on loopback.

- end-to-end latency mat → hub: the realtime loop (emulated chips, system clock) publishes; `mat
  hub` runs as its own process subscribed to the broker; a client reads the hub's event stream
  as a browser does. Latency = when the hub's stream delivered a state − when the loop made it
  (the state's `ts`; same machine, same clock).
- alert latency with the broker up, down and flapping: one realtime session of steady arches
  (mat/tools/loadbench.py's person), the conditions taking turns (up, down, flapping, twice),
  from the true floor crossing to the buzzer pin on. Flapping: the broker stopped and started
  every FLAP_S.
- loss across a broker restart: a scenario of three sessions replayed through the loop in
  virtual time, the broker stopped mid-session and started after the last session ended:
  events and session summaries published by the loop against those a subscriber received.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from bisect import bisect_left
from pathlib import Path

import numpy as np

CONDITIONS = ("up", "down", "flapping", "up", "down", "flapping")
ARCHES_PER_PHASE = 10
ARCHES_PER_PHASE_QUICK = 5
FLAP_S = 0.7
#: The broker's condition is set this long before a phase's first arch (s).
LEAD_S = 1.0
E2E_SECONDS = 30.0
LOSS_SCENARIO = """
person mass_kg=70 seed=51
empty 3
lie_down 1.5
relax 3
press 4
set reps=4 descent_s=2 arch_reps=2 arch_depth=0.3
rest 3
get_up
empty 6
lie_down 1.5
relax 3
set reps=4 descent_s=2
get_up
empty 6
lie_down 1.5
relax 3
set reps=3 descent_s=2 arch_reps=1 arch_depth=0.3
get_up
empty 6
"""


def _settings(port: int, mat_id: str):
    from mat.config import MqttConfig

    return MqttConfig(enabled=True, host="127.0.0.1", port=port, mat_id=mat_id, keepalive_s=5, discovery=True)


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return round(statistics.median(values) * 1000, 1), round(float(np.percentile(values, 95)) * 1000, 1)


# -- end to end: mat → broker → hub → its event stream -------------------------------------------
def measure_end_to_end(broker, seconds: float = E2E_SECONDS) -> dict:
    from hardware.clock import SystemClock
    from hardware.emulation.mat import emulated_grid_adc
    from hardware.emulation.person import Scenario, SimulatedPerson
    from hardware.feedback import Feedback

    from mat.daemon.loop import MatLoop
    from mat.daemon.mqtt import MqttPublisher
    from hardware.emulation.mat import LoopingPerson
    from mat.pipeline.pipeline import Pipeline
    from mat.tools.demo import wait_for_port
    from mat.tools.loadbench import _free_port, steady_arches

    port = _free_port()
    hub = subprocess.Popen([sys.executable, "-m", "web.hub", "--broker", f"127.0.0.1:{broker.port}", "--host",
                            "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latencies: list[float] = []
    stop = threading.Event()
    publisher = None
    try:
        if not wait_for_port("127.0.0.1", port, 20, (hub,)):
            raise RuntimeError("the hub did not start")

        def read_stream():
            seen = set()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/hub/live", timeout=10) as stream:
                while not stop.is_set():
                    line = stream.readline()
                    if not line:
                        return
                    if line.startswith(b"data:"):
                        now = time.time()
                        for mat in json.loads(line[5:]).get("mats", []):
                            ts = (mat.get("state") or {}).get("ts")
                            if mat["id"] == "bench" and ts and ts not in seen:
                                seen.add(ts)
                                latencies.append(now - ts)

        reader = threading.Thread(target=read_stream, daemon=True)
        reader.start()
        clock = SystemClock()
        person = SimulatedPerson(Scenario.parse(steady_arches(40)))
        feedback = Feedback(clock=clock)
        publisher = MqttPublisher(_settings(broker.port, "bench"))
        loop = MatLoop(emulated_grid_adc(LoopingPerson(person, clock.monotonic()), clock), Pipeline(), feedback,
                       clock, mqtt=publisher)
        end = clock.monotonic() + seconds
        try:
            while clock.monotonic() < end:
                loop.step()
        finally:
            feedback.close()
        time.sleep(0.5)
        stop.set()
    finally:
        if publisher is not None:
            publisher.close()
        hub.terminate()
        try:
            hub.wait(timeout=10)
        except subprocess.TimeoutExpired:
            hub.kill()
    p50, p95 = _percentiles(latencies)
    return {"mqtt_hub_latency_p50_ms": p50, "mqtt_hub_latency_p95_ms": p95, "mqtt_hub_states": len(latencies)}


# -- alert latency: broker up, down, flapping ---------------------------------------------------
def measure_alerts(broker, arches_per_phase: int) -> dict:
    from hardware.clock import SystemClock
    from hardware.emulation.mat import emulated_grid_adc
    from hardware.emulation.person import Scenario, SimulatedPerson
    from hardware.feedback import LIFTED_HZ, Feedback

    from mat.daemon.loop import MatLoop
    from mat.daemon.mqtt import MqttPublisher
    from hardware.emulation.mat import LoopingPerson
    from mat.pipeline.pipeline import Pipeline
    from mat.storage.store import Store, StoreWriter
    from mat.tools.loadbench import FLOOR, steady_arches

    person = SimulatedPerson(Scenario.parse(steady_arches(len(CONDITIONS) * arches_per_phase + 6)))
    state_dir = Path(tempfile.mkdtemp(prefix="flatback-mqttbench-"))
    clock = SystemClock()
    store = Store(state_dir / "flatback.db")
    writer = StoreWriter(store, outbox=True)
    feedback = Feedback(clock=clock)
    publisher = MqttPublisher(_settings(broker.port, "alerts"), store_path=store.path)
    phases: list[dict] = []
    done = threading.Event()
    errors: list[BaseException] = []
    start = clock.monotonic()
    crossings = [start + a for a, _ in person.liftoffs(FLOOR)]

    def conduct():
        try:
            for n, condition in enumerate(CONDITIONS):
                first = 1 + n * arches_per_phase  # the first arch is left to calibration's settling
                chosen = crossings[first:first + arches_per_phase]
                _sleep_until(chosen[0] - LEAD_S)
                flips = 0
                if condition == "up" and broker.process is None:
                    broker.start()
                elif condition == "down" and broker.process is not None:
                    broker.stop()
                t1 = chosen[-1] + 0.5
                while condition == "flapping" and time.monotonic() < t1:
                    broker.stop() if broker.process is not None else broker.start()
                    flips += 1
                    _sleep_until(min(t1, time.monotonic() + FLAP_S))
                _sleep_until(t1)
                phases.append({"condition": condition, "crossings": chosen, "flips": flips})
            if broker.process is None:
                broker.start()
        except BaseException as error:  # noqa: BLE001 — handed to the main thread
            errors.append(error)
        finally:
            done.set()

    gc_frozen = False
    try:
        import gc

        gc.freeze()
        gc_frozen = True
        while not publisher.connected and clock.monotonic() - start < 10:
            time.sleep(0.05)
        loop = MatLoop(emulated_grid_adc(LoopingPerson(person, start), clock), Pipeline(floor=FLOOR), feedback,
                       clock, store=store, store_writer=writer, mqtt=publisher)
        conductor = threading.Thread(target=conduct, daemon=True)
        conductor.start()
        while not done.is_set():
            loop.step()
        conductor.join()
        if errors:
            raise errors[0]
        on_times = sorted(t for t, f in feedback.tone_log if f == LIFTED_HZ)
        by_condition: dict[str, list[float]] = {c: [] for c in CONDITIONS}
        missed = {c: 0 for c in CONDITIONS}
        for phase in phases:
            for crossing in phase["crossings"]:
                after = on_times[bisect_left(on_times, crossing - 0.3):]
                if after and after[0] - crossing <= 1.0:
                    by_condition[phase["condition"]].append(max(after[0] - crossing, 0.0))
                else:
                    missed[phase["condition"]] += 1
    finally:
        if gc_frozen:
            gc.unfreeze()
        publisher.close()
        writer.close()
        feedback.close()
        store.close()
        shutil.rmtree(state_dir, ignore_errors=True)
    result: dict = {}
    for condition in ("up", "down", "flapping"):
        p50, p95 = _percentiles(by_condition[condition])
        result[f"mqtt_alert_{condition}_p50_ms"] = p50
        result[f"mqtt_alert_{condition}_p95_ms"] = p95
        result[f"mqtt_alert_{condition}_arches"] = len(by_condition[condition])
        result[f"mqtt_alert_{condition}_missed"] = missed[condition]
    result["mqtt_alert_flaps"] = sum(p["flips"] for p in phases)
    p95s = [result[f"mqtt_alert_{c}_p95_ms"] for c in ("up", "down", "flapping")]
    result["mqtt_alert_p95_spread_ms"] = None if None in p95s else round(max(p95s) - min(p95s), 1)
    return result


# -- loss across a broker restart ---------------------------------------------------------------
def measure_restart_loss(broker) -> dict:
    from hardware.clock import VirtualClock
    from hardware.emulation.mat import emulated_grid_adc
    from hardware.emulation.person import Scenario, SimulatedPerson
    from hardware.feedback import Feedback

    from mat.daemon.loop import MatLoop
    from mat.daemon.mqtt import MqttPublisher
    from mat.pipeline.pipeline import Pipeline
    from mat.storage.store import Store, StoreWriter
    from mat.tools.mosquitto import Recorder

    state_dir = Path(tempfile.mkdtemp(prefix="flatback-mqttbench-"))
    store = Store(state_dir / "flatback.db")
    writer = StoreWriter(store, commit_interval_s=0.2, outbox=True)
    publisher = MqttPublisher(_settings(broker.port, "restart"), store_path=store.path)
    recorder = Recorder(broker.port, topics=("flatback/restart/event", "flatback/restart/session"),
                        persistent="flatback-bench-subscriber")
    person = SimulatedPerson(Scenario.parse(LOSS_SCENARIO))
    clock = VirtualClock()
    feedback = Feedback(clock=clock, threaded=False)
    restarted = {}
    try:
        while not publisher.connected:
            time.sleep(0.05)
        loop = MatLoop(emulated_grid_adc(person, clock), Pipeline(), feedback, clock, store=store,
                       store_writer=writer, mqtt=publisher)
        first_session = person.sessions[0]
        stop_t = (first_session["present"] + first_session["up"]) / 2  # mid-session
        while clock.monotonic() < person.duration_s:
            loop.step()
            if clock.monotonic() >= stop_t and "down" not in restarted:
                broker.stop()
                restarted["down"] = clock.monotonic()
            time.sleep(0.0002)  # let the publisher see the events come in real time (~5× faster)
        loop.close()
        writer.flush()
        waiting = store.outbox_count()
        broker.start()
        deadline = time.monotonic() + 30
        sessions = [e for e in loop.event_log if e["type"] == "session_end"]
        while time.monotonic() < deadline and (store.outbox_count() or len(recorder.on("flatback/restart/session")) < 1):
            time.sleep(0.1)
        time.sleep(2.0)  # stragglers
        received_events = {(e["t"], e["type"]) for e in recorder.json_on("flatback/restart/event")}
        received_sessions = {s["session_id"] for s in recorder.json_on("flatback/restart/session")}
        stored = [s["id"] for s in store.list_sessions()]
        return {
            "mqtt_restart_events": len(loop.event_log),
            "mqtt_restart_events_lost": sum(1 for e in loop.event_log if (e["t"], e["type"]) not in received_events),
            "mqtt_restart_summaries": len(sessions),
            "mqtt_restart_summaries_waiting_in_outbox": waiting,
            "mqtt_restart_summaries_lost": sum(1 for s in stored if s not in received_sessions),
            "mqtt_restart_outbox_left": store.outbox_count(),
        }
    finally:
        publisher.close()
        recorder.close()
        writer.close()
        feedback.close()
        store.close()
        shutil.rmtree(state_dir, ignore_errors=True)


def _sleep_until(t: float) -> None:
    wait = t - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def run_mqtt_bench(quick: bool = False) -> dict:
    from mat.tools.mosquitto import Broker, mosquitto_path

    if mosquitto_path() is None:
        return {"notes": ["mqtt: mosquitto is not installed (make broker): not measured"]}
    started = time.monotonic()
    result: dict = {"notes": []}
    broker = Broker().start()
    try:
        result.update(measure_end_to_end(broker, seconds=10.0 if quick else E2E_SECONDS))
        result.update(measure_alerts(broker, ARCHES_PER_PHASE_QUICK if quick else ARCHES_PER_PHASE))
        if broker.process is None:
            broker.start()
        result.update(measure_restart_loss(broker))
    finally:
        broker.close()
    result["mqtt_bench_wall_s"] = round(time.monotonic() - started, 1)
    return result


TARGETS = {"mqtt_alert_p95_spread_ms": ("<=", 5), "mqtt_restart_summaries_lost": ("<=", 0),
           "mqtt_restart_outbox_left": ("<=", 0)}


def print_mqtt_bench(as_json: bool = False, quick: bool = False, out=None) -> int:
    out = sys.stdout if out is None else out
    result = run_mqtt_bench(quick=quick)
    if as_json:
        out.write(json.dumps(result) + "\n")
        return 0
    for key, value in result.items():
        if key == "notes":
            continue
        target = TARGETS.get(key)
        ok = ""
        if target and value is not None:
            ok = "yes" if (value <= target[1] if target[0] == "<=" else value >= target[1]) else "NO"
        shown = "n/a" if value is None else value
        out.write(f"{key:<42}{shown!s:>10}  {'' if not target else f'{target[0]} {target[1]}':<6} {ok}\n")
    for note in result["notes"]:
        out.write(f"note: {note}\n")
    return 0
