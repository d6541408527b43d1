"""`mat run`: the daemon's parts built from the configuration and wired together.

This is the one place that decides real hardware or emulation: the real I2C bus and pin
factory on a Pi, the emulated chips, mock pins and a simulated person elsewhere. Everything
downstream is the same code.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

from hardware.feedback import BEAT as STEP_TICK
from mat.daemon.live_socket import CALIBRATE, FLOOR_FINDER, NEXT_PROFILE, NEXT_VARIANT

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


def build_loop(config, parts: ExitStack, *, emulated: bool, scenario: str | None = None,
               record: str | None = None, clock=None, store_path: Path | None = None,
               live_path: str | None = None, notify=None):
    """The realtime loop with everything attached, ready to `run`. Each part that needs closing
    is pushed on `parts` as it is made, so closing the stack closes them (last made, first
    closed), also when building fails half-way."""
    from hardware.clock import SystemClock
    from hardware.feedback import Feedback
    from hardware.grid_adc import GridADC

    from mat.daemon.loop import MatLoop
    from mat.daemon.live_socket import LiveServer
    from mat.pipeline.pipeline import Pipeline
    from mat.storage.recording import RecordingWriter
    from mat.storage.store import Store, StoreWriter

    grid_config = config.grid
    clock = clock or SystemClock()
    if emulated:
        from hardware.emulation.mat import emulated_grid_adc

        person = _emulated_person(scenario, start_s=clock.monotonic())
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
    store.mark_interrupted_open_sessions(outbox=config.mqtt.enabled)
    settings = store.seed_settings({"floor": config.detection.floor, "tempo_s": config.detection.tempo_s})
    pipeline = Pipeline(rows=grid_config.rows, cols=grid_config.cols, material=grid_config.material,
                        gain=grid_config.gain, floor=settings["floor"], tempo_s=settings["tempo_s"],
                        stop_depth=settings["stop_depth"])
    pipeline.set_plan(settings["plan_sets"], settings["plan_reps"], settings["rest_s"])
    feedback = Feedback(buzzer_pin=config.feedback.buzzer_pin, led_pin=config.feedback.led_pin,
                        button_pin=config.feedback.button_pin or None, clock=clock)
    parts.callback(feedback.close)
    feedback.sound_enabled = bool(settings["sound"])
    live = LiveServer(live_path or config.paths.socket)
    parts.callback(live.close)
    mqtt = None
    if config.mqtt.enabled:
        from mat.daemon.mqtt import MqttPublisher

        mqtt = MqttPublisher(config.mqtt, store_path=store_path)
        parts.callback(mqtt.close)  # closed after the writer has put the last summary in its outbox
    writer = StoreWriter(store, outbox=config.mqtt.enabled)
    parts.callback(writer.close)
    recorder = None
    if record:
        recorder = RecordingWriter(record, grid_config.rows, grid_config.cols, gain=grid_config.gain,
                                   material=grid_config.material)
        parts.callback(recorder.close)
    loop = MatLoop(grid, pipeline, feedback, clock, store=store, store_writer=writer,
                   live=live, recorder=recorder, notify=notify, mqtt=mqtt)
    if getattr(feedback, "button", None) is not None:
        wire_button(feedback.button, loop)
    return loop


#: The button is one press or a hold counted in steps of this long (s): a press steps to the
#: next profile; let go after one step it recalibrates, after two it starts the floor finder,
#: after three or more it steps the variant up the ladder. Each step ticks, so someone lying
#: down knows what letting go will do.
BUTTON_STEP_S = 2.0
#: What letting go does after 0, 1, 2 or 3+ steps held.
BUTTON_ACTIONS = (NEXT_PROFILE, CALIBRATE, FLOOR_FINDER, NEXT_VARIANT)


def wire_button(button, loop) -> None:
    """A press steps to the next profile (n short chirps for profile n); a hold of one step
    recalibrates, of two the floor finder starts, of three the variant steps to the next rung
    (n notes climbing for rung n). gpiozero calls these on its own thread: the loop takes them
    as commands, on its thread."""
    held = {"steps": 0}
    button.hold_time = BUTTON_STEP_S
    button.hold_repeat = True

    def on_held():
        held["steps"] += 1
        if held["steps"] < len(BUTTON_ACTIONS):
            loop.feedback.play(STEP_TICK)  # the feedback's player is thread-safe

    def on_released():
        loop.command(BUTTON_ACTIONS[min(held["steps"], len(BUTTON_ACTIONS) - 1)])
        held["steps"] = 0

    button.when_held = on_held
    button.when_released = on_released


def _emulated_person(scenario: str | None, start_s: float = 0.0):
    from hardware.emulation.mat import LoopingPerson
    from hardware.emulation.person import Scenario, SimulatedPerson
    from hardware.emulation.scenarios import DEMO, SUITE

    if scenario is None or scenario == DEMO_SCENARIO:
        text = DEMO
    elif scenario in SUITE:
        text = SUITE[scenario]
    else:
        text = Path(scenario).read_text()
    return LoopingPerson(SimulatedPerson(Scenario.parse(text)), start_s)


def _notifier():
    """sd_notify when systemd started us (NOTIFY_SOCKET set), otherwise nothing."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return None
    import sdnotify

    notifier = sdnotify.SystemdNotifier()
    return notifier.notify


def run_daemon(config, *, emulated: bool = False, scenario: str | None = None, record: str | None = None) -> int:
    from mat.config import ConfigError

    try:
        config.mqtt.password()  # an unreadable password file is a configuration error, said at once
    except ConfigError as error:
        print(f"mat: {config.source or 'built-in configuration'}: {error}", file=sys.stderr)
        return 2
    with ExitStack() as parts:
        loop = build_loop(config, parts, emulated=emulated, scenario=scenario, record=record, notify=_notifier())
        stop = _stop_flag()
        log.info("mat run: reading %d×%d cells%s", config.grid.rows, config.grid.cols,
                 " (emulated hardware)" if emulated else "")
        loop.run(stop.is_set)
    return 0
