"""The coach (mat/pipeline/coach.py) on simulated people: depth on reps, the plan's set_done and
rest timer, the stop-here cue before a back that gives way at a consistent depth, bouncing."""
import numpy as np
import pytest

from hardware.emulation.person import Scenario, SimulatedPerson
from hardware.emulation.scenarios import frame_times
from mat.pipeline.coach import Plan
from mat.pipeline.pipeline import Pipeline

START = "empty 3\nlie_down 1.5\nrelax 3\npress 4\nrest 4\n"


def replay(text, **pipeline_args):
    person = SimulatedPerson(Scenario.parse(text))
    times = frame_times(person.duration_s, 100.0, np.random.default_rng(5), 0.1)
    pipeline = Pipeline(**pipeline_args)
    events, rests = [], []
    for t, counts in zip(times, person.frames(times)):
        events += pipeline.process(t, counts)
        rests.append((t, pipeline.rest_remaining_s))
    events += pipeline.finish()
    return person, events, rests


def of(events, kind):
    return [e for e in events if e["type"] == kind]


@pytest.fixture(scope="module")
def plan_run():
    text = (f"person mass_kg=70 seed=71\n{START}"
            "set reps=6 descent_s=3 depth=0.4,1.1\nrest 30\nset reps=6 descent_s=3 depth=0.4,1.1\nrest 5\nget_up\nempty 6\n")
    return replay(text, plan=Plan(sets=2, reps=4, rest_s=10))


def test_set_done_chirps_at_the_sets_fourth_perfect_rep_and_the_last_says_so(plan_run):
    _, events, _ = plan_run
    reps = of(events, "rep")
    done = of(events, "set_done")
    assert [(d["set"], d["last"]) for d in done] == [(1, False), (2, True)]
    for d in done:
        fourth = [r for r in reps if r["set"] == d["set"] and r["perfect"]][3]
        assert d["t"] == fourth["t"] and d["perfect_reps"] == 4 and d["sets_planned"] == 2


def test_the_rest_timer_runs_from_the_sets_end_for_the_plans_rest(plan_run):
    _, events, rests = plan_run
    first_end = of(events, "set_end")[0]["t"]
    during = [(t, r) for t, r in rests if first_end <= t <= first_end + 12]
    at_5 = next(r for t, r in during if t >= first_end + 5)
    assert at_5 == pytest.approx(5.0, abs=0.05)
    assert any(r == 0 for t, r in during if t >= first_end + 10.1)
    assert all(r is None for t, r in rests if t < first_end)  # no rest before a set ended
    last_end = of(events, "set_end")[-1]["t"]
    assert all(r is None for t, r in rests if t > last_end)  # the plan is done: no rest after it


def test_depth_follows_how_far_down_the_legs_went(plan_run):
    person, events, _ = plan_run
    reps = of(events, "rep")
    assert len(reps) == len(person.reps) == 12
    measured = [r["depth"] for r in reps]
    truth = [r["depth"] for r in person.reps]
    assert all(d is not None and 0 <= d <= 1.5 for d in measured)
    ranks = lambda xs: np.argsort(np.argsort(xs))
    rho = np.corrcoef(ranks(measured), ranks(truth))[0, 1]
    assert rho > 0.6, (measured, truth)


@pytest.fixture(scope="module")
def give_way_run():
    sets = "set reps=10 descent_s=3 give_way=0.75 depth=0.5,1.1\nrest 15\n" * 2
    return replay(f"person mass_kg=80 seed=72\n{START}{sets}get_up\nempty 6\n")


def test_the_stop_cue_sounds_before_a_back_that_gives_way_at_its_usual_depth(give_way_run):
    person, events, _ = give_way_run
    cues = [e["t"] for e in of(events, "stop_cue")]
    arches = {e["rep"]: e["t"] for e in person.events if e.get("give_way")}
    liftoffs = of(events, "liftoff")
    assert len(arches) >= 6 and len(liftoffs) >= len(arches)
    # Every lift-off says how deep the legs were; those of the give-way arches agree.
    depths = [e["depth"] for e in liftoffs if e["depth"] is not None]
    assert len(depths) >= len(arches) and np.std(depths[:len(arches)]) < 0.15
    # After the first two lift-offs taught the depth, the cue comes before the back gives way.
    later = [(i, begin) for i, begin in sorted(arches.items())][2:]
    preceded = [begin - next(c for c in cues if person.reps[i]["top"] - 0.3 <= c <= begin)
                for i, begin in later if any(person.reps[i]["top"] - 0.3 <= c <= begin for c in cues)]
    assert len(preceded) >= 0.7 * len(later), (preceded, later)
    assert np.median(preceded) >= 0.1  # early enough to hear it
    assert all(cue > sorted(arches.values())[1] for cue in cues)  # nothing before it was learnt


@pytest.fixture(scope="module")
def bounce_run():
    text = (f"person mass_kg=70 seed=73\n{START}"
            "set reps=6 descent_s=1.2 bounce=0.3\nrest 12\nset reps=6 descent_s=3\nrest 5\nget_up\nempty 6\n")
    return replay(text)


def test_a_rebound_at_the_bottom_is_its_own_fault_on_the_rep_and_clean_reps_never_bounce(bounce_run):
    _, events, _ = bounce_run
    reps = of(events, "rep")
    bouncy = [r for r in reps if r["set"] == 1]
    clean = [r for r in reps if r["set"] == 2]
    assert sum(r["bounce"] for r in bouncy) >= 4, [r["bounce"] for r in bouncy]
    assert not any(r["bounce"] for r in clean)
    bounces = of(events, "bounce")
    assert len(bounces) == sum(r["bounce"] for r in reps)
    assert all(any(r["t"] == b["t"] and r["bounce"] for r in reps) for b in bounces)  # cued with its rep
