"""Reps, sets and descent tempo, from the slow cycle of the centre of pressure.

Lowering the legs tilts the pelvis forward: the centre of pressure (CoP) moves toward the
sacrum; raising them brings it back toward the head (DOMAIN.md). So each rep is one swing of
the CoP's row coordinate: top (legs up, CoP headmost) → bottom (legs low, CoP toward the
sacrum) → top again. Legs resting on the floor take their weight through the heels, so the
total load drops: a swing that ends with the legs down is the set ending, not a rep.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from .events import Event, make_event

#: Smoothing of the CoP and total load (time constant, s): reps take seconds, noise milliseconds.
SMOOTHING_S = 0.25
#: A swing must move the CoP at least this many rows to count. Not adaptive on purpose: an arch
#: inflates its rep's swing, and the next rep must not be held to it. Breathing moves the CoP
#: a few thousandths of a row; a rep of someone lying 4 cm high only three to four hundredths.
MIN_SWING_ROWS = 0.025
#: A rep is complete when the CoP has come back this share of its swing toward the top. Half:
#: the top a rep returns to is often short of the one it left (the first rep after lifting the
#: legs starts from an overshoot; creep moves the CoP), and the legs-still-up check after it
#: keeps legs put down on the floor from counting.
RETURN_SHARE = 0.5
#: ...and the legs are still up this long after: legs put down on the floor also swing the CoP
#: back, but their weight leaves the pelvis (s).
CONFIRM_S = 0.5
#: Tops and bottoms are timed where the CoP enters or leaves this share of the swing threshold
#: around its extreme, so a pause at the top or bottom does not lengthen the descent.
EXTREME_BAND = 0.3
#: The CoP history kept for timing descents (s), and the share of a smooth movement's time
#: spent between 10 % and 90 % of its way.
HISTORY_S = 20.0
SMOOTH_MOVE_MIDDLE_SHARE = 0.6
#: No controlled descent is quicker than this; a quicker swing is the legs lifting off the floor (s).
MIN_DESCENT_S = 0.6
#: Legs are in the air while the total load is above this share of the legs-down total seen at
#: calibration (their weight goes through the pelvis instead of the heels).
LEGS_UP_TOTAL_SHARE = 1.08
#: A rep's return must keep this share of the total it had at the bottom (legs still up),
#: unless the back arched from this long before the bottom on (s).
RETURN_TOTAL_SHARE = 0.9
ARCH_BEFORE_BOTTOM_S = 1.0
#: The resting total is followed while the total stays within this share of it, slowly (time
#: constant, s): creep takes minutes, while legs rising over a second or two must stand out.
REST_BAND = 1.05
REST_FOLLOW_S = 20.0
#: No rep for this long, and none under way, ends the set (s).
REST_AFTER_S = 9.0
#: A descent shorter than this share of the tempo target earns the "too fast" double chirp.
FAST_SHARE = 0.8


@dataclass
class Rep:
    top_t: float
    bottom_t: float
    end_t: float
    set_no: int
    rep_no: int
    perfect: bool
    balance: float

    @property
    def descent_s(self) -> float:
        return self.bottom_t - self.top_t


class RepCounter:
    """Counts reps and sets from load maps; marks a rep imperfect if a lift-off overlapped it."""

    def __init__(self, rows: int, cols: int, tempo_s: float = 3.0, lateral_centre: float | None = None,
                 legs_down_load: np.ndarray | None = None) -> None:
        """tempo_s: the target descent (s). lateral_centre: the calibrated column coordinate of
        the centre of pressure. legs_down_load: the load map at calibration, legs on the floor."""
        self.tempo_s = tempo_s
        self._row_index = np.arange(rows, dtype=float)
        self._col_index = np.arange(cols, dtype=float)
        self._cols = cols
        self.lateral_centre = (cols - 1) / 2 if lateral_centre is None else lateral_centre
        self.reps: list[Rep] = []
        self.set_no = 0
        self.in_set = False
        self._set_reps = 0
        self._set_perfect = 0
        self._x: float | None = None
        self._lat: float | None = None
        self._total: float | None = None
        self._last_t: float | None = None
        self._dt = 0.0
        self._rising: bool | None = None  # None until the first swing shows its direction
        self._extreme_x = 0.0
        self._extreme_total = 0.0
        self._top_t: float | None = None
        self._top_x = 0.0
        self._bottom_t: float | None = None
        self._bottom_x = 0.0
        self._counted = False
        self._phase: deque[tuple[float, float]] = deque(maxlen=6000)  # (t, x) since the last extreme
        self._history: deque[tuple[float, float, float]] = deque()  # (t, x, total), last HISTORY_S
        self._descent_s = 0.0
        self._returned_t: float | None = None
        # The resting load per cell, so a cell masked as dead leaves both sides of the legs-up
        # comparison at once (a scalar total would keep its share and hide the legs rising).
        self._rest_load = None if legs_down_load is None else np.array(legs_down_load, dtype=float)
        self._load = np.zeros((rows, cols))
        self._alive = np.ones((rows, cols), dtype=bool)
        self._bottom_total = 0.0
        self._top_total = 0.0
        self._lateral_sum = 0.0
        self._lateral_n = 0
        self._last_activity_t = 0.0
        self._liftoff_spans: list[tuple[float, float]] = []

    @property
    def in_swing(self) -> bool:
        """Legs are moving through a rep right now."""
        return self._top_t is not None

    # -- inputs ---------------------------------------------------------------------------
    def note_liftoff(self, start_t: float, end_t: float | None) -> None:
        """A lift-off (end None while it lasts): the rep it overlaps is not perfect."""
        if self._liftoff_spans and self._liftoff_spans[-1][0] == start_t:
            self._liftoff_spans[-1] = (start_t, end_t if end_t is not None else np.inf)
        else:
            self._liftoff_spans.append((start_t, end_t if end_t is not None else np.inf))

    def update(self, t: float, load: np.ndarray, alive: np.ndarray | None = None) -> list[Event]:
        """One frame's load map; `alive` marks the cells to trust (dead ones read 0)."""
        self._load = load
        if alive is not None:
            self._alive = alive
        row_load = load.sum(axis=1)
        total = float(row_load.sum())
        if total <= 0:
            return []
        x = float(np.dot(row_load, self._row_index)) / total
        lat = float(np.dot(load.sum(axis=0), self._col_index)) / total
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        self._dt = dt
        if self._x is None:
            self._x, self._lat, self._total = x, lat, total
            self._extreme_x, self._extreme_total = x, total
            self._phase.append((t, x))
            self._last_activity_t = t
            return []
        k = min(dt / SMOOTHING_S, 1.0)
        self._x += (x - self._x) * k
        self._lat += (lat - self._lat) * k
        self._total += (total - self._total) * k
        if self._top_t is not None:
            self._lateral_sum += self._lat
            self._lateral_n += 1
        return self._track(t)

    # -- the swing state machine ------------------------------------------------------------
    # A zigzag over the smoothed CoP: an extreme is confirmed once the CoP has moved a swing
    # threshold back from it. Minima are tops (legs up), maxima bottoms (legs low); a rep is
    # top → bottom → top with the legs in the air at both tops.
    def _threshold(self) -> float:
        return MIN_SWING_ROWS

    def _track(self, t: float) -> list[Event]:
        x, events = self._x, []
        h = self._threshold()
        self._phase.append((t, x))
        self._history.append((t, x, self._total))
        while t - self._history[0][0] > HISTORY_S:
            self._history.popleft()
        if self._rising is None:
            if abs(x - self._extreme_x) > h:
                self._rising = x > self._extreme_x
                self._new_phase(t, x)
        elif self._rising:
            if x > self._extreme_x:
                self._extreme_x, self._extreme_total = x, self._total
            elif x < self._extreme_x - h:
                # The bottom is when the CoP first got (nearly) as far as it went.
                band = self._extreme_x - EXTREME_BAND * h
                self._bottom(next(pt for pt, px in self._phase if px >= band), self._extreme_x)
                self._rising = False
                self._new_phase(t, x)
        else:
            if x < self._extreme_x:
                self._extreme_x, self._extreme_total = x, self._total
            elif x > self._extreme_x + h:
                # The top is the last moment the CoP sat (nearly) at its headmost.
                band = self._extreme_x + EXTREME_BAND * h
                top_t = next(pt for pt, px in reversed(self._phase) if px <= band)
                self._top(top_t, self._extreme_x, self._legs_up(self._extreme_total))
                self._rising = True
                self._new_phase(t, x)
            if self._bottom_t is not None and not self._counted and self._top_t is not None:
                amplitude = self._bottom_x - self._top_x
                if self._total < RETURN_TOTAL_SHARE * self._bottom_total and not self._arched_since_bottom():
                    self._returned_t = None  # legs put down: that was the set ending, not a rep
                elif self._returned_t is None and x <= self._bottom_x - RETURN_SHARE * amplitude:
                    self._returned_t = t
                elif self._returned_t is not None and t - self._returned_t >= CONFIRM_S:
                    events += self._complete(t, self._returned_t)
                    self._counted = True
                    self._returned_t = None
        self._follow_rest_total(t)
        # A set ends when reps stop: no rep for a while and none under way.
        swing_stale = self._top_t is None or t - self._top_t > REST_AFTER_S
        if self.in_set and t - self._last_activity_t > REST_AFTER_S and swing_stale:
            events += self._end_set(t)
        return events

    def _arched_since_bottom(self) -> bool:
        """A lift-off around this rep's bottom: the back arched, which also drops the total on
        a saturating grid; the legs are still up."""
        return any(end >= self._bottom_t - ARCH_BEFORE_BOTTOM_S for _start, end in self._liftoff_spans)

    def _new_phase(self, t: float, x: float) -> None:
        self._extreme_x, self._extreme_total = x, self._total
        self._phase.clear()
        self._phase.append((t, x))

    def _legs_up(self, total: float) -> bool:
        """Legs in the air put their weight through the pelvis: the total rises above the
        level it has at rest, legs on the floor."""
        return self._rest_total is None or total >= LEGS_UP_TOTAL_SHARE * self._rest_total

    @property
    def _rest_total(self) -> float | None:
        """The resting total over the cells alive now."""
        return None if self._rest_load is None else float(self._rest_load[self._alive].sum())

    def _follow_rest_total(self, t: float) -> None:
        """The resting load follows creep between sets (readings climb for minutes)."""
        if self._rest_load is None:
            self._rest_load = np.array(self._load, dtype=float)
        elif not self.in_set and self._top_t is None and self._total < REST_BAND * self._rest_total:
            k = min(self._dt / REST_FOLLOW_S, 1.0)
            self._rest_load += np.where(self._alive, self._load - self._rest_load, 0.0) * k

    def _bottom(self, t: float, x: float) -> None:
        if self._top_t is None and self._legs_up(self._extreme_total):
            self._top_since_legs_up(t)
        if self._top_t is not None:
            self._bottom_t, self._bottom_x = t, x
            self._bottom_total = self._extreme_total
            self._counted = False
            self._descent_s = self._measure_descent(self._top_t, self._top_x, t, x)
            if self._descent_s < MIN_DESCENT_S:
                self._top_t = self._bottom_t = None  # too quick for lowered legs: the legs leaving the floor

    def _top_since_legs_up(self, bottom_t: float) -> None:
        """The first rep of a set may start straight from lifting the legs, with no top the
        zigzag could confirm: take the headmost point since the legs were last down."""
        since = [(hx, ht, htotal) for ht, hx, htotal in self._history if ht < bottom_t]
        for i in range(len(since) - 1, -1, -1):
            if not self._legs_up(since[i][2]):
                since = since[i + 1:]
                break
        if since:
            x, t, total = min(since)
            self._top_t, self._top_x, self._top_total = t, x, total

    def _measure_descent(self, top_t: float, top_x: float, bottom_t: float, bottom_x: float) -> float:
        """Descent time from the middle 80 % of the swing: the still moments at the top and the
        bottom blur where a movement starts and ends, the middle does not. Limbs speed up and
        slow down smoothly, covering 10→90 % in about 60 % of the movement's time."""
        low = top_x + 0.1 * (bottom_x - top_x)
        high = top_x + 0.9 * (bottom_x - top_x)
        t90 = next((ht for ht, hx, _ in self._history if top_t <= ht <= bottom_t and hx >= high), bottom_t)
        t10 = next((ht for ht, hx, _ in reversed(self._history) if ht <= t90 and hx <= low), top_t)
        # The CoP is smoothed with SMOOTHING_S, which stretches the middle of a swing by about that.
        return max(t90 - t10 - SMOOTHING_S, 0.0) / SMOOTH_MOVE_MIDDLE_SHARE

    def _top(self, t: float, x: float, legs_up: bool) -> None:
        self._top_t, self._top_x = (t, x) if legs_up else (None, 0.0)
        self._top_total = self._extreme_total
        self._bottom_t = None
        self._lateral_sum = self._lateral_n = 0

    def _complete(self, now: float, end_t: float) -> list[Event]:
        events: list[Event] = []
        if not self.in_set:
            self.in_set = True
            self.set_no += 1
            self._set_reps = self._set_perfect = 0
        top_t, bottom_t = self._top_t, self._bottom_t
        self._last_activity_t = now
        perfect = not any(a < end_t and b > top_t for a, b in self._liftoff_spans)
        self._liftoff_spans = [(a, b) for a, b in self._liftoff_spans if b > end_t]
        lateral = self._lateral_sum / self._lateral_n if self._lateral_n else self.lateral_centre
        balance = (lateral - self.lateral_centre) / max((self._cols - 1) / 2, 1e-9)
        self._set_reps += 1
        self._set_perfect += perfect
        rep = Rep(top_t, top_t + self._descent_s, end_t, self.set_no, self._set_reps, perfect, round(balance, 3))
        self.reps.append(rep)
        events.append(
            make_event(
                now, "rep", perfect=perfect, descent_s=round(rep.descent_s, 3), set=self.set_no,
                rep=self._set_reps, balance=rep.balance, top_t=round(top_t, 6),
                bottom_t=round(bottom_t, 6), end_t=round(end_t, 6),
            )
        )
        if rep.descent_s < FAST_SHARE * self.tempo_s:
            events.append(make_event(now, "fast_descent", descent_s=round(rep.descent_s, 3), tempo_s=self.tempo_s))
        return events

    def _end_set(self, t: float) -> list[Event]:
        self.in_set = False
        return [make_event(t, "set_end", set=self.set_no, reps=self._set_reps, perfect_reps=self._set_perfect)]

    def finish(self, t: float) -> list[Event]:
        """The session ends: close the set in progress."""
        return self._end_set(t) if self.in_set else []
