"""The realtime loop on emulated hardware: the real GridADC reading emulated ADS1115s fed by a
simulated person, the pipeline, and the buzzer on mock pins, all on a virtual clock."""
import json

import numpy as np
import pytest

from hardware.clock import VirtualClock
from hardware.emulation.mat import emulated_grid_adc
from hardware.feedback import LIFTED_HZ, Feedback
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


def run_loop(text, tmp_path=None, record=None, store=None, until=None, during=None, live=None):
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
