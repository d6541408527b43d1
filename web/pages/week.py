"""The week view (?profile=N, by default whoever the mat serves): sessions this week against
the 2–3 a week goal, perfect reps per week, descent tempo over time, and the ladder with the
rung the mat proposes or the variant it suggests (mat/profiles/week.py decides; accepting goes
through the API, PATCH /api/profiles/N, behind the same PIN as every change)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from mat.pipeline.ladder import EASIER_LIFTOFF_SHARE, EASIER_MIN_REPS, PROGRESS_DESCENT_S, PROGRESS_PERFECT_REPS
from mat.pipeline.settings import VARIANT_NAMES

from web.api.profiles import week_for
from web.api.sessions import profile_filter
from web.db import get_store

bp = Blueprint("week", __name__)


@bp.get("/week")
def index():
    store = get_store()
    profile_id, problem = profile_filter()
    if problem is not None:
        abort(400, problem.get_json()["error"])
    if profile_id is None:
        profile_id = store.current_profile_id()
    view = week_for(profile_id)
    if view is None:
        abort(404, f"There is no profile {profile_id}.")
    return render_template("week.html", view=view, profiles=store.list_profiles(), page="week",
                           progress_reps=PROGRESS_PERFECT_REPS, progress_descent_s=PROGRESS_DESCENT_S,
                           easier_share=EASIER_LIFTOFF_SHARE, easier_min_reps=EASIER_MIN_REPS)


@bp.app_template_filter("variant_name")
def variant_name(variant: str | None) -> str:
    """'straight legs' for 'straight' (mat/pipeline/settings.py's words); '–' for none."""
    return VARIANT_NAMES.get(variant, "–") if variant else "–"
