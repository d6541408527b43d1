"""The ladder (mat/pipeline/ladder.py): the progression rule, what the mat makes of the reps'
left/right sway, on rule-sized examples and on simulated people, and how the store keeps it."""
import sqlite3

import numpy as np
import pytest

from hardware.emulation.person import Scenario, SimulatedPerson
from hardware.emulation.scenarios import frame_times
from mat.pipeline import ladder
from mat.pipeline.ladder import proposal, suggestion, variant_seen, verdict
from mat.pipeline.pipeline import Pipeline
from mat.storage.store import MIGRATIONS, Store, StoreWriter


def reps(perfect: int, descent_s: float = 3.2, lifted: int = 0) -> list[dict]:
    return ([{"perfect": True, "descent_s": descent_s}] * perfect
            + [{"perfect": False, "descent_s": descent_s}] * lifted)


# -- the progression rule ------------------------------------------------------------------------
def test_fifteen_perfect_reps_with_a_three_second_descent_propose_the_next_rung():
    assert verdict(reps(15)) == "harder"
    assert proposal("single_leg", "single_leg", reps(15)) == {
        "variant": "alternating", "direction": "harder", "reps": 15, "slow_perfect_reps": 15, "liftoff_reps": 0}


def test_fourteen_perfect_reps_or_quicker_descents_are_not_enough():
    assert verdict(reps(14)) is None
    assert verdict(reps(20, descent_s=2.9)) is None  # perfect but too quick: momentum does the work
    assert verdict(reps(14, descent_s=3.0) + reps(6, descent_s=2.5)) is None


def test_lift_offs_in_more_than_a_third_of_the_reps_propose_an_easier_rung():
    assert verdict(reps(6, lifted=3)) is None  # exactly a third
    assert verdict(reps(5, lifted=3)) == "easier"
    assert proposal("straight", "straight", reps(5, lifted=3))["variant"] == "alternating"
    assert verdict(reps(2, lifted=3)) is None  # five reps say too little
    assert verdict(reps(16, lifted=9)) == "easier"  # both rules hold: the safe one wins


def test_no_rung_beyond_either_end_of_the_ladder():
    assert proposal("straight_weighted", "straight_weighted", reps(15)) is None
    assert proposal("bent_knee", "bent_knee", reps(2, lifted=5)) is None
    assert proposal("bent_knee", "bent_knee", reps(15))["variant"] == "dead_bug"
    assert ladder.next_rung("straight_weighted") == "bent_knee"  # the button wraps round
    assert ladder.next_rung("bent_knee") == "dead_bug"


def test_a_session_on_another_rung_or_that_looked_like_another_variant_proposes_nothing():
    assert proposal("alternating", "single_leg", reps(15)) is None  # moved on since
    assert proposal("alternating", None, reps(15))["variant"] == "straight"  # stored before variants were
    assert proposal("straight", "straight", reps(15), seen="alternating") is None  # the suggestion first
    assert proposal("dead_bug", "dead_bug", reps(15), seen="alternating")["variant"] == "single_leg"


def test_the_suggestion_is_made_only_when_what_was_seen_contradicts_the_choice():
    assert suggestion("straight", "alternating") == "alternating"
    assert suggestion("bent_knee", "single_leg") == "single_leg"
    assert suggestion("alternating", "alternating") is None
    assert suggestion("dead_bug", "alternating") is None  # dead bug moves the legs alternately too
    assert suggestion("alternating", None) is None


# -- what the sway shows ----------------------------------------------------------------------------
def sways(set_no: int, values) -> list[dict]:
    return [{"set": set_no, "sway": v} for v in values]


def test_sways_swinging_one_way_then_the_other_rep_after_rep_look_alternating():
    assert variant_seen(sways(1, [0.07, -0.09, 0.10, -0.08, 0.09, -0.06]) + sways(2, [0.1, -0.07, 0.1, -0.01])) \
        == "alternating"


def test_a_set_swinging_left_then_a_set_swinging_right_look_single_leg():
    assert variant_seen(sways(1, [-0.03, -0.02, -0.05, -0.04, -0.03]) + sways(2, [0.05, 0.06, 0.04, 0.13, 0.04])) \
        == "single_leg"


def test_both_legs_off_centre_and_too_little_to_tell_look_like_nothing():
    both = sways(1, [-0.02, -0.01, -0.03, -0.03, -0.04]) + sways(2, [-0.01, 0.01, -0.02, 0.0, -0.04])
    assert variant_seen(both) is None
    assert variant_seen(sways(1, [-0.09, -0.1, -0.09, -0.1, -0.08])) is None  # one leg, one side: cannot tell
    assert variant_seen(sways(1, [0.1, -0.1, 0.1])) is None  # three reps are no set to judge
    assert variant_seen([{"set_no": 1, "sway": None}] * 6) is None  # sessions stored before sway


START = "empty 3\nlie_down 1.5\nrelax 3\npress 4\nrest 4\n"


def session_end(body: str, seed: int) -> tuple[dict, list[dict]]:
    person = SimulatedPerson(Scenario.parse(f"person mass_kg=68 offset_x_cm=1.5 seed={seed}\n{START}{body}get_up\nempty 6\n"))
    times = frame_times(person.duration_s, 100.0, np.random.default_rng(seed), 0.1)
    pipeline = Pipeline()
    events = []
    for t, counts in zip(times, person.frames(times)):
        events += pipeline.process(t, counts)
    events += pipeline.finish()
    return [e for e in events if e["type"] == "session_end"][-1], [e for e in events if e["type"] == "rep"]


@pytest.mark.parametrize("body, seen", [
    ("set reps=6 variant=alternating descent_s=3\nrest 10\nset reps=6 variant=alternating descent_s=3\nrest 4\n",
     "alternating"),
    ("set reps=6 variant=single_leg side=left descent_s=3\nrest 10\nset reps=6 variant=single_leg side=right "
     "descent_s=3\nrest 4\n", "single_leg"),
    ("set reps=6 variant=straight descent_s=3\nrest 10\nset reps=6 variant=bent_knee descent_s=3\nrest 4\n", None),
])
def test_a_simulated_persons_session_summary_says_what_their_legs_did(body, seen):
    summary, rep_events = session_end(body, seed=41)
    assert summary["reps"] >= 10 and all("sway" in r for r in rep_events)
    assert summary["variant_seen"] == seen


# -- the store ----------------------------------------------------------------------------------------
def test_the_store_keeps_the_sessions_variant_what_was_seen_and_each_reps_bounce(tmp_path):
    store = Store(tmp_path / "flatback.db")
    writer = StoreWriter(store, commit_interval_s=0.05)
    me = store.current_profile_id()
    session_id = writer.open_session({"floor": 0.5, "tempo_s": 3.0, "rows": 4, "cols": 4, "variant": "straight",
                                      "profile_id": me})
    writer.add_rep(session_id, {"t": 9.0, "type": "rep", "set": 1, "rep": 1, "perfect": True, "descent_s": 3.1,
                                "balance": 0.02, "depth": 0.81, "bounce": True, "sway": -0.09})
    writer.add_rep(session_id, {"t": 15.0, "type": "rep", "set": 1, "rep": 2, "perfect": False, "descent_s": 2.0,
                                "balance": -0.01, "depth": None, "bounce": False, "sway": 0.1})
    writer.set_variant(me, "alternating", session_id)  # the button, mid-session
    writer.close_session(session_id, {"reps": 2, "perfect_reps": 1, "variant_seen": "alternating"})
    writer.close()
    stored = store.get_session(session_id)
    assert (stored["variant"], stored["variant_seen"]) == ("alternating", "alternating")
    assert store.get_settings(me)["variant"] == "alternating"
    assert [(r["depth"], r["bounce"], r["sway"]) for r in store.session_reps(session_id)] == [
        (0.81, 1, -0.09), (None, 0, 0.1)]


def test_upgrading_keeps_each_stored_reps_bounce_from_its_event(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:7]):  # a mat from before the ladder
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number + 1}")
    db.execute("INSERT INTO sessions (id, started_at, status, profile_id) VALUES (1, '2026-11-30T18:00:00+00:00', 'closed', 1)")
    for rep, bounce in ((1, "true"), (2, "false")):
        db.execute("INSERT INTO reps (session_id, set_no, rep_no, descent_s, perfect) VALUES (1, 1, ?, 3.0, 1)", (rep,))
        db.execute("INSERT INTO events (session_id, t, type, json) VALUES (1, ?, 'rep', ?)",
                   (rep * 5.0, f'{{"t": {rep * 5.0}, "type": "rep", "set": 1, "rep": {rep}, "bounce": {bounce}, '
                               f'"depth": 0.{rep}}}'))
    db.commit()
    db.close()
    store = Store(path)
    assert store.schema_version == len(MIGRATIONS)
    assert [(r["rep_no"], r["bounce"], r["depth"], r["sway"]) for r in store.session_reps(1)] == [
        (1, 1, 0.1, None), (2, 0, 0.2, None)]
    assert store.get_session(1)["variant"] is None  # not known: stored before variants were
