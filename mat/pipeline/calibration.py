"""Automatic calibration: the user's pressed pressure map, and where their lumbar spine lies.

People start a session in many ways: some press the small of the back flat the moment they lie
down, some lie relaxed for half a minute first, some hold 2–3 s, some press twice, some never
press clearly, and they lie a few centimetres high, low or to one side. So nothing here waits
for one sequence. Every steady stretch of lying still (legs on the floor) is a candidate:

- the first one calibrates at once, so the back is guarded from the first rep;
- a later one in which the lumbar cells clearly gained against the sacrum is a press: it
  becomes the calibration, and the cells that gained most are the lumbar footprint.

Cells differ in gain by up to several times between strips, so load shares between rows say
little about anatomy. Everything here compares each cell with itself (ratios), which no gain
spread can distort, and creep (every loaded cell climbing alike) is taken out by comparing each
cell's ratio with the median cell's. Without a press the footprint comes from anatomy: the
upper half of the grid, whose top edge lies at the lowest ribs, is over the lumbar spine for
anyone lying within a few centimetres of centre; the bottom row (the sacrum, which carries the
legs' weight) never is.

What "1.0" means is settled later by the lumbar contact model (detector.LumbarContact): the
back is glued at the top of every rep, so a calibration taken on relaxed lying is rescaled
there.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

#: Maps are sampled at this interval for steadiness checks (s): 10 Hz is plenty for a hold.
SAMPLE_INTERVAL_S = 0.1
#: Lying down takes a moment: nothing before this is a candidate (s after the body arrived).
SETTLE_S = 1.0
#: A candidate: this long without the rows' load moving (s). Shorter than the ~3 s hold the
#: user is asked for, so that a 2–3 s hold still counts.
STEADY_S = 2.0
#: Steady: each row's mean load changes by at most this fraction between the window's first and
#: last third (creep alone adds a few per cent), and wobbles at most this much.
STEADY_DRIFT = 0.12
STEADY_WOBBLE = 0.08
#: A press: the most-gaining upper row gains this much more (log ratio, ~ +20 %) than the
#: sacrum row, against the least pressed moment seen so far.
PRESS_LOG_GAIN = 0.18
#: The lumbar footprint is this many rows (6 cm each): the lumbar trough and the row above it.
LUMBAR_ROWS = 2
#: Legs lifted put their weight through the pelvis: the sacrum row gains this much (log ratio,
#: ~ +25 %) against the rows above, while those keep at least this share of their load.
LEGS_UP_LOG_GAIN = 0.22
LEGS_UP_ABOVE_KEPT = 0.92
#: The least pressed moment is judged on the mean of this many samples (0.5 s).
MOMENT_SAMPLES = 5
#: A press is judged first against the least pressed moment of the last this many seconds: in
#: the first minute on the mat each cell creeps at its own rate, and cells drift apart by as
#: much as a press moves them. (A re-press from a fairly flat rest between sets shows only
#: against the least pressed moment since lying down, which is asked next.)
REFERENCE_WINDOW_S = 10.0
#: Moments are kept this often for that (s).
MOMENT_EVERY_S = 0.5
#: A moment counts once the total load changed by at most this share over the last 0.5 s.
SETTLED_TOTAL_CHANGE = 0.05
#: A cell with less than this share of the peak cell's load counts as unloaded.
LOADED_SHARE = 1e-3
#: Nothing steady for this long after the body arrived: say so (s).
NO_STEADY_AFTER_S = 20.0


@dataclass(frozen=True)
class Calibration:
    """The baseline of one user in one session.

    pressed_load: mean load map over the steady stretch (load units per cell).
    lumbar_weights: per-cell weights summing to 1, the lumbar spine's footprint on the grid.
    lumbar_load: Σ weights · pressed_load.
    total_load: Σ pressed_load over live cells.
    pressed: whether a press was seen (False: relaxed lying, footprint from anatomy).
    """

    t: float
    pressed_load: np.ndarray
    lumbar_weights: np.ndarray
    lumbar_load: float
    total_load: float
    pressed: bool


class Calibrator:
    """Watches the body on the mat and produces a `Calibration` from each steady stretch that
    improves on the last: the first one, then a press."""

    def __init__(self) -> None:
        self.reset()

    def reset(self, t: float | None = None) -> None:
        """A new person: forget everything."""
        self._arrived_t = t
        self._moments: deque[tuple[float, np.ndarray]] = deque()  # settled moments, legs down
        self._least_pressed: np.ndarray | None = None  # the least pressed of them
        self._least_pressed_ever: np.ndarray | None = None  # ... and since lying down
        self.current: Calibration | None = None
        self.problem: str | None = None  # why the mat cannot calibrate yet, for page and sound
        self.rearm()

    def rearm(self) -> None:
        """Recalibrate: the next steady stretch becomes the baseline, pressed or not."""
        self._samples: deque[tuple[float, np.ndarray]] = deque()
        self._last_sample_t = -np.inf
        self._forced = self.current is not None
        self.holding = False  # a steady stretch is under way: the page says "calibrating"

    def observe(self, t: float, load: np.ndarray, alive: np.ndarray) -> Calibration | None:
        """Feed one frame's load map; returns a Calibration when a steady stretch improves on
        the current one (the first, a press, or the next one after `rearm`)."""
        if self._arrived_t is None:
            self._arrived_t = t
        if t - self._last_sample_t < SAMPLE_INTERVAL_S:
            return None
        self._last_sample_t = t
        self._samples.append((t, np.where(alive, load, 0.0)))
        while t - self._samples[0][0] > STEADY_S + 1e-9:
            self._samples.popleft()
        window = np.array([m for _, m in self._samples])
        if t - self._arrived_t >= SETTLE_S and len(window) >= 2 * MOMENT_SAMPLES:
            moment, before = window[-MOMENT_SAMPLES:].mean(axis=0), window[-2 * MOMENT_SAMPLES:-MOMENT_SAMPLES].mean(axis=0)
            # Still lying down (the load still arriving, unevenly) is no moment to measure from.
            if abs(float(moment.sum()) - float(before.sum())) <= SETTLED_TOTAL_CHANGE * float(before.sum()):
                self._keep_moment(t, moment, alive)
        steady = (t - self._arrived_t >= SETTLE_S + STEADY_S
                  and self._samples[-1][0] - self._samples[0][0] >= STEADY_S - 1.5 * SAMPLE_INTERVAL_S
                  and _steady(window))
        self.holding = steady
        if not steady:
            if self.current is None and t - self._arrived_t > NO_STEADY_AFTER_S:
                self.problem = "not_still"
            return None
        candidate = window.mean(axis=0)
        if self._least_pressed is not None and _legs_lifted(self._least_pressed, candidate, _loaded(candidate, alive)):
            return None
        return self._consider(t, candidate, alive)

    def _keep_moment(self, t: float, moment: np.ndarray, alive: np.ndarray) -> None:
        """Follow the least pressed the back has been, still or not, over the last
        REFERENCE_WINDOW_S and since lying down: many people relax only a moment, fidgeting,
        before they press, and that moment is what their press is measured against. Legs lifted
        load the sacrum and would look "unpressed"; they are left out (_legs_lifted)."""
        moments = self._moments
        if moments and t - moments[-1][0] < MOMENT_EVERY_S:
            return
        if moments and t - moments[0][0] > REFERENCE_WINDOW_S:
            while moments and t - moments[0][0] > REFERENCE_WINDOW_S:
                moments.popleft()
            self._least_pressed = _least_pressed_of(moments, alive)
        loaded = _loaded(moment, alive)
        if loaded.sum() < 3:
            return
        reference = self._least_pressed
        if reference is not None and _legs_lifted(reference, moment, loaded) or (
                self.current is not None and _legs_lifted(self.current.pressed_load, moment, loaded)):
            return
        moments.append((t, moment))
        if _less_pressed(moment, reference, loaded):
            self._least_pressed = moment
        ever = self._least_pressed_ever
        if _less_pressed(moment, ever, loaded) and (ever is None or not _legs_lifted(ever, moment, loaded)):
            self._least_pressed_ever = moment

    def _consider(self, t: float, candidate: np.ndarray, alive: np.ndarray) -> Calibration | None:
        loaded = _loaded(candidate, alive)
        if loaded.sum() < 3:
            self.problem = "no_body"
            return None
        if self._least_pressed is None:
            self._least_pressed = candidate
        gain = _relative_log_gain(self._least_pressed, candidate, loaded)
        if _press_strength(gain) < PRESS_LOG_GAIN and self._least_pressed_ever is not None:
            # A press from a rest that was itself fairly flat shows only against the least
            # pressed moment since lying down.
            gain = _relative_log_gain(self._least_pressed_ever, candidate, loaded)
        press = _press_strength(gain)
        if press < 0:  # less pressed than anything of late: the new relaxed reference
            self._least_pressed = self._least_pressed_ever = candidate
            gain, press = np.zeros_like(gain), 0.0
        pressed = press >= PRESS_LOG_GAIN
        if self.current is not None and not self._forced:
            if not self.current.pressed and not pressed:
                return self._revealed_press(t, candidate, loaded)
            if not pressed:
                return None
            if self.current.pressed and self._press_vs_current(candidate, loaded) < PRESS_LOG_GAIN / 2:
                return None  # the same press, held on: keep the calibration it already gave
        weights = _press_weights(gain, loaded) if pressed else _anatomical_weights(loaded)
        if weights is None:
            self.problem = "no_lumbar_cells"
            return None
        self._forced = False
        self.problem = None
        self._samples.clear()  # the next candidate is a new stretch, not this one held on
        self.current = _calibration(t, candidate, weights, alive, pressed)
        return self.current

    def _revealed_press(self, t: float, relaxed: np.ndarray, loaded: np.ndarray) -> Calibration | None:
        """Someone who pressed the moment they lay down and relaxed after: their first stretch
        was the press. Keep its map, and take the footprint from what relaxing gave up."""
        if _legs_lifted(self.current.pressed_load, relaxed, loaded):
            return None  # legs held up, not relaxing
        first = self.current.pressed_load
        gain = _relative_log_gain(relaxed, first, loaded)
        if _press_strength(gain) < PRESS_LOG_GAIN:
            return None
        # Relaxing gives up load in the trough, although creep has raised every reading since.
        # When the trough row reads more now, the "relaxing" was the sacrum gaining: legs lifted
        # while pressing the back flat, as a set begins.
        trough = _trough_row(gain)
        if np.where(loaded, relaxed, 0.0)[trough].sum() >= np.where(loaded, first, 0.0)[trough].sum():
            return None
        weights = _press_weights(gain, loaded)
        if weights is None:
            return None
        first = self.current
        self.current = replace(first, t=t, lumbar_weights=weights, pressed=True,
                               lumbar_load=float(np.sum(weights * first.pressed_load)))
        return self.current

    def _press_vs_current(self, candidate: np.ndarray, loaded: np.ndarray) -> float:
        return _press_strength(_relative_log_gain(self.current.pressed_load, candidate, loaded))


def _least_pressed_of(moments, alive: np.ndarray) -> np.ndarray | None:
    """The least pressed of the moments, taken in turn."""
    least = None
    for _, moment in moments:
        if _less_pressed(moment, least, _loaded(moment, alive)):
            least = moment
    return least


def _less_pressed(moment: np.ndarray, reference: np.ndarray | None, loaded: np.ndarray) -> bool:
    """Is the moment less pressed than the reference (or is there none yet)?"""
    return reference is None or _press_strength(_relative_log_gain(reference, moment, loaded)) < 0


def _loaded(load: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Cells that carry load. Linearised loads span orders of magnitude between cells (gain
    spread, raised to 1/exponent), so only a cell with next to nothing is left out."""
    peak = float(load[alive].max(initial=0.0)) if alive.any() else 0.0
    return alive & (load > LOADED_SHARE * max(peak, 1e-12))


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


def _legs_lifted(before: np.ndarray, after: np.ndarray, loaded: np.ndarray) -> bool:
    """Legs lifted put their weight through the pelvis: the sacrum row gains against the rows
    above it, which keep their load (creep only adds). Relaxing after a press also shifts load
    toward the sacrum, but by taking it off the rows above."""
    def row_ratio(rows) -> float:
        cells = loaded[rows] & (before[rows] > 0)
        return float(after[rows][cells].sum() / before[rows][cells].sum()) if cells.any() else 1.0

    above, sacrum = row_ratio(slice(0, -1)), row_ratio(slice(-1, None))
    return above >= LEGS_UP_ABOVE_KEPT and np.log(sacrum / above) > LEGS_UP_LOG_GAIN


def _relative_log_gain(before: np.ndarray, after: np.ndarray, loaded: np.ndarray) -> np.ndarray:
    """Each loaded cell's log gain from `before` to `after`, less the median cell's (creep)."""
    gain = np.zeros_like(after)
    ok = loaded & (before > 0) & (after > 0)
    if ok.sum() < 3:
        return gain
    gain[ok] = np.log(after[ok] / before[ok])
    gain[ok] -= float(np.median(gain[ok]))
    return gain


def _press_strength(gain: np.ndarray) -> float:
    """How much the most-gaining row above the sacrum gained against the sacrum row (log).
    A press loads the lumbar cells against the sacrum; relaxing does the opposite."""
    rows = gain.mean(axis=1)
    return float(rows[:-1].max() - rows[-1])


def _press_weights(gain: np.ndarray, loaded: np.ndarray) -> np.ndarray | None:
    """The lumbar footprint placed by the press: pressing fills the lumbar trough, so the row
    that gained most (above the sacrum row) is the trough, and the lumbar spine is that row and
    the one above it, toward the ribs."""
    return _rows_weights(loaded, max(_trough_row(gain) - 1, 0))


def _trough_row(gain: np.ndarray) -> int:
    """The row above the sacrum row that a press loaded most."""
    return int(np.argmax(gain.mean(axis=1)[:-1]))


def _anatomical_weights(loaded: np.ndarray) -> np.ndarray | None:
    """No press seen: the trough lies about 9 cm below the lowest ribs, the grid's top edge, so
    for anyone lying within a few centimetres of centre the lumbar spine is the top two rows."""
    return _rows_weights(loaded, 0)


def _rows_weights(loaded: np.ndarray, first_row: int) -> np.ndarray | None:
    """Equal weights on the loaded cells of LUMBAR_ROWS rows from `first_row` (each cell is
    compared with itself, so equal weights do not favour a high-gain strip)."""
    rows = loaded.shape[0]
    first_row = min(first_row, max(rows - LUMBAR_ROWS, 0))
    weights = np.zeros(loaded.shape)
    weights[first_row:first_row + LUMBAR_ROWS] = 1.0
    weights = np.where(loaded, weights, 0.0)
    if weights.sum() <= 0:
        return None
    return weights / weights.sum()


def _calibration(t: float, pressed_map: np.ndarray, weights: np.ndarray, alive: np.ndarray, pressed: bool) -> Calibration:
    return Calibration(
        t=t,
        pressed_load=pressed_map,
        lumbar_weights=weights,
        lumbar_load=float(np.sum(weights * pressed_map)),
        total_load=float(np.sum(np.where(alive, pressed_map, 0.0))),
        pressed=pressed,
    )
