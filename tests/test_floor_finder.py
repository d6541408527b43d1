"""The floor finder: its beat, its stop, its result, on its own (a scripted contact) and in the
emulated daemon with a simulated person who follows the beat (buzzer pin, stored row)."""
import pytest

from hardware import feedback as fb
from mat.daemon.live_socket import FLOOR_FINDER
from mat.pipeline.floor_finder import BEAT_S, COUNT_IN_BEATS, LOWERING_BEATS, FloorFinder
from mat.storage.store import Store
from test_loop import run_loop


def drive(finder, contact_at, sacral_at, until, step=0.01):
    events, t = [], finder.start_t
    while t <= until and not finder.done:
        events += finder.update(round(t, 3), contact_at(t), sacral_at(t))
        t += step
    return events


def legs_up(t):
    return 0.0 if t < 1.5 else 0.3


def test_the_beat_counts_in_then_ten_beats_down_and_stop_sounds_as_the_contact_falls():
    finder = FloorFinder(0.0, floor=0.5)
    go = COUNT_IN_BEATS * BEAT_S
    give_way_t = go + 6.3 * BEAT_S  # the back gives way a third of the way from beat 6 to 7
    # Good form wobbles down to ~0.9; then the arch takes the contact down within 0.2 s.
    events = drive(finder, lambda t: 1.0 - 0.01 * max(t - go, 0) - (0 if t < give_way_t else min((t - give_way_t) * 3, 0.7)),
                   legs_up, until=30)
    beats = [(e["t"], e["beat"]) for e in events if e["type"] == "floor_finder_beat"]
    assert [b for _, b in beats] == list(range(-COUNT_IN_BEATS + 1, 7))  # "legs up" was the first count
    assert [t for t, _ in beats] == pytest.approx([go + b * BEAT_S for _, b in beats], abs=0.011)
    result = events[-1]
    assert result["type"] == "floor_finder_result" and not result["reached_floor"]
    # Stopped 0.25 below the level at go, ~0.06 s after giving way, long before the floor (0.5).
    assert give_way_t < result["t"] < give_way_t + 0.15
    assert result["beats"] == pytest.approx(6.3, abs=0.15)
    assert result["angle_deg"] == pytest.approx(90 * (1 - result["beats"] / LOWERING_BEATS), abs=0.06)
    assert result["depth"] == pytest.approx(result["beats"] / 10, abs=0.001)


def test_a_back_that_holds_reaches_the_floor():
    finder = FloorFinder(0.0, floor=0.5)
    events = drive(finder, lambda t: 0.95, legs_up, until=30)
    result = events[-1]
    assert result["type"] == "floor_finder_result" and result["reached_floor"]
    assert result["beats"] == LOWERING_BEATS and result["angle_deg"] == 0.0
    assert result["t"] == pytest.approx(COUNT_IN_BEATS * BEAT_S + LOWERING_BEATS * BEAT_S, abs=0.011)


def test_legs_that_never_went_up_are_no_result():
    finder = FloorFinder(0.0, floor=0.5)
    events = drive(finder, lambda t: 1.0, lambda t: 0.0, until=30)
    assert events[-1]["type"] == "floor_finder_problem" and events[-1]["reason"] == "legs not up"
    assert not any(e["type"] == "floor_finder_result" for e in events)


FLOOR_TEST = """
person mass_kg=70 seed=61
empty 3
lie_down 1.5
relax 3
press 4
rest 5
floor_test give_way=0.6 pace=1.0
rest 6
get_up
empty 6
"""


@pytest.fixture(scope="module")
def daemon_run(tmp_path_factory):
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    store = Store(tmp_path_factory.mktemp("ff") / "flatback.db")
    sent = []

    def ask(now, loop):
        # The person asks for the test as their script's floor_test step starts, as a long
        # press of the button does (MatLoop.command).
        if not sent and now >= 16.5:
            sent.append(now)
            loop.command(FLOOR_FINDER)

    person, loop, feedback = run_loop(FLOOR_TEST, store=store, watch=ask)
    return person, loop, feedback, store, sent[0]


def test_the_daemon_plays_the_beat_and_stops_the_person_near_where_their_back_gave_way(daemon_run):
    person, loop, feedback, store, sent = daemon_run
    truth = next(e for e in person.events if e["kind"] == "floor_test")
    events = loop.event_log
    result = next(e for e in events if e["type"] == "floor_finder_result")
    # The back gave way at 0.6 of the way down (36°); the mat said stop within a beat's tenth.
    assert not result["reached_floor"]
    assert result["t"] - truth["give_way_t"] == pytest.approx(0.05, abs=0.1)
    assert result["angle_deg"] == pytest.approx(truth["angle_deg"], abs=5)
    # The buzzer: "legs up", a tick per count-in beat, a higher "go", a tick per beat, then "stop".
    log = feedback.tone_log
    start = next(t for t, f in log if f == fb.LEGS_UP[0][0])
    go = next(t for t, f in log if f == fb.GO[0][0] and t > start)
    assert go - start == pytest.approx(COUNT_IN_BEATS * BEAT_S, abs=0.03)
    ticks = [t for t, f in log if f == fb.BEAT[0][0] and t > go]
    assert len(ticks) == int(result["beats"])
    assert all(abs((b - a) - BEAT_S) < 0.03 for a, b in zip(ticks, ticks[1:]))
    stop = [t for t, f in log if f == fb.STOP[0][0] and t > go]
    go_event = next(e for e in events if e["type"] == "floor_finder_beat" and e["beat"] == 0)
    assert stop and stop[0] - go == pytest.approx(result["t"] - go_event["t"], abs=0.02)
    # Stored, and its depth is the stop-here depth from now on.
    rows = store.floor_tests()
    assert [(r["angle_deg"], r["reached_floor"]) for r in rows] == [(result["angle_deg"], False)]
    assert store.get_settings()["stop_depth"] == pytest.approx(result["depth"], abs=0.005)
    assert loop.pipeline.stop_depth == pytest.approx(result["depth"], abs=0.005)
