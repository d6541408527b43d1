"""The people page (profiles: made, renamed, recoloured, chosen, deleted) and each person's
report for the physiotherapist, with its JSON and CSV exports."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from mat.daemon.live_socket import SETTINGS_CHANGED
from mat.pipeline.settings import SettingsError
from mat.profiles import COLOURS, ProfileError
from mat.profiles.report import CSV_FIELDS, PeriodError
from mat.storage.pin import PinError

from web.api.profiles import choose_on_mat, report_for
from web.db import get_store
from web.guards import require_pin, status_for
from web.live_relay import get_relay

bp = Blueprint("profiles", __name__)


@bp.get("/profiles")
def index():
    return render_people()


def render_people(error=None, status: int = 200):
    store = get_store()
    return render_template("profiles.html", profiles=store.list_profiles(), current=store.current_profile_id(),
                           colours=COLOURS, error=error, saved=request.args.get("saved"), page="profiles"), status


def _guarded(change):
    """Run `change()` behind the PIN rule; the page again with what went wrong, or None."""
    try:
        require_pin(request.form.get("pin"))
        change()
    except PinError as problem:
        return render_people(problem, status_for(problem))
    except (ProfileError, SettingsError) as problem:
        return render_people(problem, 400)
    get_relay().send_command(SETTINGS_CHANGED)
    return None


@bp.post("/profiles")
def create():
    made = {}

    def change():
        made.update(get_store().create_profile(request.form.get("name", ""), request.form.get("colour") or None))

    return _guarded(change) or redirect(url_for("profiles.index", saved="made"))


@bp.post("/profiles/<id:profile_id>")
def update(profile_id: int):
    def change():
        if get_store().update_profile(profile_id, request.form.get("name", ""),
                                      request.form.get("colour") or None) is None:
            abort(404, f"There is no profile {profile_id}.")

    return _guarded(change) or redirect(url_for("profiles.index", saved="renamed"))


@bp.post("/profiles/<id:profile_id>/delete")
def delete(profile_id: int):
    def change():
        if not get_store().delete_profile(profile_id):
            abort(404, f"There is no profile {profile_id}.")

    return _guarded(change) or redirect(url_for("profiles.index", saved="deleted"))


@bp.post("/profiles/<id:profile_id>/choose")
def choose(profile_id: int):
    """Open, like calibrate: the person on the mat says who they are."""
    if choose_on_mat(profile_id) is None:
        abort(404, f"There is no profile {profile_id}.")
    return redirect(request.form.get("next") if request.form.get("next") in ("/", "/profiles") else url_for("live.index"))


# -- the report -------------------------------------------------------------------------------
def _report(profile_id: int) -> dict:
    try:
        data = report_for(profile_id)
    except PeriodError as problem:
        abort(400, f"{problem.field}: {problem.message}.")
    if data is None:
        abort(404, f"There is no profile {profile_id}.")
    return data


@bp.get("/profiles/<id:profile_id>/report")
def report(profile_id: int):
    data = _report(profile_id)
    return render_template("report.html", r=data, profile_id=profile_id, page="profiles",
                           query={"from": data["period"]["from"], "to": data["period"]["to"]})


@bp.get("/profiles/<id:profile_id>/report.json")
def report_json(profile_id: int):
    data = _report(profile_id)
    response = jsonify(data)
    response.headers["Content-Disposition"] = f"attachment; filename={_filename(data)}.json"
    return response


@bp.get("/profiles/<id:profile_id>/report.csv")
def report_csv(profile_id: int):
    """One row per session, the report's columns (CSV_FIELDS)."""
    data = _report(profile_id)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(data["sessions"])
    return Response(text.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={_filename(data)}.csv"})


def _filename(data: dict) -> str:
    return f"flatback-report-{data['profile']['id']}-{data['period']['from']}-{data['period']['to']}"
