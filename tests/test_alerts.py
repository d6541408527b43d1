"""AlertSounds on its own: events and the contact zone in, the buzzer pin out (gpiozero's mock
pins, a virtual clock)."""
import pytest

from hardware import feedback as fb
from mat.pipeline.liftoff import Zone


def play(clock, alerts, seconds, zone=None, events_at=None, step=0.005):
    """Frames every `step` s; `events_at` maps a frame time to the events of that frame."""
    start = clock.monotonic()
    while clock.monotonic() - start < seconds:
        events = (events_at or {}).pop(round(clock.monotonic() - start, 3), [])
        alerts.respond(clock.monotonic(), events, zone, True)
        clock.sleep(step)


def tones(feedback, since=0.0):
    return [f for t, f in feedback.tone_log if t >= since]


def test_a_liftoff_holds_the_lifted_tone_until_the_back_is_down(rig):
    clock, feedback, alerts = rig
    alerts.respond(clock.monotonic(), [{"t": 0.0, "type": "liftoff", "contact": 0.3}], Zone("lifted"), True)
    assert feedback.buzzer.pin.state == 0.5 and tones(feedback) == [fb.LIFTED_HZ]
    play(clock, alerts, 1.0, zone=Zone("lifted"))
    assert tones(feedback) == [fb.LIFTED_HZ]  # one unbroken tone
    alerts.respond(clock.monotonic(), [{"t": 1.0, "type": "contact", "duration_s": 1.0}], Zone("ok"), True)
    assert feedback.buzzer.pin.state == 0 and tones(feedback) == [fb.LIFTED_HZ, None]


def test_getting_up_stops_the_lifted_tone(rig):
    clock, feedback, alerts = rig
    alerts.respond(clock.monotonic(), [{"t": 0.0, "type": "liftoff", "contact": 0.3}], None, True)
    alerts.respond(clock.monotonic(), [{"t": 0.1, "type": "absent", "left_t": 0.05}], None, False)
    play(clock, alerts, 0.5)
    assert feedback.buzzer.pin.state == 0


def test_the_warning_zone_beeps_and_the_lifted_tone_silences_the_beeps(rig):
    clock, feedback, alerts = rig
    play(clock, alerts, 2.0, zone=Zone("warning", 0.8))
    assert tones(feedback).count(fb.WARNING_HZ) >= 4
    alerts.respond(clock.monotonic(), [{"t": 2.0, "type": "liftoff", "contact": 0.4}], Zone("warning", 0.9), True)
    lifted_at = clock.monotonic()
    play(clock, alerts, 1.0, zone=Zone("warning", 0.9))
    assert tones(feedback, since=lifted_at) == [fb.LIFTED_HZ]


@pytest.mark.parametrize("event, pattern", [
    ({"type": "present"}, fb.CHIRP),
    ({"type": "calibrated", "pressed": True}, fb.RISING_CHIRP),
    ({"type": "calibration_problem", "reason": "not_still"}, fb.FAULT),
    ({"type": "fast_descent", "descent_s": 1.0, "tempo_s": 3.0}, fb.DOUBLE_CHIRP),
    ({"type": "dead_cell", "row": 1, "col": 2, "kind": "zero"}, fb.FAULT),
    ({"type": "chip_offline", "row": 2}, fb.FAULT),
    ({"type": "breath_hold", "duration_s": 6.0}, fb.BREATHE),
])
def test_each_one_shot_event_plays_its_own_pattern(rig, event, pattern):
    clock, feedback, alerts = rig
    play(clock, alerts, 3.0, events_at={0.0: [dict(event, t=0.0)]})
    played = [f for f in tones(feedback) if f is not None]
    assert played == [f for f, _ in pattern if f is not None]


def test_no_event_no_zone_no_sound(rig):
    clock, feedback, alerts = rig
    play(clock, alerts, 1.0, zone=Zone("ok"))
    assert tones(feedback) == []
