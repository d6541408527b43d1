"""What the live page is told: the pipeline's state as the live socket's "state" message (less
the daemon's own fields, which mat/daemon/loop.py adds)."""
from __future__ import annotations

import numpy as np

from mat.pipeline.breathing import SAMPLE_HZ as BREATH_SAMPLE_HZ
from mat.pipeline.breathing import TRACE_STEP
from mat.pipeline.calibration import Calibration
from mat.pipeline.conditioning import ConditionedFrame
from mat.pipeline.floor_finder import LOWERING_BEATS
from mat.pipeline.liftoff import warning_floor
from mat.pipeline.pipeline import Pipeline


def live_state(pipeline: Pipeline) -> dict:
    session = pipeline.session
    calibration = session.calibration if session else None
    zone = pipeline.zone
    breathing = session.breathing if session else None
    tally = session.tally if session else None
    return {
        "type": "state",
        "t": round(pipeline.t, 3),
        "state": pipeline.state,
        "contact": None if pipeline.contact is None else round(pipeline.contact, 3),
        "floor": pipeline.floor,
        "warning_floor": round(warning_floor(pipeline.floor), 3),
        "zone": None if zone is None else zone.name,
        "warning_level": None if zone is None else round(zone.level, 3),
        "pressure": _normalised_pressure(pipeline.last_frame, calibration),
        "reps": tally.reps if tally else 0,
        "perfect_reps": tally.perfect_reps if tally else 0,
        "liftoffs": tally.liftoffs if tally else 0,
        "set": session.reps.set_no if session else 0,
        "calibration": None if calibration is None else ("pressed" if calibration.pressed else "relaxed"),
        "calibration_problem": session.calibrator.problem if session else None,
        "dead_cells": [list(rc) for rc in sorted(pipeline.conditioner.dead_kind)],
        "offline_chips": sorted(pipeline.conditioner.offline_rows),
        "tempo_s": pipeline.tempo_s,
        # Breathing: the latest rate (None while it cannot tell), a held breath still going
        # after its cue, the session's held breaths, and the signal's last 20 s (None while moving).
        "breath_rate_bpm": breathing.rate_bpm if breathing else None,
        "breath_holding": breathing.holding if breathing else False,
        "breath_holds": tally.breath_holds if tally else 0,
        "breath_trace": ({"dt_s": TRACE_STEP / BREATH_SAMPLE_HZ, "values": breathing.trace}
                         if breathing and breathing.trace is not None else None),
        "coach": _coach_state(pipeline),
    }


def _coach_state(pipeline: Pipeline) -> dict:
    """The plan (set x of y, perfect reps toward the target, the rest countdown), the legs'
    depth, the stop-here depth, and the floor finder while it runs."""
    session = pipeline.session
    coach = session.coach if session else None
    plan = pipeline.plan
    finder = session.floor_finder if session else None
    rest = pipeline.rest_remaining_s
    return {
        "plan_sets": plan.sets,
        "plan_reps": plan.reps,
        "rest_s": plan.rest_s,
        "sets_done": coach.sets_done if coach else 0,
        "set_of_plan": min((coach.sets_done if coach else 0) + 1, plan.sets),
        "set_perfect": coach.set_perfect if coach else 0,
        "finished": coach.finished if coach else False,
        "rest_remaining_s": None if rest is None else round(rest, 1),
        "depth": None if coach is None or coach.depth is None else round(coach.depth, 3),
        "stop_depth": (None if coach is None or coach.stop_depth is None else round(coach.stop_depth, 3))
        if coach else pipeline.stop_depth,
        "floor_finder": None if finder is None else {"phase": finder.phase, "beat": finder.beat - 1,
                                                     "beats": LOWERING_BEATS},
    }


def _normalised_pressure(frame: ConditionedFrame | None, calibration: Calibration | None) -> list[list[float]]:
    """Per-cell pressure 0..1 for the heatmap: against the calibrated peak cell when there is
    one, otherwise against this frame's own peak."""
    if frame is None:
        return []
    scale = float(calibration.pressed_load.max()) if calibration is not None else float(frame.load.max())
    if scale <= 0:
        return np.zeros_like(frame.load).tolist()
    return np.round(np.clip(frame.load / scale, 0.0, 1.5), 3).tolist()
