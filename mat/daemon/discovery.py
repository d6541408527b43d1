"""MQTT topics of one mat, the messages it publishes, and its Home Assistant discovery payload.

Pure functions (no network, no clock): the publisher (mat/daemon/mqtt.py), `mat hub` and the
tests share them. Home Assistant's device-based discovery: one retained message on
`<prefix>/device/<mat_id>/config` with the device (`dev`), the origin (`o`) and the
components (`cmps`), each with its platform (`p`) and a stable `unique_id`; all of them share
the mat's availability topic. An empty payload on that topic removes the device.
"""
from __future__ import annotations

from dataclasses import dataclass

from mat.pipeline.settings import FLOOR_MAX, FLOOR_MIN, FLOOR_STEP

#: Every mat publishes under this prefix (the hub subscribes to ROOT/+/...).
ROOT = "flatback"
ONLINE, OFFLINE = "online", "offline"
#: Home Assistant's birth message payload on <prefix>/status.
HA_BIRTH = "online"


@dataclass(frozen=True)
class Topics:
    """The topics of mat `mat_id`."""

    mat_id: str

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.mat_id}"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def event(self) -> str:
        return f"{self.base}/event"

    @property
    def session(self) -> str:
        return f"{self.base}/session"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def floor_command(self) -> str:
        return f"{self.base}/floor/set"

    @property
    def calibrate_command(self) -> str:
        return f"{self.base}/calibrate"

    def discovery(self, prefix: str = "homeassistant") -> str:
        return f"{prefix}/device/{self.mat_id}/config"


def state_message(mat_id: str, live: dict, ts: float) -> dict:
    """What `flatback/<mat_id>/state` carries, from the loop's live state: who is on the mat
    and how the session goes (no raw pressure map: a broker is not the place for it). `ts` is
    the wall-clock time (s) the loop made the state."""
    contact = live.get("contact")
    floor = live.get("floor")
    return {
        "mat": mat_id,
        "ts": round(ts, 3),
        "state": live.get("state"),
        "present": live.get("state") not in (None, "empty"),
        "session": live.get("session_id") is not None,
        "zone": live.get("zone"),
        "lifted": live.get("zone") == "lifted",
        "contact": contact,
        "contact_pct": None if contact is None else round(100 * contact),
        "floor": floor,
        "floor_pct": None if floor is None else round(100 * floor),
        "reps": live.get("reps", 0),
        "perfect_reps": live.get("perfect_reps", 0),
        "liftoffs": live.get("liftoffs", 0),
        "set": live.get("set", 0),
    }


#: The fields of a state message that, when they change, are published at once even between
#: sessions (the `ts` and the contact's last digits are not news).
STATE_NEWS = ("state", "present", "session", "zone", "contact_pct", "floor", "reps", "perfect_reps", "liftoffs", "set")


def state_news(message: dict) -> tuple:
    return tuple(message.get(key) for key in STATE_NEWS)


def _binary(name: str, device_class: str, field: str, topic: str, uid: str) -> dict:
    return {"p": "binary_sensor", "name": name, "device_class": device_class, "state_topic": topic,
            "value_template": f"{{{{ 'ON' if value_json.{field} else 'OFF' }}}}", "unique_id": uid}


def _sensor(name: str, field: str, topic: str, uid: str, state_class: str, unit: str | None = None,
            device_class: str | None = None, icon: str | None = None) -> dict:
    component = {"p": "sensor", "name": name, "state_topic": topic, "value_template": f"{{{{ value_json.{field} }}}}",
                 "state_class": state_class, "unique_id": uid}
    if unit:
        component["unit_of_measurement"] = unit
    if device_class:
        component["device_class"] = device_class
    if icon:
        component["icon"] = icon
    return component


def discovery_payload(mat_id: str, version: str, prefix_topics: Topics | None = None) -> dict:
    """Home Assistant's device-based discovery payload for mat `mat_id` (publish it retained
    on `Topics(mat_id).discovery(prefix)`)."""
    topics = prefix_topics or Topics(mat_id)
    uid = f"flatback_{mat_id}"
    state, session = topics.state, topics.session
    components = {
        "on_mat": _binary("Someone on the mat", "occupancy", "present", state, f"{uid}_on_mat"),
        "back_lifted": _binary("Back lifted", "problem", "lifted", state, f"{uid}_back_lifted"),
        "session": _binary("Session running", "running", "session", state, f"{uid}_session"),
        "contact": _sensor("Lumbar contact", "contact_pct", state, f"{uid}_contact", "measurement", "%",
                           icon="mdi:human-handsdown"),
        "reps": _sensor("Reps", "reps", state, f"{uid}_reps", "total_increasing", icon="mdi:counter"),
        "perfect_reps": _sensor("Perfect reps", "perfect_reps", state, f"{uid}_perfect_reps", "total_increasing",
                                icon="mdi:star-check"),
        "last_perfect_reps": _sensor("Last session's perfect reps", "perfect_reps", session,
                                     f"{uid}_last_perfect_reps", "measurement", icon="mdi:star-check-outline"),
        "mean_descent": _sensor("Mean descent", "mean_descent_s", session, f"{uid}_mean_descent", "measurement",
                                "s", device_class="duration"),
        "balance": _sensor("Balance (left − right)", "balance_pct", session, f"{uid}_balance", "measurement", "%",
                           icon="mdi:scale-balance"),
        "floor": {"p": "number", "name": "Floor", "state_topic": state, "value_template": "{{ value_json.floor_pct }}",
                  "command_topic": topics.floor_command, "min": round(FLOOR_MIN * 100), "max": round(FLOOR_MAX * 100),
                  "step": round(FLOOR_STEP * 100), "mode": "slider", "unit_of_measurement": "%",
                  "icon": "mdi:arrow-collapse-down", "unique_id": f"{uid}_floor"},
        "calibrate": {"p": "button", "name": "Calibrate", "command_topic": topics.calibrate_command,
                      "payload_press": "PRESS", "icon": "mdi:target", "unique_id": f"{uid}_calibrate"},
    }
    return {
        "dev": {"ids": [uid], "name": f"Flatback {mat_id}", "mf": "Flatback", "mdl": "Flatback exercise mat",
                "sw": version},
        "o": {"name": "flatback", "sw": version},
        "cmps": components,
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "qos": 1,
    }


def session_payload(message: dict) -> dict:
    """A session message with what Home Assistant's sensors read (balance in %)."""
    out = dict(message)
    balance = message.get("balance")
    out["balance_pct"] = None if balance is None else round(100 * balance, 1)
    return out
