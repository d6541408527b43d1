"""Named scenarios for the demo, the tests and `mat bench`, and labelled recordings of them.

Each scenario is a text for `hardware.simulated_person.Scenario`. `write_labelled` turns one
into `NAME.csv` + `NAME.labels.json` (DESIGN.md 6.3): `python -m mat.scenarios OUTDIR`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .recording import RecordingWriter

_START = "empty 3\nlie_down 1.5\nrelax 3\npress 4\n"
_END = "get_up 1.2\nempty 8\n"


def _session(person: str, body: str) -> str:
    return f"person {person}\n{_START}{body}{_END}"


#: The demo: sets of leg lifts with an arch now and then, a near miss, a too-fast set.
DEMO = _session(
    "mass_kg=72 seed=11",
    "set reps=8 descent_s=3 arch_reps=5 arch_depth=0.3\nrest 15\n"
    "set reps=8 descent_s=3 near_miss_reps=3 arch_reps=7 arch_kind=slow arch_depth=0.35\nrest 15\n"
    "set reps=6 variant=bent_knee descent_s=1.5\nrest 10\n",
)

SUITE: dict[str, str] = {
    "clean_75kg": _session("mass_kg=75 seed=1", "set reps=10\nrest 20\nset reps=10\n"),
    "light_45kg": _session("mass_kg=45 seed=2", "set reps=8 arch_reps=4\nrest 15\nset reps=8\n"),
    "heavy_120kg": _session("mass_kg=120 seed=3", "set reps=8 arch_reps=2,6\nrest 15\nset reps=8\n"),
    "mid_60kg_arches": _session("mass_kg=60 seed=4", "set reps=10 arch_reps=3,6,9 arch_depth=0.25\n"),
    "mid_100kg_slow_arches": _session("mass_kg=100 seed=5",
                                      "set reps=10 arch_reps=2,8 arch_kind=slow arch_depth=0.35\n"),
    "off_centre_left": _session("mass_kg=80 offset_x_cm=-3 seed=6", "set reps=10 arch_reps=5\n"),
    "off_centre_right": _session("mass_kg=70 offset_x_cm=3 seed=7", "set reps=10 arch_reps=7\n"),
    "lying_high": _session("mass_kg=75 offset_y_cm=4 seed=8", "set reps=10 arch_reps=4\n"),
    "lying_low": _session("mass_kg=75 offset_y_cm=-4 seed=9", "set reps=10 arch_reps=6\n"),
    "noisy": _session("mass_kg=75 noise=0.025 seed=10", "set reps=10 arch_reps=3,8\n"),
    "fsr_grid": _session("mass_kg=75 material=fsr seed=12", "set reps=10 arch_reps=5\n"),
    "strong_creep": _session("mass_kg=85 creep=0.12 drift=0.05 seed=13",
                             "set reps=10 arch_reps=9\nrest 30\nset reps=10 arch_reps=4\n"),
    "dead_lumbar_cell": _session("mass_kg=75 seed=14", "dead_cell row=1 col=1 kind=zero\nset reps=10 arch_reps=6\n"),
    "dead_rail_cell": _session("mass_kg=75 seed=15", "dead_cell row=2 col=3 kind=rail\nset reps=10 arch_reps=3\n"),
    "frozen_cell": _session("mass_kg=75 seed=16", "dead_cell row=3 col=0 kind=frozen\nset reps=10 arch_reps=7\n"),
    "fast_descents": _session("mass_kg=75 seed=17", "set reps=10 descent_s=1.0 ascent_s=1.0 arch_reps=5\n"),
    "near_misses": _session("mass_kg=75 seed=18", "set reps=10 near_miss_reps=2,4,6,8\n"),
    "disturbances": _session("mass_kg=75 seed=19",
                             "set reps=6\nrest 5\ncough\nrest 5\narms 3\nresettle\nrest 8\nset reps=6 arch_reps=3\n"),
    "bent_knee": _session("mass_kg=75 seed=20", "set reps=12 variant=bent_knee descent_s=2.5 arch_reps=6\n"),
    "single_leg_left": _session("mass_kg=75 seed=21", "set reps=8 variant=single_leg side=left\nrest 10\n"
                                "set reps=8 variant=single_leg side=right arch_reps=4\n"),
    "alternating": _session("mass_kg=75 seed=22", "set reps=12 variant=alternating descent_s=2 arch_reps=5\n"),
    "dead_bug": _session("mass_kg=65 seed=23", "set reps=12 variant=dead_bug descent_s=2 near_miss_reps=6\n"),
    "two_people": _session("mass_kg=55 seed=24", "set reps=8 arch_reps=3\n")
    + _session("mass_kg=95 offset_x_cm=2 seed=25", "set reps=8 arch_reps=6\n"),
    "long_clean_10min": _session("mass_kg=78 seed=26", "".join(
        "set reps=12 descent_s=3.5 ascent_s=2.5\nrest 40\n" for _ in range(5))),
    "long_arches_10min": _session("mass_kg=68 seed=27", "".join(
        f"set reps=12 arch_reps={i + 2},{i + 8} arch_kind={'slow' if i % 2 else 'sharp'}\nrest 40\n"
        for i in range(5))),
}

#: Scenarios with many lift-offs, for measuring alert latency through the whole loop.
LATENCY_SUITE: dict[str, str] = {
    "latency_sharp": _session("mass_kg=75 seed=31", "set reps=10 arch_reps=1,2,3,4,5,6,7,8,9,10\n"),
    "latency_slow": _session("mass_kg=90 seed=32",
                             "set reps=10 arch_reps=1,2,3,4,5,6,7,8,9,10 arch_kind=slow arch_depth=0.35\n"),
    "latency_light": _session("mass_kg=50 noise=0.02 seed=33", "set reps=10 arch_reps=1,3,5,7,9\n"),
}


def scenario_text(name_or_text: str) -> tuple[str, str]:
    """(name, text) for a suite name, or for a scenario text itself."""
    for table in (SUITE, LATENCY_SUITE, {"demo": DEMO}):
        if name_or_text in table:
            return name_or_text, table[name_or_text]
    return "scenario", name_or_text


def write_labelled(name_or_text: str, directory, frame_rate_hz: float = 100.0, jitter: bool = True,
                   floor: float = 0.5) -> tuple[Path, Path]:
    """Write NAME.csv (the recording) and NAME.labels.json (the truth) into `directory`."""
    from hardware.simulated_person import Scenario, SimulatedPerson

    name, text = scenario_text(name_or_text)
    person = SimulatedPerson(Scenario.parse(text))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, labels_path = directory / f"{name}.csv", directory / f"{name}.labels.json"
    rng = np.random.default_rng(0)
    spec = person.persons[0][1]
    with RecordingWriter(csv_path, person.rows, person.cols, gain=person.gain, material=spec.material) as writer:
        for t in frame_times(person.duration_s, frame_rate_hz, rng if jitter else None):
            writer.write(t, person.counts(t))
    labels_path.write_text(json.dumps(person.labels(floor)))
    return csv_path, labels_path


def frame_times(duration_s: float, frame_rate_hz: float, rng=None) -> list[float]:
    """Frame times as a real loop produces them: nominal interval, ±10 % jitter, µs resolution."""
    dt = 1.0 / frame_rate_hz
    times, t = [], 0.0
    while t < duration_s:
        times.append(round(t, 6))
        t += dt * (1 + (0.2 * (rng.random() - 0.5) if rng is not None else 0.0))
    return times


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m mat.scenarios OUTDIR [NAME ...]", file=sys.stderr)
        return 2
    names = argv[1:] or list(SUITE)
    for name in names:
        csv_path, _ = write_labelled(name, argv[0])
        print(csv_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
