"""Events: what the pipeline tells the world (buzzer, store, socket, `mat replay`).

An event is a plain dict with at least "t" (seconds, the frame clock's time base) and "type";
the extra fields per type are listed in mat/README.md, "mat replay". Plain dicts keep JSON, SQLite and the
socket free of conversions.
"""
from __future__ import annotations

from typing import Any

Event = dict[str, Any]

#: Event types and the fields each one carries at least (mat/README.md, "mat replay").
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "present": (),
    "calibrated": ("pressed",),
    "calibration_problem": ("reason",),
    "liftoff": ("contact", "depth"),
    "contact": ("duration_s",),
    "rep": ("perfect", "descent_s", "set", "rep", "balance", "depth", "bounce", "sway"),
    "fast_descent": ("descent_s", "tempo_s"),
    "set_end": ("set", "reps", "perfect_reps"),
    "absent": (),
    "session_end": ("reps", "perfect_reps", "liftoffs", "sets", "mean_descent_s", "balance", "duration_s",
                    "breath_holds", "mean_breath_bpm", "variant_seen"),
    "breathing": ("rate_bpm",),
    "breath_hold": ("duration_s",),
    "dead_cell": ("row", "col", "kind"),
    "cell_ok": ("row", "col"),
    "chip_offline": ("row",),
    "chip_online": ("row",),
    # coaching (mat/pipeline/coach.py); `rep` and `liftoff` also carry `depth`
    "stop_cue": ("depth", "stop_depth"),
    "set_done": ("set", "perfect_reps", "sets_planned", "last"),
    "bounce": ("depth", "rebound"),
    # the floor finder (mat/pipeline/floor_finder.py): only after its command, never in a replay
    "floor_finder_start": ("beats", "beat_s", "count_in"),
    "floor_finder_beat": ("beat",),
    "floor_finder_result": ("beats", "angle_deg", "depth", "reached_floor"),
    "floor_finder_problem": ("reason",),
}


def make_event(t: float, type_: str, **fields: Any) -> Event:
    """An event at time `t` (s). Times are rounded to the microsecond, like recordings."""
    event: Event = {"t": round(float(t), 6), "type": type_}
    event.update(fields)
    return event


def count_liftoffs(events) -> int:
    """Lift-offs among `events`: every `liftoff` but the ones that ended with the person
    leaving the mat (sitting up unloads the lumbar spine first: that was getting up)."""
    return sum(1 for e in events if e["type"] == "liftoff") - sum(
        1 for e in events if e["type"] == "contact" and e.get("left_mat"))
