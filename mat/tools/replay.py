"""`mat replay`: the daemon's pipeline run over a recording as fast as it can go.

Time comes from the recording's `t` column, so the events are the same on every run and on
every machine, and the same as the live loop produced while recording (mat/README.md, "mat replay").
"""
from __future__ import annotations

import json
import sys
from typing import Iterable, TextIO

from mat.pipeline.events import Event
from mat.pipeline.pipeline import Pipeline
from mat.storage.recording import read_recording


def replay_events(path, floor: float | None = None, material: str | None = None,
                  tempo_s: float = 3.0) -> Iterable[Event]:
    """Every event the pipeline produces on the recording at `path`, in order, ending with the
    summary of the session left open when the file ends."""
    recording = read_recording(path)
    header = recording.header
    pipeline = Pipeline(
        rows=recording.rows, cols=recording.cols,
        material=material or header.get("material", "velostat"),
        gain=recording.gain,
        floor=0.5 if floor is None else floor,
        tempo_s=tempo_s,
    )
    for t, counts in zip(recording.t.tolist(), recording.counts):
        yield from pipeline.process(t, counts)
    yield from pipeline.finish()


def print_replay(path, floor=None, material=None, as_json=False, out: TextIO = sys.stdout) -> None:
    events = replay_events(path, floor=floor, material=material)
    if as_json:
        for event in events:
            out.write(json.dumps(event) + "\n")
        return
    sessions = 0
    for event in events:
        kind = event["type"]
        if kind == "liftoff":
            out.write(f"{event['t']:9.2f} s  lift-off (contact {event['contact']:.2f})\n")
        elif kind == "rep":
            mark = "perfect" if event["perfect"] else "lift-off"
            out.write(f"{event['t']:9.2f} s  set {event['set']} rep {event['rep']}: {mark}, "
                      f"descent {event['descent_s']:.1f} s\n")
        elif kind in ("present", "calibrated", "absent", "dead_cell", "chip_offline"):
            out.write(f"{event['t']:9.2f} s  {kind.replace('_', ' ')}\n")
        elif kind == "session_end":
            sessions += 1
            descent = event["mean_descent_s"]
            out.write(
                f"Session {sessions}: {event['reps']} reps in {event['sets']} sets, "
                f"{event['perfect_reps']} perfect, {event['liftoffs']} lift-offs, "
                f"mean descent {'-' if descent is None else f'{descent:.1f} s'}, "
                f"{event['duration_s']:.0f} s on the mat"
                + (f", looked like {event['variant_seen'].replace('_', '-')}" if event.get("variant_seen") else "")
                + "\n"
            )
