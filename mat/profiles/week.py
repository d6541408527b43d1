"""The week view: one person's training by week (sessions against the 2–3 a week goal, perfect
reps, descent tempo) and where they stand on the ladder. One rule for the page and its JSON.

Weeks start on Monday, in the Pi's local time (a session at 23:30 on Sunday belongs to that
week). A session counts toward the goal when it has at least one rep: lying down only for the
floor finder or to look at the page is no training session.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from mat.pipeline import ladder

#: Sessions a week that physiotherapists advise.
GOAL_SESSIONS_MIN, GOAL_SESSIONS_MAX = 2, 3
#: Weeks the view covers when none is asked for, and at most (up to this week).
DEFAULT_WEEKS, MAX_WEEKS = 12, 104


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_day(iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone().date()


def trained(session: dict) -> bool:
    return (session.get("reps") or 0) > 0


def latest_trained(sessions: list[dict]) -> dict | None:
    """The newest finished session with reps (the one the ladder judges), or None."""
    done = [s for s in sessions if trained(s) and s.get("status") != "open"]
    return max(done, key=lambda s: (s["started_at"], s["id"]), default=None)


def goal_status(count: int) -> str:
    """"short" (fewer than the goal), "met" (within it) or "beyond" (more: rest days build too)."""
    return "short" if count < GOAL_SESSIONS_MIN else "met" if count <= GOAL_SESSIONS_MAX else "beyond"


def standing(variant: str, latest: dict | None, latest_reps: list[dict]) -> dict:
    """Where the person stands on the ladder: their rung, and from their latest trained session
    what the mat saw (`seen`), the variant it suggests instead (`suggestion`) and the rung it
    proposes (`proposal`, ladder.proposal)."""
    seen = latest.get("variant_seen") if latest else None
    return {
        "variant": variant, "rung": ladder.RUNGS.index(variant) + 1, "rungs": list(ladder.RUNGS),
        "session_id": latest["id"] if latest else None,
        "session_started_at": latest["started_at"] if latest else None,
        "seen": seen,
        "suggestion": ladder.suggestion(variant, seen),
        "proposal": ladder.proposal(variant, latest.get("variant"), latest_reps, seen) if latest else None,
    }


def week_view(profile: dict, sessions: list[dict], latest_reps: list[dict], today: date | None = None,
              weeks: int = DEFAULT_WEEKS) -> dict:
    """`sessions`: the person's store rows (any order); `latest_reps`: the reps of
    latest_trained(sessions). Weeks oldest first, the last one this week."""
    this_monday = monday(today or date.today())
    starts = [this_monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    by_week: dict[date, list[dict]] = {start: [] for start in starts}
    for session in sorted(sessions, key=lambda s: (s["started_at"], s["id"])):
        week = monday(local_day(session["started_at"]))
        if week in by_week and trained(session):
            by_week[week].append(session)
    rows = [_week_row(start, by_week[start]) for start in starts]
    this_week = rows[-1]
    return {
        "profile": {"id": profile["id"], "name": profile["name"], "colour": profile["colour"]},
        "goal": {"min": GOAL_SESSIONS_MIN, "max": GOAL_SESSIONS_MAX},
        "this_week": dict(this_week, status=goal_status(this_week["sessions"])),
        "weeks": rows,
        "descents": [{"session_id": s["id"], "started_at": s["started_at"], "mean_descent_s": s["mean_descent_s"]}
                     for start in starts for s in by_week[start] if s.get("mean_descent_s") is not None],
        "ladder": standing(profile["settings"]["variant"], latest_trained(sessions), latest_reps),
    }


def _week_row(start: date, sessions: list[dict]) -> dict:
    reps = sum(s.get("reps") or 0 for s in sessions)
    descents = [(s["mean_descent_s"], s.get("reps") or 0) for s in sessions if s.get("mean_descent_s") is not None]
    weight = sum(n for _, n in descents)
    return {
        "start": start.isoformat(),
        "sessions": len(sessions),
        "reps": reps,
        "perfect_reps": sum(s.get("perfect_reps") or 0 for s in sessions),
        # the mean descent over every rep of the week (sessions weighted by their reps)
        "mean_descent_s": round(sum(d * n for d, n in descents) / weight, 2) if weight else None,
    }
