"""Home Assistant's device-based MQTT discovery payload, checked against what Home Assistant
documents (integrations/mqtt, "Device discovery payload", and each platform's page): keys,
platforms, device classes, state classes, units, stable unique ids; its templates rendered with
Jinja2 on real state messages; and on a real broker: published on connect, re-sent on Home
Assistant's birth message, removed with an empty payload by `mat mqtt forget`."""
from __future__ import annotations

import json
import time

import jinja2
import pytest

from mat.config import MqttConfig
from mat.daemon.discovery import Topics, discovery_payload, session_payload, state_message
from mat.pipeline.settings import FLOOR_CHOICES

# -- Home Assistant's documented schema (2024.11+, device-based discovery) ---------------------
SHARED_KEYS = {"dev", "device", "o", "origin", "cmps", "components", "availability", "availability_topic",
               "availability_mode", "availability_template", "payload_available", "payload_not_available",
               "state_topic", "command_topic", "qos", "encoding"}
DEVICE_KEYS = {"ids", "identifiers", "cns", "connections", "name", "mf", "manufacturer", "mdl", "model", "mdl_id",
               "model_id", "sw", "sw_version", "hw", "hw_version", "sn", "serial_number", "sa", "suggested_area",
               "via_device", "cu", "configuration_url"}
ORIGIN_KEYS = {"name", "sw", "sw_version", "url", "support_url"}
COMMON = {"p", "platform", "name", "unique_id", "object_id", "icon", "device_class", "enabled_by_default",
          "entity_category", "json_attributes_topic", "json_attributes_template", "availability_topic", "qos"}
PLATFORM_KEYS = {
    "binary_sensor": COMMON | {"state_topic", "value_template", "payload_on", "payload_off", "expire_after",
                               "force_update", "off_delay"},
    "sensor": COMMON | {"state_topic", "value_template", "state_class", "unit_of_measurement",
                        "suggested_display_precision", "expire_after", "force_update", "last_reset_value_template"},
    "number": COMMON | {"command_topic", "command_template", "state_topic", "value_template", "min", "max", "step",
                        "mode", "unit_of_measurement", "optimistic", "retain", "payload_reset"},
    "button": COMMON | {"command_topic", "command_template", "payload_press", "retain"},
}
REQUIRED = {"binary_sensor": {"state_topic"}, "sensor": {"state_topic"}, "number": {"command_topic"},
            "button": {"command_topic"}}
BINARY_SENSOR_CLASSES = {"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
                         "garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy",
                         "opening", "plug", "power", "presence", "problem", "running", "safety", "smoke", "sound",
                         "tamper", "update", "vibration", "window"}
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
SENSOR_UNITS_BY_CLASS = {"duration": {"d", "h", "min", "s", "ms", "µs"}}
BUTTON_CLASSES = {"identify", "restart", "update"}
NUMBER_MODES = {"auto", "box", "slider"}

PAYLOAD = discovery_payload("gym-3", "1.2.3")


def test_the_payload_has_only_documented_keys_and_a_device_and_origin():
    assert set(PAYLOAD) <= SHARED_KEYS
    assert {"dev", "o", "cmps"} <= set(PAYLOAD)
    assert set(PAYLOAD["dev"]) <= DEVICE_KEYS and PAYLOAD["dev"]["ids"] and PAYLOAD["dev"]["name"]
    assert set(PAYLOAD["o"]) <= ORIGIN_KEYS and PAYLOAD["o"]["name"]
    assert PAYLOAD["availability_topic"] == "flatback/gym-3/availability"  # shared by every component
    assert (PAYLOAD["payload_available"], PAYLOAD["payload_not_available"]) == ("online", "offline")


@pytest.mark.parametrize("key", sorted(PAYLOAD["cmps"]))
def test_each_component_follows_its_platforms_schema(key):
    component = PAYLOAD["cmps"][key]
    platform = component["p"]
    assert platform in PLATFORM_KEYS
    assert set(component) <= PLATFORM_KEYS[platform], set(component) - PLATFORM_KEYS[platform]
    assert REQUIRED[platform] <= set(component)
    device_class = component.get("device_class")
    if platform == "binary_sensor":
        assert device_class in BINARY_SENSOR_CLASSES
    if platform == "sensor":
        assert component["state_class"] in STATE_CLASSES
        if device_class:
            assert component["unit_of_measurement"] in SENSOR_UNITS_BY_CLASS[device_class]
    if platform == "button":
        assert device_class is None or device_class in BUTTON_CLASSES
    if platform == "number":
        assert component["mode"] in NUMBER_MODES and component["min"] < component["max"] and component["step"] > 0


def test_what_the_issue_asks_for_is_there_with_the_right_classes():
    c = PAYLOAD["cmps"]
    kinds = {key: (v["p"], v.get("device_class"), v.get("state_class"), v.get("unit_of_measurement"))
             for key, v in c.items()}
    assert kinds == {
        "on_mat": ("binary_sensor", "occupancy", None, None),
        "back_lifted": ("binary_sensor", "problem", None, None),
        "session": ("binary_sensor", "running", None, None),
        "contact": ("sensor", None, "measurement", "%"),
        "reps": ("sensor", None, "total_increasing", None),
        "perfect_reps": ("sensor", None, "total_increasing", None),
        "last_perfect_reps": ("sensor", None, "measurement", None),
        "mean_descent": ("sensor", "duration", "measurement", "s"),
        "balance": ("sensor", None, "measurement", "%"),
        "floor": ("number", None, None, "%"),
        "calibrate": ("button", None, None, None),
    }
    # the floor's slider offers exactly the floors the page offers
    f = c["floor"]
    assert [round(v / 100, 2) for v in range(f["min"], f["max"] + 1, f["step"])] == list(FLOOR_CHOICES)
    assert c["floor"]["command_topic"] == "flatback/gym-3/floor/set"
    assert c["calibrate"]["command_topic"] == "flatback/gym-3/calibrate"


def test_unique_ids_are_unique_stable_and_per_mat():
    ids = [c["unique_id"] for c in PAYLOAD["cmps"].values()]
    assert len(set(ids)) == len(ids)
    assert ids == [c["unique_id"] for c in discovery_payload("gym-3", "9.9.9")["cmps"].values()]  # not versioned
    assert not set(ids) & {c["unique_id"] for c in discovery_payload("gym-4", "1.2.3")["cmps"].values()}
    assert all(uid.startswith("flatback_gym-3_") for uid in ids)


def _render(template: str, message: dict) -> str:
    return jinja2.Environment().from_string(template).render(value_json=message)


LIVE = {"type": "state", "state": "lifted", "contact": 0.412, "floor": 0.55, "zone": "lifted", "reps": 7,
        "perfect_reps": 5, "liftoffs": 2, "set": 2, "session_id": 12}
EMPTY = {"type": "state", "state": "empty", "contact": None, "floor": 0.5, "zone": None, "reps": 0,
         "perfect_reps": 0, "liftoffs": 0, "set": 0, "session_id": None}


def test_the_templates_read_real_messages():
    cmps = PAYLOAD["cmps"]
    lifted, empty = state_message("gym-3", LIVE, 1000.0), state_message("gym-3", EMPTY, 1000.0)
    session = session_payload({"session_id": 12, "reps": 10, "perfect_reps": 8, "mean_descent_s": 3.21,
                               "balance": -0.034})
    on_state = {k: v for k, v in cmps.items() if v.get("state_topic") == "flatback/gym-3/state"}
    assert {k: _render(v["value_template"], lifted) for k, v in on_state.items()} == {
        "on_mat": "ON", "back_lifted": "ON", "session": "ON", "contact": "41", "reps": "7", "perfect_reps": "5",
        "floor": "55"}
    # nobody there: no contact (Home Assistant reads "None" as unknown), nothing lifted
    assert {k: _render(v["value_template"], empty) for k, v in on_state.items()} == {
        "on_mat": "OFF", "back_lifted": "OFF", "session": "OFF", "contact": "None", "reps": "0",
        "perfect_reps": "0", "floor": "50"}
    on_session = {k: _render(v["value_template"], session) for k, v in cmps.items()
                  if v.get("state_topic") == "flatback/gym-3/session"}
    assert on_session == {"last_perfect_reps": "8", "mean_descent": "3.21", "balance": "-3.4"}


# -- on a real broker ----------------------------------------------------------------------------
def test_discovery_is_published_on_connect_resent_on_birth_and_forgotten(broker, tmp_path):
    from mat.daemon.mqtt import MqttPublisher, forget
    from mat.storage.store import Store
    from mqtt_broker import Recorder, retained

    settings = MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, mat_id="gym-3", keepalive_s=5)
    topic = Topics("gym-3").discovery()
    recorder = Recorder(broker.port, topics=("homeassistant/#", "flatback/#"))
    store = Store(tmp_path / "flatback.db")
    publisher = MqttPublisher(settings, store_path=store.path)
    try:
        first = recorder.wait_for(lambda r: r.json_on(topic), what="the discovery message")
        assert first[0]["cmps"] == discovery_payload("gym-3", publisher.version)["cmps"]
        assert json.loads(retained(broker.port, topic))["dev"]["ids"] == ["flatback_gym-3"]
        # Home Assistant restarts: its birth message brings the payload again
        recorder.client.publish("homeassistant/status", "online", qos=1).wait_for_publish(5)
        recorder.wait_for(lambda r: len(r.on(topic)) >= 2, what="the payload again after the birth message")
        recorder.client.publish("homeassistant/status", "offline", qos=1).wait_for_publish(5)
        time.sleep(0.5)
        assert len(recorder.on(topic)) == 2  # its last will asks for nothing
    finally:
        publisher.close()
    assert forget(settings) is None
    recorder.wait_for(lambda r: r.on(topic)[-1:] == [""], what="the empty payload")
    assert retained(broker.port, topic, timeout_s=1.0) is None  # the device is gone for good
    assert retained(broker.port, "flatback/gym-3/availability", timeout_s=1.0) is None
    recorder.close()
    store.close()
