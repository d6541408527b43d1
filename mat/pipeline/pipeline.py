"""The pipeline: frames and their timestamps in, events out.

Pure: no I2C, GPIO, SQLite or sockets, and time comes only from the frames, so the daemon,
`mat replay`, the benchmark and the tests run exactly the same code and get the same events.

    counts ─> CellConditioner ─> Presence ─> arrived: a new Session ─> its events
                                         └─> left: the Session ends (its summary)

What one stay on the mat does with the frames is in mat/pipeline/session.py; what the live page
is told, in mat/pipeline/live.py.
"""
from __future__ import annotations

import numpy as np

from hardware.materials import material as material_named
from hardware.materials import rail_counts

from mat.pipeline.calibration import Calibration
from mat.pipeline.coach import Plan
from mat.pipeline.conditioning import CellConditioner, ConditionedFrame
from mat.pipeline.events import Event, make_event
from mat.pipeline.liftoff import Zone
from mat.pipeline.presence import Change, Presence
from mat.pipeline.session import Session
from mat.pipeline.settings import STOP_DEPTH_MIN, floor_choice, stop_depth_choice, tempo_choice, validate_settings


class Pipeline:
    """One mat's detection pipeline. Feed it frames with `process`; the live page's state is
    `live.live_state(pipeline)`.

    rows, cols: grid size. material: "velostat" or "fsr". gain: ADS1115 gain (sets the rail).
    floor: the lift-off threshold on lumbar contact (fraction). tempo_s: target descent (s).
    plan: sets × perfect reps and rest (the default plan: 3 × 10, 60 s). stop_depth: the
    floor finder's stop-here depth (None: learnt from each session's lift-offs).
    """

    def __init__(self, rows: int = 4, cols: int = 4, material: str = "velostat", gain: float = 1,
                 floor: float = 0.5, tempo_s: float = 3.0, plan: Plan | None = None,
                 stop_depth: float | None = None) -> None:
        self.rows, self.cols = rows, cols
        self.material, self.gain = material, gain
        self.conditioner = CellConditioner(rows, cols, material_named(material), rail_counts(gain))
        self.floor = floor_choice(floor)
        self.tempo_s = tempo_choice(tempo_s)
        self.plan = plan or Plan()
        self.stop_depth = stop_depth_choice(stop_depth)
        self.presence = Presence()
        self.session: Session | None = None  # while someone is on the mat
        self.last_frame: ConditionedFrame | None = None
        self.t = 0.0

    @property
    def present(self) -> bool:
        return self.presence.present

    @property
    def state(self) -> str:
        """"empty", or the stay's state: "waiting", "calibrating", "lifted", "exercising", "resting"."""
        return self.session.state if self.session else "empty"

    @property
    def contact(self) -> float | None:
        """Lumbar contact now (None while nobody is calibrated or the footprint is all dead)."""
        return self.session.contact if self.session else None

    @property
    def rest_remaining_s(self) -> float | None:
        """The rest timer between the plan's sets (s), None when no rest is under way."""
        return self.session.coach.rest_remaining_s(self.t) if self.session else None

    @property
    def zone(self) -> Zone | None:
        return self.session.zone if self.session else None

    @property
    def calibration(self) -> Calibration | None:
        """This stay's calibration, once taken."""
        return self.session.calibration if self.session else None

    # -- commands -------------------------------------------------------------------------
    def set_floor(self, floor: float) -> None:
        self.floor = floor_choice(floor)
        if self.session:
            self.session.set_floor(self.floor)

    def set_tempo(self, tempo_s: float) -> None:
        self.tempo_s = tempo_choice(tempo_s)
        if self.session:
            self.session.set_tempo(self.tempo_s)

    def set_plan(self, sets: int, reps: int, rest_s: float) -> None:
        clean = validate_settings({"plan_sets": sets, "plan_reps": reps, "rest_s": rest_s})
        self.plan = Plan(clean["plan_sets"], clean["plan_reps"], clean["rest_s"])
        if self.session:
            self.session.set_plan(self.plan)

    def set_stop_depth(self, stop_depth: float | None) -> None:
        self.stop_depth = stop_depth_choice(stop_depth)
        if self.session:
            self.session.set_stop_depth(self.stop_depth)

    def start_floor_finder(self) -> list[Event]:
        """The floor finder command: the test starts at the next frame (its events say so), or
        a `floor_finder_problem` now."""
        if self.session is None:
            return [make_event(self.t, "floor_finder_problem", reason="nobody on the mat")]
        return self.session.start_floor_finder(self.t)

    def recalibrate(self) -> None:
        """The calibrate command: the next steady pressed hold becomes the new baseline; the
        old one keeps guarding the back until then."""
        if self.session:
            self.session.recalibrate()

    def start_session(self) -> None:
        """The start command: sessions may start again (after a stop); with someone already
        lying there, their next pressed hold recalibrates."""
        self.presence.resume()
        self.recalibrate()

    def end_session(self) -> list[Event]:
        """The stop command: end the session now, as if the person had left. No new session
        starts until the mat has been empty (or the start command)."""
        if not self.present:
            return []
        self.presence.ended(paused=True)
        return self._end_session(self.t)

    # -- frames ---------------------------------------------------------------------------
    def process(self, t: float, counts: np.ndarray, offline_rows=()) -> list[Event]:
        self.t = t
        frame, events = self.conditioner.condition(t, counts, offline_rows, empty=not self.present)
        self.last_frame = frame
        events += self._track_presence(frame)
        if self.session is not None:
            events += self.session.update(frame)
            for event in events:
                self.session.tally.count(event)
                if event["type"] == "floor_finder_result":
                    # The test's depth is the stop-here depth from now on (none if the floor
                    # was reached: then only the session's own lift-offs teach it).
                    self.set_stop_depth(None if event["reached_floor"] else max(event["depth"], STOP_DEPTH_MIN))
        return events

    def finish(self) -> list[Event]:
        """The recording or the daemon ends: close a session still open, with its summary."""
        return self._end_session(self.t) if self.present else []

    def _track_presence(self, frame: ConditionedFrame) -> list[Event]:
        change = self.presence.update(frame)
        if change is None:
            return []
        kind, since = change
        if kind is Change.ARRIVED:
            self.session = Session(since, self.rows, self.cols, self.floor, self.tempo_s, self.plan, self.stop_depth)
            return [make_event(since, "present")]
        return self._end_session(frame.t, absent_t=since)

    def _end_session(self, t: float, absent_t: float | None = None) -> list[Event]:
        events = self.session.end(t, absent_t)
        self.presence.ended()
        self.session = None
        return events
