"""Reps, sets and descent tempo, from the slow cycle of the centre of pressure.

Lowering the legs tilts the pelvis forward: the centre of pressure (CoP) moves toward the
sacrum; raising them brings it back toward the head (DOMAIN.md). So each rep is one swing of
the CoP's row coordinate: top (legs up, CoP headmost) → bottom (legs low, CoP toward the
sacrum) → top again. Legs resting on the floor take their weight through the heels, so the
total load drops: a swing that ends with the legs down is the set ending, not a rep.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .events import Event, make_event

#: Smoothing of the CoP and total load (time constant, s): reps take seconds, noise milliseconds.
SMOOTHING_S = 0.25
#: A swing must move the CoP at least this many rows to count (absolute floor), and at least this
#: share of the set's typical swing (adaptive, so small bent-knee swings still count).
MIN_SWING_ROWS = 0.03
SWING_SHARE = 0.35
#: A rep is complete when the CoP has come back this share of its swing toward the top.
RETURN_SHARE = 0.7
#: Legs are in the air while the total load stays above this share of the set's level.
LEGS_UP_TOTAL_SHARE = 0.93
#: No swing for this long ends the set (s).
REST_AFTER_S = 6.0
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


@dataclass
class _Swing:
    top_t: float
    top_x: float
    bottom_t: float | None = None
    bottom_x: float | None = None
    lateral: list[float] = field(default_factory=list)


class RepCounter:
    """Counts reps and sets from load maps; marks a rep imperfect if a lift-off overlapped it."""

    def __init__(self, rows: int, cols: int, tempo_s: float = 3.0, lateral_centre: float | None = None) -> None:
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
        self._swing: _Swing | None = None
        self._extreme_t = 0.0
        self._extreme_x = 0.0
        self._swing_amplitudes: list[float] = []
        self._last_activity_t = 0.0
        self._set_total: float | None = None
        self._liftoff_spans: list[tuple[float, float]] = []

    # -- inputs ---------------------------------------------------------------------------
    def note_liftoff(self, start_t: float, end_t: float | None) -> None:
        """A lift-off (end None while it lasts): the rep it overlaps is not perfect."""
        if self._liftoff_spans and self._liftoff_spans[-1][0] == start_t:
            self._liftoff_spans[-1] = (start_t, end_t if end_t is not None else np.inf)
        else:
            self._liftoff_spans.append((start_t, end_t if end_t is not None else np.inf))

    def update(self, t: float, load: np.ndarray) -> list[Event]:
        row_load = load.sum(axis=1)
        total = float(row_load.sum())
        if total <= 0:
            return []
        x = float(np.dot(row_load, self._row_index)) / total
        lat = float(np.dot(load.sum(axis=0), self._col_index)) / total
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        if self._x is None:
            self._x, self._lat, self._total = x, lat, total
            self._extreme_t, self._extreme_x = t, x
            self._last_activity_t = t
            return []
        k = min(dt / SMOOTHING_S, 1.0)
        self._x += (x - self._x) * k
        self._lat += (lat - self._lat) * k
        self._total += (total - self._total) * k
        return self._track(t)

    # -- the swing state machine ------------------------------------------------------------
    def _threshold(self) -> float:
        typical = float(np.median(self._swing_amplitudes[-6:])) if self._swing_amplitudes else 0.0
        return max(MIN_SWING_ROWS, SWING_SHARE * typical)

    def _track(self, t: float) -> list[Event]:
        x, events = self._x, []
        h = self._threshold()
        swing = self._swing
        if swing is None:
            # Waiting for a descent: follow the headmost point as the candidate top.
            if x < self._extreme_x:
                self._extreme_t, self._extreme_x = t, x
            elif x > self._extreme_x + h and self._legs_up():
                self._swing = _Swing(self._extreme_t, self._extreme_x)
                self._extreme_t, self._extreme_x = t, x
        elif swing.bottom_t is None:
            swing.lateral.append(self._lat)
            if x > self._extreme_x:
                self._extreme_t, self._extreme_x = t, x
            elif x < self._extreme_x - h:
                swing.bottom_t, swing.bottom_x = self._extreme_t, self._extreme_x
        else:
            swing.lateral.append(self._lat)
            amplitude = swing.bottom_x - swing.top_x
            if x > swing.bottom_x:  # went further down: the bottom was not the bottom
                swing.bottom_t, swing.bottom_x = t, x
            elif swing.bottom_x - x >= RETURN_SHARE * amplitude:
                if self._legs_up():
                    events += self._complete(t, swing, amplitude)
                self._swing = None
                self._extreme_t, self._extreme_x = t, x
        if self.in_set and t - self._last_activity_t > REST_AFTER_S and self._swing is None:
            events += self._end_set(t)
        if self._swing is not None and self._swing.top_t < t - 4 * REST_AFTER_S:
            self._swing = None  # a swing that never came back: legs put down, start afresh
            self._extreme_t, self._extreme_x = t, x
        if not self.in_set and self._set_total is None:
            self._set_total = self._total
        return events

    def _legs_up(self) -> bool:
        """Legs in the air put their weight through the pelvis: the total stays high."""
        if self._set_total is None:
            return True
        return self._total >= LEGS_UP_TOTAL_SHARE * self._set_total

    def _complete(self, t: float, swing: _Swing, amplitude: float) -> list[Event]:
        events: list[Event] = []
        if not self.in_set:
            self.in_set = True
            self.set_no += 1
            self._set_reps = self._set_perfect = 0
        self._set_total = max(self._set_total or 0.0, self._total)
        self._swing_amplitudes.append(amplitude)
        self._last_activity_t = t
        perfect = not any(a < t and b > swing.top_t for a, b in self._liftoff_spans)
        self._liftoff_spans = [(a, b) for a, b in self._liftoff_spans if b > t]
        lateral = float(np.mean(swing.lateral)) if swing.lateral else self.lateral_centre
        balance = (lateral - self.lateral_centre) / max((self._cols - 1) / 2, 1e-9)
        self._set_reps += 1
        self._set_perfect += perfect
        rep = Rep(swing.top_t, swing.bottom_t, t, self.set_no, self._set_reps, perfect, round(balance, 3))
        self.reps.append(rep)
        events.append(
            make_event(
                t, "rep", perfect=perfect, descent_s=round(rep.descent_s, 3), set=self.set_no,
                rep=self._set_reps, balance=rep.balance, top_t=round(swing.top_t, 6),
                bottom_t=round(swing.bottom_t, 6),
            )
        )
        if rep.descent_s < FAST_SHARE * self.tempo_s:
            events.append(make_event(t, "fast_descent", descent_s=round(rep.descent_s, 3), tempo_s=self.tempo_s))
        return events

    def _end_set(self, t: float) -> list[Event]:
        self.in_set = False
        self._set_total = None
        return [make_event(t, "set_end", set=self.set_no, reps=self._set_reps, perfect_reps=self._set_perfect)]

    def finish(self, t: float) -> list[Event]:
        """The session ends: close the set in progress."""
        return self._end_set(t) if self.in_set else []
