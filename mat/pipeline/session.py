"""A session's summary: one rule for the `session_end` event, a session still under way on
the page, and a session a crash left open."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from mat.pipeline.events import Event, count_liftoffs


def summarize(events: Iterable[Event], start_t: float, end_t: float, sets: int | None = None) -> dict:
    """Reps, perfect reps, lift-offs (events.count_liftoffs' rule), sets, mean descent (s),
    mean left/right balance, duration (s), held breaths and mean resting breathing rate
    (breaths/min, or None) of a session's `events`. `sets` defaults to the highest set number
    among its reps."""
    events = list(events)
    reps = [e for e in events if e["type"] == "rep"]
    descents = [r["descent_s"] for r in reps if r.get("descent_s") is not None]
    balances = [r["balance"] for r in reps if r.get("balance") is not None]
    # The rate is only known lying still (null during sets and right after moving): its mean is
    # the resting rate.
    rates = [e["rate_bpm"] for e in events if e["type"] == "breathing" and e.get("rate_bpm") is not None]
    return {
        "reps": len(reps),
        "perfect_reps": sum(1 for r in reps if r["perfect"]),
        "liftoffs": count_liftoffs(events),
        "sets": max((int(r["set"]) for r in reps), default=0) if sets is None else sets,
        "mean_descent_s": round(float(np.mean(descents)), 3) if descents else None,
        "balance": round(float(np.mean(balances)), 3) if balances else None,
        "duration_s": round(end_t - start_t, 3),
        "breath_holds": sum(1 for e in events if e["type"] == "breath_hold"),
        # Last: fields are only ever added to `session_end` (mat/README.md, "mat replay").
        "mean_breath_bpm": round(float(np.mean(rates)), 1) if rates else None,
    }


class SessionTally:
    """Running totals of one session for the live page, and its `session_end` summary."""

    COUNTED = ("rep", "liftoff", "contact", "breath_hold", "breathing")

    def __init__(self, t: float) -> None:
        self.start_t = t
        self.reps = self.perfect_reps = self.liftoffs = self.breath_holds = 0
        self._counted: list[Event] = []

    def count(self, event: Event) -> None:
        if event["type"] not in self.COUNTED:
            return
        self._counted.append(event)
        if event["type"] == "rep":
            self.reps += 1
            self.perfect_reps += bool(event["perfect"])
        elif event["type"] == "liftoff":
            self.liftoffs += 1
        elif event["type"] == "breath_hold":
            self.breath_holds += 1
        elif event.get("left_mat"):
            self.liftoffs -= 1  # that was getting up (the rule of events.count_liftoffs)

    def summary(self, t: float, sets: int) -> Event:
        event: Event = {"t": round(float(t), 6), "type": "session_end"}
        event.update(summarize(self._counted, self.start_t, t, sets))
        return event
