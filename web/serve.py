"""`mat web`: the app served by waitress, a production WSGI server, pure Python, fine on a Pi
Zero 2. `python -m web` starts here (`mat web` hands over to it, so nothing under mat/
imports the web)."""
from __future__ import annotations

import argparse
import logging
import sys

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


def main(argv: list[str] | None = None) -> int:
    """Serve the page with the settings of the configuration file (as `mat run` reads it)."""
    from mat.config import ConfigError, load_config

    from web import create_app

    parser = argparse.ArgumentParser(prog="mat web", description="the mat's web page")
    parser.add_argument("--config", help="TOML configuration file (as for `mat run`)")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"mat: {error}", file=sys.stderr)
        return 2
    app = create_app({"DATABASE": str(config.paths.database_path), "LIVE_SOCKET": config.paths.socket,
                      "MAX_LIVE_CLIENTS": config.web.max_live_clients, "MAT_ID": config.mqtt.effective_mat_id})
    return serve_until_stopped(app, args.host or config.web.host, args.port or config.web.port,
                               config.web.threads, "mat web")


def serve_until_stopped(app, host: str, port: int, threads: int, name: str) -> int:
    """Serve until interrupted; the exit status, with one line on stderr when the address is taken."""
    try:
        serve(app, host=host, port=port, threads=threads)
    except OSError as error:
        print(f"{name}: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
