"""`mat demo`: the daemon and the web server as two processes, as on the Pi, on emulated
hardware with a simulated person, on a fresh database with two people (mat/tools/demo_people.py)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mat.tools.demo_people import seed_demo_people


def run_demo(config, host: str = "127.0.0.1", port: int = 8080, mqtt: str | None = None) -> int:
    """Daemon and web server as two processes, as on the Pi, on emulated hardware. `mqtt`:
    HOST:PORT of a broker the demo mat publishes to (as mat id `demo`, unless [mqtt] names one)."""
    state_dir = Path(tempfile.mkdtemp(prefix="flatback-demo-"))
    env = dict(os.environ, FLATBACK_STATE_DIR=str(state_dir), FLATBACK_SOCKET=str(state_dir / "mat.sock"),
               GPIOZERO_PIN_FACTORY="mock", GPIOZERO_MOCK_PIN_CLASS="mockpwmpin")
    if mqtt:
        env["FLATBACK_MQTT"] = mqtt
        env.setdefault("FLATBACK_MAT_ID", config.mqtt.mat_id or "demo")
    seed_demo_people(replace(config.paths, state_dir=str(state_dir)).database_path)  # two people with a history
    mat = [sys.executable, "-m", "mat.cli"]
    web = [sys.executable, "-m", "web"]
    if config.source:
        mat += ["--config", str(config.source)]
        web += ["--config", str(config.source)]
    # SIGTERM (`kill`) stops both as Ctrl-C does; SIGINT too when a shell started us ignoring it.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    daemon = subprocess.Popen(mat + ["run", "--emulated"], env=env)
    web = subprocess.Popen(web + ["--host", host, "--port", str(port)], env=env)
    try:
        if not wait_for_port(host, port, timeout_s=20, processes=(daemon, web)):
            print("mat demo: the web server did not start", file=sys.stderr)
            return 1
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        print(f"Flatback is running at http://{shown}:{port}/", flush=True)
        if mqtt:
            mat_id = env["FLATBACK_MAT_ID"]
            print(f"Publishing to MQTT {mqtt} as flatback/{mat_id}/ (Home Assistant discovers it; "
                  f"`mat hub --broker {mqtt}` shows it)", flush=True)
        print(f"(state in {state_dir}; Ctrl-C stops both)", flush=True)
        while daemon.poll() is None and web.poll() is None:
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (web, daemon):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (web, daemon):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_port(host: str, port: int, timeout_s: float, processes) -> bool:
    """True once `host:port` takes connections; False after `timeout_s`, or at once when one of
    `processes` (the ones that should be listening) has exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            with socket.create_connection((host if host != "0.0.0.0" else "127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False
