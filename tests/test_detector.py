"""The lift-off detector on synthetic lumbar contact: hysteresis, debounce, zones, the floor."""
import numpy as np
import pytest

from mat.pipeline.calibration import Calibration
from mat.pipeline.contact import LumbarContact
from mat.pipeline.liftoff import RECOVER_HOLD_S, JoltWatch, LiftOffDetector


def run(detector, contacts, dt=0.01, t0=0.0, leaving=None):
    events = []
    for i, c in enumerate(contacts):
        events += detector.update(t0 + i * dt, c, body_leaving=bool(leaving[i]) if leaving is not None else False)
    return events


def test_a_drop_below_the_floor_fires_one_liftoff_within_two_frames_and_one_contact_after():
    contacts = [1.0] * 50 + [0.3] * 100 + [1.0] * 50
    events = run(LiftOffDetector(0.5), contacts)
    assert [e["type"] for e in events] == ["liftoff", "contact"]
    liftoff, contact = events
    assert 0.50 <= liftoff["t"] <= 0.52 + 1e-9
    assert liftoff["contact"] == pytest.approx(0.3)
    # Judged once the back has stayed down RECOVER_HOLD_S; the lift-off lasted until it came down.
    assert contact["t"] == pytest.approx(1.5 + RECOVER_HOLD_S, abs=0.011)
    assert contact["duration_s"] == pytest.approx(1.0, abs=0.02)


def test_noise_around_the_floor_does_not_chatter():
    rng = np.random.default_rng(3)
    contacts = [1.0] * 20 + list(0.49 + 0.03 * rng.standard_normal(400)) + [1.0] * 30
    events = run(LiftOffDetector(0.5), contacts)
    assert [e["type"] for e in events] == ["liftoff", "contact"]


def test_a_single_noisy_frame_below_the_floor_is_not_an_alert():
    contacts = [0.8] * 20 + [0.45] + [0.8] * 20
    assert run(LiftOffDetector(0.5), contacts) == []


def test_getting_up_is_not_a_liftoff():
    contacts = [1.0] * 20 + [0.2] * 50
    leaving = [False] * 20 + [True] * 50
    assert run(LiftOffDetector(0.5), contacts, leaving=leaving) == []


def _jolts(watch, maps, dt=0.01):
    alive = np.ones((4, 4), dtype=bool)
    return [watch.update(i * dt, m, alive) for i, m in enumerate(maps)]


def test_a_jolt_is_every_row_dipping_together_and_an_arch_is_not_one():
    lumbar = np.zeros((4, 4))
    lumbar[1, 1:3] = 0.5  # the footprint: two cells of row 1
    body = np.full((4, 4), 10.0)
    # A cough: every cell reads 30 % less for a few frames.
    cough = _jolts(JoltWatch(lumbar), [body] * 40 + [body * 0.7] * 4 + [body] * 20)
    assert not any(cough[:40]) and all(cough[40:44]) and not any(cough[44:])
    # An arch: the lumbar cells lose 60 % and the pelvis (last row) takes some of it.
    arched = body.copy()
    arched[1, 1:3] *= 0.4
    arched[3] *= 1.1
    assert not any(_jolts(JoltWatch(lumbar), [body] * 40 + [arched] * 20))
    # An arch in the middle of a cough: the lumbar cells fall further than every row.
    arched_in_cough = arched * 0.7
    arched_in_cough[3] = body[3] * 0.7
    assert not any(_jolts(JoltWatch(lumbar), [body] * 40 + [arched_in_cough] * 4))


def test_no_lift_off_during_a_jolt():
    detector = LiftOffDetector(0.7)
    events = []
    for i in range(100):
        jolt = 50 <= i < 55
        events += detector.update(i * 0.01, 0.6 if jolt else 0.95, jolt=jolt)
    assert events == []


def test_zones_follow_the_floor():
    detector = LiftOffDetector(0.6)
    assert detector.zone(0.95).name == "ok"
    warning = detector.zone(0.7)
    assert warning.name == "warning" and warning.level == pytest.approx(0.5)
    assert detector.zone(0.61).level > detector.zone(0.75).level


def _calibration(lumbar_load=10.0):
    pressed = np.ones((4, 4))
    weights = np.zeros((4, 4))
    weights[1:3, :] = 1 / 8
    return Calibration(0.0, pressed * lumbar_load, weights, lumbar_load, 16 * lumbar_load, True)


def test_contact_is_the_lumbar_load_over_its_calibrated_value():
    model = LumbarContact(_calibration())
    alive = np.ones((4, 4), dtype=bool)
    load = np.full((4, 4), 10.0)
    load[1:3, :] = 4.0
    for i in range(20):
        contact = model.update(i * 0.01, load, alive)
    assert contact == pytest.approx(0.4, abs=0.01)


def test_creep_is_followed_while_the_back_is_down_but_not_during_a_slow_sag():
    model = LumbarContact(_calibration())
    alive = np.ones((4, 4), dtype=bool)
    t = 0.0
    for i in range(3000):  # 30 s of creep: readings climb 20 %
        t = i * 0.01
        model.update(t, np.full((4, 4), 10.0 * (1 + 0.2 * i / 3000)), alive)
    assert model.update(t, np.full((4, 4), 12.0), alive) == pytest.approx(1.0, abs=0.05)
    # A slow sag to 40 % over 10 s is never absorbed into the baseline.
    for i in range(1000):
        contact = model.update(t + i * 0.01, np.full((4, 4), 12.0 * (1 - 0.6 * i / 1000)), alive)
    assert contact < 0.5


def _feed(model, t, seconds, lumbar, frozen=False, dt=0.01):
    """`seconds` of frames whose lumbar cells (rows 1-2) read `lumbar`; returns (t, contact)."""
    alive = np.ones((4, 4), dtype=bool)
    load = np.full((4, 4), 10.0)
    contact = None
    for _ in range(int(round(seconds / dt))):
        load[1:3, :] = lumbar
        contact = model.update(t, load, alive, frozen=frozen)
        t += dt
    return t, contact


def test_after_a_lift_off_a_relaxed_calibration_reads_glued_as_glued():
    # Calibrated on relaxed lying (the lumbar cells at 0.78 of their glued load): glued reads
    # 10 / 0.78 = 12.8 at calibration, and 16 after creep. After a lift-off the cells' creep
    # restarts and glued reads 12.8 again: that is contact 1.0, not 1.28.
    calibration = _calibration()
    model = LumbarContact(Calibration(0.0, calibration.pressed_load, calibration.lumbar_weights,
                                      calibration.lumbar_load, calibration.total_load, pressed=False))
    t, _ = _feed(model, 0.0, 2.0, 10.0)
    for i in range(30):
        t, _ = _feed(model, t, 1.0, 12.8 + 0.11 * i)
    t, contact = _feed(model, t, 0.5, 16.0)
    assert contact == pytest.approx(1.0, abs=0.05)
    t, _ = _feed(model, t, 1.0, 3.0, frozen=True)
    t, contact = _feed(model, t, 0.3, 12.8, frozen=True)
    assert contact == pytest.approx(1.0, abs=0.06)


def test_dead_lumbar_cells_drop_out_of_both_sides_of_the_ratio():
    model = LumbarContact(_calibration())
    alive = np.ones((4, 4), dtype=bool)
    alive[1, 1] = False
    load = np.full((4, 4), 10.0)
    load[1, 1] = 0.0
    for i in range(20):
        contact = model.update(i * 0.01, load, alive)
    assert contact == pytest.approx(1.0, abs=0.01)


def test_a_dead_cell_leaves_its_rows_share_of_the_footprint_to_its_row_mates():
    # In an arch the apex's row loses more than the row above it: here 70 % against 30 %, so
    # contact is 0.5. A dead cell in the apex row must not tilt the mix toward the other row.
    model = LumbarContact(_calibration())
    alive = np.ones((4, 4), dtype=bool)
    alive[2, 0] = False
    load = np.full((4, 4), 10.0)
    load[1, :], load[2, :] = 7.0, 3.0
    load[2, 0] = 0.0
    for i in range(20):
        contact = model.update(i * 0.01, load, alive)
    assert contact == pytest.approx(0.5, abs=0.01)
