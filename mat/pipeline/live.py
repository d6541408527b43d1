"""What the live page is told: the pipeline's state as the live socket's "state" message (less
the daemon's own fields, which mat/daemon/loop.py adds)."""
from __future__ import annotations

import numpy as np

from mat.pipeline.breathing import SAMPLE_HZ as BREATH_SAMPLE_HZ
from mat.pipeline.breathing import TRACE_STEP
from mat.pipeline.calibration import Calibration
from mat.pipeline.conditioning import ConditionedFrame
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
