"""Wiring: the processes `mat run`, `mat web` and `mat demo` built from config.

This is the one place that decides real hardware or emulation: the real I2C bus and pin
factory on a Pi, the emulated chips, mock pins and a simulated person elsewhere. Everything
downstream is the same code.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: The demo's simulated person: lies down, calibrates, then sets of leg lifts with arches, forever.
DEMO_SCENARIO = "demo"


def _stop_flag() -> threading.Event:
    stop = threading.Event()

    def handle(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def build_loop(config, *, emulated: bool, scenario: str | None = None, record: str | None = None,
               clock=None, store_path: Path | None = None, live_path: str | None = None, notify=None):
    """The realtime loop with everything attached, ready to `run`."""
    from hardware.clock import SystemClock
    from hardware.feedback import Feedback
    from hardware.grid_adc import GridADC

    from .daemon import MatLoop
    from .live_socket import LiveServer
    from .pipeline import Pipeline
    from .recording import RecordingWriter
    from .store import Store, StoreWriter

    grid_config = config.grid
    clock = clock or SystemClock()
    if emulated:
        from hardware.emulated_mat import emulated_grid_adc

        person = _demo_person(scenario, start_s=clock.monotonic())
        grid = emulated_grid_adc(person, clock, rows=grid_config.rows, cols=grid_config.cols,
                                 addresses=grid_config.addresses, gain=grid_config.gain,
                                 data_rate=grid_config.data_rate)
    else:
        grid = GridADC.for_raspberry_pi(rows=grid_config.rows, cols=grid_config.cols,
                                        addresses=tuple(grid_config.addresses), gain=grid_config.gain,
                                        data_rate=grid_config.data_rate, chip=grid_config.chip,
                                        allow_missing=True)
    store_path = store_path or config.paths.database_path
    store_path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(store_path)
    store.mark_interrupted_open_sessions()
    settings = store.get_settings()
    pipeline = Pipeline(rows=grid_config.rows, cols=grid_config.cols, material=grid_config.material,
                        gain=grid_config.gain, floor=settings["floor"], tempo_s=settings["tempo_s"])
    feedback = Feedback(buzzer_pin=config.feedback.buzzer_pin, led_pin=config.feedback.led_pin,
                        button_pin=config.feedback.button_pin or None, clock=clock)
    feedback.sound_enabled = bool(settings["sound"])
    live = LiveServer(live_path or config.paths.socket)
    recorder = None
    if record:
        recorder = RecordingWriter(record, grid_config.rows, grid_config.cols, gain=grid_config.gain,
                                   material=grid_config.material)
    loop = MatLoop(grid, pipeline, feedback, clock, store=store, store_writer=StoreWriter(store),
                   live=live, recorder=recorder, notify=notify)
    if getattr(feedback, "button", None) is not None:
        feedback.button.when_pressed = lambda: pipeline.recalibrate()
    return loop


def _demo_person(scenario: str | None, start_s: float = 0.0):
    from hardware.simulated_person import Scenario, SimulatedPerson

    from .scenarios import DEMO, SUITE

    if scenario is None or scenario == DEMO_SCENARIO:
        text = DEMO
    elif scenario in SUITE:
        text = SUITE[scenario]
    else:
        text = Path(scenario).read_text()
    return LoopingPerson(SimulatedPerson(Scenario.parse(text)), start_s)


class LoopingPerson:
    """Plays a simulated person's scenario over and over, so the demo never runs dry."""

    def __init__(self, person, start_s: float = 0.0) -> None:
        self.person = person
        self.start_s = start_s  # the clock's time when the scenario begins

    def analog_input_for_row(self, row: int):
        inner = self.person.analog_input_for_row(row)
        period = self.person.duration_s
        return lambda channel, t: inner(channel, (t - self.start_s) % period)


def _notifier():
    """sd_notify when systemd started us (NOTIFY_SOCKET set), otherwise nothing."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return None
    import sdnotify

    notifier = sdnotify.SystemdNotifier()
    return notifier.notify


def run_daemon(config, *, emulated: bool = False, scenario: str | None = None, record: str | None = None) -> int:
    loop = build_loop(config, emulated=emulated, scenario=scenario, record=record, notify=_notifier())
    stop = _stop_flag()
    log.info("mat run: reading %d×%d cells%s", config.grid.rows, config.grid.cols,
             " (emulated hardware)" if emulated else "")
    try:
        loop.run(stop.is_set)
    finally:
        if loop.recorder is not None:
            loop.recorder.close()
        if loop.writer is not None:
            loop.writer.close()
        if loop.live is not None:
            loop.live.close()
        loop.feedback.close()
    return 0


def run_web(config, host: str | None = None, port: int | None = None) -> int:
    from web import create_app
    from web.server import serve

    app = create_app({"DATABASE": str(config.paths.database_path), "LIVE_SOCKET": config.paths.socket,
                      "MAX_LIVE_CLIENTS": config.web.max_live_clients})
    host, port = host or config.web.host, port or config.web.port
    try:
        serve(app, host=host, port=port, threads=config.web.threads)
    except OSError as error:
        print(f"mat web: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


def run_demo(config, host: str = "127.0.0.1", port: int = 8080) -> int:
    """Daemon and web server as two processes, as on the Pi, on emulated hardware."""
    state_dir = Path(tempfile.mkdtemp(prefix="flatback-demo-"))
    env = dict(os.environ, FLATBACK_STATE_DIR=str(state_dir), FLATBACK_SOCKET=str(state_dir / "mat.sock"),
               GPIOZERO_PIN_FACTORY="mock", GPIOZERO_MOCK_PIN_CLASS="mockpwmpin")
    mat = [sys.executable, "-m", "mat.cli"]
    if config.source:
        mat += ["--config", str(config.source)]
    # SIGTERM (`kill`) stops both as Ctrl-C does; SIGINT too when a shell started us ignoring it.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    daemon = subprocess.Popen(mat + ["run", "--emulated"], env=env)
    web = subprocess.Popen(mat + ["web", "--host", host, "--port", str(port)], env=env)
    try:
        if not wait_for_port(host, port, timeout_s=20, processes=(daemon, web)):
            print("mat demo: the web server did not start", file=sys.stderr)
            return 1
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        print(f"Flatback is running at http://{shown}:{port}/", flush=True)
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
