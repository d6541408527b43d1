"""`mat bench --load`: alert latency and frame rate with and without browsers watching.

As on the Pi, the daemon loop and the web server are separate processes: the loop runs here in
real time on emulated chips; `mat web` runs as a child process; a third process opens 20 live
streams and keeps requesting pages. Latency is measured from the simulator's true floor
crossing to the buzzer pin turning on, on the system clock.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

SSE_CLIENTS = 20
PAGE_WORKERS = 2
PAGES = ("/", "/history", "/settings", "/api/sessions", "/api/state")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_realtime(text: str, with_load: bool) -> dict:
    """Run the loop in real time over the scenario; return latencies (s) and frame rate."""
    from hardware.clock import SystemClock
    from hardware.emulated_mat import emulated_grid_adc
    from hardware.feedback import LIFTED_HZ, Feedback
    from hardware.simulated_person import Scenario, SimulatedPerson

    from .daemon import MatLoop
    from .live_socket import LiveServer
    from .pipeline import Pipeline
    from .service import LoopingPerson
    from .store import Store, StoreWriter

    state_dir = Path(tempfile.mkdtemp(prefix="flatback-bench-"))
    sock_path = state_dir / "mat.sock"
    person = SimulatedPerson(Scenario.parse(text))
    clock = SystemClock()
    children: list[subprocess.Popen] = []
    live = LiveServer(sock_path)
    store = Store(state_dir / "flatback.db")
    writer = StoreWriter(store)
    feedback = Feedback(clock=clock)
    try:
        requests = 0
        if with_load:
            port = _free_port()
            env = dict(os.environ, FLATBACK_STATE_DIR=str(state_dir), FLATBACK_SOCKET=str(sock_path))
            children.append(subprocess.Popen([sys.executable, "-m", "mat.cli", "web", "--host", "127.0.0.1",
                                              "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL))
            _wait_for_port(port)
            load = subprocess.Popen([sys.executable, "-m", "mat.loadbench", f"http://127.0.0.1:{port}",
                                     str(person.duration_s + 5)], stdout=subprocess.PIPE, text=True)
            children.append(load)
            time.sleep(2.0)  # let the streams connect before the session starts
        start = clock.monotonic()
        grid = emulated_grid_adc(LoopingPerson(person, start), clock)
        loop = MatLoop(grid, Pipeline(), feedback, clock, store=store, store_writer=writer, live=live)
        while clock.monotonic() - start < person.duration_s:
            loop.step()
        elapsed = clock.monotonic() - start
        frames = loop.figures.frames
        watching = live.client_count
        if with_load:
            load.terminate()
            out, _ = load.communicate(timeout=10)
            requests = int(out.strip().splitlines()[-1]) if out.strip() else 0
        on_times = [t - start for t, f in feedback.tone_log if f == LIFTED_HZ]
        latencies = []
        for crossing, _end in person.liftoffs(0.5):
            after = [t for t in on_times if t >= crossing - 0.3]
            if after and after[0] - crossing <= 1.0:
                latencies.append(max(after[0] - crossing, 0.0))
        return {"latencies": latencies, "frame_rate_hz": frames / elapsed, "requests": requests,
                "socket_clients": watching}
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
                child.wait(timeout=10)
        writer.close()
        live.close()
        feedback.close()


def _wait_for_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the web server did not start")


def measure_latency_under_load(quick: bool = False) -> dict:
    from .scenarios import LATENCY_SUITE

    text = LATENCY_SUITE["latency_sharp"]
    idle = run_realtime(text, with_load=False)
    loaded = run_realtime(text, with_load=True)

    def p95(values):
        return round(float(np.percentile(values, 95)) * 1000, 1) if values else None

    return {
        "latency_idle_p50_ms": round(statistics.median(idle["latencies"]) * 1000, 1) if idle["latencies"] else None,
        "latency_idle_p95_ms": p95(idle["latencies"]),
        "latency_load_p50_ms": round(statistics.median(loaded["latencies"]) * 1000, 1) if loaded["latencies"] else None,
        "latency_load_p95_ms": p95(loaded["latencies"]),
        "frame_rate_idle_hz": round(idle["frame_rate_hz"], 1),
        "frame_rate_load_hz": round(loaded["frame_rate_hz"], 1),
        "load_sse_clients": SSE_CLIENTS,
        "load_page_requests": loaded["requests"],
    }


# -- the load generator process ----------------------------------------------------------------
def _watch(base: str, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with urllib.request.urlopen(base + "/api/live", timeout=5) as stream:
                while not stop.is_set() and stream.readline():
                    pass
        except OSError:
            time.sleep(0.2)


def _browse(base: str, stop: threading.Event, counter: list[int]) -> None:
    i = 0
    while not stop.is_set():
        try:
            with urllib.request.urlopen(base + PAGES[i % len(PAGES)], timeout=5) as page:
                page.read()
            counter[0] += 1
        except OSError:
            time.sleep(0.05)
        i += 1


def main(argv: list[str]) -> int:
    base, seconds = argv[0], float(argv[1])
    stop = threading.Event()
    counter = [0]
    threads = [threading.Thread(target=_watch, args=(base, stop), daemon=True) for _ in range(SSE_CLIENTS)]
    threads += [threading.Thread(target=_browse, args=(base, stop, counter), daemon=True) for _ in range(PAGE_WORKERS)]
    for thread in threads:
        thread.start()
    try:
        stop.wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        print(counter[0], flush=True)
    return 0


if __name__ == "__main__":
    import signal

    def _stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    sys.exit(main(sys.argv[1:]))
