"""Flatback's web page: a Flask app factory with one blueprint per page (web/pages: live,
sessions, settings) and one for the JSON API (web/api), following the layout of Flask's
tutorial; web/guards.py holds what every request passes through.

It reads history from the SQLite store, writes the user's settings there, and relays the
daemon's live socket to browsers with Server-Sent Events. It never touches the hardware: a
slow or crashed web server cannot delay an alert.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask
from werkzeug.routing import IntegerConverter


DEFAULT_CONFIG = {
    # `mat web` (web.serve) sets both from the configuration file.
    "DATABASE": "/var/lib/flatback/flatback.db",
    "LIVE_SOCKET": "/run/flatback/mat.sock",
    # Signs the PIN unlock cookie. A fresh key per start only means a restart locks browsers again.
    "SECRET_KEY": None,
    "PIN_UNLOCK_S": 15 * 60,  # how long a browser stays unlocked after the PIN
    "SESSION_COOKIE_NAME": "flatback_unlock",
    "SESSION_COOKIE_SAMESITE": "Strict",
    "SESSION_COOKIE_HTTPONLY": True,
    "MAX_LIVE_CLIENTS": 25,  # each live page holds one server thread for its event stream
    "SSE_HEARTBEAT_S": 15.0,  # a comment line this often keeps proxies and phones from timing out
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "MAT_ID": None,  # the `mat` label of /metrics: [mqtt] mat_id (or the hostname), set by `mat web`
}


def create_app(config: dict | None = None):
    """The Flask app. `config` keys: DATABASE (SQLite path), LIVE_SOCKET (the daemon's Unix
    socket path), SECRET_KEY, MAX_LIVE_CLIENTS, SSE_HEARTBEAT_S."""
    app = Flask(__name__)
    app.config.update(DEFAULT_CONFIG)
    if config:
        app.config.update(config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secrets.token_hex(16)
    app.url_map.converters["id"] = SessionIdConverter
    app.permanent_session_lifetime = timedelta(seconds=float(app.config["PIN_UNLOCK_S"]))

    from web import api, db, guards, metrics, vendor
    from web.live_relay import LiveRelay
    from web.pages import floor, live, profiles, sessions, settings, week

    db.init_app(app)
    app.extensions["live_relay"] = LiveRelay(app.config["LIVE_SOCKET"], app.config["MAX_LIVE_CLIENTS"])
    for blueprint in (live.bp, sessions.bp, week.bp, floor.bp, profiles.bp, settings.bp, api.bp, vendor.bp,
                      metrics.bp):
        app.register_blueprint(blueprint)
    guards.install(app)
    return app


class SessionIdConverter(IntegerConverter):
    """`<id:session_id>`: a whole number from 1, however big (the store knows there is no such
    session; a range check here would make werkzeug answer 405 instead of 404)."""

    regex = r"[1-9][0-9]*"
