"""Buzzer and LED patterns on gpiozero's mock pins, timed on a virtual clock."""
import logging

import pytest

from hardware import feedback as fb
from hardware.clock import VirtualClock
from hardware.feedback import Feedback


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def mat_feedback(clock):
    device = Feedback(clock=clock, threaded=False)
    yield device
    device.close()


def run(device, clock, seconds, step=0.005):
    for _ in range(int(round(seconds / step))):
        device.update()
        clock.sleep(step)


def buzzer_levels(device):
    return [state.state for state in device.buzzer.pin.states]


def test_the_lift_alert_turns_the_buzzer_pin_on_at_once_and_off_when_asked(mat_feedback, clock):
    run(mat_feedback, clock, 0.1)
    mat_feedback.continuous(True)
    assert mat_feedback.buzzer.pin.state == 0.5
    assert mat_feedback.tone_log[-1] == (pytest.approx(0.1), fb.LIFTED_HZ)
    run(mat_feedback, clock, 1.0)
    assert mat_feedback.buzzer.pin.state == 0.5  # continuous: no gaps
    mat_feedback.continuous(False)
    run(mat_feedback, clock, 0.01)
    assert mat_feedback.buzzer.pin.state == 0
    assert buzzer_levels(mat_feedback) == [0, 0.5, 0]


def test_chirp_and_rising_chirp_play_their_notes_for_their_durations(mat_feedback, clock):
    mat_feedback.rising_chirp()
    run(mat_feedback, clock, 0.5, step=0.001)
    log = mat_feedback.tone_log
    assert [f for _, f in log] == [880.0, None, 1320.0, None]
    assert log[1][0] - log[0][0] == pytest.approx(0.09, abs=0.002)
    assert log[3][0] - log[2][0] == pytest.approx(0.12, abs=0.002)
    assert buzzer_levels(mat_feedback) == [0, 0.5, 0, 0.5, 0]


def test_warning_beeps_come_faster_as_contact_sinks(mat_feedback, clock):
    def beeps_in_two_seconds(level):
        mat_feedback.warning(level)
        start = len(mat_feedback.tone_log)
        run(mat_feedback, clock, 2.0, step=0.002)
        mat_feedback.warning(0)
        run(mat_feedback, clock, 0.1)
        return sum(1 for _, f in mat_feedback.tone_log[start:] if f == fb.WARNING_HZ)

    slow, fast = beeps_in_two_seconds(0.1), beeps_in_two_seconds(1.0)
    assert 3 <= slow <= 5 and fast >= 15


def test_the_lift_alert_outranks_warning_beeps(mat_feedback, clock):
    mat_feedback.warning(0.9)
    run(mat_feedback, clock, 0.3)
    mat_feedback.continuous(True)
    run(mat_feedback, clock, 1.0)
    assert mat_feedback.tone_log[-1][1] == fb.LIFTED_HZ
    assert mat_feedback.buzzer.pin.state == 0.5


def test_sound_off_keeps_the_buzzer_pin_silent(mat_feedback, clock):
    mat_feedback.sound_enabled = False
    mat_feedback.chirp()
    mat_feedback.continuous(True)
    run(mat_feedback, clock, 0.5)
    assert buzzer_levels(mat_feedback) == [0]


def test_the_led_is_on_while_a_session_runs_and_blinks_on_a_fault(mat_feedback, clock):
    mat_feedback.session_running(True)
    run(mat_feedback, clock, 0.1)
    assert mat_feedback.led.is_lit
    mat_feedback.fault()
    toggles_before = len(mat_feedback.led.pin.states)
    run(mat_feedback, clock, 2.0)
    assert len(mat_feedback.led.pin.states) - toggles_before >= 6


def test_the_button_calls_its_hook(mat_feedback):
    pressed = []
    mat_feedback.button.when_pressed = lambda: pressed.append(True)
    mat_feedback.button.pin.drive_low()
    assert pressed == [True]


def test_off_a_pi_the_mock_factory_is_chosen_with_one_log_line(monkeypatch, caplog):
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(fb, "on_raspberry_pi", lambda: False)
    Device.pin_factory = None
    with caplog.at_level(logging.INFO):
        factory = fb.choose_pin_factory()
    assert isinstance(factory, MockFactory)
    assert [r.message for r in caplog.records if "mock pins" in r.message]
