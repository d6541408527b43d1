"""The mat on a real Mosquitto: what it publishes, its last will, the outbox across a broker
restart, a wrong password, a subscriber that never reads, commands, three mats at once.

The loop runs on emulated hardware in virtual time (as in test_loop.py); the publisher and the
broker run in real time. No assertion here is about how fast anything is (`mat bench --mqtt`
measures that): each waits for a message or a row, with a generous limit."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hardware.clock import VirtualClock
from hardware.emulation.mat import emulated_grid_adc
from hardware.emulation.person import Scenario, SimulatedPerson
from hardware.feedback import LIFTED_HZ, Feedback
from mat.config import MqttConfig
from mat.daemon.discovery import Topics
from mat.daemon.live_socket import CALIBRATE, SETTINGS_CHANGED
from mat.daemon.loop import MatLoop
from mat.daemon.mqtt import MqttPublisher
from mat.pipeline.pipeline import Pipeline
from mat.storage.store import Store, StoreWriter
from mqtt_broker import Recorder, retained
from test_loop import ONE_ARCH

ROOT = Path(__file__).resolve().parents[1]


def settings(broker, mat_id="mat1", **changes) -> MqttConfig:
    values = dict(enabled=True, host="127.0.0.1", port=broker.port, mat_id=mat_id, keepalive_s=5)
    values.update(changes)
    return MqttConfig(**values)


def wait(predicate, timeout_s=15.0, what="the condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not met within {timeout_s} s")


def run_mat(text, store, publisher, during=None, pins=(18, 23, 24)):
    """The realtime loop over a scenario in virtual time, publishing through `publisher`."""
    person = SimulatedPerson(Scenario.parse(text))
    clock = VirtualClock()
    feedback = Feedback(*pins, clock=clock, threaded=False)
    writer = StoreWriter(store, commit_interval_s=0.2, outbox=True)
    loop = MatLoop(emulated_grid_adc(person, clock), Pipeline(), feedback, clock, store=store, store_writer=writer,
                   mqtt=publisher)
    while clock.monotonic() < person.duration_s:
        loop.step()
        if during:
            during(clock.monotonic(), loop)
    loop.close()
    writer.close()
    feedback.close()
    return loop, feedback


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "flatback.db")
    yield store
    store.close()


def test_a_session_goes_out_as_state_events_summary_and_availability(broker, store):
    recorder = Recorder(broker.port)
    publisher = MqttPublisher(settings(broker, discovery=False), store_path=store.path)
    topics = Topics("mat1")
    try:
        wait(lambda: publisher.connected, what="connected")
        loop, _ = run_mat(ONE_ARCH, store, publisher)
        end = next(e for e in loop.event_log if e["type"] == "session_end")
        summary = recorder.wait_for(lambda r: r.json_on(topics.session), what="a session summary")[-1]
        assert (summary["reps"], summary["perfect_reps"], summary["liftoffs"]) == \
            (end["reps"], end["perfect_reps"], end["liftoffs"])
        assert summary["session_id"] == store.list_sessions()[0]["id"] and summary["mat"] == "mat1"
        # every event, in order, each once
        recorder.wait_for(lambda r: len(r.on(topics.event)) >= len(loop.event_log), what="every event")
        published = recorder.json_on(topics.event)
        assert [(e["t"], e["type"]) for e in published] == [(e["t"], e["type"]) for e in loop.event_log]
        # the state: a person was seen, the last one retained for newcomers
        states = recorder.json_on(topics.state)
        assert any(s["present"] and s["session"] for s in states)
        assert set(states[-1]) >= {"present", "zone", "contact", "reps", "perfect_reps", "liftoffs", "set", "ts"}
        wait(lambda: store.outbox_count() == 0, what="the outbox drained")
        assert json.loads(retained(broker.port, topics.session))["session_id"] == summary["session_id"]
        assert retained(broker.port, topics.availability) == "online"
        assert json.loads(retained(broker.port, topics.state))["mat"] == "mat1"
    finally:
        publisher.close()
        recorder.close()
    assert retained(broker.port, topics.availability) == "offline"  # said on the way out


def test_the_broker_announces_a_killed_mat_offline_with_its_last_will(broker, tmp_path):
    script = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
              "from mat.config import MqttConfig\nfrom mat.daemon.mqtt import MqttPublisher\n"
              f"p = MqttPublisher(MqttConfig(enabled=True, host='127.0.0.1', port={broker.port}, mat_id='doomed', "
              "keepalive_s=5, discovery=False))\n"
              "while not p.connected: time.sleep(0.05)\nprint('connected', flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "connected"
        recorder = Recorder(broker.port, topics=("flatback/doomed/availability",))
        recorder.wait_for(lambda r: r.on("flatback/doomed/availability") == ["online"], what="online")
        os.kill(child.pid, signal.SIGKILL)  # no goodbye: only the will can tell
        recorder.wait_for(lambda r: r.on("flatback/doomed/availability")[-1:] == ["offline"], what="the last will")
        recorder.close()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def test_a_summary_written_while_the_broker_is_down_goes_out_when_it_returns(broker, store):
    """The broker goes down mid-session and comes back after the session ended: the summary
    waits in the outbox (a row in SQLite), then is sent, acknowledged and deleted."""
    topics = Topics("mat1")
    publisher = MqttPublisher(settings(broker, discovery=False), store_path=store.path)
    stopped = {}

    def outage(t, loop):
        if t >= 12.0 and "down" not in stopped:
            broker.stop()
            stopped["down"] = t

    # Subscribed with a persistent session before the outage: the broker keeps it across its
    # restart, so what the publisher sends the moment it reconnects is not lost to a subscriber
    # that had not reconnected yet.
    recorder = Recorder(broker.port, persistent="outage-recorder")
    try:
        wait(lambda: publisher.connected, what="connected")
        loop, _ = run_mat(ONE_ARCH, store, publisher, during=outage)
        assert "down" in stopped
        wait(lambda: store.outbox_count() == 1, what="the summary in the outbox")
        wait(lambda: not publisher.connected, what="the publisher noticing")
        time.sleep(1.0)  # it stays there while the broker is away
        assert store.outbox_count() == 1
        broker.start()
        wait(lambda: store.outbox_count() == 0, timeout_s=30, what="the outbox drained after the restart")
        end = next(e for e in loop.event_log if e["type"] == "session_end")
        summary = json.loads(retained(broker.port, topics.session))
        assert summary["reps"] == end["reps"] and summary["session_id"] == store.list_sessions()[0]["id"]
        # the events published while the broker was away were kept by the client and sent on return
        recorder.wait_for(lambda r: any(json.loads(p)["type"] == "session_end" for p in r.on(topics.event)),
                          timeout_s=30, what="the events kept while the broker was down")
        assert retained(broker.port, topics.availability) == "online"
    finally:
        recorder.close()
        publisher.close()


def test_the_outbox_drains_in_order_each_summary_once_acknowledged(broker, store):
    writer = StoreWriter(store, outbox=True)
    ids = []
    for reps in range(1, 6):
        session_id = writer.open_session({"rows": 4, "cols": 4})
        writer.close_session(session_id, {"reps": reps, "perfect_reps": reps, "liftoffs": 0, "sets": 1,
                                          "mean_descent_s": 3.0, "balance": 0.0, "duration_s": 30.0})
        ids.append(session_id)
    writer.close()
    recorder = Recorder(broker.port)
    publisher = MqttPublisher(settings(broker, discovery=False), store_path=store.path)
    try:
        wait(lambda: store.outbox_count() == 0, what="the outbox drained")
        sent = recorder.wait_for(lambda r: len(r.json_on("flatback/mat1/session")) >= 5 and r.json_on("flatback/mat1/session"))
        assert [s["session_id"] for s in sent] == ids
    finally:
        publisher.close()
        recorder.close()


def test_a_wrong_password_is_refused_and_the_right_one_connects(locked_broker, store, tmp_path):
    wrong = MqttPublisher(settings(locked_broker, username="mat", discovery=False), password="nope")
    password_file = tmp_path / "mqtt.password"
    password_file.write_text("s3cret\n")
    right = MqttPublisher(settings(locked_broker, mat_id="mat2", username="mat", password_file=str(password_file),
                                   discovery=False), store_path=store.path)
    try:
        wait(lambda: wrong.status.startswith("refused"), what="the refusal")
        wait(lambda: right.connected, what="the right password connecting")
        # the refused one keeps taking the loop's hand-offs without blocking, and publishes nothing
        for n in range(5000):
            wrong.offer_event({"t": n, "type": "rep"})
        wait(lambda: wrong.events_published + wrong.events_dropped == 5000, what="every event handled")
        assert not wrong.connected and wrong.events_published <= 1000  # kept for later: at most MAX_QUEUED
        assert retained(locked_broker.port, "flatback/mat2/availability", username="mat", password="s3cret") == "online"
        assert retained(locked_broker.port, "flatback/mat1/availability", username="mat", password="s3cret") is None
    finally:
        wrong.close()
        right.close()


def test_a_subscriber_that_never_reads_does_not_hold_the_mat_back(broker, store):
    """A client subscribed at QoS 1 to everything that never reads its socket: the broker queues
    for it and then drops (max_queued_messages); the mat and the other subscribers carry on."""
    import socket

    def mqtt_string(text):
        data = text.encode()
        return len(data).to_bytes(2, "big") + data

    slow = socket.create_connection(("127.0.0.1", broker.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    body = mqtt_string("MQTT") + bytes([4, 2]) + (60).to_bytes(2, "big") + mqtt_string("slow-reader")
    slow.sendall(bytes([0x10, len(body)]) + body)  # CONNECT, clean session
    subscribe = (1).to_bytes(2, "big") + mqtt_string("flatback/#") + bytes([1])
    slow.sendall(bytes([0x82, len(subscribe)]) + subscribe)  # SUBSCRIBE, QoS 1; then never read
    recorder = Recorder(broker.port)
    publisher = MqttPublisher(settings(broker, discovery=False), store_path=store.path)
    try:
        wait(lambda: publisher.connected, what="connected")
        loop, _ = run_mat(ONE_ARCH, store, publisher)
        recorder.wait_for(lambda r: len(r.on("flatback/mat1/event")) >= len(loop.event_log), what="every event")
        wait(lambda: store.outbox_count() == 0, what="the outbox drained")
        assert publisher.connected and publisher.events_dropped == 0
    finally:
        publisher.close()
        recorder.close()
        slow.close()


def test_commands_go_through_the_settings_rules_and_reach_the_loop(broker, store):
    """Floor in percent (Home Assistant's number) and calibrate (its button): checked by
    mat/pipeline/settings.py, stored, and handed to the loop as the page's commands are."""
    from paho.mqtt.client import CallbackAPIVersion, Client

    publisher = MqttPublisher(settings(broker, discovery=False), store_path=store.path)
    sender = Client(CallbackAPIVersion.VERSION2)
    sender.connect("127.0.0.1", broker.port)
    sender.loop_start()
    try:
        wait(lambda: publisher.connected, what="connected")
        time.sleep(0.3)  # its subscriptions are in
        received = []
        sender.publish("flatback/mat1/floor/set", "55", qos=1).wait_for_publish(5)
        wait(lambda: received.extend(publisher.poll_commands()) or received, what="the floor command")
        assert received == [{"cmd": SETTINGS_CHANGED, "from": "mqtt"}] and store.get_settings()["floor"] == 0.55
        for refused in ("57", "95", "abc", "nan", "55.0000001"):
            sender.publish("flatback/mat1/floor/set", refused, qos=1).wait_for_publish(5)
        wait(lambda: publisher.commands_refused == 5, what="five refusals")
        assert publisher.poll_commands() == [] and store.get_settings()["floor"] == 0.55
        sender.publish("flatback/mat1/calibrate", "PRESS", qos=1).wait_for_publish(5)
        assert wait(lambda: publisher.poll_commands(), what="calibrate") == [{"cmd": CALIBRATE, "from": "mqtt"}]
    finally:
        sender.loop_stop()
        sender.disconnect()
        publisher.close()


class _Commands:
    """Stands in for the publisher: what the loop takes from it."""

    def __init__(self, schedule):
        self.schedule = list(schedule)
        self.events, self.states = [], []
        self.now = 0.0

    def poll_commands(self):
        due = [c for t, c in self.schedule if t <= self.now]
        self.schedule = [(t, c) for t, c in self.schedule if t > self.now]
        return due

    def offer_event(self, event):
        self.events.append(event)

    def offer_state(self, state):
        self.states.append(state)

    def figures(self):
        return {"connected": False, "outbox": 0}


def test_the_loop_applies_mqtt_commands_as_it_does_the_pages(store):
    fake = _Commands([(9.0, {"cmd": CALIBRATE}), (10.0, {"cmd": SETTINGS_CHANGED})])

    def tick(t, loop):
        fake.now = t
        if t >= 9.5 and store.get_settings()["floor"] != 0.7:
            # the publisher stores a floor from MQTT for whoever the mat serves ("Me": alone on
            # this new mat, the session is theirs), then tells the loop
            loop.writer.flush()  # the store knows whom the mat serves (its writer runs in real time)
            if store.get_settings()["floor"] != 0.7:
                store.update_settings(floor=0.7)
                assert store.current_profile_id() == store.list_profiles()[0]["id"] != store.guest_profile_id

    loop, _ = run_mat(ONE_ARCH, store, fake, during=tick)
    assert any(e["type"] == "calibrated" and e["t"] > 9.0 for e in loop.event_log)
    assert loop.pipeline.floor == 0.7
    assert fake.events == loop.event_log and fake.states[-1]["mqtt"] == {"connected": False, "outbox": 0}
    end = next(e for e in loop.event_log if e["type"] == "session_end")
    assert loop.live_state()["totals"] == {"liftoffs": end["liftoffs"], "reps": end["reps"], "sessions": 1}


def test_three_mats_publish_at_once(broker, tmp_path):
    recorder = Recorder(broker.port)
    runs, threads, publishers = {}, [], []
    for n in range(3):
        store = Store(tmp_path / f"mat{n}.db")
        publisher = MqttPublisher(settings(broker, mat_id=f"room-{n}", discovery=False), store_path=store.path)
        publishers.append((publisher, store))

        def go(store=store, publisher=publisher, n=n):
            wait(lambda: publisher.connected, what="connected")
            runs[n] = run_mat(ONE_ARCH, store, publisher, pins=(5 + 3 * n, 6 + 3 * n, 7 + 3 * n))[0]
        threads.append(threading.Thread(target=go))
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(runs) == [0, 1, 2]
        for n, loop in runs.items():
            topic = f"flatback/room-{n}/event"
            recorder.wait_for(lambda r: len(r.on(topic)) >= len(loop.event_log), what=f"room-{n}'s events")
            assert [e["type"] for e in recorder.json_on(topic)] == [e["type"] for e in loop.event_log]
            assert recorder.wait_for(lambda r: r.json_on(f"flatback/room-{n}/session"))[-1]["mat"] == f"room-{n}"
    finally:
        for publisher, store in publishers:
            publisher.close()
            store.close()
        recorder.close()


def test_the_buzzer_answers_the_same_with_a_dead_broker(store, tmp_path):
    """A broker address where nothing listens: the loop's alerts are exactly those without MQTT
    (the publisher's network work is on its own threads; the loop only hands over)."""
    from mqtt_broker import free_port

    publisher = MqttPublisher(MqttConfig(enabled=True, host="127.0.0.1", port=free_port(), mat_id="lonely",
                                         discovery=False), store_path=store.path)
    try:
        _, with_mqtt = run_mat(ONE_ARCH, store, publisher)
    finally:
        publisher.close()
    _, without = run_mat(ONE_ARCH, Store(tmp_path / "other.db"), None)
    assert [t for t, f in with_mqtt.tone_log if f == LIFTED_HZ] == [t for t, f in without.tone_log if f == LIFTED_HZ]
    assert not publisher.connected and store.outbox_count() == 1  # the summary waits for a broker
