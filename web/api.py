"""The JSON API: sessions, settings, commands to the daemon, and the live event stream."""
from __future__ import annotations

import queue
import time

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from mat.store import SettingsError

from . import _error, get_relay, get_store
from .live_relay import sse

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/sessions")
def sessions():
    return jsonify(get_store().list_sessions())


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    data = get_store().export_session_json(session_id)
    if data is None:
        return _error(404, f"no session {session_id}")
    return jsonify(data)


@bp.delete("/sessions/<int:session_id>")
def delete_session(session_id: int):
    if not get_store().delete_session(session_id):
        return _error(404, f"no session {session_id}")
    return jsonify({"deleted": session_id})


@bp.get("/settings")
def get_settings():
    return jsonify(get_store().get_settings())


@bp.put("/settings")
def put_settings():
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict) or not changes:
        return _error(400, "send a JSON object with floor, tempo_s and/or sound")
    try:
        settings = get_store().update_settings(**changes)
    except SettingsError as error:
        return _error(400, error.message, field=error.field)
    get_relay().send_command("settings_changed")
    return jsonify(settings)


def _command(name: str):
    if not get_relay().send_command(name):
        return _error(503, "the mat's daemon is not running (is flatback-mat.service up?)")
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


@bp.get("/state")
def state():
    relay = get_relay()
    relay.start()
    latest = relay.latest_state
    if latest is None:
        return _error(503, "no live state yet: the mat's daemon is not running or just starting")
    return jsonify(latest)


@bp.get("/live")
def live():
    relay = get_relay()
    subscriber = relay.subscribe()
    if subscriber is None:
        return _error(503, f"too many live viewers (at most {relay.max_clients}); close another tab")
    heartbeat_s = current_app.config["SSE_HEARTBEAT_S"]

    def stream():
        try:
            yield "retry: 2000\n\n"
            if relay.latest_state is not None:
                yield sse(relay.latest_state)
            last = time.monotonic()
            while True:
                try:
                    message = subscriber.queue.get(timeout=1.0)
                except queue.Empty:
                    if time.monotonic() - last >= heartbeat_s:
                        last = time.monotonic()
                        yield ": still here\n\n"
                    continue
                last = time.monotonic()
                yield sse(message)
        finally:
            relay.unsubscribe(subscriber)

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
