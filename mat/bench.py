"""`mat bench`: the DESIGN.md section 7 figures, measured on the machine it runs on.

- frame rate: the real GridADC against emulated chips with the datasheet's conversion time and
  a 400 kHz bus, in real time on this machine's clock.
- alert latency: the whole loop (grid, pipeline, alerts, buzzer pin) in emulated real time:
  from the moment the simulator's true lumbar contact crosses the floor to the buzzer pin on.
- CPU per frame: pipeline + hand-off to the store writer, on this machine's CPU.
- detection quality: the labelled scenario suite replayed through the pipeline, compared with
  the simulator's truth.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

from hardware.clock import SystemClock, VirtualClock

from .pipeline import Pipeline

#: A detected lift-off matches a true one if it fires within the true interval widened by this (s).
MATCH_SLACK_S = 0.3


def measure_frame_rate(seconds: float = 2.0) -> float:
    """Frames per second of GridADC over the emulated bus, on the system clock."""
    from hardware.emulated_mat import emulated_grid_adc
    from hardware.simulated_person import Scenario, SimulatedPerson

    person = SimulatedPerson(Scenario.parse("person mass_kg=75 seed=1\nlie_down\nrelax 600s\n"))
    clock = SystemClock()
    grid = emulated_grid_adc(person, clock)
    grid.read_frame()
    start, frames = clock.monotonic(), 0
    while clock.monotonic() - start < seconds:
        grid.read_frame()
        frames += 1
    return frames / (clock.monotonic() - start)


def measure_latency(scenarios: dict[str, str], floor: float = 0.5) -> list[float]:
    """Alert latencies (s) from true floor crossings to the buzzer turning on, in emulated time."""
    from hardware.emulated_mat import emulated_grid_adc
    from hardware.feedback import LIFTED_HZ, Feedback
    from hardware.simulated_person import Scenario, SimulatedPerson

    from .daemon import MatLoop

    latencies: list[float] = []
    for text in scenarios.values():
        person = SimulatedPerson(Scenario.parse(text))
        clock = VirtualClock()
        grid = emulated_grid_adc(person, clock)
        feedback = Feedback(clock=clock, threaded=False)
        loop = MatLoop(grid, Pipeline(floor=floor), feedback, clock)
        try:
            while clock.monotonic() < person.duration_s:
                loop.step()
        finally:
            feedback.close()
        buzz_on = [t for t, frequency in feedback.tone_log if frequency == LIFTED_HZ]
        for start, _end in person.liftoffs(floor):
            after = [t for t in buzz_on if t >= start - MATCH_SLACK_S]
            if after and after[0] - start <= 1.0:
                latencies.append(max(after[0] - start, 0.0))
    return latencies


def measure_cpu_per_frame(text: str, frames: int = 20_000) -> float:
    """Mean CPU time (ms) per frame of pipeline + store hand-off, over a simulated session."""
    import queue

    from hardware.simulated_person import Scenario, SimulatedPerson

    person = SimulatedPerson(Scenario.parse(text))
    dt = 0.01
    n = min(frames, int(person.duration_s / dt))
    inputs = [(i * dt, person.counts(i * dt)) for i in range(n)]
    pipeline = Pipeline()
    handoff: queue.SimpleQueue = queue.SimpleQueue()  # what StoreWriter.add_frame does per frame
    started = time.process_time()
    for t, counts in inputs:
        pipeline.process(t, counts)
        handoff.put((t, counts))
    return (time.process_time() - started) / n * 1000


def score_suite(suite: dict[str, str], floor: float = 0.5, frame_rate_hz: float = 100.0) -> dict:
    """Run each scenario through the pipeline and compare with the simulator's truth."""
    from hardware.simulated_person import Scenario, SimulatedPerson

    true_liftoffs = detected = false_alerts = 0
    exercise_s = 0.0
    sets_total = sets_exact = 0
    perfect_errors: list[int] = []
    misses: list[str] = []
    for name, text in suite.items():
        person = SimulatedPerson(Scenario.parse(text))
        pipeline = Pipeline(floor=floor)
        events = []
        dt = 1.0 / frame_rate_hz
        rng = np.random.default_rng(7)
        t = 0.0
        while t < person.duration_s:
            events += pipeline.process(round(t, 6), person.counts(t))
            t += dt * (1 + 0.1 * (rng.random() - 0.5))
        events += pipeline.finish()
        alerts = [e["t"] for e in events if e["type"] == "liftoff"]
        truth = person.liftoffs(floor)
        matched = set()
        for start, end in truth:
            hits = [a for a in alerts if start - MATCH_SLACK_S <= a <= end + MATCH_SLACK_S]
            if hits:
                detected += 1
                matched.update(hits)
            else:
                misses.append(f"{name}: missed lift-off {start:.2f}-{end:.2f}")
        true_liftoffs += len(truth)
        false_alerts += len([a for a in alerts if a not in matched])
        exercise_s += person.duration_s
        reps = [e for e in events if e["type"] == "rep"]
        for s in person.sets:
            sets_total += 1
            inside = [r for r in reps if s["start"] - 1.0 <= r["t"] <= s["end"] + 3.0]
            true_reps = [r for r in person.reps if r["set"] == s["set"]]
            if len(inside) == len(true_reps):
                sets_exact += 1
            else:
                misses.append(f"{name}: set {s['set']} counted {len(inside)} of {len(true_reps)} reps")
            true_perfect = sum(1 for r in true_reps if r["end"] > 0 and _perfect(r, truth))
            perfect_errors.append(abs(sum(1 for r in inside if r["perfect"]) - true_perfect))
    return {
        "recall": detected / true_liftoffs if true_liftoffs else None,
        "false_alerts_per_10min": false_alerts / (exercise_s / 600.0) if exercise_s else None,
        "sets_exact": sets_exact / sets_total if sets_total else None,
        "perfect_rep_error": float(np.mean(perfect_errors)) if perfect_errors else None,
        "perfect_rep_error_max": max(perfect_errors) if perfect_errors else None,
        "true_liftoffs": true_liftoffs,
        "false_alerts": false_alerts,
        "sets": sets_total,
        "exercise_min": round(exercise_s / 60, 1),
        "misses": misses,
    }


def _perfect(rep: dict, truth: list[tuple[float, float]]) -> bool:
    return not any(a < rep["end"] and b > rep["top"] for a, b in truth)


def run_bench(quick: bool = False, with_load: bool = False, deployment_priorities: bool = True) -> dict:
    from .scenarios import SUITE, LATENCY_SUITE

    notes: list[str] = []
    suite = dict(list(SUITE.items())[:6]) if quick else SUITE
    frame_rate = measure_frame_rate(1.0 if quick else 3.0)
    latencies = measure_latency(dict(list(LATENCY_SUITE.items())[:2]) if quick else LATENCY_SUITE)
    if not latencies:
        notes.append("no lift-off produced a buzzer alert: latency not measured")
    cpu = measure_cpu_per_frame(next(iter(SUITE.values())), frames=5000 if quick else 20_000)
    quality = score_suite(suite)
    result = {
        "frame_rate_hz": round(frame_rate, 1),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "latency_p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 1) if latencies else None,
        "latency_samples": len(latencies),
        "cpu_per_frame_ms": round(cpu, 4),
        "recall": None if quality["recall"] is None else round(quality["recall"], 4),
        "false_alerts_per_10min": None if quality["false_alerts_per_10min"] is None
        else round(quality["false_alerts_per_10min"], 3),
        "sets_exact": None if quality["sets_exact"] is None else round(quality["sets_exact"], 4),
        "perfect_rep_error": None if quality["perfect_rep_error"] is None else round(quality["perfect_rep_error"], 3),
        "perfect_rep_error_max": quality["perfect_rep_error_max"],
        "scenarios": len(suite),
        "sets": quality["sets"],
        "true_liftoffs": quality["true_liftoffs"],
        "exercise_min": quality["exercise_min"],
        "notes": notes + quality["misses"][:30],
    }
    if with_load:
        from .loadbench import measure_latency_under_load

        load = measure_latency_under_load(quick=quick, deployment_priorities=deployment_priorities)
        result["notes"] = load.pop("notes", []) + result["notes"]
        result.update(load)
    return result


TARGETS = {
    "frame_rate_hz": (">=", 100),
    "latency_p95_ms": ("<=", 50),
    "latency_idle_p95_ms": ("<=", 50),
    "latency_load_p95_ms": ("<=", 50),
    "latency_load_minus_idle_p95_ms": ("<=", 5),
    "frame_rate_idle_hz": (">=", 100),
    "frame_rate_load_hz": (">=", 100),
    "cpu_per_frame_ms": ("<=", 0.2),
    "recall": (">=", 0.98),
    "false_alerts_per_10min": ("<=", 1),
    "sets_exact": (">=", 0.97),
    "perfect_rep_error": ("<=", 1),
}


def print_bench(as_json: bool = False, quick: bool = False, with_load: bool = False, out=sys.stdout,
                deployment_priorities: bool = True) -> int:
    result = run_bench(quick=quick, with_load=with_load, deployment_priorities=deployment_priorities)
    if as_json:
        out.write(json.dumps(result) + "\n")
        return 0
    width = max([26] + [len(key) + 1 for key, value in result.items() if not isinstance(value, (list, dict))])
    out.write(f"{'figure':<{width}}{'measured':>12}  {'target':<10} ok\n")
    for key, value in result.items():
        if key == "notes" or isinstance(value, (list, dict)):
            continue
        target = TARGETS.get(key)
        ok = ""
        if target and value is not None:
            op, bound = target
            ok = "yes" if (value >= bound if op == ">=" else value <= bound) else "NO"
        shown = "n/a" if value is None else value
        out.write(f"{key:<{width}}{shown!s:>12}  {'' if not target else f'{target[0]} {target[1]}':<10} {ok}\n")
    for note in result["notes"]:
        out.write(f"note: {note}\n")
    return 0
