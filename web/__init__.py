"""Flatback's web page: a Flask app factory with one blueprint per area (live, sessions,
settings, api), following the layout of Flask's tutorial.

It reads history from the SQLite store, writes the user's settings there, and relays the
daemon's live socket to browsers with Server-Sent Events. It never touches the hardware: a
slow or crashed web server cannot delay an alert.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter


DEFAULT_CONFIG = {
    "DATABASE": os.environ.get("FLATBACK_DATABASE", "/var/lib/flatback/flatback.db"),
    "LIVE_SOCKET": os.environ.get("FLATBACK_SOCKET", "/run/flatback/mat.sock"),
    # Signs the PIN unlock cookie. A fresh key per start only means a restart locks browsers again.
    "SECRET_KEY": None,
    "PIN_UNLOCK_S": 15 * 60,  # how long a browser stays unlocked after the PIN
    "SESSION_COOKIE_NAME": "flatback_unlock",
    "SESSION_COOKIE_SAMESITE": "Strict",
    "SESSION_COOKIE_HTTPONLY": True,
    "MAX_LIVE_CLIENTS": 25,  # each live page holds one server thread for its event stream
    "SSE_HEARTBEAT_S": 15.0,  # a comment line this often keeps proxies and phones from timing out
    "MAX_CONTENT_LENGTH": 64 * 1024,
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

    from . import db
    from .live_relay import LiveRelay

    db.init_app(app)
    app.extensions["live_relay"] = LiveRelay(app.config["LIVE_SOCKET"], app.config["MAX_LIVE_CLIENTS"])

    from . import api, live, pin, sessions, settings, vendor

    for blueprint in (live.bp, sessions.bp, settings.bp, pin.bp, api.bp, vendor.bp):
        app.register_blueprint(blueprint)
    app.before_request(_refuse_oversized_bodies)
    app.before_request(_refuse_cross_site_writes)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    return app


class SessionIdConverter(IntegerConverter):
    """`<id:session_id>`: a whole number from 1, however big (the store knows there is no such
    session; a range check here would make werkzeug answer 405 instead of 404)."""

    regex = r"[1-9][0-9]*"


def get_relay():
    """This process's one relay of the daemon's live socket."""
    from flask import current_app

    return current_app.extensions["live_relay"]


def json_error(status: int, message: str, field: str | None = None):
    """The API's error shape: {"error": what is wrong, "field": which input} with `status`."""
    body = {"error": message}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    return response


def _refuse_oversized_bodies():
    """413 before anything else looks at the request (Flask alone raises it only when the body
    is read, so a locked or refused request would answer 403 to an oversized body)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge(f"the body is {request.content_length} bytes; at most {limit} are taken")


def _refuse_cross_site_writes():
    """A page on another site must not change settings, delete history or command the mat:
    a browser's write must come from this origin. Browsers say where a request comes from
    (Sec-Fetch-Site, Origin on every cross-site POST/PUT/DELETE, else Referer)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return _cross_site()
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin is None:
        return None  # not a browser (curl, scripts): no ambient credentials at stake
    if urlsplit(origin).netloc != request.host:
        return _cross_site()
    return None


def _cross_site():
    return json_error(403, "cross-site request refused: changes must come from the mat's own page")


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for older browsers
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _http_error(error: HTTPException):
    """Errors as JSON for the API and exports, as a page elsewhere; with the error's own
    headers (Allow on a 405)."""
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if isinstance(error, MethodNotAllowed):
        error.description = (f"{request.method} is not allowed on {request.path}; "
                             f"allowed: {', '.join(sorted(error.valid_methods or []))}")
    if request.path.startswith("/api/") or request.path.endswith((".json", ".csv")):
        response = json_error(error.code or 500, error.description or error.name)
        response.headers.extend(headers)
        return response
    return render_template("error.html", code=error.code, message=error.description), error.code, headers
