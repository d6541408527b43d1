"""The JSON API under /api: sessions, settings and the PIN, commands to the daemon, the live
stream (Server-Sent Events) and its own description (/api/openapi.json).

Bad input is a 400 {"error", "field"}, an unknown session a 404, a command while the daemon
is not running a 503: never a 500.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from web.api import mat, profiles, sessions, settings  # noqa: E402,F401 (they add their routes to bp)
