"""The lift-off detector: the part of Flatback that must never be wrong.

Lumbar contact (mat/pipeline/contact.py) below the user's floor, held one more frame, is a
lift-off; back above the floor plus a margin, held a moment, is contact again (hysteresis, so
a back hovering at the floor does not chatter). An arch is told apart from getting up by the
rest of the body: an arch keeps it on the mat. It is told apart from a cough the same way: an
arch moves load from the lumbar cells to the pelvis, whereas a cough dips every row's load at
once for a tenth of a second.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from mat.pipeline.events import Event, make_event

#: Below the floor this long before the alert fires (s): one more frame's worth of evidence.
LIFTOFF_DEBOUNCE_S = 0.012
#: The back counts as down again above floor + this, held this long (fraction, s).
RECOVER_MARGIN = 0.05
RECOVER_HOLD_S = 0.10
#: The warning zone: from floor + this down to the floor, beeps get faster (fraction).
WARNING_BAND = 0.20
#: An arch keeps the body on the mat: every row falling below this share of its calibrated load
#: means the person is getting up, which is not a lift-off (fraction).
BODY_LEAVING_SHARE = 0.5
#: A jolt: every row lost at least this share of its load within JOLT_LOOKBACK_S (an arch moves
#: load onto the pelvis: its row keeps or gains)...
JOLT_DROP = 0.1
JOLT_LOOKBACK_S = 0.1
#: ...and the lumbar cells fell by not much more than the row that fell least (their share of
#: their load then is at least this share of that row's). A back that arches in the middle of a
#: cough falls further, and its alert is not held.
JOLT_SHARE = 0.85


def warning_floor(floor: float) -> float:
    """Where the warning beeps begin, for a floor."""
    return min(floor + WARNING_BAND, 0.98)


def body_leaving(pressed_load: np.ndarray, load: np.ndarray, alive: np.ndarray) -> bool:
    """Is the person getting up (not arching)?

    An arch moves load from the lumbar cells toward the pelvis: some row keeps or gains load
    (for someone lying low, the pelvis may be below the grid and the total falls by half, but
    the rows above the lumbar spine keep theirs). Getting up empties every row. So the body is
    leaving when no row holds even a share of its load in the calibration map `pressed_load`."""
    pressed = np.where(alive, pressed_load, 0.0).sum(axis=1)
    now = np.where(alive, load, 0.0).sum(axis=1)
    rows = pressed > 0
    if not rows.any():
        return False
    return bool(np.max(now[rows] / pressed[rows]) < BODY_LEAVING_SHARE)


class JoltWatch:
    """Tells a cough or a jolt from an arch, frame by frame.

    A cough jerks the whole trunk: for a tenth of a second every row reads some 20-45 % less,
    then more, and lumbar contact dips with them although the back never left the mat. An arch
    moves load from the lumbar cells onto the pelvis. So a lumbar drop that every row shares,
    fallen as far within a tenth of a second, is a jolt. An arch that fast still empties the
    lumbar cells far more than the pelvis row loses."""

    def __init__(self, lumbar_weights: np.ndarray) -> None:
        self._lumbar = np.asarray(lumbar_weights) > 0
        self._past: deque[tuple[float, float, np.ndarray]] = deque()  # (t, lumbar load, row loads)

    def update(self, t: float, load: np.ndarray, alive: np.ndarray) -> bool:
        """Is this frame in a jolt?"""
        live = np.where(alive, load, 0.0)
        lumbar, rows = float(live[self._lumbar].sum()), live.sum(axis=1)
        past = self._past
        past.append((t, lumbar, rows))
        while len(past) > 1 and t - past[1][0] >= JOLT_LOOKBACK_S:
            past.popleft()
        then_t, lumbar_then, rows_then = past[0]
        loaded = rows_then > 0
        if t - then_t < JOLT_LOOKBACK_S / 2 or lumbar_then <= 0 or not loaded.any():
            return False
        least_fallen = float(np.max(rows[loaded] / rows_then[loaded]))
        return least_fallen < 1 - JOLT_DROP and lumbar / lumbar_then > JOLT_SHARE * least_fallen


@dataclass
class Zone:
    """Where contact stands against the floor: "ok", "warning" (with level 0..1) or "lifted"."""

    name: str
    level: float = 0.0


class LiftOffDetector:
    """Hysteresis and debounce on lumbar contact; emits `liftoff` and `contact` events."""

    def __init__(self, floor: float = 0.5) -> None:
        self.floor = floor
        self.lifted = False
        self.liftoff_t: float | None = None
        self.liftoffs = 0
        self._below_since: float | None = None
        self._above_since: float | None = None
        self._lowest = 1.0

    @property
    def warning_floor(self) -> float:
        return warning_floor(self.floor)

    def zone(self, contact: float) -> Zone:
        if self.lifted:
            return Zone("lifted", 1.0)
        if contact < self.warning_floor:
            level = (self.warning_floor - contact) / (self.warning_floor - self.floor)
            return Zone("warning", float(min(max(level, 0.0), 1.0)))
        return Zone("ok")

    def update(self, t: float, contact: float, body_leaving: bool = False, jolt: bool = False) -> list[Event]:
        """`body_leaving`: the person is getting up; `jolt`: a cough or a jolt dipped the whole
        body this frame (JoltWatch). Neither is a lift-off."""
        if np.isnan(contact):
            return []
        if self.lifted:
            return self._while_lifted(t, contact, body_leaving)
        if contact < self.floor and not body_leaving and not jolt:
            if self._below_since is None:
                self._below_since = t
            if t - self._below_since >= LIFTOFF_DEBOUNCE_S - 1e-9:
                self.lifted = True
                self.liftoff_t = self._below_since
                self.liftoffs += 1
                self._above_since = None
                self._lowest = contact
                return [make_event(t, "liftoff", contact=round(contact, 3), floor=self.floor)]
        else:
            self._below_since = None
        return []

    def _while_lifted(self, t: float, contact: float, body_leaving: bool) -> list[Event]:
        self._lowest = min(self._lowest, contact)
        if contact >= self.floor + RECOVER_MARGIN or body_leaving:
            if self._above_since is None:
                self._above_since = t
            if body_leaving:
                return [self.end(t, lifted_until=self._above_since, left_mat=True)]
            if t - self._above_since >= RECOVER_HOLD_S - 1e-9:
                return [self.end(t, lifted_until=self._above_since)]
        else:
            self._above_since = None
        return []

    def end(self, t: float, lifted_until: float | None = None, left_mat: bool = False) -> Event:
        """The back is down again, or (`left_mat`) the lift-off ended with the person leaving
        the mat: sitting up unloads the lumbar spine first, so that one was getting up, not an
        arch (the session's count leaves it out: events.count_liftoffs). It lasted until
        `lifted_until`."""
        until = t if lifted_until is None else lifted_until
        duration = until - (self.liftoff_t if self.liftoff_t is not None else until)
        self.lifted = False
        self._below_since = None
        self._above_since = None
        return make_event(t, "contact", duration_s=round(max(duration, 0.0), 3), lowest=round(self._lowest, 3),
                          left_mat=left_mat)
