"""From raw counts to per-cell load: tare, linearisation and dead-cell masking.

Real pressure cells are not clean (hardware/README.md, "What real sensors do"): unloaded cells
still conduct and wander, the response is a power law, and a cell can die. This stage turns a
raw frame into load units that add up, and says which cells can be trusted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hardware.materials import SensorMaterial

from mat.pipeline.events import Event, make_event

#: A cell this close to the supply rail reads a short, not a body (fraction of rail counts).
RAIL_FRACTION = 0.99
#: Unloaded Velostat reads up to a few thousand counts: a first frame above this is not empty.
MAX_PLAUSIBLE_TARE_COUNTS = 4000
#: How long a fault must last before the cell is masked, and how long it must be gone (s).
DEAD_AFTER_S = 1.5
ALIVE_AFTER_S = 1.0
#: A loaded cell whose reading does not move at all for this long is frozen (s).
FROZEN_AFTER_S = 1.5
#: A stuck-at-zero cell reads at most this many counts while its neighbours carry load.
ZERO_COUNTS = 3
#: Only a cell carrying load is expected to move: unloaded cells may sit still (counts above tare).
FROZEN_MIN_RAISED_COUNTS = 1000
LOADED_NEIGHBOUR_COUNTS = 2500
#: Dead cells are slow faults: checking them ten times a second keeps the frame cheap (s).
FAULT_CHECK_INTERVAL_S = 0.1
#: Tare follows the unloaded readings' wander while the mat is empty (time constant, s).
TARE_TIME_CONSTANT_S = 5.0


@dataclass
class ConditionedFrame:
    """One frame in load units. `load` is linearised, tare-subtracted, arbitrary units per
    cell; `alive` marks the cells that can be trusted this frame (dead or offline ones are 0)."""

    t: float
    counts: np.ndarray
    load: np.ndarray
    alive: np.ndarray
    raised_counts: float  # total counts above tare over live cells: presence is judged on it


class CellConditioner:
    """Tare, linearise and mask the grid's cells, frame by frame.

    Emits `dead_cell` / `cell_ok` and `chip_offline` / `chip_online` events.
    """

    def __init__(self, rows: int, cols: int, material: SensorMaterial, rail: int) -> None:
        self.rows, self.cols = rows, cols
        self.material = material
        self.rail = rail
        self.tare: np.ndarray | None = None
        self.dead = np.zeros((rows, cols), dtype=bool)
        self.dead_kind: dict[tuple[int, int], str] = {}
        self.offline_rows: set[int] = set()
        self._fault_since = np.full((rows, cols), np.nan)
        self._fault_kind = np.full((rows, cols), "", dtype=object)
        self._ok_since = np.full((rows, cols), np.nan)
        self._last_counts: np.ndarray | None = None
        self._unchanged_since = np.zeros((rows, cols))
        self._last_t: float | None = None
        self._last_fault_check_t = -np.inf

    def condition(self, t: float, counts: np.ndarray, offline_rows=(), empty: bool = False) -> tuple[ConditionedFrame, list[Event]]:
        counts = np.asarray(counts)
        events: list[Event] = []
        events += self._track_offline_rows(t, offline_rows)
        if self.tare is None:
            self.tare = np.minimum(counts, MAX_PLAUSIBLE_TARE_COUNTS).astype(float)
        if t - self._last_fault_check_t >= FAULT_CHECK_INTERVAL_S:
            self._last_fault_check_t = t
            events += self._track_dead_cells(t, counts, loaded=not empty)
        alive = ~self.dead
        # A cell at the rail, or at zero when it never reads zero unloaded (Velostat), is a
        # fault at once: mask it this frame, before the slower check announces it as dead.
        alive &= (counts < RAIL_FRACTION * self.rail) & ~((counts <= ZERO_COUNTS) & (self.tare > 50))
        for row in self.offline_rows:
            alive[row, :] = False
        if empty:
            self._follow_tare(t, counts, alive)
        load = self.material.load_from_counts(counts, self.tare, self.rail)
        load[~alive] = 0.0
        raised = float(np.sum(np.maximum(counts - self.tare, 0.0)[alive]))
        self._last_t = t
        return ConditionedFrame(t, counts, load, alive, raised), events

    def _follow_tare(self, t: float, counts: np.ndarray, alive: np.ndarray) -> None:
        dt = 0.01 if self._last_t is None else max(t - self._last_t, 0.0)
        k = min(dt / TARE_TIME_CONSTANT_S, 1.0)
        self.tare[alive] += (counts[alive] - self.tare[alive]) * k

    def _track_offline_rows(self, t: float, offline_rows) -> list[Event]:
        now = set(offline_rows)
        events = [make_event(t, "chip_offline", row=r) for r in sorted(now - self.offline_rows)]
        events += [make_event(t, "chip_online", row=r) for r in sorted(self.offline_rows - now)]
        self.offline_rows = now
        return events

    def _dead_kind_map(self) -> np.ndarray:
        kinds = np.full((self.rows, self.cols), "", dtype=object)
        for (r, c), kind in self.dead_kind.items():
            kinds[r, c] = kind
        return kinds

    def _track_dead_cells(self, t: float, counts: np.ndarray, loaded: bool) -> list[Event]:
        """A cell is dead when it sits at the rail, reads zero beside loaded neighbours, or
        does not move at all while a body lies on it, for longer than DEAD_AFTER_S."""
        if self._last_counts is None:
            self._last_counts = counts.copy()
            self._unchanged_since[:] = t
        moved = counts != self._last_counts
        self._unchanged_since[moved] = t
        self._last_counts = counts.copy()

        fault = np.full(counts.shape, "", dtype=object)
        fault[counts >= RAIL_FRACTION * self.rail] = "rail"
        raised = counts - self.tare
        neighbours_loaded = _neighbour_max(raised) > LOADED_NEIGHBOUR_COUNTS
        fault[(counts <= ZERO_COUNTS) & neighbours_loaded & (fault == "")] = "zero"
        # Unloaded cells may sit still; a cell under a breathing body never does.
        frozen = (t - self._unchanged_since >= FROZEN_AFTER_S) & (raised > FROZEN_MIN_RAISED_COUNTS) & (fault == "") & loaded
        fault[frozen] = "frozen"
        for row in self.offline_rows:
            fault[row, :] = ""  # an offline chip is reported as such, not as 4 dead cells

        events: list[Event] = []
        faulty = fault != ""
        new_fault = faulty & (np.isnan(self._fault_since) | (fault != self._fault_kind))
        self._fault_since[new_fault] = t
        self._fault_kind[new_fault] = fault[new_fault]
        self._fault_since[~faulty] = np.nan
        self._fault_kind[~faulty] = ""
        self._ok_since[faulty] = np.nan
        self._ok_since[~faulty & np.isnan(self._ok_since)] = t

        becomes_dead = faulty & ~self.dead & (t - self._fault_since >= DEAD_AFTER_S)
        for r, c in zip(*np.nonzero(becomes_dead)):
            self.dead[r, c] = True
            self.dead_kind[(int(r), int(c))] = str(fault[r, c])
            events.append(make_event(t, "dead_cell", row=int(r), col=int(c), kind=str(fault[r, c])))
        recovers = self.dead & ~faulty & (t - self._ok_since >= ALIVE_AFTER_S)
        if not loaded:  # a frozen cell can only show it moves again under a body
            recovers &= self._dead_kind_map() != "frozen"
        for r, c in zip(*np.nonzero(recovers)):
            self.dead[r, c] = False
            self.dead_kind.pop((int(r), int(c)), None)
            events.append(make_event(t, "cell_ok", row=int(r), col=int(c)))
        return events


def _neighbour_max(values: np.ndarray) -> np.ndarray:
    """The largest of each cell's four direct neighbours (edges see fewer)."""
    padded = np.pad(values, 1, constant_values=-np.inf)
    return np.max(
        np.stack([padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]), axis=0
    )
