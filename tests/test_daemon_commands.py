"""The daemon's commands through its real live socket (as the web server sends them), without a
browser: every event they cause leaves by the same path as a frame's (sound, store, socket)."""
import threading
import time

import pytest

from mat.daemon.live_socket import CALIBRATE, STOP_SESSION, LiveClient, LiveServer
from mat.daemon.wiring import BUTTON_STEP_S
from mat.storage.store import Store
from test_loop import ONE_ARCH, run_loop


@pytest.fixture
def client(live):
    client = LiveClient(live.path)
    yield client
    client.close()


@pytest.fixture
def live(tmp_path):
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    server = LiveServer(tmp_path / "mat.sock")
    yield server
    server.close()


def _send_at(client, live, schedule):
    """A `during` hook for run_loop: at each scheduled time send the command and wait (real
    time) until the server's thread has it, so the loop's next step handles it."""
    pending = list(schedule)

    def during(now, grid):
        while pending and now >= pending[0][0]:
            _, name = pending.pop(0)
            assert client.send_command({"cmd": name})
            deadline = time.monotonic() + 2
            while not live._commands and time.monotonic() < deadline:
                time.sleep(0.005)
    return during


def test_stop_ends_the_session_everywhere_at_once(tmp_path, live, client):
    received = []
    reader = threading.Thread(target=lambda: received.extend(client.messages(timeout_s=8)), daemon=True)
    reader.start()
    store = Store(tmp_path / "flatback.db")
    _, loop, feedback = run_loop(ONE_ARCH, store=store, live=live, during=_send_at(client, live, [(20.0, STOP_SESSION)]))
    reader.join(timeout=10)
    ends = [e for e in loop.event_log if e["type"] == "session_end"]
    assert len(ends) == 1 and 20.0 <= ends[0]["t"] <= 20.2  # one session, ended by the command
    sessions = store.list_sessions()
    assert [(s["status"], s["reps"]) for s in sessions] == [("closed", ends[0]["reps"])]
    published = [m["event"]["type"] for m in received if m.get("type") == "event"]
    assert "session_end" in published and "absent" in published  # the page hears of it too


def test_calibrate_recalibrates_the_person_lying_there(tmp_path, live, client):
    _, loop, _ = run_loop(ONE_ARCH, live=live, during=_send_at(client, live, [(9.0, CALIBRATE)]))
    calibrated = [e["t"] for e in loop.event_log if e["type"] == "calibrated"]
    assert any(t > 9.0 for t in calibrated), calibrated


def _emulated_loop(tmp_path, parts):
    """The daemon's loop as `mat run --emulated` builds it (the default simulated person), on
    mock pins and a virtual clock, its state in tmp_path; (loop, clock)."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from hardware.clock import VirtualClock
    from mat.config import load_config
    from mat.daemon.wiring import build_loop

    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[paths]\nstate_dir = "{tmp_path}"\n')
    clock = VirtualClock()
    loop = build_loop(load_config(config_file, env={}), parts, emulated=True, clock=clock,
                      live_path=str(tmp_path / "mat.sock"))
    return loop, clock


def test_holding_the_button_recalibrates_through_the_loops_own_thread(tmp_path):
    """The button's press arrives on gpiozero's thread; the loop handles it at its next frame,
    as it does the page's calibrate command (the pipeline is only touched from the loop)."""
    from contextlib import ExitStack

    with ExitStack() as parts:
        loop, clock = _emulated_loop(tmp_path, parts)
        while not any(e["type"] == "set_end" for e in loop.event_log):  # calibrated, one set done
            loop.step()
        pressed_t = clock.monotonic()
        loop.feedback.button.pin.drive_low()  # pressed (the button pulls up) and held
        time.sleep(BUTTON_STEP_S + 0.5)  # one step held: recalibrate. gpiozero times the hold on its own thread, in real time
        loop.feedback.button.pin.drive_high()
        while clock.monotonic() < pressed_t + 20.0:
            loop.step()
    # Nothing calibrates in a rest by itself: the press did (at the next still stretch).
    assert [e for e in loop.event_log if e["type"] == "calibrated" and e["t"] > pressed_t]


def test_holding_the_button_three_ticks_steps_the_variant_announced_by_a_climb_and_stored(tmp_path):
    """Held three ticks (each one a tick on the buzzer) and let go, in a rest: the person served
    steps up the ladder (straight → straight with a light weight, rung 6): six notes climb on
    the buzzer pin, and the profile and the session under way are stored on the new rung."""
    from contextlib import ExitStack

    from hardware import feedback as fb

    with ExitStack() as parts:
        loop, clock = _emulated_loop(tmp_path, parts)
        while not any(e["type"] == "set_end" for e in loop.event_log):  # in the rest after the first set
            loop.step()
        rest_t = clock.monotonic() + 0.5
        while clock.monotonic() < rest_t:
            loop.step()
        served = loop.people.now.profile_id
        assert loop.people.settings["variant"] == "straight" and loop.live_state()["variant"] == "straight"
        button = loop.feedback.button
        button.hold_time = 0.3  # gpiozero times the hold on its own thread in real time: short here
        held_from = len(loop.feedback.tone_log)
        button.pin.drive_low()
        let_go = time.monotonic() + 3 * 0.3 + 0.15
        while time.monotonic() < let_go:
            loop.step()
            time.sleep(0.004)  # the loop's virtual time runs about as fast as the hold's real one
        button.pin.drive_high()
        until = clock.monotonic() + 2.0
        while clock.monotonic() < until:
            loop.step()
        heard = [f for _, f in loop.feedback.tone_log[held_from:] if f is not None]
        assert heard == [fb.BEAT[0][0]] * 3 + list(fb.CLIMB_NOTES_HZ[:6]), heard
        assert loop.live_state()["variant"] == "straight_weighted"
        session_id = loop.session_id
        loop.writer.flush()
        store = Store(tmp_path / "flatback.db")
        assert store.get_settings(served)["variant"] == "straight_weighted"
        assert store.get_session(session_id)["variant"] == "straight_weighted"
        store.close()
