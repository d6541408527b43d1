"""The pipeline: frames and their timestamps in, events and live state out.

Pure: no I2C, GPIO, SQLite or sockets, and time comes only from the frames, so the daemon,
`mat replay`, the benchmark and the tests run exactly the same code and get the same events.

    counts ─> CellConditioner ─> presence ─> Calibrator ─> LumbarContact ─> LiftOffDetector
                                                                 └────────> RepCounter ─> summary
                                         └─> BreathingEstimator (rate, held breaths) ─> summary
"""
from __future__ import annotations

import math

import numpy as np

from hardware.materials import material as material_named
from hardware.materials import rail_counts

from mat.pipeline.breathing import SAMPLE_HZ as BREATH_SAMPLE_HZ
from mat.pipeline.breathing import TRACE_STEP, BreathingEstimator
from mat.pipeline.calibration import Calibration, Calibrator
from mat.pipeline.conditioning import CellConditioner, ConditionedFrame
from mat.pipeline.detector import BODY_LEAVING_SHARE, LiftOffDetector, LumbarContact, Zone
from mat.pipeline.events import Event, make_event
from mat.pipeline.presence import Change, Presence
from mat.pipeline.reps import RepCounter
from mat.pipeline.session import SessionTally
from mat.pipeline.settings import floor_choice, tempo_choice

class Pipeline:
    """One mat's detection pipeline. Feed it frames with `process`; read `live_state()`.

    rows, cols: grid size. material: "velostat" or "fsr". gain: ADS1115 gain (sets the rail).
    floor: the lift-off threshold on lumbar contact (fraction). tempo_s: target descent (s).
    """

    def __init__(self, rows: int = 4, cols: int = 4, material: str = "velostat", gain: float = 1,
                 floor: float = 0.5, tempo_s: float = 3.0) -> None:
        self.rows, self.cols = rows, cols
        self.material, self.gain = material, gain
        self.conditioner = CellConditioner(rows, cols, material_named(material), rail_counts(gain))
        self.floor = floor_choice(floor)
        self.tempo_s = tempo_choice(tempo_s)
        self.presence = Presence()
        self.calibrator = Calibrator()
        self.calibration: Calibration | None = None
        self.contact_model: LumbarContact | None = None
        self.detector = LiftOffDetector(self.floor)
        self.reps: RepCounter | None = None
        self.tally: SessionTally | None = None
        self.breathing: BreathingEstimator | None = None
        self.contact: float | None = None
        self.zone: Zone | None = None
        self._recalibrating = False
        self._last: ConditionedFrame | None = None
        self.t = 0.0

    # -- commands -------------------------------------------------------------------------
    def set_floor(self, floor: float) -> None:
        self.floor = floor_choice(floor)
        self.detector.floor = self.floor

    def set_tempo(self, tempo_s: float) -> None:
        self.tempo_s = tempo_choice(tempo_s)
        if self.reps is not None:
            self.reps.tempo_s = self.tempo_s

    def recalibrate(self) -> None:
        """The calibrate command: the next steady pressed hold becomes the new baseline; the
        old one keeps guarding the back until then."""
        if self.present:
            self.calibrator.rearm()
            self._recalibrating = True

    def start_session(self) -> None:
        """The start command: sessions may start again (after a stop); with someone already
        lying there, their next pressed hold recalibrates."""
        self.presence.resume()
        self.recalibrate()

    # -- frames ---------------------------------------------------------------------------
    def process(self, t: float, counts: np.ndarray, offline_rows=()) -> list[Event]:
        self.t = t
        frame, events = self.conditioner.condition(t, counts, offline_rows, empty=not self.present)
        self._last = frame
        events += self._track_presence(frame)
        if self.present:
            events += self._while_present(frame)
            events += self.breathing.update(frame.t, frame.load, frame.alive)
        for event in events:
            if self.tally is not None:
                self.tally.count(event)
        return events

    def finish(self) -> list[Event]:
        """The recording or the daemon ends: close a session still open, with its summary."""
        return self._end_session(self.t) if self.present else []

    def end_session(self) -> list[Event]:
        """The stop command: end the session now, as if the person had left. No new session
        starts until the mat has been empty (or the start command)."""
        if not self.present:
            return []
        self.presence.ended(paused=True)
        return self._end_session(self.t)

    @property
    def present(self) -> bool:
        return self.presence.present

    def _track_presence(self, frame: ConditionedFrame) -> list[Event]:
        change = self.presence.update(frame)
        if change is None:
            return []
        kind, since = change
        if kind is Change.ARRIVED:
            return self._start_session(since)
        return self._end_session(frame.t, absent_t=since)

    def _start_session(self, t: float) -> list[Event]:
        self._recalibrating = False
        self.calibrator.reset(t)
        self.calibration = None
        self.contact_model = None
        self.detector = LiftOffDetector(self.floor)
        self.reps = RepCounter(self.rows, self.cols, self.tempo_s)
        self.tally = SessionTally(t)
        self.breathing = BreathingEstimator(t)
        self.contact = None
        self.zone = None
        return [make_event(t, "present")]

    def _end_session(self, t: float, absent_t: float | None = None) -> list[Event]:
        # Every event is stamped now, when the mat judged the body gone (events leave in time
        # order); `left_t` says when the load actually went.
        left_t = absent_t if absent_t is not None else t
        events: list[Event] = []
        if self.detector.lifted:
            events.append(self.detector.end(t, lifted_until=left_t, left_mat=absent_t is not None))
        if self.reps is not None:
            events += self.reps.finish(t)
        events.append(make_event(t, "absent", left_t=round(left_t, 6)))
        tally = self.tally
        for event in events:
            tally.count(event)
        events.append(tally.summary(t, self.reps.set_no if self.reps else 0))
        self.presence.ended()
        self.tally = None
        self.breathing = None
        self.contact = None
        self.zone = None
        self.calibration = None
        self.contact_model = None
        return events

    def _while_present(self, frame: ConditionedFrame) -> list[Event]:
        events: list[Event] = []
        if self._calibrating():
            events += self._observe_calibration(frame)
            if self.calibration is None:
                return events
        contact = self.contact_model.update(frame.t, frame.load, frame.alive, frozen=self.detector.lifted)
        # Only a low contact needs telling apart from getting up (and this is per frame).
        body_leaving = (self.detector.lifted or contact < self.floor) and self._body_leaving(frame)
        was_lifted = self.detector.lifted
        detector_events = self.detector.update(frame.t, contact, body_leaving)
        for event in detector_events:
            if event["type"] == "liftoff":
                self.reps.note_liftoff(self.detector.liftoff_t, None)
            elif event["type"] == "contact" and was_lifted:
                self.reps.note_liftoff(self.detector.liftoff_t, self.detector.liftoff_t + event["duration_s"])
        events += detector_events
        events += self.reps.update(frame.t, frame.load, frame.alive, contact)
        self.contact = None if math.isnan(contact) else contact
        self.zone = self.detector.zone(contact) if self.contact is not None else None
        return events

    def _calibrating(self) -> bool:
        """Calibration is watched until the exercise begins (a press may still come), and after
        the calibrate command until its stretch is taken."""
        if self.calibration is None or self._recalibrating:
            return True
        return not (self.reps.set_no or self.reps.in_swing or self.detector.liftoffs)

    def _observe_calibration(self, frame: ConditionedFrame) -> list[Event]:
        problem_before = self.calibrator.problem
        calibration = self.calibrator.observe(frame.t, frame.load, frame.alive)
        events: list[Event] = []
        if self.calibrator.problem is not None and self.calibrator.problem != problem_before:
            events.append(make_event(frame.t, "calibration_problem", reason=self.calibrator.problem))
        if calibration is None:
            return events
        self._recalibrating = False
        first = self.calibration is None
        self.calibration = calibration
        self.contact_model = LumbarContact(calibration)
        if first:
            self.reps = RepCounter(self.rows, self.cols, self.tempo_s,
                                   lateral_centre=_lateral_centre(calibration.pressed_load),
                                   legs_down_load=np.where(frame.alive, calibration.pressed_load, 0.0))
        events.append(make_event(frame.t, "calibrated", pressed=calibration.pressed,
                                 lumbar_cells=_cells(calibration.lumbar_weights)))
        return events

    def _body_leaving(self, frame: ConditionedFrame) -> bool:
        """Is the person getting up (not arching)?

        An arch moves load from the lumbar cells toward the pelvis: some row keeps or gains
        load (for someone lying low, the pelvis may be below the grid and the total falls by
        half, but the rows above the lumbar spine keep theirs). Getting up empties every row.
        So the body is leaving when no row holds even a share of its calibrated load."""
        pressed = np.where(frame.alive, self.calibration.pressed_load, 0.0).sum(axis=1)
        now = np.where(frame.alive, frame.load, 0.0).sum(axis=1)
        rows = pressed > 0
        if not rows.any():
            return False
        return bool(np.max(now[rows] / pressed[rows]) < BODY_LEAVING_SHARE)

    # -- live state -----------------------------------------------------------------------
    @property
    def state(self) -> str:
        if not self.present:
            return "empty"
        if self.calibration is None or (self._recalibrating and self.calibrator.holding):
            return "calibrating" if self.calibrator.holding else "waiting"
        if self.detector.lifted:
            return "lifted"
        return "exercising" if self.reps is not None and (self.reps.in_set or self.reps.in_swing) else "resting"

    def live_state(self) -> dict:
        """The state the page shows (the live socket's "state" message, less the
        daemon's own fields)."""
        frame = self._last
        pressure = _normalised_pressure(frame, self.calibration)
        tally = self.tally
        breathing = self.breathing
        return {
            "type": "state",
            "t": round(self.t, 3),
            "state": self.state,
            "contact": None if self.contact is None else round(self.contact, 3),
            "floor": self.floor,
            "warning_floor": round(self.detector.warning_floor, 3),
            "zone": None if self.zone is None else self.zone.name,
            "warning_level": None if self.zone is None else round(self.zone.level, 3),
            "pressure": pressure,
            "reps": tally.reps if tally else 0,
            "perfect_reps": tally.perfect_reps if tally else 0,
            "liftoffs": tally.liftoffs if tally else 0,
            "set": self.reps.set_no if (self.reps and tally) else 0,
            "calibration": None if self.calibration is None else ("pressed" if self.calibration.pressed else "relaxed"),
            "calibration_problem": self.calibrator.problem if self.present else None,
            "dead_cells": [list(rc) for rc in sorted(self.conditioner.dead_kind)],
            "offline_chips": sorted(self.conditioner.offline_rows),
            "tempo_s": self.tempo_s,
            # Breathing: the latest rate (None while it cannot tell), a held breath still going
            # after its cue, the session's held breaths, and the signal's last 20 s (None while moving).
            "breath_rate_bpm": breathing.rate_bpm if breathing else None,
            "breath_holding": breathing.holding if breathing else False,
            "breath_holds": tally.breath_holds if tally else 0,
            "breath_trace": ({"dt_s": TRACE_STEP / BREATH_SAMPLE_HZ, "values": breathing.trace}
                             if breathing and breathing.trace is not None else None),
        }


def _lateral_centre(load: np.ndarray) -> float:
    cols = np.arange(load.shape[1], dtype=float)
    col_load = load.sum(axis=0)
    return float(np.dot(col_load, cols) / max(col_load.sum(), 1e-12))


def _cells(weights: np.ndarray) -> list[list[int]]:
    return [[int(r), int(c)] for r, c in zip(*np.nonzero(weights > 0))]


def _normalised_pressure(frame: ConditionedFrame | None, calibration: Calibration | None) -> list[list[float]]:
    """Per-cell pressure 0..1 for the heatmap: against the calibrated peak cell when there is
    one, otherwise against this frame's own peak."""
    if frame is None:
        return []
    scale = float(calibration.pressed_load.max()) if calibration is not None else float(frame.load.max())
    if scale <= 0:
        return np.zeros_like(frame.load).tolist()
    return np.round(np.clip(frame.load / scale, 0.0, 1.5), 3).tolist()
