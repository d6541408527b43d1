"""`mat bench --coach`: the floor finder and the stop-here cue, measured on simulated people.

Each drawn person has a back that gives way at a consistent depth (`give_way`, a share of the
way from vertical to the floor; hardware/emulation/person.py). For each of them:

1. **The floor finder.** They do the test following its beat (at their own pace: a little
   faster or slower than the beat), their back giving way at `give_way`; the mat's angle
   estimate (which assumes the beat was followed) is compared with the true angle there,
   90° × (1 − give_way).
2. **The stop-here cue.** They do 3 × 10 straight-leg reps, each rep's bottom drawn from their
   usual range; every rep going deeper than `give_way` arches as it passes it (they do not
   obey the cue: the simulation is scripted, so each such rep is a would-be lift-off). Once
   with the stop-here depth learnt from the session's own lift-offs only, once starting from
   their floor finder result. Counted: the share of would-be lift-offs whose descent got the cue
   before the back began to give way, how long before, and the clean reps that got a cue.
"""
from __future__ import annotations

import json
import statistics
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from hardware.emulation.person import Scenario, SimulatedPerson
from hardware.emulation.scenarios import frame_times
from mat.pipeline.pipeline import Pipeline

_LIE = "empty 3\nlie_down 1.5\nrelax 3\npress 4\nrest 5\n"


def draw_people(seed: int, n: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"seed": int(seed * 100 + i), "mass_kg": round(float(rng.uniform(50, 110)), 1),
             "give_way": round(float(rng.uniform(0.55, 0.9)), 2),
             "pace": round(float(rng.uniform(0.85, 1.15)), 2),
             "arch_kind": str(rng.choice(["sharp", "slow"]))} for i in range(n)]


def _run(text: str, start_finder_at: float | None = None, stop_depth: float | None = None):
    person = SimulatedPerson(Scenario.parse(text))
    rng = np.random.default_rng(person.persons[0][1].seed)
    times = frame_times(person.duration_s, 100.0, rng, 0.1)
    frames = person.frames(times)
    pipeline = Pipeline(stop_depth=stop_depth)
    events = []
    for t, counts in zip(times, frames):
        if start_finder_at is not None and t >= start_finder_at:
            events += pipeline.start_floor_finder()
            start_finder_at = None
        events += pipeline.process(t, counts)
    events += pipeline.finish()
    return person, events


def floor_test(p: dict) -> dict:
    text = (f"person mass_kg={p['mass_kg']} seed={p['seed']}\n{_LIE}"
            f"floor_test give_way={p['give_way']} pace={p['pace']} arch_kind={p['arch_kind']}\nrest 5\nget_up 1.2\nempty 6\n")
    person = SimulatedPerson(Scenario.parse(text))
    truth = next(e for e in person.events if e["kind"] == "floor_test")
    _, events = _run(text, start_finder_at=truth["t"])
    result = next((e for e in events if e["type"] in ("floor_finder_result", "floor_finder_problem")), None)
    out = {"person": p, "truth_angle_deg": truth["angle_deg"], "result": result}
    if result and result["type"] == "floor_finder_result":
        # The true angle, and the angle where the legs really were when the mat said stop
        # (what the estimate would be for someone following the beat exactly).
        out["angle_error_deg"] = round(result["angle_deg"] - truth["angle_deg"], 2)
        stop_share = (result["t"] - truth["go"]) / (truth["beats"] * truth["beat_s"] * truth["pace"])
        out["stop_latency_s"] = round(result["t"] - truth["give_way_t"], 3)
        out["angle_at_stop_deg"] = round(90 * (1 - stop_share), 2)
    return out


def stop_cue(p: dict, stop_depth: float | None) -> dict:
    sets = "".join(f"set reps=10 descent_s=3 give_way={p['give_way']} depth=0.5,1.1 arch_kind={p['arch_kind']}\nrest 20\n"
                   for _ in range(3))
    text = f"person mass_kg={p['mass_kg']} seed={p['seed']}\n{_LIE}{sets}get_up 1.2\nempty 6\n"
    person, events = _run(text, stop_depth=stop_depth)
    cues = [e["t"] for e in events if e["type"] == "stop_cue"]
    arches = {e["rep"]: e for e in person.events if e.get("give_way") is not None and e["kind"] == "arch"}
    would_be, clean = [], []
    for i, rep in enumerate(person.reps):
        start = rep["top"]
        if i in arches:
            begin = arches[i]["t"]
            before = [c for c in cues if start - 0.3 <= c <= begin]
            would_be.append(None if not before else round(begin - before[0], 3))
        else:
            clean.append(any(start - 0.3 <= c <= rep["end"] for c in cues))
    return {"person": p, "stop_depth": stop_depth, "would_be": would_be, "clean_cued": clean,
            "liftoffs": sum(1 for e in events if e["type"] == "liftoff")}


def _summary_cue(runs: list[dict]) -> dict:
    leads = [w for r in runs for w in r["would_be"] if w is not None]
    total = sum(len(r["would_be"]) for r in runs)
    clean = [c for r in runs for c in r["clean_cued"]]
    # The first two would-be lift-offs of a session teach the learnt depth: counted apart.
    later = [w for r in runs for w in r["would_be"][2:]]
    return {
        "would_be_liftoffs": total,
        "cued_before_share": round(len(leads) / total, 3) if total else None,
        "cued_before_share_after_two": round(sum(w is not None for w in later) / len(later), 3) if later else None,
        "lead_s_median": round(statistics.median(leads), 3) if leads else None,
        "lead_s_p10": round(float(np.percentile(leads, 10)), 3) if leads else None,
        "clean_reps": len(clean),
        "clean_reps_cued_share": round(sum(clean) / len(clean), 3) if clean else None,
    }


def measure(n: int = 8, seed: int = 13, jobs: int = 2) -> dict:
    people = draw_people(seed, n)
    with ProcessPoolExecutor(jobs) as pool:
        tests = list(pool.map(floor_test, people))
        learnt = list(pool.map(stop_cue, people, [None] * n))
        seeded_depths = [t["result"]["depth"] if t["result"] and t["result"]["type"] == "floor_finder_result"
                         and not t["result"]["reached_floor"] else None for t in tests]
        seeded = list(pool.map(stop_cue, people, seeded_depths))
    errors = [t["angle_error_deg"] for t in tests if "angle_error_deg" in t]
    return {
        "people": n,
        "floor_finder": {
            "results": len(errors),
            "angle_error_deg_median": round(statistics.median(errors), 2) if errors else None,
            "angle_abs_error_deg_median": round(statistics.median(abs(e) for e in errors), 2) if errors else None,
            "angle_abs_error_deg_max": round(max(abs(e) for e in errors), 2) if errors else None,
            "stop_latency_s_median": round(statistics.median(t["stop_latency_s"] for t in tests if "stop_latency_s" in t), 3)
            if errors else None,
            "runs": tests,
        },
        "stop_cue_learnt": dict(_summary_cue(learnt), runs=learnt),
        "stop_cue_from_floor_finder": dict(_summary_cue(seeded), runs=seeded),
    }


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="mat bench --coach")
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure(args.people, args.seed, args.jobs)
    if args.json:
        print(json.dumps(figures))
        return 0
    ff = figures["floor_finder"]
    print(f"floor finder on {figures['people']} simulated people (pace 0.85-1.15 of the beat): "
          f"{ff['results']} results; angle error median {ff['angle_error_deg_median']}°, "
          f"|error| median {ff['angle_abs_error_deg_median']}°, max {ff['angle_abs_error_deg_max']}°; "
          f"stop {ff['stop_latency_s_median']} s after the back began to give way (median)")
    for t in ff["runs"]:
        p = t["person"]
        print(f"  give_way={p['give_way']} pace={p['pace']} {p['arch_kind']}: truth {t['truth_angle_deg']}°, "
              f"mat {t['result'] and t['result'].get('angle_deg', t['result'].get('reason'))}°")
    for key, title in (("stop_cue_learnt", "stop-here cue, depth learnt from the session's lift-offs"),
                       ("stop_cue_from_floor_finder", "stop-here cue, depth from the floor finder")):
        s = figures[key]
        print(f"{title}: {s['cued_before_share']} of {s['would_be_liftoffs']} would-be lift-offs cued before the "
              f"back gave way ({s['cued_before_share_after_two']} after the first two), lead median "
              f"{s['lead_s_median']} s (p10 {s['lead_s_p10']} s); {s['clean_reps_cued_share']} of "
              f"{s['clean_reps']} clean reps cued")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
