"""The physiotherapist's report: one person's sessions over a period, summed up. One rule for
the report page, its JSON and its CSV."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

#: The period a report covers when none is asked for (days, up to today).
DEFAULT_DAYS = 28
#: The columns of the CSV export, one row per session, in this order.
CSV_FIELDS = ("session_id", "started_at", "duration_s", "floor", "tempo_s", "sets", "reps", "perfect_reps",
              "liftoffs", "mean_descent_s", "balance", "breath_holds", "mean_breath_bpm")


class PeriodError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


#: Days outside these hold no sessions; clamping to them keeps the period's times computable.
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 30)


def period(start: str | None, end: str | None, today: date | None = None) -> tuple[date, date]:
    """The days [start, end] from 'YYYY-MM-DD' texts (default: the DEFAULT_DAYS up to today), in
    either order."""
    today = today or date.today()

    def day(text: str | None, field: str, default: date) -> date:
        if text is None:
            return default
        try:
            return date.fromisoformat(text)
        except (TypeError, ValueError):
            raise PeriodError(field, f"must be a day as YYYY-MM-DD, not {str(text)[:20]!r}") from None

    last = min(max(day(end, "to", today), EARLIEST), LATEST)
    first = min(max(day(start, "from", max(last - timedelta(days=DEFAULT_DAYS - 1), EARLIEST)), EARLIEST), LATEST)
    return min(first, last), max(first, last)


def bounds(first: date, last: date) -> tuple[str, str]:
    """The period as ISO times for the store: from the first day's start to the day after the last
    (local days: a session at 23:30 belongs to its evening)."""
    zone = datetime.now().astimezone().tzinfo
    start = datetime.combine(first, time.min, zone).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(timezone.utc)
    return start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")


def build_report(profile: dict, sessions: list[dict], first: date, last: date, floor_tests: list[dict] = ()) -> dict:
    """Totals and per-session rows (oldest first) of `sessions` (the store's rows), and the
    floor finder's results in the period (the store's rows, oldest first)."""
    ordered = sorted(sessions, key=lambda s: (s["started_at"], s["id"]))
    reps = sum(s.get("reps") or 0 for s in ordered)
    perfect = sum(s.get("perfect_reps") or 0 for s in ordered)
    descents = [(s["mean_descent_s"], s.get("reps") or 0) for s in ordered if s.get("mean_descent_s") is not None]
    weight = sum(n for _, n in descents)
    return {
        "profile": {"id": profile["id"], "name": profile["name"], "colour": profile["colour"],
                    "settings": profile["settings"]},
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "totals": {
            "sessions": len(ordered),
            "reps": reps,
            "perfect_reps": perfect,
            "perfect_share": round(perfect / reps, 3) if reps else None,
            "liftoffs": sum(s.get("liftoffs") or 0 for s in ordered),
            "minutes": round(sum(s.get("duration_s") or 0 for s in ordered) / 60, 1),
            # the mean descent over every rep (sessions weighted by their reps)
            "mean_descent_s": round(sum(d * n for d, n in descents) / weight, 2) if weight else None,
            "best_perfect_reps": max((s.get("perfect_reps") or 0 for s in ordered), default=0),
        },
        "floor_finder": [{"taken_at": f["taken_at"], "beats": f["beats"], "angle_deg": f["angle_deg"],
                          "reached_floor": f["reached_floor"]} for f in floor_tests],
        "sessions": [{field: (s["id"] if field == "session_id" else s.get(field)) for field in CSV_FIELDS}
                     for s in ordered],
    }
