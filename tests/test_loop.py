"""The realtime loop on emulated hardware: the real GridADC reading emulated ADS1115s fed by a
simulated person, the pipeline, and the buzzer on mock pins, all on a virtual clock."""
import json

import numpy as np
import pytest

from hardware.clock import VirtualClock
from hardware.emulation.mat import emulated_grid_adc
from hardware.feedback import BREATHE, LIFTED_HZ, Feedback
from hardware.emulation.person import Scenario, SimulatedPerson
from mat.daemon.loop import MatLoop
from mat.pipeline.pipeline import Pipeline
from mat.storage.recording import RecordingWriter
from mat.tools.replay import replay_events
from mat.storage.store import Store, StoreWriter

ONE_ARCH = """
person mass_kg=70 seed=51
empty 3
lie_down 1.5
relax 3
press 4
set reps=3 descent_s=3 arch_reps=2 arch_depth=0.3
rest 4
get_up
empty 6
"""


def run_loop(text, tmp_path=None, record=None, store=None, until=None, during=None, live=None, watch=None):
    person = SimulatedPerson(Scenario.parse(text))
    clock = VirtualClock()
    grid = emulated_grid_adc(person, clock)
    feedback = Feedback(clock=clock, threaded=False)
    recorder = RecordingWriter(record, 4, 4) if record else None
    writer = StoreWriter(store, commit_interval_s=0.2) if store else None
    loop = MatLoop(grid, Pipeline(), feedback, clock, store=store, store_writer=writer, recorder=recorder, live=live)
    end = until or person.duration_s
    while clock.monotonic() < end:
        loop.step()
        if during:
            during(clock.monotonic(), grid)
        if watch:
            watch(clock.monotonic(), loop)
    loop.close()
    if recorder:
        recorder.close()
    if writer:
        writer.close()
    return person, loop, feedback


@pytest.fixture(scope="module")
def arch_run():
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    return run_loop(ONE_ARCH)


def test_the_loop_reads_over_100_frames_a_second_in_emulated_time(arch_run):
    person, loop, _ = arch_run
    assert loop.figures.frames / person.duration_s > 100


def _before_getting_up(person, times):
    """Sitting up unloads the lumbar spine first, and may sound: only the exercise counts."""
    up = person.sessions[0]["up"]
    return [t for t in times if (t[0] if isinstance(t, tuple) else t["t"]) < up]


def test_an_arch_turns_the_buzzer_pin_on_within_50_ms_and_off_when_the_back_is_down(arch_run):
    person, loop, feedback = arch_run
    (start, end) = person.liftoffs(0.5)[0]
    lifted = _before_getting_up(person, [(t, f) for t, f in feedback.tone_log if f == LIFTED_HZ])
    assert len(lifted) == 1
    on_t = lifted[0][0]
    assert 0 <= on_t - start <= 0.05
    after = [t for t, f in feedback.tone_log if t > on_t]
    assert after and abs(after[0] - end) < 0.3  # silence again once the back is down
    # The pin itself: high (PWM duty 0.5) at least once for the alert, and low at the end.
    levels = [s.state for s in feedback.buzzer.pin.states]
    assert 0.5 in levels and levels[-1] == 0


def test_the_session_sounds_chirps_for_present_and_calibrated(arch_run):
    _, loop, feedback = arch_run
    events = {e["type"]: e["t"] for e in loop.event_log}
    frequencies = [f for _, f in feedback.tone_log if f is not None]
    assert frequencies[:3] == [1320.0, 880.0, 1320.0]  # chirp, then the rising two notes
    assert "present" in events and "calibrated" in events


def test_a_recording_made_by_the_loop_replays_to_the_same_events(tmp_path):
    path = tmp_path / "loop.csv"
    _, loop, _ = run_loop(ONE_ARCH, record=path)
    replayed = list(replay_events(path))
    assert replayed == loop.event_log
    assert replayed[-1]["type"] == "session_end"


def test_replay_gives_identical_events_twice(tmp_path):
    from mat.tools.suite import write_labelled

    csv_path, labels_path = write_labelled(ONE_ARCH, tmp_path)
    first, second = list(replay_events(csv_path)), list(replay_events(csv_path))
    assert first == second and len(first) > 5
    labels = json.loads(labels_path.read_text())
    up = labels["sim"]["sessions"][0]["up"]
    assert len([e for e in first if e["type"] == "liftoff" and e["t"] < up]) == len(labels["liftoffs"]) == 1


def test_a_chip_unplugged_mid_session_keeps_the_loop_and_session_going(tmp_path):
    unplugged, plugged = 16.0, 19.0
    states = {}

    def cable(t, grid):
        if unplugged <= t and not states.get("out"):
            grid.i2c.unplug(0x48)
            states["out"] = True
        if plugged <= t and not states.get("in"):
            grid.i2c.plug(0x48)
            states["in"] = True

    store = Store(tmp_path / "f.db")
    person, loop, feedback = run_loop(ONE_ARCH, store=store, during=cable)
    events = loop.event_log
    offline = [e for e in events if e["type"] == "chip_offline"]
    online = [e for e in events if e["type"] == "chip_online"]
    assert [e["row"] for e in offline] == [0] and abs(offline[0]["t"] - unplugged) < 0.05
    assert [e["row"] for e in online] == [0] and 0 <= online[0]["t"] - plugged < 1.0
    assert [e["type"] for e in events].count("session_end") == 1  # the session survived
    assert len(_before_getting_up(person, [e for e in events if e["type"] == "liftoff"])) == 1
    (session,) = store.list_sessions()
    assert session["status"] == "closed" and session["liftoffs"] == 1
    t, counts = store.session_frames(session["id"])
    assert np.all(counts[(t > unplugged + 0.1) & (t < plugged - 0.1)][:, 0, :] == 0)


def test_a_chip_missing_at_start_is_offline_until_it_is_plugged_in():
    from hardware.emulation.ads1115 import build_emulated_grid
    from hardware.grid_adc import GridADC

    person = SimulatedPerson(Scenario.parse(ONE_ARCH))
    clock = VirtualClock()
    bus = build_emulated_grid(person.analog_input_for_row, clock)
    bus.unplug(0x4B)
    grid = GridADC(bus, clock=clock, allow_missing=True)
    assert grid.read_frame().offline_rows == (3,)
    bus.plug(0x4B)
    clock.sleep(1.0)
    frame = grid.read_frame()
    assert frame.offline_rows == () and frame.counts[3].min() > 0


def test_the_whole_bus_gone_for_six_seconds_keeps_the_session(tmp_path):
    state = {}

    def cable(t, grid):
        if 14.0 <= t and "out" not in state:
            for address in (0x48, 0x49, 0x4A, 0x4B):
                grid.i2c.unplug(address)
            state["out"] = t
        if 20.0 <= t and "in" not in state:
            for address in (0x48, 0x49, 0x4A, 0x4B):
                grid.i2c.plug(address)
            state["in"] = t

    _, loop, _ = run_loop(ONE_ARCH, during=cable)
    types = [e["type"] for e in loop.event_log]
    assert types.count("chip_offline") == 4 and types.count("chip_online") == 4
    assert types.count("present") == 1 and types.count("session_end") == 1


#: A person breathing as people do (irregular, sighs, pauses) who holds the breath for 10 s in
#: a rest, then does a short set. Seed 7: one the estimator follows well (how often holds are
#: found is measured on the shared breathing recordings, README "How it works"); this checks
#: the path from the grid to the buzzer pin and the page.
HELD_BREATH = """
person mass_kg=68 seed=7 breathing=natural breath_bpm=14
empty 3
lie_down 1.5
relax 3
press 4
rest 30
hold_breath 10
rest 22
set reps=2 descent_s=3
rest 6
get_up 1.2
empty 6
"""


@pytest.fixture(scope="module")
def held_breath_run(tmp_path_factory):
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    store = Store(tmp_path_factory.mktemp("breath") / "f.db")
    pin_changes, states = [], []

    def watch(t, loop):
        pin = loop.feedback.buzzer.pin
        now = (pin.state, pin.frequency if pin.state else None)
        if not pin_changes or pin_changes[-1][1:] != now:
            pin_changes.append((t, *now))
        if not states or t - states[-1][0] >= 0.25:
            states.append((t, loop.live_state()))

    person, loop, feedback = run_loop(HELD_BREATH, store=store, watch=watch)
    return person, loop, store, pin_changes, states


def test_a_held_breath_is_cued_with_the_breathe_pattern_on_the_buzzer_pin_within_six_seconds(held_breath_run):
    person, _, _, pin_changes, _ = held_breath_run
    ((held_from, held_to),) = person.labels()["sim"]["breathing"]["holds"]
    notes = [f for f, _ in BREATHE]  # the swell's own notes, a rest among them
    starts = [i for i, (t, _, f) in enumerate(pin_changes) if f == notes[0] and held_from <= t <= held_from + 6.0]
    assert starts, f"no breathe cue within 6 s of the hold at {held_from:.1f} s"
    played = pin_changes[starts[0]:starts[0] + len(notes) + 1]
    assert [f for _, _, f in played] == notes + [None]  # the pin: each note, then silence
    assert all(duty == 0.5 for _, duty, f in played if f is not None)
    durations = [b[0] - a[0] for a, b in zip(played, played[1:])]
    assert durations == pytest.approx([d for _, d in BREATHE], abs=0.02)


def test_the_live_state_shows_the_rate_a_trace_and_the_held_breath_and_nothing_of_it_in_a_set(held_breath_run):
    person, loop, _, _, states = held_breath_run
    ((held_from, held_to),) = person.labels()["sim"]["breathing"]["holds"]
    resting = [s for t, s in states if 25.0 <= t < held_from]
    assert resting and all(s["state"] == "resting" for s in resting)
    rates = [s["breath_rate_bpm"] for s in resting if s["breath_rate_bpm"] is not None]
    assert len(rates) > 0.5 * len(resting) and all(10 <= r <= 18 for r in rates)  # about 14 /min
    traces = [s["breath_trace"] for s in resting]
    assert all(tr is not None and tr["dt_s"] == 0.4 and 1 < len(tr["values"]) <= 50 for tr in traces)
    assert max(len(tr["values"]) for tr in traces) == 50  # 20 s, every 0.4 s
    holding = [t for t, s in states if s["breath_holding"]]
    assert holding and held_from <= holding[0] <= held_from + 6.0
    assert {s["breath_holds"] for t, s in states if held_to < t < held_to + 1} == {1}
    # Legs moving: no rate, no trace, never "holding" (the ripple is swamped: nothing is judged).
    in_set = [s for t, s in states if s["state"] == "exercising"]
    assert in_set and all(s["breath_rate_bpm"] is None and s["breath_trace"] is None and not s["breath_holding"]
                          for s in in_set)
    assert len(json.dumps(resting[-1]["breath_trace"])) < 400  # light: the state goes out 15 times a second


def test_the_held_breath_and_the_mean_resting_rate_are_stored_with_the_session(held_breath_run):
    _, loop, store, _, _ = held_breath_run
    (session_end,) = [e for e in loop.event_log if e["type"] == "session_end"]
    rates = [e["rate_bpm"] for e in loop.event_log if e["type"] == "breathing" and e["rate_bpm"] is not None]
    assert session_end["breath_holds"] == 1
    assert session_end["mean_breath_bpm"] == pytest.approx(np.mean(rates), abs=0.05)
    (session,) = store.list_sessions()
    assert (session["breath_holds"], session["mean_breath_bpm"]) == (1, session_end["mean_breath_bpm"])
    assert [e["type"] for e in store.session_events(session["id"])].count("breath_hold") == 1
