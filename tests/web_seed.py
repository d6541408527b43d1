"""Helpers for the web tests: a seeded session in a real SQLite file, waiting for the commands
a fake daemon receives, and the app on waitress in a thread. Fixtures are in conftest.py."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime

import numpy as np

from mat.daemon.live_socket import LiveServer
from mat.storage.store import Store, StoreWriter
from web.serve import make_server

FRAME_HZ = 50
ROWS, COLS = 4, 4


def seed_session(store: Store, writer: StoreWriter, started_at: datetime, *, reps: int, perfect: int,
                 descent_s: float, seconds: float = 4.0, t0: float = 1000.0) -> int:
    """One closed session: frames at FRAME_HZ, contact samples at 10 Hz, events and reps.
    The imperfect reps are the last ones, each with one lift-off during it. Times are the
    daemon's monotonic seconds, starting at `t0`."""
    session_id = writer.open_session({"floor": 0.5, "tempo_s": 3.0, "rows": ROWS, "cols": COLS,
                                      "material": "velostat", "gain": 1}, started_at=started_at.isoformat())
    rng = np.random.default_rng(session_id)
    n = int(seconds * FRAME_HZ)
    for i in range(n):
        writer.add_frame(session_id, t0 + i / FRAME_HZ, rng.integers(200, 20000, size=(ROWS, COLS), dtype=np.int32))
    for i in range(int(seconds * 10)):
        writer.add_sample(session_id, t0 + i / 10, 0.3 if i % 13 == 5 else 0.95)
    writer.add_event(session_id, {"t": t0, "type": "present"})
    for k in range(reps):
        end = t0 + 0.1 + k * (seconds - 0.2) / reps
        ok = k < perfect
        if not ok:
            writer.add_event(session_id, {"t": end - 0.05, "type": "liftoff", "contact": 0.31})
            writer.add_event(session_id, {"t": end - 0.02, "type": "contact", "duration_s": 0.03})
        rep = {"t": end, "type": "rep", "set": 1 + k // 10, "rep": 1 + k % 10, "top_t": end - 0.08,
               "bottom_t": end - 0.04, "end_t": end, "descent_s": descent_s, "perfect": ok, "balance": 0.02}
        writer.add_event(session_id, rep)
        writer.add_rep(session_id, rep)
    writer.close_session(session_id, {"reps": reps, "perfect_reps": perfect, "liftoffs": reps - perfect,
                                      "sets": 1 + (reps - 1) // 10, "mean_descent_s": descent_s,
                                      "duration_s": seconds, "balance": 0.02})
    writer.flush()
    return session_id


def wait_for_commands(server: LiveServer, count: int = 1, timeout_s: float = 5.0) -> list[dict]:
    """Commands are read by the server's own thread: poll until `count` have arrived."""
    commands: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while len(commands) < count and time.monotonic() < deadline:
        commands += server.poll_commands()
        time.sleep(0.01)
    return commands


@contextmanager
def waitress_in_thread(app, threads: int = 8):
    """The app on waitress at 127.0.0.1:<free port> (`.effective_port`), in a thread. On exit
    the open event streams end and every connection closes, as webtest's StopableWSGIServer
    stops waitress."""
    server = make_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        app.extensions["live_relay"].close()
        logging.getLogger("waitress").setLevel(logging.FATAL)

        def close_every_channel():
            for channel in list(server._map.values()):
                channel.handle_close()

        # Channels are closed on the server's own thread (its trigger runs the closure there):
        # closing them from here raced with its select() ("Bad file descriptor").
        server.trigger.pull_trigger(close_every_channel)
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()
