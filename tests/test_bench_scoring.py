"""`mat bench`'s judge (mat.tools.scoring) on small hand-made labelled recordings whose answers are
known, and `mat bench --json` on a reduced run."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mat.tools import bench, scoring
from mat.cli import main

DT = 0.01
END_S = 60.0


def trace(knots) -> list[float]:
    """The contact sampled every DT from 0 to END_S, straight lines between (t, value) knots."""
    t = np.arange(0.0, END_S + DT / 2, DT)
    return np.round(np.interp(t, *zip(*knots)), 6).tolist()


def dip(t: float, low: float, hold: float = 0.5) -> list[tuple[float, float]]:
    """Down from 1 over 0.2 s, `hold` s at `low`, back to 1 over 0.2 s."""
    return [(t, 1.0), (t + 0.2, low), (t + 0.2 + hold, low), (t + 0.4 + hold, 1.0)]


# One session: on the mat at 1 s, calibrating 3-6 s, exercising 6-50 s, up at 50 s, gone 51.5 s.
KNOTS = ([(0.0, 0.0), (2.0, 0.0), (3.0, 1.0)]
         + dip(9.8, 0.2)                                             # A: 9.925-10.575, real
         + dip(14.8, 0.45)                                           # B: don't care at floor 0.5
         + dip(19.8, 0.2)                                            # C: 19.925-20.575, real
         + dip(24.8, 0.2)                                            # D: 24.925-25.575, real
         + dip(29.8, 0.2, hold=1.0)                                  # E: 29.925-31.075, real
         + [(34.8, 1.0), (35.0, 0.2), (35.3, 0.55), (35.6, 0.2), (35.8, 1.0)]  # F: one excursion
         + [(50.0, 1.0), (51.0, 0.0), (END_S, 0.0)])                 # getting up


def labels(sim: bool = True) -> dict:
    reps = [{"top": a, "bottom": a + 2.0, "end": a + 4.0} for a in (8.0, 13.0, 18.0, 23.0, 28.0, 33.0, 41.5, 45.0)]
    out = {"floor": 0.5, "contact": {"t0": 0.0, "dt": DT, "values": trace(KNOTS)}, "liftoffs": [], "reps": reps}
    if sim:
        out["sim"] = {
            "sessions": [{"enter": 1.0, "present": 2.0, "hold": [3.0, 6.0], "active": [6.0, 50.0],
                          "up": 50.0, "absent": 51.5, "sets": [0, 1, 2]}],
            "sets": [{"session": 0, "start": 7.0, "end": 22.0, "reps": [0, 1, 2]},
                     {"session": 0, "start": 22.5, "end": 37.0, "reps": [3, 4, 5]},
                     {"session": 0, "start": 40.0, "end": 49.0, "reps": [6, 7]}],
        }
    return out


def liftoff(t: float) -> dict:
    return {"t": t, "type": "liftoff", "contact": 0.3}


def rep(t: float, perfect: bool) -> dict:
    return {"t": t, "type": "rep", "perfect": perfect, "descent_s": 2.0}


SESSION_END = {"t": 51.5, "type": "session_end", "reps": 7, "perfect_reps": 2, "liftoffs": 6}

EVENTS = [
    liftoff(4.0),     # calibrating: forgiven
    liftoff(9.945),   # A: caught 20 ms after the crossing
    liftoff(15.2),    # inside the don't-care dip B: forgiven
    liftoff(20.70),   # C: too late (its end + 0.05 s is 20.625): C missed, this a false alert
    liftoff(24.83),   # D: caught 95 ms early, just inside the 0.1 s allowed
    liftoff(29.95),   # E: caught
    liftoff(30.5),    # E again, the contact still below the floor: chatter (duplicate + false alert)
    liftoff(34.95),   # F: caught
    liftoff(35.5),    # F again, after the contact came back above the floor: duplicate only
    liftoff(40.0),    # in exercise, nothing there: false alert
    liftoff(50.6),    # getting up: forgiven
    liftoff(55.0),    # empty mat: false alert
    rep(12.0, False), rep(17.0, True), rep(22.0, False),   # set 1: 3 of 3
    rep(27.0, True), rep(32.0, False),                     # set 2: 2 of 3
    rep(45.0, False), rep(48.5, False),                    # set 3: 2 of 2, both wrongly imperfect
    SESSION_END,
]


@pytest.fixture(scope="module")
def scored() -> scoring.RecordingScore:
    return scoring.score_events("hand", labels(), EVENTS, floor=0.5)


def test_real_lift_offs_and_dont_care_come_from_the_contact_trace():
    truth = scoring.truth_from_labels(labels(), 0.5)
    real = [ex for ex in truth.excursions if ex.real]
    assert [round(ex.start, 3) for ex in real] == [9.925, 19.925, 24.925, 29.925, 34.925]
    assert [round(ex.end, 3) for ex in real] == [10.575, 20.575, 25.575, 31.075, 35.675]
    vague = [ex for ex in truth.excursions if not ex.real]
    assert len(vague) == 1 and vague[0].lowest == pytest.approx(0.45) and vague[0].start is not None
    assert truth.exercise_s == pytest.approx(44.0)


def test_hits_misses_and_latency(scored):
    assert scored.liftoffs == 5 and scored.dont_care == 1
    assert scored.caught == 4
    assert [round(x, 3) for x in scored.missed] == [19.925]
    assert [round(x * 1000) for x in scored.latencies] == [20, -95, 25, 25]


def test_false_alerts_duplicates_and_what_is_forgiven(scored):
    assert [round(t, 2) for t in scored.false_alerts] == [20.70, 30.5, 40.0, 55.0]
    assert scored.duplicates == 2
    assert scored.forgiven == 3  # calibrating, the don't-care dip, getting up


def test_sets_and_perfect_reps(scored):
    assert [(s["counted"], s["true"]) for s in scored.sets] == [(3, 3), (2, 3), (2, 2)]
    assert [s["perfect_range"] for s in scored.sets] == [[0, 1], [0, 0], [2, 2]]
    assert [s["perfect_error"] for s in scored.sets] == [0, 1, 2]


def test_summary(scored):
    figures = scoring.summarise([scored])
    assert figures["recall"] == pytest.approx(0.8)
    assert figures["precision"] == pytest.approx(0.5)
    assert figures["false_alerts_per_10min"] == pytest.approx(4 / 44 * 600, abs=1e-3)
    assert figures["sets_exact"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["perfect_rep_error"] == pytest.approx(1.0)
    assert figures["scenario_latency_p50_ms"] == pytest.approx(22.5)
    assert figures["failed"] == []


def test_the_truth_moves_with_the_floor():
    at_07 = scoring.score_events("hand", labels(), EVENTS, floor=0.7)
    # B (down to 0.45) is a real lift-off at 0.7 and its event now catches it; at 0.7 F never
    # rises above the floor between its two events, so the second one is chatter.
    assert at_07.liftoffs == 6 and at_07.dont_care == 0
    assert at_07.caught == 5
    assert [round(t, 2) for t in at_07.false_alerts] == [20.70, 30.5, 35.5, 40.0, 55.0]


def test_a_late_alert_is_a_miss_and_a_false_alert():
    events = [liftoff(10.575 + 0.06), SESSION_END]
    result = scoring.score_events("late", labels(), events, floor=0.5)
    assert result.caught == 0 and len(result.false_alerts) == 1
    on_time = scoring.score_events("late", labels(), [liftoff(10.575 + 0.04), SESSION_END], floor=0.5)
    assert on_time.caught == 1 and on_time.false_alerts == []


def test_a_rep_goes_to_the_nearest_set():
    events = [rep(22.2, True), SESSION_END]  # set 1 ends at 22.0, set 2 starts at 22.5
    result = scoring.score_events("near", labels(), events, floor=0.5)
    assert [s["counted"] for s in result.sets] == [1, 0, 0]


def test_a_replay_without_session_end_scores_nothing():
    result = scoring.score_events("broken", labels(), EVENTS[:-1], floor=0.5)
    assert result.failed and result.caught == 0 and result.false_alerts == []
    assert [s["counted"] for s in result.sets] == [0, 0, 0]
    assert scoring.summarise([result])["failed"] == ["broken"]


def test_plain_labels_one_session_and_reps_further_apart_than_4_s_split_sets():
    truth = scoring.truth_from_labels(labels(sim=False), 0.5)
    assert len(truth.sessions) == 1
    assert truth.sessions[0]["active"] == [pytest.approx(3.0), pytest.approx(51.0)]
    # reps 8-12, 13-17, ..., 33-37 follow each other 1 s apart; 41.5-45.5 starts 4.5 s after 37
    assert [len(s["reps"]) for s in truth.sets] == [6, 2]


def test_labelled_recordings_pairs_csv_and_labels(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.labels.json").write_text(json.dumps(labels()))
    (tmp_path / "a.csv").write_text("")
    assert [name for name, _, _ in scoring.labelled_recordings(tmp_path)] == ["a"]


TINY = ("person mass_kg=75 seed=3\nempty 1\nlie_down 1.5\nrelax 2\npress 4\n"
        "set reps=2 arch_reps=2\nget_up 1.2\nempty 2\n")


def test_bench_json_has_the_keys_for_both_suites(tmp_path, monkeypatch, capsys):
    from mat.tools.suite import write_labelled

    write_labelled(TINY, tmp_path / "rec", name="tiny")
    monkeypatch.setattr(bench, "own_suite", lambda quick=False: {"tiny_own": TINY})
    monkeypatch.setattr(bench, "latency_suite", lambda quick=False: {})
    assert main(["bench", "--json", "--quick", "--recordings", str(tmp_path / "rec"), "--jobs", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("frame_rate_hz", "latency_p50_ms", "latency_p95_ms", "cpu_per_frame_ms", "recall",
                "false_alerts_per_10min", "sets_exact", "perfect_rep_error", "notes"):
        assert key in result
    assert result["latency_p95_ms"] is None and any("latency not measured" in n for n in result["notes"])
    assert set(result["suites"]) == {"own", "external"}
    for suite in ("own", "external"):
        assert set(result["suites"][suite]) == {"0.5", "0.7"}
        row = result["suites"][suite]["0.5"]
        assert row["scenarios"] == 1 and row["sets"] == 1 and row["failed"] == []
        assert row["exercise_min"] > 0
    # the headline figures are the own suite's at floor 0.5
    own = result["suites"]["own"]["0.5"]
    assert (result["recall"], result["sets_exact"]) == (own["recall"], own["sets_exact"])


def test_bench_skips_a_missing_recordings_directory_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "own_suite", lambda quick=False: {"tiny_own": TINY})
    monkeypatch.setattr(bench, "latency_suite", lambda quick=False: {})
    monkeypatch.setattr(bench, "measure_frame_rate", lambda seconds: 123.0)
    # breathing has its own recordings and is not what this test is about
    monkeypatch.setattr(bench, "measure_breathing", lambda *args, **kwargs: (None, []))
    monkeypatch.setattr(bench, "measure_own_breathing", lambda *args, **kwargs: (None, []))
    assert main(["bench", "--quick", "--recordings", str(tmp_path / "nowhere"), "--floors", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "external: not measured" in out and "nowhere" in out
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("own ")] == [["own", "0.5"]]


def test_bench_refuses_a_floor_outside_0_1(capsys):
    assert main(["bench", "--floors", "1.5"]) == 2
    assert "--floors" in capsys.readouterr().err
