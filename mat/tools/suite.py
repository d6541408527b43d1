"""Labelled recordings of simulated people: NAME.csv (the recording format, mat/README.md) and
NAME.labels.json (the truth), for `mat bench` and for anyone comparing detectors.

    python -m mat.tools.suite OUTDIR [NAME ...]     (default: the whole bench suite)
    python -m mat.tools.suite OUTDIR --draw SEED N  (N other people drawn the same way)
"""
from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import numpy as np

from hardware.emulation.scenarios import SUITE, draw_suite, frame_times, scenario_text
from mat.storage.recording import RecordingWriter


def write_labelled(name_or_text: str, directory, frame_rate_hz: float | None = None, jitter: bool = True,
                   floor: float = 0.5, drop: float | None = None, name: str | None = None) -> tuple[Path, Path]:
    """Write NAME.csv (the recording) and NAME.labels.json (the truth) into `directory`.

    Frame rate, jitter and dropped frames come from the scenario's `recording` step (default
    100 Hz, ±10 % jitter, no drops) unless given here."""
    from hardware.emulation.person import Scenario, SimulatedPerson

    found, text = scenario_text(name_or_text)
    name = name or found
    person = SimulatedPerson(Scenario.parse(text))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, labels_path = directory / f"{name}.csv", directory / f"{name}.labels.json"
    rate = frame_rate_hz or person.recording["fps"]
    spread = person.recording["jitter"] if jitter else 0.0
    drops = person.recording["drop"] if drop is None else drop
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    times = frame_times(person.duration_s, rate, rng, spread, drops)
    frames = person.frames(times)
    with open(csv_path, "w", newline="") as out:
        # The writer owns the header; the body is formatted in bulk (same format, much faster).
        RecordingWriter(out, person.rows, person.cols, gain=person.gain, material=person.mat.material,
                        extra_header={"source": "flatback-sim"}).close()
        rows = frames.reshape(len(times), -1).tolist()
        out.write("".join(f"{t:.6f}," + ",".join(map(str, row)) + "\n" for t, row in zip(times, rows)))
    labels = person.labels(floor)
    labels["sim"]["fps"] = rate
    labels["sim"]["recording"] = {"fps": rate, "jitter": spread, "drop": drops, "frames": len(times)}
    labels_path.write_text(json.dumps(labels))
    return csv_path, labels_path


def write_suite(directory, suite: dict[str, str] | None = None, floor: float = 0.5, jobs: int | None = None) -> list[Path]:
    """Write every scenario of a suite (default SUITE) as a labelled recording, in parallel."""
    from concurrent.futures import ProcessPoolExecutor

    suite = SUITE if suite is None else suite
    Path(directory).mkdir(parents=True, exist_ok=True)
    names = list(suite)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        done = list(pool.map(_write_one, [(name, suite[name], str(directory), floor) for name in names]))
    return done


def _write_one(job) -> Path:
    name, text, directory, floor = job
    return write_labelled(text, directory, floor=floor, name=name)[0]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m mat.tools.suite OUTDIR [NAME ...]   (default: the whole SUITE)\n"
              "       python -m mat.tools.suite OUTDIR --draw SEED N", file=sys.stderr)
        return 2
    if len(argv) == 4 and argv[1] == "--draw":
        paths = write_suite(argv[0], draw_suite(int(argv[2]), int(argv[3])))
    elif len(argv) > 1:
        paths = write_suite(argv[0], {name: scenario_text(name)[1] for name in argv[1:]})
    else:
        paths = write_suite(argv[0])
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

