"""The JSON API: sessions, settings, commands to the daemon, and the live stream (SSE).

Bad input is a 400 {"error", "field"}, an unknown session a 404, a command while the daemon
is not running a 503: never a 500.
"""
from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request

from mat.store import SettingsError

from . import get_relay, json_error
from .db import get_store
from .live_relay import sse
from .openapi import openapi_spec
from .pin import pin_required

bp = Blueprint("api", __name__, url_prefix="/api")

DAEMON_DOWN = "the mat's daemon is not running (start flatback-mat.service, or `mat demo`)"


@bp.get("/openapi.json")
def openapi():
    """This API, described (web/openapi.py)."""
    return jsonify(openapi_spec(current_app.config["MAX_LIVE_CLIENTS"]))


@bp.get("/sessions")
def sessions():
    return jsonify(get_store().list_sessions())


@bp.get("/sessions/<id:session_id>")
def session(session_id: int):
    """The session row, its reps, events and contact samples ({"t": [...], "values": [...]})."""
    data = get_store().export_session_json(session_id)
    if data is None:
        return json_error(404, f"no session {session_id}")
    return jsonify(data)


@bp.delete("/sessions/<id:session_id>")
@pin_required
def delete_session(session_id: int):
    if not get_store().delete_session(session_id):
        return json_error(404, f"no session {session_id}")
    return jsonify({"deleted": session_id})


@bp.route("/sessions/<path:text>", methods=["GET", "DELETE"])
def not_a_session_id(text: str):
    """Anything else after /api/sessions/ (the routes above take the numbers)."""
    return json_error(400, f"must be a session number (a whole number from 1), not {text!r}", field="session_id")


@bp.get("/settings")
def get_settings():
    return jsonify(get_store().get_settings())


@bp.put("/settings")
@pin_required
def put_settings():
    """Change some of floor, tempo_s, sound: all of them or none (the store validates)."""
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict) or not changes:
        return json_error(400, 'send a JSON object such as {"floor": 0.5, "tempo_s": 3, "sound": true}')
    try:
        settings = get_store().update_settings(**changes)
    except SettingsError as error:
        return json_error(400, error.message, field=error.field)
    applied = get_relay().send_command("settings_changed")
    return jsonify(dict(settings, applied=applied))


def _command(name: str):
    if not get_relay().send_command(name):
        return json_error(503, DAEMON_DOWN)
    return jsonify({"sent": name})


@bp.post("/calibrate")
def calibrate():
    return _command("calibrate")


@bp.post("/session/start")
def start_session():
    return _command("start_session")


@bp.post("/session/stop")
def stop_session():
    return _command("stop_session")


@bp.get("/live")
def live():
    """Server-Sent Events: `state` (latest wins), `event` (each one) and `daemon`
    ({"connected": bool}, when it changes). Ends when the browser goes away: the server's
    next write fails and closes this generator, at the latest at the next heartbeat."""
    relay = get_relay()
    subscriber = relay.subscribe()
    if subscriber is None:
        return json_error(503, f"too many live pages open (at most {relay.max_clients}); close one")
    heartbeat_s = float(current_app.config["SSE_HEARTBEAT_S"])

    def stream():
        try:
            yield "retry: 2000\n\n"
            connected = relay.daemon_connected
            yield sse({"connected": connected}, "daemon")
            if relay.latest_state is not None:
                yield sse(relay.latest_state)
            last_write = time.monotonic()
            while not subscriber.closed:
                messages = subscriber.take(timeout_s=1.0)
                if relay.daemon_connected != connected:
                    connected = relay.daemon_connected
                    yield sse({"connected": connected}, "daemon")
                for message in messages:
                    if message.get("type") in ("state", "event"):
                        yield sse(message)
                        last_write = time.monotonic()
                if time.monotonic() - last_write >= heartbeat_s:
                    yield ": still here\n\n"
                    last_write = time.monotonic()
        finally:
            relay.unsubscribe(subscriber)

    response = Response(stream(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy in front must not hold events back
    return response
