"""`mat bench`: the figures of the README's "Figures", measured on the machine it runs on.

- frame rate: the real GridADC against emulated chips with the datasheet's conversion time and
  a 400 kHz bus, in real time on this machine's clock.
- alert latency: the whole loop (grid, pipeline, alerts, buzzer pin) in emulated real time:
  from the moment the simulator's true lumbar contact crosses the floor to the buzzer pin on.
- CPU per frame: pipeline + hand-off to the store writer, on this machine's CPU.
- detection quality, on two suites of labelled recordings (mat/README.md, "Labelled recordings") at floors 0.5 and
  0.7: our own (hardware.emulation.scenarios.SUITE, written out by the simulator) and a directory of
  recordings we did not make. Each recording is replayed exactly as
  `mat replay` does it and judged by mat.tools.scoring, by the rules the project is judged by.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from hardware.clock import SystemClock, VirtualClock

from mat.tools import scoring
from mat.pipeline.pipeline import Pipeline

#: A detected lift-off matches a true one if it fires within the true interval widened by this (s).
MATCH_SLACK_S = 0.3


def measure_frame_rate(seconds: float = 2.0) -> float:
    """Frames per second of GridADC over the emulated bus, on the system clock."""
    from hardware.emulation.mat import emulated_grid_adc
    from hardware.emulation.person import Scenario, SimulatedPerson

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
    from hardware.emulation.mat import emulated_grid_adc
    from hardware.feedback import LIFTED_HZ, Feedback
    from hardware.emulation.person import Scenario, SimulatedPerson

    from mat.daemon.loop import MatLoop

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

    from hardware.emulation.person import Scenario, SimulatedPerson

    person = SimulatedPerson(Scenario.parse(text))
    dt = 0.01
    n = min(frames, int(person.duration_s / dt))
    times = [round(i * dt, 6) for i in range(n)]
    if hasattr(person, "frames"):  # the simulator computes a whole run at once
        inputs = list(zip(times, person.frames(times)))
    else:
        inputs = [(t, person.counts(t)) for t in times]
    pipeline = Pipeline()
    handoff: queue.SimpleQueue = queue.SimpleQueue()  # what StoreWriter.add_frame does per frame
    started = time.process_time()
    for t, counts in inputs:
        pipeline.process(t, counts)
        handoff.put((t, counts))
    return (time.process_time() - started) / n * 1000

# ----------------------------------------------------------------------------- detection suites
#: The floors every suite is judged at (README, "Figures").
FLOORS = (0.5, 0.7)
#: `--recordings` by default: the recordings we did not make, beside the project.
EXTERNAL_RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "recordings" / "external"
#: Breathing figures are measured on these recordings when they are there (labels with
#: `sim.breathing`), beside the project like the external ones.
BREATHING_RECORDINGS = EXTERNAL_RECORDINGS.parent / "breathing"
#: `--quick`: this many scenarios of each suite (spread over the suite), one loop-latency scenario.
QUICK_SCENARIOS = 4


def own_suite(quick: bool = False) -> dict[str, str]:
    """Our simulator's scenarios for the bench (name -> scenario text)."""
    from hardware.emulation.scenarios import SUITE

    return _spread(SUITE, QUICK_SCENARIOS) if quick else dict(SUITE)


def latency_suite(quick: bool = False) -> dict[str, str]:
    """Scenarios for the alert latency through the whole emulated loop."""
    from hardware.emulation.scenarios import LATENCY_SUITE

    return dict(list(LATENCY_SUITE.items())[:1]) if quick else dict(LATENCY_SUITE)


def _spread(items: dict, n: int) -> dict:
    """n entries spread evenly over `items` (all of them when there are no more than n)."""
    keys = list(items)
    if len(keys) <= n:
        return dict(items)
    step = len(keys) / n
    return {keys[int(k * step)]: items[keys[int(k * step)]] for k in range(n)}


def write_own_suite(suite: dict[str, str], directory, jobs: int) -> list[tuple[str, Path, Path]]:
    """Write the scenarios as labelled recordings (NAME.csv + NAME.labels.json) into directory."""
    from mat.tools.suite import write_suite

    write_suite(directory, suite, jobs=jobs)
    return [item for item in scoring.labelled_recordings(directory) if item[0] in suite]


def replay_and_score(job: tuple[str, str, str, str, float]) -> tuple[str, float, scoring.RecordingScore]:
    """One recording at one floor: replayed as `mat replay` does it, judged against its labels."""
    from mat.tools.replay import replay_events

    suite, name, csv_path, labels_path, floor = job
    try:
        labels = scoring.load_labels(labels_path)
    except (OSError, ValueError) as error:
        return suite, floor, scoring.RecordingScore(name=name, floor=floor, failed=f"labels: {error}")
    try:
        events = list(replay_events(csv_path, floor=floor))
        failed = None
    except Exception as error:  # noqa: BLE001 — a recording that breaks the replay scores zero
        events, failed = [], f"replay: {type(error).__name__}: {error}"
    try:
        return suite, floor, scoring.score_events(name, labels, events, floor, failed=failed)
    except Exception as error:  # noqa: BLE001 — broken labels must not stop the bench
        return suite, floor, scoring.RecordingScore(name=name, floor=floor,
                                                    failed=f"scoring: {type(error).__name__}: {error}")


def replay_breathing(job: tuple[str, str, str]) -> tuple[str, dict | None, str | None]:
    """One recording replayed as `mat replay` does it, its breathing judged against its labels."""
    from mat.tools.replay import replay_events

    name, csv_path, labels_path = job
    try:
        return name, scoring.score_breathing(scoring.load_labels(labels_path), list(replay_events(csv_path))), None
    except Exception as error:  # noqa: BLE001 — reported as a note, the other figures stand
        return name, None, f"breathing on {name}: {type(error).__name__}: {error}"


def measure_breathing(directory, jobs: int | None = None, quick: bool = False) -> tuple[dict | None, list[str]]:
    """Breathing figures on the labelled recordings in `directory` (None when there are none)."""
    found = scoring.labelled_recordings(directory) if Path(directory).is_dir() else []
    if quick:
        found = list(_spread({item[0]: item for item in found}, QUICK_SCENARIOS).values())
    if not found:
        return None, [f"breathing: no labelled recordings in {directory}; not measured"]
    with ProcessPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        results = list(pool.map(replay_breathing, [(n, str(c), str(l)) for n, c, l in found]))
    rows = [row for _, row, _ in results if row is not None]
    notes = [problem for _, _, problem in results if problem]
    return (scoring.summarise_breathing(rows) if rows else None), notes


def measure_own_breathing(directory, jobs: int | None = None, quick: bool = False) -> tuple[dict | None, list[str]]:
    """Breathing figures on our simulator's drawn breathing people (BREATHING_SUITE), written to
    `directory` first."""
    from hardware.emulation.scenarios import BREATHING_SUITE

    suite = _spread(BREATHING_SUITE, QUICK_SCENARIOS) if quick else dict(BREATHING_SUITE)
    try:
        write_own_suite(suite, directory, jobs=max(1, jobs or os.cpu_count() or 1))
    except Exception as error:  # noqa: BLE001 — the rest of the bench still runs
        return None, [f"own breathing suite: could not write its recordings: {type(error).__name__}: {error}"]
    return measure_breathing(directory, jobs)


def _loop_latency(job: tuple[str, str, float]) -> tuple[list[float], str | None]:
    name, text, floor = job
    try:
        return measure_latency({name: text}, floor=floor), None
    except Exception as error:  # noqa: BLE001 — reported as a note, the other figures stand
        return [], f"loop latency on {name}: {type(error).__name__}: {error}"


def run_suites(suites: dict[str, list[tuple[str, Path, Path]]], floors=FLOORS, jobs: int | None = None,
               loop_latency: dict[str, str] | None = None):
    """Replay and judge every recording of every suite at every floor, with `jobs` processes;
    the whole-loop latency scenarios run in the same pool. Returns
    ({suite: {floor: [RecordingScore, ...]}}, [loop latencies (s)], [problems])."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    work = [(suite, name, str(csv), str(labels), float(floor))
            for suite, items in suites.items() for name, csv, labels in items for floor in floors]
    work.sort(key=lambda job: -os.path.getsize(job[2]))  # longest first keeps both cores busy
    scores: dict[str, dict[float, list]] = {suite: {float(f): [] for f in floors} for suite in suites}
    latencies: list[float] = []
    trouble: list[str] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        loops = [pool.submit(_loop_latency, (name, text, 0.5)) for name, text in (loop_latency or {}).items()]
        for suite, floor, score in pool.map(replay_and_score, work):
            scores[suite][floor].append(score)
        for future in loops:
            found, problem = future.result()
            latencies += found
            trouble += [problem] if problem else []
    for per_floor in scores.values():
        for rows in per_floor.values():
            rows.sort(key=lambda s: s.name)
    return scores, latencies, trouble


def run_bench(quick: bool = False, with_load: bool = False, deployment_priorities: bool = True,
              recordings=None, floors=FLOORS, jobs: int | None = None) -> dict:
    """Every figure, as one dict (mat/README.md, "mat bench"). `recordings`: the directory of labelled
    recordings for the second suite (None: EXTERNAL_RECORDINGS when it exists)."""
    started = time.monotonic()
    notes: list[str] = []
    floors = tuple(float(f) for f in floors)
    # Real-time and CPU-time figures first, on a machine with nothing else of ours running.
    frame_rate = measure_frame_rate(1.0 if quick else 3.0)
    own = own_suite(quick)
    cpu = measure_cpu_per_frame(next(iter(own.values())), frames=5000 if quick else 20_000) if own else None

    suites: dict[str, list] = {}
    sources: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="flatback-bench-") as tmp:
        if own:
            try:
                suites["own"] = write_own_suite(own, tmp, jobs=max(1, jobs or os.cpu_count() or 1))
                sources["own"] = f"hardware.emulation.scenarios.SUITE ({len(own)} scenarios{', --quick' if quick else ''})"
            except Exception as error:  # noqa: BLE001 — the rest of the bench still runs
                notes.append(f"own suite: could not write its recordings: {type(error).__name__}: {error}")
        directory = Path(recordings) if recordings is not None else EXTERNAL_RECORDINGS
        found = scoring.labelled_recordings(directory) if directory.is_dir() else []
        if not found:
            notes.append(f"recordings: no labelled recordings (NAME.csv + NAME.labels.json) in {directory}; "
                         "that suite is skipped")
        else:
            if quick:
                found = list(_spread({item[0]: item for item in found}, QUICK_SCENARIOS).values())
            suites["external"] = found
            sources["external"] = f"{directory} ({len(found)} recordings{', --quick' if quick else ''})"
        loops = latency_suite(quick)
        scores, latencies, trouble = run_suites(suites, floors, jobs, loop_latency=loops)
        notes += trouble
        breathing_own, trouble = measure_own_breathing(Path(tmp) / "breathing", jobs, quick)
        notes += trouble

    breathing, trouble = measure_breathing(BREATHING_RECORDINGS, jobs, quick)
    notes += trouble
    if not loops:
        notes.append("no loop-latency scenarios: latency not measured")
    elif not latencies:
        notes.append("no lift-off produced a buzzer alert: latency not measured")
    figures = {suite: {f"{floor:g}": scoring.summarise(rows) for floor, rows in per_floor.items()}
               for suite, per_floor in scores.items()}
    for suite in ("own", "external"):
        figures.setdefault(suite, None)
    headline = (figures.get("own") or {}).get("0.5")
    if headline is None:
        notes.append("own suite at floor 0.5 not measured: recall, false alerts, sets and perfect reps are null")
    for suite, per_floor in scores.items():
        for floor, rows in per_floor.items():
            notes += [f"{suite}: {line}" for line in scoring.problems(rows)]
    pick = (lambda key: headline[key]) if headline else (lambda key: None)
    result = {
        "frame_rate_hz": round(frame_rate, 1),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "latency_p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 1) if latencies else None,
        "latency_samples": len(latencies),
        "cpu_per_frame_ms": None if cpu is None else round(cpu, 4),
        "recall": pick("recall"),
        "false_alerts_per_10min": pick("false_alerts_per_10min"),
        "sets_exact": pick("sets_exact"),
        "perfect_rep_error": pick("perfect_rep_error"),
        "perfect_rep_error_max": pick("perfect_rep_error_max"),
        "scenarios": pick("scenarios"),
        "sets": pick("sets"),
        "true_liftoffs": pick("liftoffs"),
        "exercise_min": pick("exercise_min"),
        "suites": figures,
        "breathing": breathing,
        "breathing_own": breathing_own,
        "suite_sources": sources,
        "floors": [f"{floor:g}" for floor in floors],
        "bench_wall_s": round(time.monotonic() - started, 1),
        "notes": notes,
    }
    if with_load:
        from mat.tools.loadbench import measure_latency_under_load

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


#: Shown in the detection table rather than the figures table (own suite, floor 0.5 in the JSON).
DETECTION_KEYS = {"recall", "false_alerts_per_10min", "sets_exact", "perfect_rep_error", "perfect_rep_error_max",
                  "scenarios", "sets", "true_liftoffs", "exercise_min", "bench_wall_s"}
#: The table prints this many notes; the JSON has them all.
NOTES_SHOWN = 25

#: The detection table's columns: (summary key, heading, target as in TARGETS).
COLUMNS = (
    ("recall", "recall", (">=", 0.98)),
    ("precision", "precision", None),
    ("false_alerts_per_10min", "fa/10min", ("<=", 1)),
    ("scenario_latency_p50_ms", "lat p50", None),
    ("scenario_latency_p95_ms", "lat p95", ("<=", 50)),
    ("sets_exact", "sets exact", (">=", 0.97)),
    ("perfect_rep_error", "perfect err", ("<=", 1)),
)


def _meets(value, target) -> bool:
    op, bound = target
    return value >= bound if op == ">=" else value <= bound


def print_bench(as_json: bool = False, quick: bool = False, with_load: bool = False, out=None,
                deployment_priorities: bool = True, recordings=None, floors=FLOORS, jobs: int | None = None) -> int:
    out = sys.stdout if out is None else out
    result = run_bench(quick=quick, with_load=with_load, deployment_priorities=deployment_priorities,
                       recordings=recordings, floors=floors, jobs=jobs)
    if as_json:
        out.write(json.dumps(result) + "\n")
        return 0
    shown_keys = [key for key, value in result.items()
                  if key not in DETECTION_KEYS and not isinstance(value, (list, dict))]
    width = max([26] + [len(key) + 1 for key in shown_keys])
    out.write(f"{'figure':<{width}}{'measured':>12}  {'target':<10} ok\n")
    for key in shown_keys:
        value = result[key]
        target = TARGETS.get(key)
        ok = ""
        if target and value is not None:
            op, bound = target
            ok = "yes" if (value >= bound if op == ">=" else value <= bound) else "NO"
        shown = "n/a" if value is None else value
        out.write(f"{key:<{width}}{shown!s:>12}  {'' if not target else f'{target[0]} {target[1]}':<10} {ok}\n")
    out.write("\ndetection (lat = liftoff event - true floor crossing, ms; fa = false alerts)\n")
    out.write(f"{'suite':<10}{'floor':>6}" + "".join(f"{heading:>12}" for _, heading, _ in COLUMNS)
              + f"{'sets':>6}{'lifts':>7}{'min':>7}  failed\n")
    missing = []
    for suite, per_floor in result["suites"].items():
        if per_floor is None:
            missing.append(suite)
            continue
        for floor, row in per_floor.items():
            cells = []
            for key, _, target in COLUMNS:
                value = row[key]
                mark = "" if target is None or value is None else ("" if _meets(value, target) else "!")
                cells.append(f"{'n/a' if value is None else value:>11}{mark or ' '}")
            failed = ", ".join(row["failed"][:3]) + (f" (+{len(row['failed']) - 3})" if len(row["failed"]) > 3 else "")
            out.write(f"{suite:<10}{floor:>6}" + "".join(cells)
                      + f"{row['sets']:>6}{row['liftoffs']:>7}{row['exercise_min']:>7}  {failed or '-'}\n")
    targets = ", ".join(f"{heading} {t[0]} {t[1]}" for _, heading, t in COLUMNS if t)
    out.write(f"targets: {targets} ('!' = not met)\n")
    for key, where in (("breathing", f"recordings in {BREATHING_RECORDINGS}"),
                       ("breathing_own", "drawn people of hardware.emulation.scenarios.BREATHING_SUITE")):
        b = result.get(key)
        if b:
            out.write(f"\nbreathing ({b['recordings']} {where}): rate error in rests "
                      f"median {b['rate_error_median_bpm']} / p90 {b['rate_error_p90_bpm']} breaths/min "
                      f"({b['rate_estimates']} estimates), coverage {b['coverage']}, held breaths found "
                      f"{b['hold_recall']} (rests {b['hold_recall_rest']}, sets {b['hold_recall_set']}), "
                      f"delay median {b['hold_delay_median_s']} s, false cues {b['false_cues_per_10min']} / 10 min\n")
    for suite, source in result["suite_sources"].items():
        out.write(f"{suite}: {source}\n")
    for suite in missing:
        out.write(f"{suite}: not measured\n")
    out.write(f"bench took {result['bench_wall_s']} s\n")
    for note in result["notes"][:NOTES_SHOWN]:
        out.write(f"note: {note}\n")
    if len(result["notes"]) > NOTES_SHOWN:
        out.write(f"note: ... and {len(result['notes']) - NOTES_SHOWN} more (--json lists them all)\n")
    return 0
