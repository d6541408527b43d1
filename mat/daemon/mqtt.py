"""Publishing the mat to an MQTT broker (paho-mqtt), off the realtime loop.

The loop only calls `offer_state` and `offer_event`: a non-blocking put in a bounded queue (or
a latest-wins slot for the state). Everything that touches the network runs on this module's
thread and on paho's own network thread, so a broker that is down, slow, flapping or refusing
the password cannot delay an alert.

Under `flatback/<mat_id>/`:
- `state`: retained, about 2 Hz while a session runs, on change otherwise (QoS 0);
- `event`: every pipeline event (QoS 1; paho keeps up to MAX_QUEUED of them while the broker is away);
- `session`: each finished session's summary (QoS 1, retained: the latest), drained in order
  from the store's `mqtt_outbox` table and deleted there only once the broker acknowledged it,
  so a summary written while the broker is away goes out when it returns;
- `availability`: `online` / `offline` (retained; `offline` is also the last will).
With discovery on, Home Assistant's device-based discovery payload (mat/daemon/discovery.py)
is published retained on connect and again whenever Home Assistant's birth message arrives.
Commands (`floor/set`, `calibrate`) are checked by mat/pipeline/settings.py, stored, and handed
to the loop like the page's (`poll_commands`).
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque

from paho.mqtt.enums import MQTTErrorCode

from mat.daemon.discovery import HA_BIRTH, OFFLINE, ONLINE, Topics, discovery_payload, session_payload, \
    state_message, state_news
from mat.daemon.live_socket import CALIBRATE, SETTINGS_CHANGED
from mat.pipeline.settings import SettingsError

log = logging.getLogger(__name__)

#: While a session runs the state goes out at this rate (Hz); otherwise when it changes.
SESSION_STATE_HZ = 2.0
#: The first fields of discovery.STATE_NEWS that go out at once during a session (state, present,
#: session, zone): a lifted back shows on the hub without waiting for the next 2 Hz tick.
URGENT = 4
#: Events waiting for this thread (the loop drops beyond it, counting them).
MAX_EVENTS_WAITING = 2000
#: QoS 1 messages paho keeps while the broker is away (beyond them, new events are dropped).
MAX_QUEUED = 1000
#: An outbox summary not acknowledged within this long is sent again (s).
OUTBOX_RESEND_S = 10.0
#: How often the outbox is looked at while connected (s).
OUTBOX_POLL_S = 0.5


def version() -> str:
    try:
        from importlib.metadata import version as _version

        return _version("flatback")
    except Exception:  # noqa: BLE001 — not installed as a package (a source checkout)
        return "0"


class MqttPublisher:
    """Publishes one mat. `settings`: a `mat.config.MqttConfig`. `store_path`: the SQLite file
    whose outbox is drained (None: no outbox, no commands). `client_id` defaults to
    flatback-<mat_id>."""

    def __init__(self, settings, store_path=None, mat_id: str | None = None, password: str | None = None,
                 client_id: str | None = None) -> None:
        from paho.mqtt.client import CallbackAPIVersion, Client

        self.settings = settings
        self.mat_id = mat_id or settings.effective_mat_id
        self.topics = Topics(self.mat_id)
        self.store_path = store_path
        self.version = version()
        # what the loop hands over
        self._events: queue.Queue = queue.Queue(maxsize=MAX_EVENTS_WAITING)
        self._state_lock = threading.Lock()
        self._state: dict | None = None
        self._state_t = 0.0
        self._state_seq = 0
        self._commands: deque[dict] = deque(maxlen=100)
        self._inbox: deque[tuple[str, bytes]] = deque(maxlen=100)
        self._wake = threading.Event()
        self._stop = threading.Event()
        # what it tells (the loop's live state, /metrics, `mat bench`)
        self.connected = False
        self.status = "connecting"
        self.outbox_length = 0
        self.events_dropped = 0
        self.events_published = 0  # handed to the client: sent, or kept by it while the broker is away
        self.states_published = 0
        self.summaries_published = 0
        self.connects = 0
        self.commands_refused = 0
        self._send_discovery = threading.Event()
        self._resend_state = True

        self.client = Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"flatback-{self.mat_id}")
        self.client.max_queued_messages_set(MAX_QUEUED)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.will_set(self.topics.availability, OFFLINE, qos=1, retain=True)
        if settings.username:
            self.client.username_pw_set(settings.username, password if password is not None else settings.password())
        if settings.tls:
            self.client.tls_set(ca_certs=settings.ca_file or None)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._thread = threading.Thread(target=self._run, name="mqtt", daemon=True)
        self._thread.start()

    # -- from the loop: never blocks ---------------------------------------------------------
    def offer_state(self, state: dict) -> None:
        with self._state_lock:
            self._state = state
            self._state_t = time.time()
            self._state_seq += 1

    def offer_event(self, event: dict) -> None:
        try:
            self._events.put_nowait(event)
        except queue.Full:
            self.events_dropped += 1
        self._wake.set()

    def poll_commands(self) -> list[dict]:
        commands = []
        while self._commands:
            commands.append(self._commands.popleft())
        return commands

    def figures(self) -> dict:
        """For the loop's live state (and so /metrics)."""
        return {"connected": self.connected, "status": self.status, "outbox": self.outbox_length,
                "events_published": self.events_published, "events_dropped": self.events_dropped,
                "connects": self.connects, "mat_id": self.mat_id}

    def close(self, timeout_s: float = 3.0) -> None:
        """Say `offline`, disconnect, stop the threads."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=timeout_s + 2)

    # -- paho's network thread ---------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            status = f"refused: {reason_code}"
            if status != self.status:
                log.warning("mqtt: %s:%d refused the connection: %s", self.settings.host, self.settings.port,
                            reason_code)
            self.status = status
            return
        self.connected = True
        self.connects += 1
        self.status = "connected"
        log.info("mqtt: connected to %s:%d as %s", self.settings.host, self.settings.port, self.mat_id)
        client.publish(self.topics.availability, ONLINE, qos=1, retain=True)
        subscriptions = []
        if self.settings.discovery:
            subscriptions.append((f"{self.settings.discovery_prefix}/status", 1))
            self._send_discovery.set()
        if self.settings.commands and self.store_path is not None:
            subscriptions += [(self.topics.floor_command, 1), (self.topics.calibrate_command, 1)]
        if subscriptions:
            client.subscribe(subscriptions)
        self._resend_state = True
        self._wake.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected and not self._stop.is_set():
            log.warning("mqtt: disconnected from %s:%d (%s); reconnecting", self.settings.host,
                        self.settings.port, reason_code)
        self.connected = False
        if not self.status.startswith("refused"):
            self.status = "disconnected"

    def _on_message(self, client, userdata, message) -> None:
        self._inbox.append((message.topic, bytes(message.payload)))
        self._wake.set()

    # -- this module's thread ----------------------------------------------------------------
    def _run(self) -> None:
        store = None
        if self.store_path is not None:
            from mat.storage.store import Store

            store = Store(self.store_path)
        try:
            self.client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s)
            self.client.loop_start()
            last_state_t, last_news, seen_seq = 0.0, None, 0
            inflight: tuple[int, object, float] | None = None  # outbox id, MessageInfo, sent at
            next_outbox_t = 0.0
            while not self._stop.is_set():
                self._wake.wait(0.05)
                self._wake.clear()
                now = time.monotonic()
                # commands and Home Assistant's birth
                while self._inbox:
                    self._handle(store, *self._inbox.popleft())
                if self._send_discovery.is_set() and self.connected:
                    self._send_discovery.clear()
                    self._publish_discovery()
                # events, in order
                while True:
                    try:
                        event = self._events.get_nowait()
                    except queue.Empty:
                        break
                    info = self.client.publish(self.topics.event, json.dumps(dict(event, mat=self.mat_id)), qos=1)
                    if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):  # NO_CONN: kept for later
                        self.events_published += 1
                    else:
                        self.events_dropped += 1
                # the state: 2 Hz during a session, on change otherwise
                with self._state_lock:
                    live, state_t, seq = self._state, self._state_t, self._state_seq
                if live is not None and seq != seen_seq and self.connected:
                    message = state_message(self.mat_id, live, state_t)
                    news = state_news(message)
                    if message["session"]:  # 2 Hz, and at once when the zone or the count changes
                        send = now - last_state_t >= 1.0 / SESSION_STATE_HZ or (
                            news[:URGENT] != (last_news or ())[:URGENT] and now - last_state_t >= 0.1)
                    else:
                        send = news != last_news
                    if send or self._resend_state:
                        self.client.publish(self.topics.state, json.dumps(message), qos=0, retain=True)
                        self.states_published += 1
                        last_state_t, last_news, self._resend_state = now, news, False
                        seen_seq = seq
                    elif not message["session"]:
                        seen_seq = seq  # nothing new to say; during a session it waits for its tick
                # the outbox, one summary at a time, in order
                if store is not None and now >= next_outbox_t:
                    next_outbox_t = now + OUTBOX_POLL_S
                    inflight = self._drain_outbox(store, inflight, now)
        except Exception:  # noqa: BLE001 — publishing must never take the daemon down
            log.exception("mqtt: the publisher stopped")
            self.status = "failed"
        finally:
            try:
                if self.connected:
                    info = self.client.publish(self.topics.availability, OFFLINE, qos=1, retain=True)
                    info.wait_for_publish(timeout=1.0)
                self.client.disconnect()
            except Exception:  # noqa: BLE001
                pass
            self.client.loop_stop()
            self.connected = False
            if store is not None:
                store.close()

    def _drain_outbox(self, store, inflight, now):
        if inflight is not None:
            outbox_id, info, sent_t = inflight
            if info.is_published():
                store.outbox_done(outbox_id)
                self.summaries_published += 1
                inflight = None
            elif now - sent_t > OUTBOX_RESEND_S and self.connected:
                inflight = None  # sent again below (the broker keeps whichever arrives; both are the same)
        if inflight is None and self.connected:
            row = store.outbox_next()
            if row is not None:
                payload = json.dumps(dict(session_payload(row["payload"]), mat=self.mat_id))
                info = self.client.publish(self.topics.session, payload, qos=1, retain=True)
                if info.rc == 0:
                    inflight = (row["id"], info, now)
        self.outbox_length = store.outbox_count()
        return inflight

    def _publish_discovery(self) -> None:
        if not self.settings.discovery:
            return
        payload = discovery_payload(self.mat_id, self.version, self.topics)
        self.client.publish(self.topics.discovery(self.settings.discovery_prefix), json.dumps(payload), qos=1,
                            retain=True)

    def _handle(self, store, topic: str, payload: bytes) -> None:
        text = payload.decode("utf-8", "replace").strip()
        if topic == f"{self.settings.discovery_prefix}/status":
            if text == HA_BIRTH:
                self._send_discovery.set()
            return
        if store is None or not self.settings.commands:
            return
        if topic == self.topics.calibrate_command:
            self._commands.append({"cmd": CALIBRATE, "from": "mqtt"})
        elif topic == self.topics.floor_command:
            try:
                floor = floor_from_percent(text)
                store.update_settings(floor=floor)  # the page's rule: mat/pipeline/settings.py
            except SettingsError as error:
                self.commands_refused += 1
                log.warning("mqtt: floor %r refused: %s", text[:40], error.message)
                self._resend_state = True  # Home Assistant's slider goes back to the floor in force
                return
            self._commands.append({"cmd": SETTINGS_CHANGED, "from": "mqtt"})


def floor_from_percent(text: str) -> float:
    """The floor from a command's payload in percent ("55" or "55.0" → 0.55); SettingsError
    when it is not a number (mat/pipeline/settings.py then checks the value)."""
    try:
        percent = float(text)
    except ValueError:
        raise SettingsError("floor", "must be a number in percent, like 55") from None
    if percent != percent or percent in (float("inf"), float("-inf")):
        raise SettingsError("floor", "must be a number in percent, like 55")
    return percent / 100


def forget(settings, mat_id: str | None = None, timeout_s: float = 10.0) -> str | None:
    """Remove this mat from the broker (`mat mqtt forget`, run on uninstall): an empty retained
    payload on its Home Assistant discovery topic (Home Assistant removes the device) and on its
    retained topics (the hub forgets it). None when done, else what went wrong (one line)."""
    from paho.mqtt.client import CallbackAPIVersion, Client

    topics = Topics(mat_id or settings.effective_mat_id)
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"flatback-{topics.mat_id}-forget")
    if settings.username:
        client.username_pw_set(settings.username, settings.password())
    if settings.tls:
        client.tls_set(ca_certs=settings.ca_file or None)
    try:
        client.connect(settings.host, settings.port, keepalive=settings.keepalive_s)
    except OSError as error:
        return f"cannot reach {settings.host}:{settings.port}: {error.strerror or error}"
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout_s
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not client.is_connected():
            return f"{settings.host}:{settings.port} did not accept the connection (user name or password?)"
        infos = [client.publish(topic, b"", qos=1, retain=True) for topic in
                 (topics.discovery(settings.discovery_prefix), topics.state, topics.session, topics.availability)]
        for info in infos:
            info.wait_for_publish(timeout=max(deadline - time.monotonic(), 0.1))
        if not all(info.is_published() for info in infos):
            return "the broker did not acknowledge the removal in time"
        return None
    finally:
        client.disconnect()
        client.loop_stop()
