"""The ladder: the exercise's variants from easiest to hardest, what the mat saw of the variant,
and when to propose another rung. Pure: the pipeline, the store and the pages all ask here.

- **Rungs.** settings.VARIANTS in order: bent-knee, dead bug, single-leg, alternating, straight,
  straight with a light weight.
- **What the mat sees.** A leg lowered on one side tips the pelvis toward that side, so the
  centre of pressure moves left or right from the rep's top to its bottom (`sway`, in the units
  of a rep's balance: a share of the half-width). Both legs together move it little (the same way
  every rep, a few hundredths, from how the person lies). Alternating legs swing it one way, then
  the other, rep after rep; single-leg sets swing it one way for the whole set and the other way
  in the next set (the other leg). A single-leg session done on one side only looks like both
  legs lying a little off-centre, so the mat says nothing then. Dead bug moves the legs
  alternately too: it looks alternating.
- **Progression** (the physiotherapists' rule): 15 perfect reps with a descent of at least 3 s
  in a session → the next rung. Lift-offs in more than a third of a session's reps (at least 6
  reps: a short session says little) → an easier rung. Safety first: when both hold, easier.
"""
from __future__ import annotations

from collections import deque
from statistics import median
from typing import Iterable

from mat.pipeline.events import Event
from mat.pipeline.settings import VARIANTS

RUNGS = VARIANTS
#: The physiotherapists' progression rule: this many perfect reps in a session...
PROGRESS_PERFECT_REPS = 15
#: ...each with a descent at least this slow (s).
PROGRESS_DESCENT_S = 3.0
#: An easier rung when more than this share of a session's reps had a lift-off...
EASIER_LIFTOFF_SHARE = 1 / 3
#: ...in a session of at least this many reps.
EASIER_MIN_REPS = 6
#: A set is judged for its sway only with at least this many reps.
SET_MIN_REPS = 4
#: Alternating: consecutive reps' sways differ by at least this (median; the external
#: recordings' alternating sets differ by 0.14-0.15, both-leg sets by about 0.02)...
ALTERNATING_STEP = 0.06
#: ...and at least this share of consecutive reps swing to opposite sides of the set's middle.
ALTERNATING_SHARE = 0.75
#: Single-leg: the sets' median sways lie at least this far apart (left leg, then right: 0.09 on
#: the external recording; both-leg sets of one session within 0.02 of each other).
SIDE_STEP = 0.05
#: Variants that move the legs alternately: the mat cannot tell them apart.
LOOKS_ALTERNATING = ("alternating", "dead_bug")
#: The lateral centre is kept this long, to look back to a rep's top (s).
HISTORY_S = 20.0


class SideSwing:
    """Adds `sway` to each `rep` event: how far the lateral centre of pressure moved from the
    rep's top to its bottom (share of the half-width; − left, + right; None when unknown)."""

    def __init__(self) -> None:
        self._history: deque[tuple[float, float]] = deque()

    def update(self, t: float, lateral: float | None, events: list[Event]) -> None:
        if lateral is not None:
            self._history.append((t, lateral))
            while self._history and self._history[0][0] < t - HISTORY_S:
                self._history.popleft()
        for event in events:
            if event["type"] == "rep":
                top, bottom = self._at(event.get("top_t")), self._at(event.get("bottom_t"))
                event["sway"] = None if top is None or bottom is None else round(bottom - top, 3)

    def _at(self, t: float | None) -> float | None:
        if t is None or not self._history or t < self._history[0][0] - 0.5:
            return None
        return min(self._history, key=lambda sample: abs(sample[0] - t))[1]


def _alternates(sways: list[float]) -> bool:
    middle = median(sways)
    sides = [s > middle for s in sways]
    flips = sum(a != b for a, b in zip(sides, sides[1:]))
    steps = [abs(b - a) for a, b in zip(sways, sways[1:])]
    return flips >= ALTERNATING_SHARE * (len(sways) - 1) and median(steps) >= ALTERNATING_STEP


def variant_seen(reps: Iterable[dict]) -> str | None:
    """"alternating" or "single_leg" when a session's reps (events or stored rows: `set` or
    `set_no`, `sway`) show it, else None (both legs, or too little to tell)."""
    sets: dict[int, list[float]] = {}
    for rep in reps:
        if rep.get("sway") is not None:
            sets.setdefault(rep.get("set", rep.get("set_no")), []).append(float(rep["sway"]))
    judged = [sways for sways in sets.values() if len(sways) >= SET_MIN_REPS]
    if not judged:
        return None
    both_ways = [_alternates(s) for s in judged]
    if 2 * sum(both_ways) >= len(judged):
        return "alternating"
    sides = [median(s) for s, alternate in zip(judged, both_ways) if not alternate]
    if len(sides) >= 2 and max(sides) - min(sides) >= SIDE_STEP:
        return "single_leg"
    return None


def suggestion(variant: str, seen: str | None) -> str | None:
    """The variant to suggest when what the mat saw contradicts the chosen one, else None."""
    if seen is None or variant == seen or (seen == "alternating" and variant in LOOKS_ALTERNATING):
        return None
    return seen


def slow_perfect_reps(reps: Iterable[dict]) -> int:
    """Perfect reps with a descent of at least PROGRESS_DESCENT_S (the rule's count)."""
    return sum(1 for r in reps if r["perfect"] and (r.get("descent_s") or 0) >= PROGRESS_DESCENT_S)


def liftoff_reps(reps: Iterable[dict]) -> int:
    """Reps in which the back lifted off (not perfect)."""
    return sum(1 for r in reps if not r["perfect"])


def verdict(reps: list[dict]) -> str | None:
    """"easier", "harder" or None for one session's reps (each with `perfect`, `descent_s`)."""
    lifted = liftoff_reps(reps)
    if len(reps) >= EASIER_MIN_REPS and lifted > EASIER_LIFTOFF_SHARE * len(reps):
        return "easier"
    if slow_perfect_reps(reps) >= PROGRESS_PERFECT_REPS:
        return "harder"
    return None


def proposal(variant: str, session_variant: str | None, reps: list[dict], seen: str | None = None) -> dict | None:
    """Another rung for someone on `variant`, from their latest session (done on
    `session_variant`, None when not stored; its reps; what the mat saw): {"variant", "direction",
    "reps", "slow_perfect_reps", "liftoff_reps"}, or None. Nothing when that session was done on
    another rung (already moved on) or looked like another variant (the suggestion comes first)."""
    if session_variant not in (None, variant) or suggestion(variant, seen) is not None:
        return None
    direction = verdict(reps)
    rung = RUNGS.index(variant)
    step = {"harder": 1, "easier": -1}.get(direction)
    if step is None or not 0 <= rung + step < len(RUNGS):
        return None
    return {"variant": RUNGS[rung + step], "direction": direction, "reps": len(reps),
            "slow_perfect_reps": slow_perfect_reps(reps), "liftoff_reps": liftoff_reps(reps)}


def next_rung(variant: str) -> str:
    """The button's step: the next rung up, from the top back to the first."""
    return RUNGS[(RUNGS.index(variant) + 1) % len(RUNGS)]
