"""Breathing rate and held breaths: the estimator on synthetic ripples, a recording we did not
make replayed through the pipeline, and the "breathe" sound on the buzzer pin."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from hardware import feedback as fb
from hardware.clock import VirtualClock
from hardware.feedback import Feedback
from mat.daemon.alerts import AlertSounds
from mat.pipeline.breathing import BreathingEstimator
from mat.pipeline.events import make_event
from mat.pipeline.live import live_state

BREATHING = Path(__file__).resolve().parents[1].parent / "shared" / "recordings" / "breathing"
#: Ripple per row, head to sacrum: strongest under the lower ribs, the rib row in opposite phase.
RIPPLE = np.array([-0.035, 0.02, 0.008, 0.004])


def lying(seconds, bpm, depth=1.0, noise=0.01, fps=100, hold=None, legs=None, seed=3):
    """Frames (t, load) of a person lying still and breathing at `bpm`: a quicker breath in than
    out, cells of different gains, `noise` per frame. hold=(start, end): breath held (after
    breathing in). legs=(start, end): leg lifts, 7-s reps loading the sacral row."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.3, 1.5, (4, 4)) * np.array([0.2, 0.17, 0.22, 0.4])[:, None] * 4
    t = np.arange(0.0, seconds, 1.0 / fps)
    phase_rate = np.full_like(t, 2 * math.pi * bpm / 60.0)
    if hold is not None:
        phase_rate[(t >= hold[0]) & (t < hold[1])] = 0.0
    phase = np.cumsum(phase_rate) / fps
    if hold is not None:  # the hold starts at the top of a breath in
        phase += math.pi / 2 - phase[np.searchsorted(t, hold[0])] % (2 * math.pi)
    breath = depth * (0.9 * np.sin(phase) + 0.25 * np.sin(2 * phase))
    load = base[None] * (1 + RIPPLE[None, :, None] * breath[:, None, None])
    if legs is not None:
        up = (t >= legs[0]) & (t < legs[1])
        swing = np.where(up, 0.6 + 0.3 * np.sin(2 * math.pi * (t - legs[0]) / 7.0), 0.0)
        load[:, 3, :] *= (1 + swing)[:, None]
        load[:, :2, :] *= (1 - 0.15 * swing)[:, None, None]
    load *= 1 + noise * rng.standard_normal(load.shape)
    return t, np.maximum(load, 0.0)


def estimate(t, load):
    estimator = BreathingEstimator(float(t[0]))
    alive = np.ones(load.shape[1:], dtype=bool)
    events = []
    for ti, frame in zip(t, load):
        events += estimator.update(float(ti), frame, alive)
    return events


def rates(events, after=0.0):
    return [e["rate_bpm"] for e in events if e["type"] == "breathing" and e["t"] >= after]


@pytest.mark.parametrize("bpm", [8.0, 12.0, 16.0, 20.0, 24.0])
def test_the_rate_of_steady_breathing_is_right_within_a_breath_a_minute(bpm):
    events = estimate(*lying(90, bpm))
    found = rates(events, after=30)
    assert found and all(r is not None for r in found)
    assert max(abs(r - bpm) for r in found) <= 1.0


@pytest.mark.parametrize("depth, noise", [(0.5, 0.01), (1.5, 0.01), (1.0, 0.03)])
def test_shallow_deep_and_noisy_breathing_still_give_the_rate(depth, noise):
    found = rates(estimate(*lying(90, 15, depth=depth, noise=noise)), after=30)
    assert found and all(r is not None and abs(r - 15) <= 1.0 for r in found)


def test_breathing_events_come_every_ten_seconds_and_say_null_before_the_rhythm_is_known():
    events = estimate(*lying(60, 15))
    times = [e["t"] for e in events if e["type"] == "breathing"]
    assert times[0] == pytest.approx(10.0, abs=0.02)
    assert events[0]["rate_bpm"] is None  # 10 s in: not yet enough breaths to count
    assert all(b - a <= 10.0 + 0.02 for a, b in zip(times, times[1:]))


def test_a_breath_held_for_ten_seconds_is_cued_once_within_six_seconds():
    events = estimate(*lying(80, 14, hold=(50.0, 60.0)))
    holds = [e for e in events if e["type"] == "breath_hold"]
    assert len(holds) == 1
    assert 50.0 + 3.0 <= holds[0]["t"] <= 50.0 + 6.0
    assert holds[0]["duration_s"] >= 3.0


@pytest.mark.parametrize("bpm", [10.0, 16.0])
def test_a_breath_held_right_after_a_set_is_cued_from_the_first_breath_seen(bpm):
    # The legs come down at 70 s; one breath or two later the breath is held. Too few breaths
    # to count a rate in between: the hold is judged along the cells that showed the breathing
    # before the set.
    period = 60.0 / bpm
    hold = (73.0 + 1.5 * period, 73.0 + 1.5 * period + 10.0)
    events = estimate(*lying(110, bpm, legs=(40.0, 70.0), hold=hold))
    cues = [e for e in events if e["type"] == "breath_hold"]
    assert len(cues) == 1
    assert hold[0] + 3.0 <= cues[0]["t"] <= hold[0] + 6.0


def test_steady_breathing_is_never_cued_as_held():
    for bpm in (8.0, 15.0, 24.0):
        assert not [e for e in estimate(*lying(120, bpm)) if e["type"] == "breath_hold"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noisier_slow_and_fast_breathing_is_never_cued_as_held(seed):
    # Other cells and noise: a slow breath's long, nearly straight breath out is no hold
    # (the estimator before cued one at 8 /min with seed 1).
    for bpm in (8.0, 22.0):
        assert not [e for e in estimate(*lying(100, bpm, noise=0.02, seed=seed)) if e["type"] == "breath_hold"]


def test_legs_moving_give_no_rate_and_no_cue():
    events = estimate(*lying(120, 15, legs=(40.0, 100.0)))
    during = [e for e in events if e["type"] == "breathing" and 45.0 <= e["t"] <= 100.0]
    assert during and all(e["rate_bpm"] is None for e in during)
    assert not [e for e in events if e["type"] == "breath_hold" and 40.0 <= e["t"] <= 100.0]


@pytest.mark.skipif(not BREATHING.is_dir(), reason=f"{BREATHING} is not there")
def test_a_recording_we_did_not_make_gives_rates_near_the_truth_and_finds_a_rest_hold():
    from mat.tools.replay import replay_events

    events = list(replay_events(BREATHING / "breath_normal.csv"))
    labels = json.loads((BREATHING / "breath_normal.labels.json").read_text())
    truth = labels["sim"]["breathing"]
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    breathing = [e for e in events if e["type"] == "breathing"]
    present = next(e["t"] for e in events if e["type"] == "present")
    assert all(b["t"] - a["t"] <= 10.0 + 0.05 for a, b in zip(breathing, breathing[1:]))
    assert breathing[0]["t"] - present <= 10.0 + 0.05
    values = truth["rate_bpm"]["values"]
    numbers = [e for e in breathing if e["rate_bpm"] is not None]
    assert numbers
    for e in numbers:
        true = [v for v in values[max(int(e["t"]) - 15, 0):int(e["t"])] if v is not None]
        if true and not any(a - 1 <= e["t"] <= b + 10 for a, b in truth["holds"]):
            assert abs(e["rate_bpm"] - np.mean(true)) <= 2.0
    rest_holds = [h for h, where in zip(truth["holds"], truth["hold_where"]) if where == "rest"]
    cues = [e["t"] for e in events if e["type"] == "breath_hold"]
    assert any(a + 3 <= c <= b + 2 for a, b in rest_holds for c in cues)
    assert events[-1]["type"] == "session_end" and events[-1]["breath_holds"] == len(cues)


def test_a_held_breath_plays_the_gentle_breathe_pattern_on_the_buzzer_pin():
    clock = VirtualClock()
    device = Feedback(clock=clock, threaded=False)
    try:
        sounds = AlertSounds(device)
        sounds.respond(clock.monotonic(), [make_event(clock.monotonic(), "breath_hold", duration_s=4.0)],
                       None, True)
        for _ in range(1250):  # 2.5 s: the whole pattern (2.05 s) and after
            clock.sleep(0.002)
            sounds.respond(clock.monotonic(), [], None, True)
        notes = [f for _, f in device.tone_log]
        assert notes == [f for f, _ in fb.BREATHE] + [None]
        assert device.buzzer.pin.state == 0
        # Its own notes: none of the lift-off tone, warning beep, chirps or fault.
        others = {fb.LIFTED_HZ, fb.WARNING_HZ} | {f for p in (fb.CHIRP, fb.RISING_CHIRP, fb.DOUBLE_CHIRP, fb.FAULT)
                                                 for f, _ in p}
        assert not ({f for f, _ in fb.BREATHE} - {None}) & others
    finally:
        device.close()


def test_the_simulated_person_breathes_irregularly_holds_their_breath_and_labels_it():
    from hardware.emulation.person import Scenario, SimulatedPerson
    from hardware.emulation.scenarios import BREATHING

    person = SimulatedPerson(Scenario.parse(BREATHING))
    truth = person.labels()["sim"]["breathing"]
    assert truth["hold_where"] == ["press", "rest", "set", "rest"]
    assert [round(b - a) for a, b in truth["holds"]] == [7, 10, 8, 12]
    rates = [v for v in truth["rate_bpm"]["values"] if v is not None]
    assert 8 <= min(rates) and max(rates) <= 30 and np.std(rates) > 0.5  # breath by breath
    # While held, the lower ribs' cells stay put; breathing, they ripple.
    (a, b) = truth["holds"][1]
    held = np.array([person.loads(t)[0].sum() for t in np.arange(a + 0.5, b - 0.5, 0.1)])
    breathing = np.array([person.loads(t)[0].sum() for t in np.arange(a - 12.0, a - 2.0, 0.1)])
    assert np.ptp(held) < 0.2 * np.ptp(breathing)


@pytest.mark.skipif(not BREATHING.is_dir(), reason=f"{BREATHING} is not there")
def test_the_live_state_matches_its_openapi_description_with_and_without_a_rate():
    import jsonschema_rs

    from mat.pipeline.pipeline import Pipeline
    from mat.storage.recording import read_recording
    from web.openapi import openapi_spec

    validator = jsonschema_rs.validator_for(openapi_spec(25)["components"]["schemas"]["LiveState"])
    recording = read_recording(BREATHING / "breath_normal.csv")
    pipeline = Pipeline(rows=recording.rows, cols=recording.cols, material=recording.header.get("material", "velostat"),
                        gain=recording.gain)
    seen = {"rate": 0, "no_rate": 0}
    for i, (t, counts) in enumerate(zip(recording.t.tolist(), recording.counts)):
        pipeline.process(t, counts)
        if i % 500 == 0:
            state = live_state(pipeline)
            errors = [e.message for e in validator.iter_errors(state)]
            assert not errors, (t, errors)
            seen["rate" if state["breath_rate_bpm"] is not None else "no_rate"] += 1
            if state["breath_trace"] is not None:
                assert len(state["breath_trace"]["values"]) <= 50
    assert seen["rate"] and seen["no_rate"]
    # The description says what is wrong: a trace of the wrong length does not pass.
    state["breath_trace"] = {"dt_s": 0.4, "values": [0.0] * 51}
    assert not validator.is_valid(state)
