"""Is someone lying on the mat? Each stay is a session.

A body is there when the cells carry enough load for PRESENT_AFTER_S, and gone when they have
carried little for ABSENT_AFTER_S (two thresholds: a body shifting its weight does not flicker
in and out). After the stop command the mat waits until it has been empty before a new
arrival counts, so the person still lying there does not start a session at once.
"""
from __future__ import annotations

from enum import Enum

from mat.pipeline.conditioning import ConditionedFrame

#: A body is on the mat when the cells are raised by this many counts on average (counts/cell).
PRESENT_COUNTS_PER_CELL = 900
#: ...and gone when they fall below this (hysteresis, counts/cell), for ABSENT_AFTER_S.
ABSENT_COUNTS_PER_CELL = 450
PRESENT_AFTER_S = 0.5
ABSENT_AFTER_S = 4.0


class Change(Enum):
    ARRIVED = "arrived"
    LEFT = "left"


class Presence:
    """`update(frame)` says when someone arrived or left, and since when."""

    def __init__(self) -> None:
        self.present = False
        self.paused = False  # after the stop command: no new arrival until the mat empties
        self._since: float | None = None  # when the load first said otherwise

    def update(self, frame: ConditionedFrame) -> tuple[Change, float] | None:
        """(ARRIVED or LEFT, the time the load changed) once the change has held long enough."""
        if not frame.alive.any():
            return None  # every chip gone (the bus cable): no evidence either way, keep the session
        per_cell = frame.raised_counts / max(int(frame.alive.sum()), 1)
        if self.paused:
            self._wait_for_empty_mat(frame.t, per_cell)
            return None
        wanted = per_cell >= PRESENT_COUNTS_PER_CELL if not self.present else per_cell > ABSENT_COUNTS_PER_CELL
        if wanted == self.present:
            self._since = None
            return None
        if self._since is None:
            self._since = frame.t
        hold = PRESENT_AFTER_S if not self.present else ABSENT_AFTER_S
        if frame.t - self._since < hold:
            return None
        since, self._since = self._since, None
        self.present = not self.present
        return (Change.ARRIVED if self.present else Change.LEFT), since

    def ended(self, paused: bool = False) -> None:
        """The session was ended from outside (the stop command, the end of the recording)."""
        self.present = False
        self.paused = self.paused or paused

    def resume(self) -> None:
        """The start command: arrivals count again."""
        self.paused = False

    def _wait_for_empty_mat(self, t: float, per_cell: float) -> None:
        if per_cell > ABSENT_COUNTS_PER_CELL:
            self._since = None
        elif self._since is None:
            self._since = t
        elif t - self._since >= ABSENT_AFTER_S:
            self.paused = False
            self._since = None
