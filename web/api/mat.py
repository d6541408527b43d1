"""Talking to the mat: its commands (calibrate, start, stop), the live stream, and this API's
own description."""
from __future__ import annotations

import time

from flask import Response, current_app, jsonify

from mat.daemon.live_socket import CALIBRATE, FLOOR_FINDER, START_SESSION, STOP_SESSION

from web.api import bp
from web.api.sessions import profile_filter
from web.db import get_store
from web.guards import json_error
from web.live_relay import get_relay, sse
from web.openapi import openapi_spec

DAEMON_DOWN = "the mat's daemon is not running (start flatback-mat.service, or `mat demo`)"


@bp.get("/openapi.json")
def openapi():
    """This API, described (web/openapi.py)."""
    return jsonify(openapi_spec(current_app.config["MAX_LIVE_CLIENTS"]))


def _command(name: str):
    if not get_relay().send_command(name):
        return json_error(503, DAEMON_DOWN)
    return jsonify({"sent": name})


@bp.post("/calibrate")
def calibrate():
    return _command(CALIBRATE)


@bp.post("/session/start")
def start_session():
    return _command(START_SESSION)


@bp.post("/session/stop")
def stop_session():
    return _command(STOP_SESSION)


@bp.post("/floor-finder")
def floor_finder():
    """Open like calibrate: given lying on the mat, and it changes no stored setting by itself."""
    return _command(FLOOR_FINDER)


@bp.get("/floor-tests")
def floor_tests():
    """The floor finder's results, oldest first: whom the mat serves, or ?profile=N's."""
    profile_id, problem = profile_filter()
    return problem or jsonify(get_store().floor_tests(profile_id))


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
