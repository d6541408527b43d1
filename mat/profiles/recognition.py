"""Who is lying down: a body signature from the calibration, and the profile it matches best.

Pure (no storage, no clock). The signature is what the mat sees of a body at its first
calibration: each cell's load (stored as JSON with the session). It is compared through a few
features that say much about the body and little about the day:

- the **level**: the log of the load on the grid, the body's weight (10 % heavier reads ~0.1
  higher);
- the **rows**: each row's log share of it, where the pelvis lies and how the lumbar curve fills
  the rows;
- the **columns**: each column's log share, how wide the body is and how far across it lies.

Each cell keeps its own gain on one mat, so both signatures are summed over the same cells
(a dead or unloaded cell drops out of both), and no gain spread between cells can distort them.

How much one person varies from day to day on this mat (lying 1–2 cm elsewhere, the cells'
gain drifting a few per cent, calibrated relaxed or already pressing, creep) is learnt from the
mat's own history: the spread of every profile's signatures around that profile's mean, pooled
over everyone (one person's few sessions say little about it; everyone's together say how this
mat and its users vary), starting from PRIOR_SPREADS as if PRIOR_WEIGHT signatures had shown
them. A body's distance to a profile is measured in that spread (Mahalanobis, features being
correlated: lying lower moves the level and the rows together) from the profile's mean, widened
for a mean of few signatures.

The mat suggests the nearest profile only when the body is close (MATCH_MAX spreads, and
LEVEL_MAX in weight alone) and clearly likelier theirs than the next person's (MARGIN); otherwise it abstains and asks: a
wrong guess would put another person's floor under this person's back. A mat with one person's
profile besides the guest takes the first sessions as theirs (ALONE_LEARNING), then checks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Same person, another day (log units, ~1σ), before the mat has learnt its own: the level
#: (a few per cent of gain drift shared by all cells, weight, lying higher or lower moving load
#: on or off the grid, a first calibration taken while already pressing), each row's share
#: (lying 1 cm higher or lower moves the pelvis' steep edge across a row) and each column's
#: (the outer columns lie on the body's edge: 1–2 cm across moves them most; the inner ones
#: little).
PRIOR_SPREADS = {"level": 0.09, "rows": 0.1, "outer_columns": 0.2, "inner_columns": 0.05}
#: ... counted as this many signatures' worth of evidence against the mat's own.
PRIOR_WEIGHT = 8
#: Beyond this distance (in spreads, over all features) a body is nobody we know ...
MATCH_MAX = math.sqrt(13.0)
#: ... nor one whose level (weight) alone is this many spreads off the person's, however well
#: the rest fits (what tells a stranger from someone known while the mat knows them from few
#: sessions).
LEVEL_MAX = 2.5
#: The best match's squared distance must be at least this much below the next person's: the
#: body is then e^(MARGIN/2) ≈ 90 times likelier theirs. Two family members of similar build
#: are told apart only when the body clearly says which.
MARGIN = 9.0
#: With one person's profile besides the guest, the first sessions are theirs until the mat
#: knows this many of their bodies (the guest is for visitors; someone alone should not find
#: their first sessions under "Guest"). After that their body must match, as for everyone.
ALONE_LEARNING = 2
#: A comparison needs this many cells loaded in every signature compared, and a cell in every
#: row and column (a chip offline loses a row: no guess that day).
MIN_COMMON_CELLS = 8
#: A profile is compared through its most recent signatures (bodies change over months).
RECENT_SIGNATURES = 20
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


def _load(signature: dict) -> np.ndarray:
    load = np.array(signature["load"], dtype=float)  # None -> nan
    return np.where(np.isfinite(load) & (load > 0), load, np.nan)


def features(load: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Level, row shares and column shares (log) of a load map over `cells` (a boolean mask)."""
    masked = np.where(cells, load, 0.0)
    total = masked.sum()
    rows, cols = masked.sum(axis=1), masked.sum(axis=0)  # every row and column has a cell (distances)
    return np.concatenate([[math.log(total)], np.log(rows / total), np.log(cols / total)])


def prior_spread(rows: int, cols: int) -> np.ndarray:
    """PRIOR_SPREADS as a covariance over the features (independent)."""
    outer = [0, cols - 1]
    col_sd = [PRIOR_SPREADS["outer_columns"] if c in outer else PRIOR_SPREADS["inner_columns"] for c in range(cols)]
    sd = np.array([PRIOR_SPREADS["level"]] + [PRIOR_SPREADS["rows"]] * rows + col_sd)
    return np.diag(sd ** 2)


@dataclass(frozen=True)
class Suggestion:
    """profile_id: who the body matches (None: the mat abstains). distance: theirs (in same-person
    spreads). runner_up: the next person's (inf with nobody else). reason: why it abstains
    ("nobody_known", "nobody_close", "too_close_to_call") or None. basis: why it suggests
    ("body": it matched; "only_person": the one person's profile, still learning their body)."""

    profile_id: int | None
    distance: float
    runner_up: float
    reason: str | None
    basis: str | None = None

    def as_json(self) -> dict:
        def finite(value: float) -> float | None:
            return round(value, 2) if math.isfinite(value) else None

        return {"profile_id": self.profile_id, "distance": finite(self.distance),
                "runner_up": finite(self.runner_up), "reason": self.reason, "basis": self.basis}


def distances(signature: dict, known: dict[int, list[dict]]) -> dict[int, tuple[float, float]]:
    """Each profile's distance from `signature` over all features, and the level's alone (both
    in same-person spreads; inf: not comparable). `known`: each profile's signatures, oldest
    first."""
    recent = {p: [_load(s) for s in signatures[-RECENT_SIGNATURES:]] for p, signatures in known.items() if signatures}
    x = _load(signature)
    cells = np.isfinite(x)
    for loads in recent.values():
        for load in loads:
            if load.shape == x.shape:
                cells &= np.isfinite(load)
    if cells.sum() < MIN_COMMON_CELLS or not (cells.any(axis=0).all() and cells.any(axis=1).all()):
        return {p: (math.inf, math.inf) for p in recent}
    # Each profile's signatures as features over the same cells, and their spread around its mean.
    means, counts = {}, {}
    scatter = np.zeros((1 + sum(x.shape),) * 2)
    deviations = 0
    for profile_id, loads in recent.items():
        rows = np.array([features(load, cells) for load in loads if load.shape == x.shape])
        if not len(rows):
            continue
        means[profile_id], counts[profile_id] = rows.mean(axis=0), len(rows)
        centred = rows - rows.mean(axis=0)
        scatter += centred.T @ centred
        deviations += len(rows) - 1
    spread = (scatter + PRIOR_WEIGHT * prior_spread(*x.shape)) / (deviations + PRIOR_WEIGHT)
    inverse = np.linalg.inv(spread)
    here = features(x, cells)
    found = {}
    for profile_id in recent:
        if profile_id not in means:
            found[profile_id] = (math.inf, math.inf)
            continue
        diff = here - means[profile_id]
        widen = 1 + 1 / counts[profile_id]  # the mean of n signatures is itself uncertain by 1/n of the spread
        found[profile_id] = (math.sqrt(float(diff @ inverse @ diff) / widen),
                             abs(float(diff[0])) / math.sqrt(spread[0, 0] * widen))
    return found


def suggest(signature: dict, known: dict[int, list[dict]], people: list[int] | None = None) -> Suggestion:
    """The profile whose body matches `signature` best, or an abstention. `known`: each
    profile's stored signatures (oldest first; the guest's never: it is many people). `people`:
    every person's profile id (the guest's not), for a mat with one person (ALONE_LEARNING)."""
    if people is not None and len(people) == 1 and len(known.get(people[0], [])) < ALONE_LEARNING:
        return Suggestion(people[0], math.inf, math.inf, None, "only_person")
    ranked = sorted((d, level, p) for p, (d, level) in distances(signature, known).items() if math.isfinite(d))
    if not ranked:
        return Suggestion(None, math.inf, math.inf, "nobody_known")
    best, level, profile_id = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else math.inf
    if best > MATCH_MAX or level > LEVEL_MAX:
        return Suggestion(None, best, runner_up, "nobody_close")
    if runner_up ** 2 - best ** 2 < MARGIN:
        return Suggestion(None, best, runner_up, "too_close_to_call")
    return Suggestion(profile_id, best, runner_up, None, "body")
