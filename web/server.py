"""Serving the app with waitress: a production WSGI server, pure Python, fine on a Pi Zero 2."""
from __future__ import annotations

import logging

from waitress import create_server

#: Threads beyond the live streams, for pages, the API and exports.
SPARE_THREADS = 4


def make_server(app, host: str = "0.0.0.0", port: int = 8080, threads: int = 8):
    """A waitress server for `app`, listening but not yet running (`.run()`); port 0 picks a
    free one (`.effective_port`). Each open live page holds one thread for its event stream,
    so the pool is at least the live-client limit plus a few for everything else."""
    threads = max(threads, int(app.config.get("MAX_LIVE_CLIENTS", 25)) + SPARE_THREADS)
    # "Task queue depth" warnings are expected when streams hold threads: not worth a log line.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # A stream is a request in progress, so channel_timeout only closes idle keep-alive sockets.
    return create_server(app, host=host, port=port, threads=threads, channel_timeout=60, ident="flatback")


def serve(app, host: str = "0.0.0.0", port: int = 8080, threads: int = 8) -> None:
    """Serve until interrupted (what `mat web` runs)."""
    server = make_server(app, host, port, threads)
    try:
        server.run()
    finally:
        app.extensions["live_relay"].close()  # ends the open event streams
