"""Each coaching cue's sound on the buzzer pin (gpiozero's mock pins, a virtual clock), the
button (a press, holds of one, two and three steps), and the floor finder's stored results."""
import pytest

from hardware import feedback as fb
from mat.daemon.live_socket import CALIBRATE, FLOOR_FINDER
from mat.storage.store import Store, StoreWriter


def pin_history(clock, feedback, alerts, events, seconds=1.5, rest=None, step=0.005):
    """(time since the event, frequency) each time the buzzer pin changes."""
    start = clock.monotonic()
    alerts.respond(start, events, None, True, rest(0.0) if rest else None)
    while clock.monotonic() - start < seconds:
        clock.sleep(step)
        now = clock.monotonic()
        alerts.respond(now, [], None, True, rest(now - start) if rest else None)
    return [(round(t - start, 3), f) for t, f in feedback.tone_log if t >= start]


def shape(pattern):
    """The pin history a pattern should leave: (start offset, frequency) and silence at its end."""
    out, t = [], 0.0
    for frequency, duration in pattern:
        out.append((round(t, 3), frequency))
        t += duration
    out.append((round(t, 3), None))
    # consecutive equal frequencies do not change the pin
    return [p for i, p in enumerate(out) if i == 0 or p[1] != out[i - 1][1]]


def close_to(history, expected, tolerance=0.006):
    return len(history) == len(expected) and all(
        f == ef and abs(t - et) <= tolerance for (t, f), (et, ef) in zip(history, expected))


@pytest.mark.parametrize("event, pattern", [
    ({"type": "stop_cue", "depth": 0.6, "stop_depth": 0.7}, fb.STOP_HERE),
    ({"type": "bounce", "depth": 0.9, "rebound": 0.3}, fb.BOUNCE),
    ({"type": "set_done", "set": 1, "perfect_reps": 10, "sets_planned": 3, "last": False}, fb.SET_DONE),
    ({"type": "set_done", "set": 3, "perfect_reps": 10, "sets_planned": 3, "last": True}, fb.CLOSING),
    ({"type": "floor_finder_start", "beats": 10, "beat_s": 1.0, "count_in": 4}, fb.LEGS_UP),
    ({"type": "floor_finder_beat", "beat": 0}, fb.GO),
    ({"type": "floor_finder_beat", "beat": 3}, fb.BEAT),
    ({"type": "floor_finder_result", "beats": 6.2, "angle_deg": 34.2, "depth": 0.62, "reached_floor": False}, fb.STOP),
    ({"type": "floor_finder_result", "beats": 10, "angle_deg": 0.0, "depth": 1.0, "reached_floor": True}, fb.DONE),
])
def test_each_coaching_cue_plays_its_own_pattern_on_the_buzzer_pin(rig, event, pattern):
    clock, feedback, alerts = rig
    history = pin_history(clock, feedback, alerts, [dict(event, t=1.0)])
    assert close_to(history, shape(pattern)), (history, shape(pattern))
    assert feedback.buzzer.pin.state == 0  # silent again after it


def test_the_rest_timer_ending_plays_go_go_once(rig):
    clock, feedback, alerts = rig
    # 0.5 s left of the rest, counting down; then 0 until the next set starts.
    history = pin_history(clock, feedback, alerts, [], seconds=2.0, rest=lambda s: max(0.5 - s, 0.0))
    start = history[0][0]
    assert start == pytest.approx(0.5, abs=0.006)
    assert close_to([(round(t - start, 3), f) for t, f in history], shape(fb.NEXT_SET))


def test_the_lifted_tone_outranks_a_stop_cue(rig):
    clock, feedback, alerts = rig
    history = pin_history(clock, feedback, alerts, [{"t": 0, "type": "liftoff", "contact": 0.3},
                                                      {"t": 0, "type": "stop_cue", "depth": 0.6, "stop_depth": 0.7}],
                          seconds=0.5)
    assert history == [(0.0, fb.LIFTED_HZ)]


def test_the_button_steps_profiles_on_a_press_recalibrates_after_one_step_finds_the_floor_after_two_and_steps_the_variant_after_three(rig):
    import time

    from mat.daemon.live_socket import NEXT_PROFILE, NEXT_VARIANT
    from mat.daemon.wiring import BUTTON_STEP_S, wire_button

    class Loop:
        def __init__(self, feedback):
            self.commands, self.feedback = [], feedback

        def command(self, name):
            self.commands.append(name)

    loop = Loop(rig[1])
    button = rig[1].button  # the Feedback's own button (GPIO 24)
    wire_button(button, loop)
    assert button.hold_time == BUTTON_STEP_S and button.hold_repeat
    button.hold_time = 0.5  # gpiozero times the hold on its own thread in real time: short here
    pin = button.pin
    for held_s in (0.05, 0.75, 1.3, 1.8, 2.3):  # no step, one, two, three, four steps
        pin.drive_low()
        time.sleep(held_s)
        pin.drive_high()
        time.sleep(0.15)
    # Only letting go acts: a long hold is not also a profile step or a calibration.
    assert loop.commands == [NEXT_PROFILE, CALIBRATE, FLOOR_FINDER, NEXT_VARIANT, NEXT_VARIANT]


@pytest.mark.parametrize("rung", [1, 4, 6])
def test_the_variant_chosen_with_the_button_is_announced_by_n_notes_climbing_for_rung_n(rig, rung):
    clock, feedback, alerts = rig
    feedback.climb(rung)
    history = pin_history(clock, feedback, alerts, [], seconds=1.2)
    assert close_to(history, shape(fb.climb_pattern(rung))), history
    assert [f for _, f in history if f is not None] == list(fb.CLIMB_NOTES_HZ[:rung])  # each note higher
    assert len(set(fb.CLIMB_NOTES_HZ[:rung]) & {fb.COUNT_CHIRP[0][0]}) == 0  # never the profile's chirp


def test_a_floor_finder_result_is_stored_with_its_stop_here_depth(tmp_path):
    store = Store(tmp_path / "flatback.db")
    assert store.schema_version >= 7
    writer = StoreWriter(store, commit_interval_s=0.05)
    session_id = writer.open_session({"floor": 0.5, "tempo_s": 3.0, "rows": 4, "cols": 4, "material": "velostat",
                                      "gain": 1})
    writer.add_floor_test(session_id, {"t": 20.0, "type": "floor_finder_result", "beats": 6.2, "angle_deg": 34.2,
                                       "depth": 0.62, "reached_floor": False}, 0.62)
    writer.close()
    guest, me = store.guest_profile_id, store.current_profile_id()
    rows = store.floor_tests(guest)  # a session is the guest's until the person is known
    assert [(r["session_id"], r["beats"], r["angle_deg"], r["depth"], r["reached_floor"]) for r in rows] == [
        (session_id, 6.2, 34.2, 0.62, False)]
    assert store.get_settings(guest)["stop_depth"] == 0.62 and store.get_settings(me)["stop_depth"] is None
    # Moved to the person it was: the result goes with the session.
    store.move_session(session_id, me)
    assert [r["id"] for r in store.floor_tests(me)] == [rows[0]["id"]] and store.floor_tests(guest) == []
