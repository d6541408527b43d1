"""Lumbar contact: how flat the back is, frame by frame.

Lumbar contact is how much load the lumbar footprint carries now against what it carries when
the back is glued flat: 1.0 = glued, 0.0 = no load. Each lumbar cell is compared with itself
(its reading now over its reading at calibration), so gains that differ by several times
between cells weigh nothing; the footprint's cells are then averaged.

What "glued" reads drifts: cells creep (their reading climbs for minutes under a constant load,
and the climb restarts whenever a cell is unloaded and loaded again, as in every arch), and a
calibration taken on relaxed lying is below the glued level. The back is glued at the top of
every rep, so the glued level is followed from above: up within seconds whenever the back
presses harder than the current level, down only to the highest level of the last several
seconds (which always holds a rep's top, never only the arch that followed it), and not at all
while the back is lifted.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from mat.pipeline.calibration import Calibration

#: The glued level follows a back pressed harder within seconds (time constant, s).
GLUED_UP_S = 2.0
#: ...and follows down to the highest level of the last GLUED_WINDOW_S (time constant, s). The
#: window is longer than a descent plus an arch held at the bottom, so a rep's top is in it.
GLUED_DOWN_S = 4.0
GLUED_WINDOW_S = 8.0
#: The glued level never falls below this share of the calibration: no drift is that large.
GLUED_MIN = 0.5
#: The glued level is followed on contact smoothed this much (time constant, s): breathing and
#: noise must not push it, a press held for a second must.
GLUED_SMOOTHING_S = 0.3
#: While lifted, the back has come down once the level has climbed back this share of the way
#: from its lowest toward the glued level.
CAME_DOWN_SHARE = 0.5
#: Lying relaxed, the lumbar cells carry about this share of their glued load (0.7–0.85): what a
#: calibration taken on relaxed lying says glued read then.
RELAXED_SHARE = 0.78
#: Contact is lightly smoothed against per-frame noise (time constant, s): adds ~10 ms of lag.
SMOOTHING_S = 0.012


class LumbarContact:
    """Turns load maps into lumbar contact (fraction of the glued lumbar load)."""

    def __init__(self, calibration: Calibration) -> None:
        self.calibration = calibration
        self.weights = calibration.lumbar_weights
        # Per-cell reference; a cell that read nothing at calibration cannot be compared.
        self._reference = np.where(calibration.pressed_load > 0, calibration.pressed_load, np.inf)
        self.glued = 1.0  # the glued level, on the scale of the calibration (1.0 = as then)
        # What glued read when the calibration was taken, the cells' creep as young as then.
        self._glued_at_calibration = 1.0 if calibration.pressed else 1.0 / RELAXED_SHARE
        self._smoothed: float | None = None
        self._slow: float | None = None
        self._last_t: float | None = None
        self._recent: deque[tuple[float, float]] = deque()  # (t, slow level), decreasing levels
        self._was_frozen = False
        self._lowest = 0.0
        self._creep_restarted = False
        self._window_since: float | None = None

    def update(self, t: float, load: np.ndarray, alive: np.ndarray, frozen: bool = False) -> float:
        """Contact for this frame. Dead or offline cells drop out of the average, and their
        row's live cells take their share. `frozen`: the back is lifted, so the glued level
        must not move."""
        weights = self.weights if alive.all() else _live_weights(self.weights, alive)
        live_share = float(weights.sum())
        if live_share <= 1e-9:
            return float("nan")  # the whole lumbar footprint is gone: no honest answer
        level = float(np.sum(weights * (load / self._reference))) / live_share
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        if self._smoothed is None:
            self._smoothed = self._slow = level
        else:
            self._smoothed += (level - self._smoothed) * min(dt / SMOOTHING_S, 1.0)
            self._slow += (level - self._slow) * min(dt / GLUED_SMOOTHING_S, 1.0)
        self._follow_glued(t, dt, frozen)
        if frozen:
            return self._smoothed / self._reference_while_lifted()
        return self._smoothed / self.glued

    def _reference_while_lifted(self) -> float:
        """What glued reads while the back is lifted. An arch unloads the lumbar cells and their
        creep restarts, so a back that comes down reads as at calibration, not as the crept
        level before the arch: once the level has climbed back most of the way from its lowest
        (the back has clearly come down), judge it against the lower of the two."""
        self._lowest = min(self._lowest, self._smoothed)
        came_down = self._smoothed - self._lowest >= CAME_DOWN_SHARE * (self.glued - self._lowest)
        self._creep_restarted = self._creep_restarted or came_down
        return min(self.glued, self._glued_at_calibration) if self._creep_restarted else self.glued

    def _follow_glued(self, t: float, dt: float, frozen: bool) -> None:
        if frozen and not self._was_frozen:
            self._lowest, self._creep_restarted = self._smoothed, False
        if frozen or dt <= 0:
            self._was_frozen = frozen
            return
        if self._was_frozen:
            # The back is down again after a lift-off: what came before the arch no longer says
            # what glued reads; the level follows the creep up again from where it restarted.
            self._recent.clear()
            if self._creep_restarted:
                self.glued = min(self.glued, self._glued_at_calibration)
            self._was_frozen = False
        slow = self._slow
        while self._recent and self._recent[-1][1] <= slow:
            self._recent.pop()
        self._recent.append((t, slow))
        while t - self._recent[0][0] > GLUED_WINDOW_S:
            self._recent.popleft()
        highest = self._recent[0][1]
        if self._window_since is None:
            self._window_since = t
        if slow > self.glued:
            self.glued += (slow - self.glued) * min(dt / GLUED_UP_S, 1.0)
        elif highest < self.glued and t - self._window_since >= GLUED_WINDOW_S:
            # From calibration on, only a full window says what the highest level of the last
            # seconds was; after a lift-off what follows the arch is all there is to go by.
            self.glued += (highest - self.glued) * min(dt / GLUED_DOWN_S, 1.0)
        self.glued = max(self.glued, GLUED_MIN)


def _live_weights(weights: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """The footprint's weights over the cells alive now. A dead cell's weight goes to the live
    cells of its own row: the rows of the footprint lose different shares of their load in an
    arch (the apex's row the most), and a row whose cells all died drops out."""
    live = np.where(alive, weights, 0.0)
    row_live = live.sum(axis=1, keepdims=True)
    return np.where(row_live > 0, live * weights.sum(axis=1, keepdims=True) / np.maximum(row_live, 1e-12), 0.0)
