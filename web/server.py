"""Serving the app with waitress: a production WSGI server, pure Python, fine on a Pi Zero 2."""
from __future__ import annotations

import logging

from waitress import serve as waitress_serve

#: Threads beyond the live streams, for pages, the API and exports.
SPARE_THREADS = 4


def serve(app, host: str = "0.0.0.0", port: int = 8080, threads: int = 8) -> None:
    """Serve until interrupted. Each open live page holds one thread for its event stream, so
    the pool is at least the live-client limit plus a few for everything else."""
    threads = max(threads, app.config.get("MAX_LIVE_CLIENTS", 25) + SPARE_THREADS)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is normal with streams
    # channel_timeout above the SSE heartbeat, so an idle live page is never cut.
    waitress_serve(app, host=host, port=port, threads=threads, channel_timeout=60, ident="flatback")
