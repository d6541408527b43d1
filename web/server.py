"""Serving the app with waitress: a production WSGI server, pure Python, fine on a Pi Zero 2."""
from __future__ import annotations

import logging

from waitress import serve as waitress_serve


def serve(app, host: str = "0.0.0.0", port: int = 8080, threads: int = 8) -> None:
    """Serve until interrupted. Each live page holds one thread for its event stream, so the
    thread count is the live-client limit plus a few for pages and the API."""
    threads = max(threads, app.config.get("MAX_LIVE_CLIENTS", 25) + 4)
    logging.getLogger("waitress").setLevel(logging.WARNING)
    waitress_serve(app, host=host, port=port, threads=threads, channel_timeout=30, ident="flatback")
