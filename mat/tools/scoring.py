"""Judging a replay's events against a labelled recording (mat/README.md, "Labelled recordings"), for `mat bench`.

The rules are those the project is judged by (README, "How `mat bench` judges detection"),
written here in our own code so that the bench measures exactly what the judge measures:

* Truth comes from the labelled `contact` trace, so it can be drawn for any floor. Inside the
  exercise windows, every stretch of contact below `floor + BAND` is an *excursion*. If its
  lowest point is below `floor - BAND` it is a real lift-off (it must be flagged); otherwise it
  is *don't care* (neither a miss nor a false alert). A real one runs from the first floor
  crossing down to the last crossing back up.
* A real lift-off is caught by the first `liftoff` event from `EARLY_S` before its start to
  `LATE_S` after its end; its latency is that event minus the true start.
* Any other `liftoff` event is a false alert if it falls in exercise or on an empty mat. It is
  forgiven inside a don't-care excursion (same margins) or while a person lies down, calibrates
  or gets up. A second event inside one real lift-off is a duplicate; it is also a false alert
  when the contact never rose back above the floor since the previous one (chatter).
* Each `rep` event belongs to the nearest true set in time. A set is exact when the counts
  agree. Perfect reps: the truth allows a range (a rep whose only dip is a don't-care one may
  go either way); the error is how far the detected `perfect: true` count lies outside it.

Where the labels say what happened (`sim.sessions`, `sim.sets`, as the independent simulator
writes them) those windows are used. Labels from our own simulator before it wrote `sim` give
presence spans and `sets`; the exercise then runs from the first set to the last. Plain 6.3
labels give neither: one session, exercise from 5 s before the first rep or lift-off to 2 s
after the last, and reps more than `SET_GAP_S` apart start a new set.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

BAND = 0.10           # half-width of the don't-care band around the floor (contact units)
EARLY_S = 0.10        # a detection may come this long before the true crossing ...
LATE_S = 0.05         # ... or this long after the contact is back above the floor
SET_GAP_S = 4.0       # plain labels: a pause longer than this between reps starts a new set
PERFECT_LEAD_S = 0.2  # a dip starting this long before a rep's top still spoils that rep
PRESENCE_SLACK_S = 1.0  # arriving/leaving: this much either side still counts as on the mat


@dataclass
class Excursion:
    """One stretch of the true contact below floor + BAND inside an exercise window."""
    real: bool                   # the minimum is below floor - BAND: must be flagged
    lowest: float
    band_start: float            # crossings of floor + BAND
    band_end: float
    start: float | None = None   # crossings of the floor itself (None: never below it)
    end: float | None = None


@dataclass
class Truth:
    t0: float
    dt: float
    contact: np.ndarray
    floor: float
    sessions: list[dict]         # enter, active [a, b], absent (seconds)
    sets: list[dict]             # start, end, reps: [{top, bottom, end}, ...]
    excursions: list[Excursion]

    @property
    def exercise_s(self) -> float:
        return sum(max(0.0, s["active"][1] - s["active"][0]) for s in self.sessions)

    def highest(self, a: float, b: float) -> float:
        """The highest true contact between times a and b (whole samples around them)."""
        i = max(0, int((a - self.t0) / self.dt))
        j = min(len(self.contact), int(math.ceil((b - self.t0) / self.dt)) + 1)
        return float(self.contact[i:j].max()) if j > i else float("nan")


# ----------------------------------------------------------------------------- truth
def _level_crossing(t0: float, dt: float, v: np.ndarray, k: int, level: float) -> float:
    """When the trace passes `level` between samples k-1 and k (linear, clamped to the step)."""
    if k <= 0:
        return t0
    before, after = float(v[k - 1]), float(v[k])
    share = 0.0 if before == after else (level - before) / (after - before)
    return t0 + dt * (k - 1 + min(1.0, max(0.0, share)))


def find_excursions(t0: float, dt: float, contact, floor: float,
                    windows: Iterable[tuple[float, float]] | None = None) -> list[Excursion]:
    """Every excursion of `contact` (sampled every `dt` from `t0`) inside the windows."""
    v = np.asarray(contact, dtype=float)
    n = len(v)
    if n == 0:
        return []
    if windows is None:
        windows = [(t0, t0 + dt * (n - 1))]
    found: list[Excursion] = []
    for w_start, w_end in windows:
        first = max(0, int(math.ceil((w_start - t0) / dt - 1e-9)))
        stop = min(n, int(math.floor((w_end - t0) / dt + 1e-9)) + 1)
        if stop - first < 2:
            continue
        low = v[first:stop] < floor + BAND
        if not low.any():
            continue
        flips = np.diff(np.concatenate(([0], low.astype(np.int8), [0])))
        for run_start, run_stop in zip(np.flatnonzero(flips == 1) + first,
                                       np.flatnonzero(flips == -1) + first):
            run = v[run_start:run_stop]
            lowest = float(run.min())
            if run_start > first:
                band_start = _level_crossing(t0, dt, v, run_start, floor + BAND)
            else:  # already low when the window opens
                band_start = t0 + dt * run_start
            if run_stop < stop:
                band_end = _level_crossing(t0, dt, v, run_stop, floor + BAND)
            else:  # still low when the window closes
                band_end = t0 + dt * (run_stop - 1)
            ex = Excursion(real=lowest < floor - BAND, lowest=lowest,
                           band_start=band_start, band_end=band_end)
            under = np.flatnonzero(run < floor)
            if under.size:
                down = run_start + int(under[0])
                up = run_start + int(under[-1]) + 1
                ex.start = _level_crossing(t0, dt, v, down, floor)
                ex.end = _level_crossing(t0, dt, v, up, floor) if up < n else t0 + dt * (n - 1)
            found.append(ex)
    found.sort(key=lambda ex: ex.band_start)
    return found


def truth_from_labels(labels: dict, floor: float) -> Truth:
    """The truth of one labelled recording at `floor` (see the module docstring)."""
    trace = labels["contact"]
    t0, dt = float(trace["t0"]), float(trace["dt"])
    contact = np.asarray(trace["values"], dtype=float)
    t_last = t0 + dt * (len(contact) - 1)
    reps = list(labels.get("reps", []))
    sim = labels.get("sim") or {}
    if sim.get("sessions"):
        sessions = [{"enter": float(s["enter"]), "active": [float(x) for x in s["active"]],
                     "absent": float(s["absent"])} for s in sim["sessions"]]
        sets = [{"start": float(s["start"]), "end": float(s["end"]),
                 "reps": [reps[i] for i in s["reps"]]} for s in sim.get("sets", [])]
    elif labels.get("sets") and isinstance(labels["sets"][0], dict) and "start" in labels["sets"][0]:
        sessions, sets = _from_own_labels(labels, reps, t0, t_last)
    else:
        sessions, sets = _from_plain_labels(labels, reps, t0, t_last)
    windows = [tuple(s["active"]) for s in sessions]
    return Truth(t0=t0, dt=dt, contact=contact, floor=floor, sessions=sessions, sets=sets,
                 excursions=find_excursions(t0, dt, contact, floor, windows))


def _from_own_labels(labels: dict, reps: list[dict], t0: float, t_last: float):
    """Our simulator's labels without `sim`: presence spans, and sets with their times."""
    sets = []
    for k, s in enumerate(labels["sets"]):
        number = s.get("set", k + 1)
        if any("set" in r for r in reps):
            mine = [r for r in reps if r.get("set") == number]
        else:
            mine = [r for r in reps if s["start"] <= r["top"] <= s["end"]]
        sets.append({"start": float(s["start"]), "end": float(s["end"]), "reps": mine})
    spans = [[t0 if a is None else float(a), t_last if b is None else float(b)]
             for a, b in (labels.get("sessions") or [[t0, t_last]])]
    sessions = []
    for enter, absent in spans:
        inside = [s for s in sets if enter <= s["start"] <= absent]
        if inside:  # the calibration hold ends as the first set starts; getting up follows the last
            active = [min(s["start"] for s in inside), max(s["end"] for s in inside)]
        else:
            active = [enter, enter]
        sessions.append({"enter": enter, "active": active, "absent": absent})
    return sessions, sets


def _from_plain_labels(labels: dict, reps: list[dict], t0: float, t_last: float):
    """Bare mat/README.md, "Labelled recordings" labels: one session; reps further apart than SET_GAP_S split sets."""
    lifts = labels.get("liftoffs", [])
    starts = [float(a) for a, _ in lifts] + [float(r["top"]) for r in reps]
    ends = [float(b) for _, b in lifts] + [float(r["end"]) for r in reps]
    active = [max(t0, min(starts) - 5.0) if starts else t0,
              min(t_last, max(ends) + 2.0) if ends else t_last]
    sessions = [{"enter": t0, "active": active, "absent": t_last}]
    sets: list[dict] = []
    for r in sorted(reps, key=lambda r: r["top"]):
        if sets and r["top"] - sets[-1]["end"] <= SET_GAP_S:
            sets[-1]["reps"].append(r)
            sets[-1]["end"] = r["end"]
        else:
            sets.append({"start": r["top"] - 2.5, "end": r["end"], "reps": [r]})
    return sessions, sets


# ----------------------------------------------------------------------------- scoring
@dataclass
class RecordingScore:
    """How a replay did on one labelled recording at one floor."""
    name: str
    floor: float
    exercise_s: float = 0.0
    liftoffs: int = 0
    latencies: list[float] = field(default_factory=list)   # one per caught lift-off (s)
    missed: list[float] = field(default_factory=list)      # true starts
    false_alerts: list[float] = field(default_factory=list)
    duplicates: int = 0
    dont_care: int = 0
    forgiven: int = 0
    sets: list[dict] = field(default_factory=list)         # true, counted, perfect_range, perfect, error
    failed: str | None = None

    @property
    def caught(self) -> int:
        return len(self.latencies)

    def to_dict(self) -> dict:
        return {"name": self.name, "floor": self.floor, "exercise_s": round(self.exercise_s, 2),
                "liftoffs": self.liftoffs, "caught": self.caught,
                "latencies_ms": [round(x * 1000, 1) for x in self.latencies],
                "missed": [round(x, 2) for x in self.missed],
                "false_alerts": [round(x, 2) for x in self.false_alerts],
                "duplicates": self.duplicates, "dont_care": self.dont_care, "sets": self.sets,
                "failed": self.failed}


def score_liftoffs(truth: Truth, events: list[dict], into: RecordingScore) -> None:
    real = [ex for ex in truth.excursions if ex.real]
    vague = [ex for ex in truth.excursions if not ex.real]
    caught_at: list[float | None] = [None] * len(real)
    latest: list[float | None] = [None] * len(real)
    for event in events:
        if event.get("type") != "liftoff":
            continue
        t = float(event["t"])
        around = [k for k, ex in enumerate(real) if ex.start - EARLY_S <= t <= ex.end + LATE_S]
        fresh = [k for k in around if caught_at[k] is None]
        if fresh:
            caught_at[fresh[0]] = latest[fresh[0]] = t
            continue
        if around:
            k = around[0]
            into.duplicates += 1
            if truth.highest(latest[k], t) < truth.floor:  # never back up in between: chatter
                into.false_alerts.append(t)
            latest[k] = t
            continue
        if any(ex.band_start - EARLY_S <= t <= ex.band_end + LATE_S for ex in vague):
            into.forgiven += 1
            continue
        on_mat = any(s["enter"] - PRESENCE_SLACK_S <= t <= s["absent"] + PRESENCE_SLACK_S
                     for s in truth.sessions)
        exercising = any(s["active"][0] <= t <= s["active"][1] for s in truth.sessions)
        if on_mat and not exercising:  # lying down, calibrating or getting up
            into.forgiven += 1
            continue
        into.false_alerts.append(t)
    into.liftoffs = len(real)
    into.dont_care = len(vague)
    into.latencies = [t - ex.start for t, ex in zip(caught_at, real) if t is not None]
    into.missed = [ex.start for t, ex in zip(caught_at, real) if t is None]


def perfect_range(reps: list[dict], excursions: list[Excursion]) -> tuple[int, int]:
    """(fewest, most) perfect reps the truth allows for these reps."""
    surely = possibly = 0
    for rep in reps:
        begins = [ex for ex in excursions
                  if rep["top"] - PERFECT_LEAD_S <= (ex.band_start if ex.start is None else ex.start)
                  <= rep["end"]]
        spoiled = any(ex.real for ex in begins)
        if not spoiled:
            possibly += 1
            if not begins:
                surely += 1
    return surely, possibly


def score_reps(truth: Truth, events: list[dict], into: RecordingScore) -> None:
    if not truth.sets:
        return
    counted: list[list[dict]] = [[] for _ in truth.sets]
    for event in events:
        if event.get("type") != "rep":
            continue
        t = float(event["t"])
        gaps = [max(s["start"] - t, 0.0, t - s["end"]) for s in truth.sets]
        counted[gaps.index(min(gaps))].append(event)
    for s, got in zip(truth.sets, counted):
        fewest, most = perfect_range(s["reps"], truth.excursions)
        perfect = sum(1 for e in got if e.get("perfect") is True)
        into.sets.append({"true": len(s["reps"]), "counted": len(got),
                          "perfect_range": [fewest, most], "perfect": perfect,
                          "perfect_error": max(0, fewest - perfect, perfect - most)})


def score_events(name: str, labels: dict, events: list[dict] | None, floor: float,
                 failed: str | None = None) -> RecordingScore:
    """Score one replay. `events` None (or `failed` given) scores the recording as if nothing
    was detected, and lists it as failed."""
    truth = truth_from_labels(labels, floor)
    if failed is None and not any(e.get("type") == "session_end" for e in events or []):
        failed = "no session_end event"
    result = RecordingScore(name=name, floor=floor, exercise_s=truth.exercise_s, failed=failed)
    usable = [] if failed else sorted(events, key=lambda e: e["t"])
    score_liftoffs(truth, usable, result)
    score_reps(truth, usable, result)
    return result


def _percentile_ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else None


def summarise(scores: list[RecordingScore]) -> dict:
    """The suite's figures (None where there is nothing to measure)."""
    liftoffs = sum(s.liftoffs for s in scores)
    caught = sum(s.caught for s in scores)
    false_alerts = sum(len(s.false_alerts) for s in scores)
    latencies = [x for s in scores for x in s.latencies]
    sets = [row for s in scores for row in s.sets]
    minutes = sum(s.exercise_s for s in scores) / 60.0
    return {
        "recall": round(caught / liftoffs, 4) if liftoffs else None,
        "precision": round(caught / (caught + false_alerts), 4) if caught + false_alerts else None,
        "false_alerts_per_10min": round(false_alerts / minutes * 10.0, 3) if minutes else None,
        "scenario_latency_p50_ms": _percentile_ms(latencies, 50),
        "scenario_latency_p95_ms": _percentile_ms(latencies, 95),
        "sets_exact": round(sum(r["true"] == r["counted"] for r in sets) / len(sets), 4) if sets else None,
        "perfect_rep_error": round(float(np.mean([r["perfect_error"] for r in sets])), 3) if sets else None,
        "perfect_rep_error_max": max((r["perfect_error"] for r in sets), default=None),
        "scenarios": len(scores),
        "liftoffs": liftoffs,
        "caught": caught,
        "false_alerts": false_alerts,
        "sets": len(sets),
        "exercise_min": round(minutes, 1),
        "failed": [s.name for s in scores if s.failed],
    }


def problems(scores: list[RecordingScore], limit: int = 6) -> list[str]:
    """Short notes on what went wrong where, for the bench's report."""
    out = []
    for s in scores:
        parts = []
        if s.failed:
            parts.append(f"FAILED ({s.failed})")
        if s.missed:
            parts.append("missed at " + ", ".join(f"{x:.1f}" for x in s.missed[:limit]))
        if s.false_alerts:
            parts.append("false alerts at " + ", ".join(f"{x:.1f}" for x in s.false_alerts[:limit]))
        wrong = [f"set {k + 1} {r['counted']}/{r['true']}" for k, r in enumerate(s.sets)
                 if r["counted"] != r["true"]]
        if wrong:
            parts.append("reps " + ", ".join(wrong[:limit]))
        if parts:
            out.append(f"{s.name} @ {s.floor:g}: " + "; ".join(parts))
    return out


def labelled_recordings(directory) -> list[tuple[str, Path, Path]]:
    """(name, NAME.csv, NAME.labels.json) for every complete pair in `directory`, by name."""
    directory = Path(directory)
    found = []
    for labels in sorted(directory.glob("*.labels.json")):
        name = labels.name[: -len(".labels.json")]
        csv = directory / f"{name}.csv"
        if csv.exists():
            found.append((name, csv, labels))
    return found


def load_labels(path) -> dict:
    return json.loads(Path(path).read_text())


# ----------------------------------------------------------------------------- breathing
# The rules the project is judged by for breathing (`sim.breathing` labels), in our own code:
# a rate is compared with the mean true rate over the RATE_MEAN_S before it, apart in sets and
# rests, not during a held breath or the AFTER_HOLD_S after it; coverage is the share of rest
# time whose latest `breathing` event is at most STALE_S old and has a number; a held breath of
# HOLD_MIN_S or more is found by the first `breath_hold` in [start + HOLD_EARLY_S, end + HOLD_LATE_S].
HOLD_MIN_S = 5.0
HOLD_EARLY_S, HOLD_LATE_S = 3.0, 2.0
RATE_MEAN_S = 15.0
AFTER_HOLD_S = 10.0
STALE_S = 15.0
WARMUP_S, AFTER_SET_S = 30.0, 15.0  # rest time starts this long after lying down / after a set


def _within(t: float, spans, before: float = 0.0, after: float = 0.0) -> bool:
    return any(a - before <= t <= b + after for a, b in spans)


def score_breathing(labels: dict, events: list[dict]) -> dict | None:
    """One recording's breathing figures, or None when its labels carry no `sim.breathing`."""
    sim = labels.get("sim") or {}
    truth = sim.get("breathing")
    if not truth:
        return None
    rate = truth["rate_bpm"]
    values = np.array([np.nan if v is None else float(v) for v in rate["values"]])
    t0, dt = float(rate["t0"]), float(rate["dt"])
    holds = [(float(a), float(b)) for a, b in truth.get("holds", [])]
    where = list(truth.get("hold_where", ["rest"] * len(holds)))
    pauses = [(float(a), float(b)) for a, b in truth.get("pauses", [])]
    sets = [(float(s["start"]), float(s["end"])) for s in sim.get("sets", [])]
    sessions = sim.get("sessions", [])
    lying = [(float(s.get("present", s["enter"])), float(s["up"])) for s in sessions]
    getting_up = [(float(s["up"]), float(s["absent"]) + 1.0) for s in sessions]

    def true_rate(t: float) -> float:
        i0 = int(math.floor((t - RATE_MEAN_S - t0) / dt)) + 1
        i1 = int(math.floor((t - t0) / dt)) + 1
        seg = values[max(i0, 0):max(min(i1, len(values)), 0)]
        seg = seg[np.isfinite(seg)]
        return float(seg.mean()) if seg.size else math.nan

    reports = [e for e in events if e["type"] == "breathing"]
    errors: dict[str, list[float]] = {"rest": [], "set": []}
    for e in reports:
        t, value = float(e["t"]), e.get("rate_bpm")
        if value is None or not _within(t, lying) or _within(t, holds, after=AFTER_HOLD_S):
            continue
        true = true_rate(t)
        if not math.isnan(true):
            errors["set" if _within(t, sets) else "rest"].append(abs(float(value) - true))
    skip = [(a, b + AFTER_SET_S) for a, b in sets] + pauses + [(a, b + AFTER_HOLD_S) for a, b in holds]
    rest = [float(t) for a, b in lying for t in np.arange(math.ceil(a + WARMUP_S), b, 1.0) if not _within(t, skip)]
    times = [float(e["t"]) for e in reports]
    covered = 0
    for t in rest:
        k = int(np.searchsorted(times, t, side="right")) - 1
        covered += k >= 0 and t - times[k] <= STALE_S and reports[k].get("rate_bpm") is not None
    real = [(a, b, w) for (a, b), w in zip(holds, where) if b - a >= HOLD_MIN_S]
    vague = [(a, b) for a, b in holds if b - a < HOLD_MIN_S] + pauses
    found: list[float | None] = [None] * len(real)
    false_cues = []
    for e in (e for e in events if e["type"] == "breath_hold"):
        t = float(e["t"])
        hits = [j for j, (a, b, _) in enumerate(real) if a + HOLD_EARLY_S <= t <= b + HOLD_LATE_S]
        free = [j for j in hits if found[j] is None]
        if free:
            found[free[0]] = t
        elif not hits and not _within(t, vague, after=HOLD_LATE_S) and not _within(t, getting_up):
            false_cues.append(t)
    return {
        "rate_errors_rest": errors["rest"], "rate_errors_set": errors["set"],
        "rest_s": len(rest), "covered_s": covered,
        "holds": [{"where": w, "delay_s": None if f is None else f - a} for (a, _, w), f in zip(real, found)],
        "false_cues": false_cues, "lying_min": sum(b - a for a, b in lying) / 60.0,
    }


def summarise_breathing(rows: list[dict]) -> dict:
    """A suite's breathing figures (None where there is nothing to measure)."""
    rest = [x for r in rows for x in r["rate_errors_rest"]]
    in_sets = [x for r in rows for x in r["rate_errors_set"]]
    holds = [h for r in rows for h in r["holds"]]
    rest_holds = [h for h in holds if h["where"] == "rest"]
    delays = [h["delay_s"] for h in holds if h["delay_s"] is not None]
    rest_s = sum(r["rest_s"] for r in rows)
    minutes = sum(r["lying_min"] for r in rows)

    def pct(values, q):
        return round(float(np.percentile(values, q)), 2) if values else None

    def share(hits, of):
        return round(len(hits) / len(of), 3) if of else None

    return {
        "rate_error_median_bpm": pct(rest, 50), "rate_error_p90_bpm": pct(rest, 90),
        "rate_estimates": len(rest),
        "set_rate_error_median_bpm": pct(in_sets, 50), "set_rate_estimates": len(in_sets),
        "coverage": round(sum(r["covered_s"] for r in rows) / rest_s, 3) if rest_s else None,
        "holds": len(holds),
        "hold_recall": share([h for h in holds if h["delay_s"] is not None], holds),
        "hold_recall_rest": share([h for h in rest_holds if h["delay_s"] is not None], rest_holds),
        "hold_recall_set": share([h for h in holds if h["where"] == "set" and h["delay_s"] is not None],
                                 [h for h in holds if h["where"] == "set"]),
        "hold_delay_median_s": pct(delays, 50),
        "false_cues_per_10min": round(sum(len(r["false_cues"]) for r in rows) / minutes * 10.0, 2) if minutes else None,
        "recordings": len(rows),
    }
