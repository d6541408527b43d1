"""Automatic calibration: the user's pressed pressure map, and where their lumbar spine lies.

After lying down the user relaxes a moment, then presses the small of the back flat and holds
it (the "tension check"). Pressing fills the lumbar trough: the cells under the lumbar spine
gain far more load than the rest. So the lumbar cells are found from the calibration itself,
as the cells that gained most between the relaxed map and the pressed hold, wherever the person
lies, however big they are. Creep raises every cell alike; the gain is taken relative to the
median cell's gain so that creep alone never looks like a press.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

#: The calibration hold: how long the pressed map must stay steady (s).
HOLD_S = 3.0
#: Maps are sampled at this interval for steadiness checks (s): 10 Hz is plenty for a hold.
SAMPLE_INTERVAL_S = 0.1
#: The relaxed reference is the first steady second after the body arrives (s).
RELAXED_S = 1.0
#: Steady: each row's mean load changes by at most this fraction between the hold's first and
#: last second (creep alone adds ~5 % over such a span), and wobbles at most this much.
STEADY_DRIFT = 0.15
STEADY_WOBBLE = 0.10
#: A press: some cells gain at least this much more than the median cell, relative to relaxed.
PRESS_GAIN = 0.25
#: Without a visible press, the steady map is taken anyway after this long (s), lumbar cells then
#: chosen by anatomy (the rows above the pelvis, which carries the most load).
UNPRESSED_FALLBACK_S = 10.0


@dataclass(frozen=True)
class Calibration:
    """The pressed baseline of one user in one session.

    pressed_load: mean load map over the hold's last second (load units per cell).
    lumbar_weights: per-cell weights summing to 1, the lumbar spine's footprint on the grid.
    lumbar_load: Σ weights · pressed_load, what lumbar contact 1.0 means.
    total_load: Σ pressed_load over live cells.
    pressed: whether a press was seen (False: the anatomical fallback).
    """

    t: float
    pressed_load: np.ndarray
    lumbar_weights: np.ndarray
    lumbar_load: float
    total_load: float
    pressed: bool


class Calibrator:
    """Watches the first minute on the mat and produces a `Calibration` from a steady hold."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """A new person: forget everything, the relaxed reference too."""
        self.relaxed: np.ndarray | None = None
        self.rearm()

    def rearm(self) -> None:
        """Recalibrate: wait for the next steady pressed hold, against the same relaxed map."""
        self._samples: deque[tuple[float, np.ndarray]] = deque()
        self._last_sample_t = -np.inf
        self._steady_since: float | None = None
        self.holding = False  # a steady hold is under way: the page says "calibrating"

    def observe(self, t: float, load: np.ndarray, alive: np.ndarray) -> Calibration | None:
        """Feed one frame's load map; returns a Calibration when the hold is complete."""
        if t - self._last_sample_t < SAMPLE_INTERVAL_S:
            return None
        self._last_sample_t = t
        self._samples.append((t, load.copy()))
        while self._samples and t - self._samples[0][0] > HOLD_S + 1e-9:
            self._samples.popleft()

        window = self._window(HOLD_S)
        steady_long = window is not None and _steady(window)
        if self.relaxed is None:
            short = self._window(RELAXED_S)
            if short is not None and _steady(short):
                self.relaxed = np.mean(short, axis=0)
            return None
        if not steady_long:
            self._steady_since = None
            self.holding = False
            return None
        self._steady_since = self._steady_since if self._steady_since is not None else t
        pressed_map = np.mean(window[-int(round(1 / SAMPLE_INTERVAL_S)):], axis=0)
        weights = _press_weights(self.relaxed, pressed_map, alive)
        self.holding = weights is not None
        if weights is not None:
            return _calibration(t, pressed_map, weights, alive, pressed=True)
        if t - self._steady_since >= UNPRESSED_FALLBACK_S:
            return _calibration(t, pressed_map, _anatomical_weights(pressed_map, alive), alive, pressed=False)
        return None

    def _window(self, span_s: float) -> np.ndarray | None:
        if not self._samples or self._samples[-1][0] - self._samples[0][0] < span_s - SAMPLE_INTERVAL_S * 1.5:
            return None
        t_end = self._samples[-1][0]
        return np.array([m for (ts, m) in self._samples if t_end - ts <= span_s + 1e-9])


def _steady(window: np.ndarray) -> bool:
    rows = window.sum(axis=2)  # (samples, rows)
    if rows.sum(axis=1).min() <= 0:
        return False
    n = max(1, len(window) // 3)
    first, last = rows[:n].mean(axis=0), rows[-n:].mean(axis=0)
    scale = np.maximum(rows.mean(axis=0), 0.05 * rows.mean(axis=0).max())
    drift = np.abs(last - first) / scale
    wobble = rows.std(axis=0) / scale
    return bool(drift.max() <= STEADY_DRIFT and wobble.max() <= STEADY_WOBBLE)


def _press_weights(relaxed: np.ndarray, pressed: np.ndarray, alive: np.ndarray) -> np.ndarray | None:
    """Weights on the cells that gained clearly more than the median cell, or None (no press)."""
    loaded = alive & (relaxed > 0.05 * relaxed[alive].max()) if alive.any() else alive
    if loaded.sum() < 3:
        return None
    gain = np.zeros_like(pressed)
    gain[loaded] = pressed[loaded] / relaxed[loaded]
    common = float(np.median(gain[loaded]))
    # Cells that gained beyond the common (creep, breathing) gain, and cells that were nearly
    # empty when relaxed and now carry clear load: both are the trough filling.
    pressed_cells = alive & (
        (loaded & (gain > common * (1 + PRESS_GAIN))) | (~loaded & (pressed > 0.2 * pressed[alive].max()))
    )
    if not pressed_cells.any():
        return None
    # The whole load of a pressed cell counts, not only its gain: all of it can lift away.
    weights = np.where(pressed_cells, pressed, 0.0)
    if weights.sum() <= 0:
        return None
    return weights / weights.sum()


def _anatomical_weights(pressed: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Fallback footprint: the two rows above the most loaded row (the pelvis)."""
    row_load = np.where(alive, pressed, 0.0).sum(axis=1)
    pelvis = int(np.argmax(row_load))
    rows = [r for r in (pelvis - 1, pelvis - 2) if r >= 0] or [max(pelvis - 1, 0)]
    weights = np.zeros_like(pressed)
    for r in rows:
        weights[r] = np.where(alive[r], pressed[r], 0.0)
    if weights.sum() <= 0:
        weights = np.where(alive, pressed, 0.0)
    return weights / max(weights.sum(), 1e-12)


def _calibration(t: float, pressed_map: np.ndarray, weights: np.ndarray, alive: np.ndarray, pressed: bool) -> Calibration:
    return Calibration(
        t=t,
        pressed_load=pressed_map,
        lumbar_weights=weights,
        lumbar_load=float(np.sum(weights * pressed_map)),
        total_load=float(np.sum(np.where(alive, pressed_map, 0.0))),
        pressed=pressed,
    )
