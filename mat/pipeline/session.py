"""A session: one stay of one person on the mat, from arriving to leaving.

`Session` holds the parts that live for one stay and wires them, frame by frame:

    load map ─> Calibrator ─> LumbarContact ─> LiftOffDetector ─> lift-offs ─┐
                                    └─────────────────────────> RepCounter <─┘
                                                            └─> Coach (depth, stop cue, plan, bounce)
                                                            └─> SideSwing (each rep's left/right sway)
            ─> BreathingEstimator (rate, held breaths)
    every event ─> SessionTally ─> `session_end`

`summarize` is the one rule for a session's summary: the `session_end` event, a session still
under way on the page, and a session a crash left open.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from mat.pipeline.breathing import BreathingEstimator
from mat.pipeline.calibration import Calibration, Calibrator
from mat.pipeline.coach import Coach, Plan
from mat.pipeline.conditioning import ConditionedFrame
from mat.pipeline.contact import LumbarContact
from mat.pipeline.events import Event, count_liftoffs, make_event
from mat.pipeline.floor_finder import FloorFinder
from mat.pipeline.ladder import SideSwing, variant_seen
from mat.pipeline.liftoff import JoltWatch, LiftOffDetector, Zone, body_leaving
from mat.pipeline.reps import RepCounter


def summarize(events: Iterable[Event], start_t: float, end_t: float, sets: int | None = None) -> dict:
    """Reps, perfect reps, lift-offs (events.count_liftoffs' rule), sets, mean descent (s),
    mean left/right balance, duration (s), held breaths, mean resting breathing rate
    (breaths/min, or None) and the variant the reps' sway showed (ladder.variant_seen) of a
    session's `events`. `sets` defaults to the highest set number among its reps."""
    events = list(events)
    reps = [e for e in events if e["type"] == "rep"]
    descents = [r["descent_s"] for r in reps if r.get("descent_s") is not None]
    balances = [r["balance"] for r in reps if r.get("balance") is not None]
    # The rate is only known lying still (null during sets and right after moving): its mean is
    # the resting rate.
    rates = [e["rate_bpm"] for e in events if e["type"] == "breathing" and e.get("rate_bpm") is not None]
    return {
        "reps": len(reps),
        "perfect_reps": sum(1 for r in reps if r["perfect"]),
        "liftoffs": count_liftoffs(events),
        "sets": max((int(r["set"]) for r in reps), default=0) if sets is None else sets,
        "mean_descent_s": round(float(np.mean(descents)), 3) if descents else None,
        "balance": round(float(np.mean(balances)), 3) if balances else None,
        "duration_s": round(end_t - start_t, 3),
        "breath_holds": sum(1 for e in events if e["type"] == "breath_hold"),
        # Last: fields are only ever added to `session_end` (mat/README.md, "mat replay").
        "mean_breath_bpm": round(float(np.mean(rates)), 1) if rates else None,
        "variant_seen": variant_seen(reps),
    }


class SessionTally:
    """Running totals of one session for the live page, and its `session_end` summary."""

    COUNTED = ("rep", "liftoff", "contact", "breath_hold", "breathing")

    def __init__(self, t: float) -> None:
        self.start_t = t
        self.reps = self.perfect_reps = self.liftoffs = self.breath_holds = 0
        self._counted: list[Event] = []

    def count(self, event: Event) -> None:
        if event["type"] not in self.COUNTED:
            return
        self._counted.append(event)
        if event["type"] == "rep":
            self.reps += 1
            self.perfect_reps += bool(event["perfect"])
        elif event["type"] == "liftoff":
            self.liftoffs += 1
        elif event["type"] == "breath_hold":
            self.breath_holds += 1
        elif event.get("left_mat"):
            self.liftoffs -= 1  # that was getting up (the rule of events.count_liftoffs)

    def summary(self, t: float, sets: int) -> Event:
        event: Event = {"t": round(float(t), 6), "type": "session_end"}
        event.update(summarize(self._counted, self.start_t, t, sets))
        return event


class Session:
    """One person's stay on the mat: calibration, contact, lift-offs, reps, breathing and the
    running tally. Created when someone arrives, `end`ed when they leave or are stopped."""

    def __init__(self, t: float, rows: int, cols: int, floor: float, tempo_s: float,
                 plan: Plan | None = None, stop_depth: float | None = None) -> None:
        self.start_t = t
        self._rows, self._cols = rows, cols
        self.tempo_s = tempo_s
        self.calibrator = Calibrator()
        self.calibrator.reset(t)
        self.calibration: Calibration | None = None
        self.recalibrating = False
        self.contact_model: LumbarContact | None = None
        self.jolt_watch: JoltWatch | None = None
        self.detector = LiftOffDetector(floor)
        # Replaced at the first calibration by one that knows the person's centre and legs-down map.
        self.reps = RepCounter(rows, cols, tempo_s)
        self.tally = SessionTally(t)
        self.coach = Coach(plan, stop_depth)
        self.side_swing = SideSwing()
        self.floor_finder: FloorFinder | None = None
        self.breathing = BreathingEstimator(t)
        self.contact: float | None = None
        self.zone: Zone | None = None

    # -- commands -------------------------------------------------------------------------
    def set_floor(self, floor: float) -> None:
        self.detector.floor = floor

    def set_tempo(self, tempo_s: float) -> None:
        self.tempo_s = self.reps.tempo_s = tempo_s

    def set_plan(self, plan: Plan) -> None:
        self.coach.plan = plan

    def set_stop_depth(self, stop_depth: float | None) -> None:
        self.coach.floor_finder_depth = stop_depth

    def start_floor_finder(self, t: float) -> list[Event]:
        """The floor finder starts at the next frame; it needs a calibrated back."""
        if self.calibration is None:
            return [make_event(t, "floor_finder_problem", reason="not calibrated yet: lie still a moment")]
        if self.floor_finder is None:
            self.floor_finder = FloorFinder(t, self.detector.floor)
            self.coach.set_aside()
        return []

    def recalibrate(self) -> None:
        """The next steady pressed hold becomes the new baseline; the old one keeps guarding
        the back until then."""
        self.calibrator.rearm()
        self.recalibrating = True

    # -- frames ---------------------------------------------------------------------------
    def update(self, frame: ConditionedFrame) -> list[Event]:
        events = self._exercise(frame)
        events += self.breathing.update(frame.t, frame.load, frame.alive)
        return events

    def end(self, t: float, absent_t: float | None = None) -> list[Event]:
        """The session's closing events, its summary last. Every event is stamped now, when
        the mat judged the body gone (events leave in time order); `absent_t`, when the load
        actually went (None: stopped, not left)."""
        left_t = absent_t if absent_t is not None else t
        events: list[Event] = []
        if self.floor_finder is not None:
            events += self.floor_finder.cancel(t, "the session ended")
            self.floor_finder = None
        if self.detector.lifted:
            events.append(self.detector.end(t, lifted_until=left_t, left_mat=absent_t is not None))
        events += self.reps.finish(t)
        events.append(make_event(t, "absent", left_t=round(left_t, 6)))
        for event in events:
            self.tally.count(event)
        events.append(self.tally.summary(t, self.reps.set_no))
        return events

    def _exercise(self, frame: ConditionedFrame) -> list[Event]:
        events: list[Event] = []
        if self._calibrating():
            events += self._observe_calibration(frame)
            if self.calibration is None:
                return events
        lifted = self.detector.lifted
        contact = self.contact_model.update(frame.t, frame.load, frame.alive, frozen=lifted)
        # Only a low contact needs telling apart from getting up (and this is per frame).
        leaving = (lifted or contact < self.detector.floor) and body_leaving(
            self.calibration.pressed_load, frame.load, frame.alive)
        jolt = self.jolt_watch.update(frame.t, frame.load, frame.alive)
        detector_events = self.detector.update(frame.t, contact, leaving, jolt)
        self._tell_reps_of_liftoffs(detector_events, was_lifted=lifted)
        events += detector_events
        events += self.reps.update(frame.t, frame.load, frame.alive, contact)
        self.contact = None if math.isnan(contact) else contact
        events += self.coach.update(frame.t, self.reps, self.contact, events)
        self.side_swing.update(frame.t, self.reps.lateral, events)
        if self.floor_finder is not None:
            events += self.floor_finder.update(frame.t, self.contact,
                                               self.reps.sacral_log_ratio if self.reps.tilt is not None else None)
            if self.floor_finder.done:
                self.floor_finder = None
                self.coach.set_aside()
        self.zone = self.detector.zone(contact) if self.contact is not None else None
        return events

    def _tell_reps_of_liftoffs(self, detector_events: list[Event], was_lifted: bool) -> None:
        """A rep in which the back lifted is not perfect: the rep counter hears of each
        lift-off as it starts and when it ends."""
        for event in detector_events:
            if event["type"] == "liftoff":
                self.reps.note_liftoff(self.detector.liftoff_t, None)
            elif event["type"] == "contact" and was_lifted:
                self.reps.note_liftoff(self.detector.liftoff_t, self.detector.liftoff_t + event["duration_s"])

    def _calibrating(self) -> bool:
        """Calibration is watched until the exercise begins (a press may still come), and after
        the calibrate command until its stretch is taken."""
        if self.calibration is None or self.recalibrating:
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
        self.recalibrating = False
        first = self.calibration is None
        self.calibration = calibration
        self.contact_model = LumbarContact(calibration)
        self.jolt_watch = JoltWatch(calibration.lumbar_weights)
        if first:
            self.reps = RepCounter(self._rows, self._cols, self.tempo_s,
                                   lateral_centre=_lateral_centre(calibration.pressed_load),
                                   legs_down_load=np.where(frame.alive, calibration.pressed_load, 0.0))
        events.append(make_event(frame.t, "calibrated", pressed=calibration.pressed,
                                 lumbar_cells=_cells(calibration.lumbar_weights)))
        return events

    # -- what the page shows --------------------------------------------------------------
    @property
    def state(self) -> str:
        """"waiting", "calibrating", "lifted", "floor_finder", "exercising" or "resting"."""
        if self.calibration is None or (self.recalibrating and self.calibrator.holding):
            return "calibrating" if self.calibrator.holding else "waiting"
        if self.detector.lifted:
            return "lifted"
        if self.floor_finder is not None:
            return "floor_finder"
        return "exercising" if self.reps.in_set or self.reps.in_swing else "resting"


def _lateral_centre(load: np.ndarray) -> float:
    cols = np.arange(load.shape[1], dtype=float)
    col_load = load.sum(axis=0)
    return float(np.dot(col_load, cols) / max(col_load.sum(), 1e-12))


def _cells(weights: np.ndarray) -> list[list[int]]:
    return [[int(r), int(c)] for r, c in zip(*np.nonzero(weights > 0))]
