"""Lumbar contact and the lift-off detector: the part of Flatback that must never be wrong.

Lumbar contact = load under the lumbar footprint now / load there at calibration, so 1.0 is
"pressed as at calibration". Cells creep (their reading climbs for minutes under a constant
load), so the pressed level is followed while the back is glued down, and frozen the moment
contact sinks, so that a slow arch can never be absorbed into the baseline.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import Calibration
from .events import Event, make_event

#: The baseline follows upward creep within seconds and downward drift slowly (time constants, s).
BASELINE_UP_S = 6.0
BASELINE_DOWN_S = 60.0
#: Only follow while the back is clearly down (contact above this, fraction).
FOLLOW_ABOVE = 0.8
#: Contact is lightly smoothed against per-frame noise (time constant, s): adds ~10 ms of lag.
SMOOTHING_S = 0.012
#: Below the floor this long before the alert fires (s): one more frame's worth of evidence.
LIFTOFF_DEBOUNCE_S = 0.012
#: The back counts as down again above floor + this, held this long (fraction, s).
RECOVER_MARGIN = 0.05
RECOVER_HOLD_S = 0.10
#: The warning zone: from floor + this down to the floor, beeps get faster (fraction).
WARNING_BAND = 0.20
#: An arch keeps the body on the mat: the load off the lumbar cells falling below this share of
#: its recent level means the person is getting up, which is not a lift-off (fraction).
BODY_LEAVING_TOTAL = 0.9


class LumbarContact:
    """Turns load maps into lumbar contact (fraction of the calibrated lumbar load)."""

    def __init__(self, calibration: Calibration) -> None:
        self.calibration = calibration
        self.weights = calibration.lumbar_weights
        self.baseline = calibration.lumbar_load
        self._smoothed: float | None = None
        self._last_t: float | None = None

    def update(self, t: float, load: np.ndarray, alive: np.ndarray) -> float:
        """Contact for this frame. Dead or offline cells drop out of both sides of the ratio."""
        weights = self.weights if alive.all() else np.where(alive, self.weights, 0.0)
        live_share = float(weights.sum())
        if live_share <= 1e-9:
            return float("nan")  # the whole lumbar footprint is gone: no honest answer
        lumbar = float(np.dot(weights.ravel(), load.ravel())) / live_share
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        raw = lumbar / self.baseline
        if self._smoothed is None:
            self._smoothed = raw
        else:
            k = min(dt / SMOOTHING_S, 1.0) if SMOOTHING_S > 0 else 1.0
            self._smoothed += (raw - self._smoothed) * k
        self._follow_baseline(lumbar, self._smoothed, dt)
        return self._smoothed

    def _follow_baseline(self, lumbar: float, contact: float, dt: float) -> None:
        if contact < FOLLOW_ABOVE or dt <= 0:
            return
        tau = BASELINE_UP_S if lumbar > self.baseline else BASELINE_DOWN_S
        # Never follow downward below 0.85 of calibration: a slow sag is a sag, not drift.
        target = max(lumbar, 0.85 * self.calibration.lumbar_load)
        self.baseline += (target - self.baseline) * min(dt / tau, 1.0)


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
        return min(self.floor + WARNING_BAND, 0.98)

    def zone(self, contact: float) -> Zone:
        if self.lifted:
            return Zone("lifted", 1.0)
        if contact < self.warning_floor:
            level = (self.warning_floor - contact) / (self.warning_floor - self.floor)
            return Zone("warning", float(min(max(level, 0.0), 1.0)))
        return Zone("ok")

    def update(self, t: float, contact: float, body_leaving: bool = False) -> list[Event]:
        if np.isnan(contact):
            return []
        if self.lifted:
            return self._while_lifted(t, contact, body_leaving)
        if contact < self.floor and not body_leaving:
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
            if t - self._above_since >= RECOVER_HOLD_S - 1e-9 or body_leaving:
                return [self.end(self._above_since)]
        else:
            self._above_since = None
        return []

    def end(self, t: float) -> Event:
        """The back is down again (or the session ends while lifted)."""
        duration = t - (self.liftoff_t if self.liftoff_t is not None else t)
        self.lifted = False
        self._below_since = None
        self._above_since = None
        return make_event(t, "contact", duration_s=round(max(duration, 0.0), 3), lowest=round(self._lowest, 3))
