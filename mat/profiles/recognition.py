"""Who is lying down: a body signature from the calibration, and the profile it matches best.

Pure (no storage, no clock). The signature is what the mat sees of a body at calibration:
each cell's pressed load. On one mat every cell keeps its own gain from day to day, so two
signatures are compared cell by cell, which no gain spread between cells can distort:

- the **level**: the load on the cells both signatures read (log of the sum): the body's weight;
- the **shape**: each cell's log load against that level: the footprint (how wide, how far
  across) and where the pelvis lies (which rows carry the sacrum's load).

Physics sets the spreads (hardware/README.md, "What real sensors do"): the same person on
another day is calibrated a few seconds after lying down, with the cells' creep a few per cent
further on or back (1 + c·ln(1 + t), c ≈ 0.1), pressed or relaxed, lying a centimetre or two
higher, lower or across. Together that moves the level by about LEVEL_SPREAD and each cell's
share by about SHAPE_SPREAD (log units, ~1σ). A distance is measured in those units.

The mat only suggests someone whose body is close in those units (MATCH_MAX) and clearly closer
than anyone else's (RUNNER_UP_RATIO, RUNNER_UP_MARGIN); otherwise it abstains and asks: a wrong guess would put
another person's floor under this person's back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Same person, another day: the level's spread (log of the load; ~ ±12 %: creep a few seconds
#: apart after Velostat's linearisation, weight, placement moving load on or off the grid).
LEVEL_SPREAD = 0.08
#: ... and each cell's share's spread (log; a 1–2 cm shift along the steep rise toward the
#: pelvis moves a row's share by 10–25 %; a press fills the lumbar trough).
SHAPE_SPREAD = 0.2
#: Beyond this distance (in the spreads above) a body is nobody we know: the same person falls
#: within it unless they lie far from their usual place.
MATCH_MAX = 3.0
#: The best match must be at most this share of the next person's distance, and farther from it
#: by at least RUNNER_UP_MARGIN: one spread, what the same person's own distance wanders from
#: day to day. Two family members of similar build are told apart only when the body clearly
#: says which.
RUNNER_UP_RATIO = 0.6
RUNNER_UP_MARGIN = 1.0
#: A comparison needs this many cells loaded in both signatures (dead or unloaded cells drop out).
MIN_COMMON_CELLS = 8
#: A profile is compared through its most recent signatures (bodies change over months).
RECENT_SIGNATURES = 20
#: ... and its distance is the mean of its nearest ones (one odd day does not make a match).
NEAREST = 2
#: A cell with less than this share of the heaviest cell's load counts as unloaded.
LOADED_SHARE = 0.01

SIGNATURE_VERSION = 1


def body_signature(calibration) -> dict:
    """The signature of the body in `calibration` (a mat.pipeline.calibration.Calibration), as
    JSON: {"version", "load": per-cell pressed load (null: dead or unloaded), "pressed"}."""
    load = np.asarray(calibration.pressed_load, dtype=float)
    peak = float(load.max(initial=0.0))
    cells = [[round(float(v), 6) if peak > 0 and v > LOADED_SHARE * peak else None for v in row] for row in load]
    return {"version": SIGNATURE_VERSION, "load": cells, "pressed": bool(calibration.pressed)}


def distance(a: dict, b: dict) -> float:
    """How unlike two bodies are, in same-person spreads (0: identical; inf: not comparable)."""
    la, lb = np.array(a["load"], dtype=float), np.array(b["load"], dtype=float)  # None -> nan
    if la.shape != lb.shape:
        return math.inf
    common = np.isfinite(la) & np.isfinite(lb) & (la > 0) & (lb > 0)
    if common.sum() < MIN_COMMON_CELLS:
        return math.inf
    xa, xb = la[common], lb[common]
    level = math.log(xa.sum() / xb.sum())
    residual = np.log(xa / xb) - level  # each cell against the level's change
    shape = float(np.sqrt(np.mean(residual ** 2)))
    return math.hypot(level / LEVEL_SPREAD, shape / SHAPE_SPREAD)


@dataclass(frozen=True)
class Suggestion:
    """profile_id: who the body matches (None: the mat abstains). distance: theirs. runner_up:
    the next person's distance (inf with nobody else). reason: why it abstains
    ("nobody_known", "nobody_close", "too_close_to_call") or None."""

    profile_id: int | None
    distance: float
    runner_up: float
    reason: str | None

    def as_json(self) -> dict:
        def finite(value: float) -> float | None:
            return round(value, 2) if math.isfinite(value) else None

        return {"profile_id": self.profile_id, "distance": finite(self.distance),
                "runner_up": finite(self.runner_up), "reason": self.reason}


def profile_distance(signature: dict, known: list[dict]) -> float:
    """The distance to one person: the mean of the nearest of their recent signatures."""
    distances = sorted(distance(signature, other) for other in known[-RECENT_SIGNATURES:])
    nearest = [d for d in distances[:NEAREST] if math.isfinite(d)]
    return float(np.mean(nearest)) if nearest else math.inf


def suggest(signature: dict, known: dict[int, list[dict]]) -> Suggestion:
    """The profile whose body matches `signature` best, or an abstention. `known`: each
    profile's stored signatures (oldest first; the guest's never: it is many people)."""
    ranked = sorted((profile_distance(signature, signatures), profile_id)
                    for profile_id, signatures in known.items() if signatures)
    ranked = [(d, p) for d, p in ranked if math.isfinite(d)]
    if not ranked:
        return Suggestion(None, math.inf, math.inf, "nobody_known")
    best, profile_id = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else math.inf
    if best > MATCH_MAX:
        return Suggestion(None, best, runner_up, "nobody_close")
    if best > RUNNER_UP_RATIO * runner_up or runner_up - best < RUNNER_UP_MARGIN:
        return Suggestion(None, best, runner_up, "too_close_to_call")
    return Suggestion(profile_id, best, runner_up, None)
