"""Flatback's web page: a Flask app factory with blueprints for the pages and the JSON API.

It reads history from the SQLite store, writes the user's settings there, and relays the
daemon's live socket to browsers with Server-Sent Events. It never touches the hardware: a
slow or crashed web server cannot delay an alert.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from mat.store import Store


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        DATABASE=os.environ.get("FLATBACK_DATABASE", "/var/lib/flatback/flatback.db"),
        LIVE_SOCKET=os.environ.get("FLATBACK_SOCKET", "/run/flatback/mat.sock"),
        MAX_LIVE_CLIENTS=25,
        MAX_CONTENT_LENGTH=64 * 1024,
        SECRET_KEY=secrets.token_hex(16),
        SSE_HEARTBEAT_S=15.0,
    )
    if config:
        app.config.update(config)
    Path(app.config["DATABASE"]).parent.mkdir(parents=True, exist_ok=True)
    Store(app.config["DATABASE"]).close()  # create or upgrade the schema once, at start

    from .live_relay import LiveRelay

    app.extensions["live_relay"] = LiveRelay(app.config["LIVE_SOCKET"], app.config["MAX_LIVE_CLIENTS"])

    from . import api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.teardown_appcontext(_close_store)
    app.after_request(_security_headers)
    app.before_request(_refuse_cross_site_writes)
    app.register_error_handler(HTTPException, _http_error)
    return app


def get_store() -> Store:
    """The store for this request (one connection per request, closed at teardown)."""
    from flask import current_app

    if "store" not in g:
        g.store = Store(current_app.config["DATABASE"])
    return g.store


def get_relay():
    from flask import current_app

    return current_app.extensions["live_relay"]


def _close_store(_exc) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def _refuse_cross_site_writes():
    """A page on another site must not change settings or delete history: writes must come
    from this origin (browsers send Origin on cross-site POST/PUT/DELETE)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin is None:
        return None  # not a browser (curl, the tests' API client): no ambient credentials at stake
    from urllib.parse import urlsplit

    if urlsplit(origin).netloc != request.host:
        return _error(403, "cross-site request refused: changes must come from the mat's own page")
    return None


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _error(status: int, message: str, field: str | None = None):
    body = {"error": message}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    return response


def _http_error(error: HTTPException):
    if request.path.startswith("/api/") or request.path.endswith((".json", ".csv")):
        return _error(error.code or 500, error.description or error.name)
    return render_template("error.html", code=error.code, message=error.description), error.code
