"""`mat hub`: every mat on an MQTT broker, side by side, live (`python -m web.hub`).

A coach's page for a clinic or a gym: the same Flask/waitress stack as the mat's own page, but
fed by the broker instead of a daemon's socket. One paho subscriber per hub process follows
`flatback/+/state`, `/availability` and `/session` (mat/daemon/discovery.py names them), keeps
each mat's latest state, whether it is online (its last will says when it vanished) and its
latest sessions, and the page gets the whole room as Server-Sent Events whenever it changes.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time

from flask import Flask, Response, current_app, jsonify, render_template

from mat.daemon.discovery import OFFLINE, ONLINE, ROOT

log = logging.getLogger(__name__)

#: Sessions kept per mat (the newest first).
SESSIONS_KEPT = 5
#: The page gets the room at most this often (Hz).
PUSH_HZ = 20.0
HEARTBEAT_S = 15.0


class Room:
    """Every mat heard of on the broker, and a condition that wakes the page's streams."""

    def __init__(self, max_clients: int = 25) -> None:
        self.mats: dict[str, dict] = {}
        self.version = 0
        self.changed = threading.Condition()
        self.broker_connected = False
        self.max_clients = max_clients
        self.clients = 0
        self.closed = False

    def _mat(self, mat_id: str) -> dict:
        return self.mats.setdefault(mat_id, {"id": mat_id, "online": None, "state": None, "sessions": [],
                                             "offline_since": None, "received": None})

    def on_message(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        if len(parts) != 3 or parts[0] != ROOT:
            return
        mat_id, kind = parts[1], parts[2]
        text = payload.decode("utf-8", "replace")
        with self.changed:
            if kind == "availability" and text == "" and mat_id in self.mats:
                del self.mats[mat_id]  # `mat mqtt forget`: the mat left for good
            elif kind == "availability" and text in (ONLINE, OFFLINE):
                mat = self._mat(mat_id)
                mat["online"] = text == ONLINE
                mat["offline_since"] = None if mat["online"] else time.time()
            elif kind in ("state", "session") and text:
                try:
                    message = json.loads(text)
                except ValueError:
                    return
                if not isinstance(message, dict):
                    return
                mat = self._mat(mat_id)
                if kind == "state":
                    mat["state"] = message
                    mat["received"] = time.time()
                else:
                    sessions = [s for s in mat["sessions"] if s.get("session_id") != message.get("session_id")]
                    mat["sessions"] = sorted(sessions + [message], key=lambda s: s.get("session_id") or 0,
                                             reverse=True)[:SESSIONS_KEPT]
            else:
                return
            self.version += 1
            self.changed.notify_all()

    def set_connected(self, connected: bool) -> None:
        with self.changed:
            self.broker_connected = connected
            self.version += 1
            self.changed.notify_all()

    def snapshot(self) -> dict:
        with self.changed:
            return {"broker": self.broker_connected, "now": time.time(),
                    "mats": [json.loads(json.dumps(m)) for _, m in sorted(self.mats.items())]}

    def wait(self, version: int, timeout_s: float) -> int:
        with self.changed:
            if self.version == version and not self.closed:
                self.changed.wait(timeout_s)
            return self.version

    def close(self) -> None:
        """End every open stream (what serve() and the tests call on the way out)."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()


class BrokerFeed:
    """A paho subscriber feeding a Room. `settings`: a mat.config.MqttConfig (host, port,
    username, password, TLS)."""

    def __init__(self, room: Room, settings, password: str | None = None) -> None:
        from paho.mqtt.client import CallbackAPIVersion, Client

        self.room = room
        self.client = Client(CallbackAPIVersion.VERSION2, client_id=f"flatback-hub-{int(time.time() * 1000) % 10**9}")
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        if settings.username:
            self.client.username_pw_set(settings.username, password if password is not None else settings.password())
        if settings.tls:
            self.client.tls_set(ca_certs=settings.ca_file or None)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: room.set_connected(False)
        self.client.on_message = lambda c, u, m: room.on_message(m.topic, bytes(m.payload))
        self.client.connect_async(settings.host, settings.port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("hub: the broker refused the connection: %s", reason_code)
            return
        client.subscribe([(f"{ROOT}/+/state", 0), (f"{ROOT}/+/availability", 1), (f"{ROOT}/+/session", 1)])
        self.room.set_connected(True)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def create_hub_app(settings=None, room: Room | None = None, max_clients: int = 25) -> Flask:
    """The hub's Flask app. With `settings` (mat.config.MqttConfig) it subscribes to that broker;
    tests may pass a `room` to feed themselves."""
    app = Flask(__name__)
    app.config["MAX_LIVE_CLIENTS"] = max_clients
    room = room or Room(max_clients)
    feed = BrokerFeed(room, settings) if settings is not None else None
    app.extensions["hub_room"] = room
    app.extensions["hub_feed"] = feed
    app.extensions["live_relay"] = _Closer(room, feed)  # what web.serve closes on the way out

    @app.get("/")
    def index():
        return render_template("hub.html", page="hub")

    @app.get("/api/hub")
    def snapshot():
        return jsonify(room.snapshot())

    @app.get("/api/hub/live")
    def live():
        with room.changed:
            if room.clients >= room.max_clients:
                response = jsonify({"error": f"too many hub pages open (at most {room.max_clients}); close one"})
                response.status_code = 503
                return response
            room.clients += 1

        def stream():
            try:
                yield "retry: 2000\n\n"
                version, last_write = -1, 0.0
                while not room.closed:
                    now_version = room.wait(version, timeout_s=1.0)
                    if now_version != version:
                        version = now_version
                        yield f"event: room\ndata: {json.dumps(room.snapshot(), separators=(',', ':'))}\n\n"
                        last_write = time.monotonic()
                        time.sleep(1.0 / PUSH_HZ)
                    elif time.monotonic() - last_write >= HEARTBEAT_S:
                        yield ": still here\n\n"
                        last_write = time.monotonic()
            finally:
                with room.changed:
                    room.clients -= 1

        response = Response(stream(), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"
        return response

    @app.after_request
    def headers(response):
        from web.guards import _security_headers

        return _security_headers(response)

    return app


class _Closer:
    def __init__(self, room: Room, feed: BrokerFeed | None) -> None:
        self.room, self.feed = room, feed

    def close(self) -> None:
        self.room.close()
        if self.feed is not None:
            self.feed.close()


def main(argv: list[str] | None = None) -> int:
    """`mat hub`: the room served by waitress, subscribed to the broker of [mqtt]."""
    from mat.config import ConfigError, load_config

    from web.serve import serve_until_stopped

    parser = argparse.ArgumentParser(prog="mat hub", description="every mat on the MQTT broker, side by side")
    parser.add_argument("--config", help="TOML configuration file (its [mqtt] names the broker)")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--broker", metavar="HOST:PORT", help="the broker, instead of [mqtt] host and port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = load_config(args.config)
        settings = config.mqtt
        if args.broker:
            from dataclasses import replace

            host, _, port = args.broker.rpartition(":")
            settings = replace(settings, host=host or "localhost", port=int(port))
        settings.password()
    except (ConfigError, ValueError) as error:
        print(f"mat hub: {error}", file=sys.stderr)
        return 2
    app = create_hub_app(settings, max_clients=config.web.max_live_clients)
    host, port = args.host or config.web.host, args.port or 8090
    print(f"Flatback hub at http://{'localhost' if host in ('0.0.0.0', '127.0.0.1') else host}:{port}/ "
          f"(broker {settings.host}:{settings.port})", flush=True)
    return serve_until_stopped(app, host, port, config.web.threads, "mat hub")


if __name__ == "__main__":
    sys.exit(main())
