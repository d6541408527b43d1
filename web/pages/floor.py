"""The floor finder's page: start the test, and its results charted over the weeks, as
physiotherapists chart the double-leg-lowering test (the leg angle at which the back gave way;
lower is stronger)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template

from mat.pipeline.floor_finder import BEAT_S, COUNT_IN_BEATS, LOWERING_BEATS

from web.db import get_store

bp = Blueprint("floor", __name__)

#: The chart's drawing area (SVG user units).
CHART_W, CHART_H, MARGIN = 600, 240, 40
DAY_S = 86400.0


@bp.get("/floor")
def index():
    store = get_store()
    tests = store.floor_tests()
    return render_template("floor.html", tests=tests, chart=chart(tests), settings=store.get_settings(),
                           beats=LOWERING_BEATS, beat_s=BEAT_S, count_in=COUNT_IN_BEATS, page="floor")


def chart(tests: list[dict]) -> dict:
    """Points (x, y) for each result: x by date over the weeks since the first (at least one
    week wide), y the angle from 90° at the top to 0° (the floor) at the bottom."""
    if not tests:
        return {"points": [], "weeks": [], "w": CHART_W, "h": CHART_H, "m": MARGIN}
    times = [datetime.fromisoformat(t["taken_at"]).timestamp() for t in tests]
    first = min(times)
    span = max(max(times) - first, 7 * DAY_S)
    inner_w, inner_h = CHART_W - 2 * MARGIN, CHART_H - 2 * MARGIN

    def x(ts: float) -> float:
        return round(MARGIN + inner_w * (ts - first) / span, 1)

    points = [{"x": x(ts), "y": round(MARGIN + inner_h * (1 - t["angle_deg"] / 90.0), 1), "angle": t["angle_deg"],
               "date": t["taken_at"][:10], "floor": t["reached_floor"]} for ts, t in zip(times, tests)]
    weeks = [{"x": x(first + w * 7 * DAY_S), "label": f"week {w + 1}"} for w in range(int(span // (7 * DAY_S)) + 1)]
    return {"points": points, "weeks": weeks, "w": CHART_W, "h": CHART_H, "m": MARGIN,
            "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
            "ticks": [{"deg": d, "y": round(MARGIN + inner_h * (1 - d / 90.0), 1)} for d in (0, 30, 60, 90)]}
