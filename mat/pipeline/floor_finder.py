"""The floor finder: the physiotherapist's double-leg-lowering test, done by the mat, by ear.

Started by a command (the page, holding the button two ticks, `mat floor-finder`) while someone
lies calibrated on the mat. It runs on a fixed beat so the person can follow it without a
screen:

    start: "legs up" ─ the rest of COUNT_IN_BEATS count-in beats (raise the legs to vertical) ─
    "go" (beat 0, legs vertical) ─ one beat a BEAT_S, LOWERING_BEATS of them, reaching the
    floor on the last ─ "stop" the moment the back begins to give way (or "done" at the floor)

The back gives way when lumbar contact falls GIVE_WAY_DROP below its level at "go" (before it
crosses the floor: the lift-off tone comes later, if at all). The result is how far down the
lowering got: `beats` (fractional), and an angle estimate assuming the beat was followed (90°
at "go", 0° at the floor). Its `depth` (beats / LOWERING_BEATS) is the stop-here depth the
coach cues before (mat/pipeline/coach.py).

Pure: frames' times, lumbar contact and the sacral row's load in, events out.
"""
from __future__ import annotations

from mat.pipeline.events import Event, make_event

BEAT_S = 1.0
COUNT_IN_BEATS = 4
LOWERING_BEATS = 10
#: The back has begun to give way once contact fell this far below its level at "go"
#: (fraction). Good form at the full lever wobbles about 0.15; an arch falls far more.
GIVE_WAY_DROP = 0.25
#: ...but the stop always comes before the floor is crossed (fraction above the floor).
BEFORE_FLOOR = 0.05
#: The legs are up at "go" when the sacral row's load has risen this much (log ratio) over its
#: level at the start, or over its calibration (legs on the floor) when the legs were already
#: rising at the start: the legs' weight goes through the pelvis (reps.py).
LEGS_UP_RISE = 0.05
#: The contact's level at "go" is its median over this long before it (s).
LEVEL_S = 1.0


class FloorFinder:
    """One run of the test, from `start_t` (s). Feed `update` every frame; `done` when over."""

    def __init__(self, start_t: float, floor: float) -> None:
        self.start_t = start_t
        self.floor = floor
        self.go_t = start_t + COUNT_IN_BEATS * BEAT_S
        self.done = False
        # The next beat to sound: "legs up" is the count-in's first, then ticks (negative) to "go" (0).
        self.beat = -COUNT_IN_BEATS + 1
        self.result: Event | None = None
        self._start_sacral: float | None = None
        self._recent: list[tuple[float, float]] = []  # (t, contact) before "go"
        self._level: float | None = None
        self._started = False

    @property
    def phase(self) -> str:
        if self.done:
            return "done"
        return "count_in" if self.beat <= 0 else "lowering"

    def update(self, t: float, contact: float | None, sacral: float | None) -> list[Event]:
        """contact: lumbar contact now; sacral: the sacral row's log ratio (reps.py)."""
        events: list[Event] = []
        if not self._started:
            self._started = True
            self._start_sacral = sacral
            events.append(make_event(t, "floor_finder_start", beats=LOWERING_BEATS, beat_s=BEAT_S,
                                     count_in=COUNT_IN_BEATS))
        if self._start_sacral is None:
            self._start_sacral = sacral
        if t < self.go_t:
            if contact is not None:
                self._recent.append((t, contact))
                self._recent = [(rt, c) for rt, c in self._recent if rt >= t - LEVEL_S]
        # Beats: the count-in (negative), "go" (0), then 1..LOWERING_BEATS on the way down.
        while not self.done and t >= self.go_t + self.beat * BEAT_S and self.beat <= LOWERING_BEATS:
            beat = self.beat
            self.beat += 1
            if beat == 0:
                problem = self._check_go(sacral)
                if problem:
                    return events + [self._finish_problem(t, problem)]
            if beat == LOWERING_BEATS:
                return events + [self._finish(t, LOWERING_BEATS, reached_floor=True)]
            events.append(make_event(t, "floor_finder_beat", beat=beat))
        if self.beat > 0 and not self.done and contact is not None and self._level is not None:
            if contact < max(self._level - GIVE_WAY_DROP, self.floor + BEFORE_FLOOR):
                events.append(self._finish(t, (t - self.go_t) / BEAT_S, reached_floor=False))
        return events

    def cancel(self, t: float, reason: str) -> list[Event]:
        return [] if self.done else [self._finish_problem(t, reason)]

    def _check_go(self, sacral: float | None) -> str | None:
        if not self._recent:
            return "no contact reading"
        values = sorted(c for _, c in self._recent)
        self._level = values[len(values) // 2]
        if sacral is None or self._start_sacral is None or sacral - min(self._start_sacral, 0.0) < LEGS_UP_RISE:
            return "legs not up"
        return None

    def _finish(self, t: float, beats: float, reached_floor: bool) -> Event:
        self.done = True
        beats = min(max(beats, 0.0), LOWERING_BEATS)
        self.result = make_event(
            t, "floor_finder_result", beats=round(beats, 2),
            angle_deg=round(90.0 * (1 - beats / LOWERING_BEATS), 1),
            depth=round(beats / LOWERING_BEATS, 3), reached_floor=reached_floor)
        return self.result

    def _finish_problem(self, t: float, reason: str) -> Event:
        self.done = True
        return make_event(t, "floor_finder_problem", reason=reason)
