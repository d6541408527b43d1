"""/api/profiles: the people who use the mat (each with their own settings and sessions),
choosing who is on the mat, and each person's report for the physiotherapist."""
from __future__ import annotations

from flask import jsonify, request

from mat.daemon.live_socket import CHOOSE_PROFILE, SETTINGS_CHANGED
from mat.pipeline.settings import SettingsError
from mat.profiles import ProfileError, validate_profile
from mat.profiles.report import PeriodError, bounds, build_report, period
from mat.profiles.week import DEFAULT_WEEKS, MAX_WEEKS, latest_trained, week_view

from web.api import bp
from web.db import get_store
from web.guards import json_error, pin_required
from web.live_relay import get_relay

FIELDS = ("name", "colour", "settings")


def _body(required: tuple[str, ...] = ()):
    """The JSON object sent, checked for unknown and missing fields; (body, None) or (None, 400)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        return None, json_error(400, 'send a JSON object such as {"name": "Anna", "colour": "#bf3989", '
                                     '"settings": {"floor": 0.6}}')
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        return None, json_error(400, f"unknown field; known: {', '.join(FIELDS)}", field=unknown[0])
    missing = [key for key in required if key not in body]
    if missing:
        return None, json_error(400, "is missing", field=missing[0])
    if "settings" in body and not isinstance(body["settings"], dict):
        return None, json_error(400, 'must be an object such as {"floor": 0.6}', field="settings")
    try:  # null is no name or colour (the store takes None as "unchanged")
        validate_profile({key: body[key] for key in ("name", "colour") if key in body})
    except ProfileError as error:
        return None, json_error(400, error.message, field=error.field)
    return body, None


def _changed():
    """The daemon re-reads the profiles (names, settings, who exists); False when it is not running."""
    return get_relay().send_command(SETTINGS_CHANGED)


@bp.get("/profiles")
def profiles():
    store = get_store()
    current = store.current_profile_id()
    return jsonify([dict(p, current=p["id"] == current) for p in store.list_profiles()])


@bp.post("/profiles")
@pin_required
def create_profile():
    body, problem = _body(required=("name",))
    if problem:
        return problem
    try:
        profile = get_store().create_profile(body["name"], body.get("colour"), body.get("settings"))
    except (ProfileError, SettingsError) as error:
        return json_error(400, error.message, field=error.field)
    _changed()
    return jsonify(dict(profile, current=False)), 201


def _profile_or_404(profile_id: int):
    store = get_store()
    profile = store.get_profile(profile_id)
    if profile is None:
        return None, json_error(404, f"no profile {profile_id}")
    return dict(profile, current=profile["id"] == store.current_profile_id()), None


@bp.get("/profiles/<id:profile_id>")
def profile(profile_id: int):
    found, problem = _profile_or_404(profile_id)
    return problem or jsonify(found)


@bp.patch("/profiles/<id:profile_id>")
@pin_required
def update_profile(profile_id: int):
    body, problem = _body()
    if problem:
        return problem
    try:
        updated = get_store().update_profile(profile_id, body.get("name"), body.get("colour"), body.get("settings"))
    except (ProfileError, SettingsError) as error:
        return json_error(400, error.message, field=error.field)
    if updated is None:
        return json_error(404, f"no profile {profile_id}")
    _changed()
    found, _ = _profile_or_404(profile_id)
    return jsonify(found)


@bp.delete("/profiles/<id:profile_id>")
@pin_required
def delete_profile(profile_id: int):
    try:
        deleted = get_store().delete_profile(profile_id)
    except ProfileError as error:  # the guest: it serves whoever the mat cannot tell
        return json_error(409, error.message, field=error.field)
    if not deleted:
        return json_error(404, f"no profile {profile_id}")
    _changed()
    return jsonify({"deleted": profile_id})


def choose_on_mat(profile_id: int) -> bool | None:
    """This person is on the mat (or lies down next): the store's current profile, and the
    daemon told. None: no such profile; otherwise whether the running daemon took it."""
    store = get_store()
    if store.get_profile(profile_id) is None:
        return None
    store.set_current_profile(profile_id)
    applied = get_relay().client.send_command({"cmd": CHOOSE_PROFILE, "profile_id": profile_id}, timeout_s=1.0)
    if not applied:  # no daemon running: nobody lies on the mat, so the choice is for the next session
        store.set_next_session_profile(profile_id)
    return applied


@bp.post("/profiles/<id:profile_id>/choose")
def choose_profile(profile_id: int):
    """Their settings apply and the session is theirs. Open like calibrate: it is given lying
    on the mat."""
    applied = choose_on_mat(profile_id)
    if applied is None:
        return json_error(404, f"no profile {profile_id}")
    return jsonify({"chosen": profile_id, "applied": applied})


def report_for(profile_id: int) -> dict | None:
    """The report over the period the request asks for (?from=YYYY-MM-DD&to=YYYY-MM-DD, default
    the last 28 days); None without such a profile; PeriodError for a bad day."""
    store = get_store()
    found = store.get_profile(profile_id)
    if found is None:
        return None
    first, last = period(request.args.get("from"), request.args.get("to"))
    since, until = bounds(first, last)
    return build_report(found, store.list_sessions(found["id"], since, until), first, last,
                        store.floor_tests(found["id"], since, until))


@bp.get("/profiles/<id:profile_id>/report")
def report(profile_id: int):
    try:
        data = report_for(profile_id)
    except PeriodError as error:
        return json_error(400, error.message, field=error.field)
    return jsonify(data) if data is not None else json_error(404, f"no profile {profile_id}")


def week_for(profile_id: int, weeks: int = DEFAULT_WEEKS) -> dict | None:
    """The week view of a profile (mat/profiles/week.py), None without such a profile."""
    store = get_store()
    found = store.get_profile(profile_id)
    if found is None:
        return None
    sessions = store.list_sessions(found["id"])
    latest = latest_trained(sessions)
    return week_view(found, sessions, store.session_reps(latest["id"]) if latest else [], weeks=weeks)


@bp.get("/profiles/<id:profile_id>/week")
def week(profile_id: int):
    """?weeks=N (1 to MAX_WEEKS, default DEFAULT_WEEKS) up to this week."""
    text = request.args.get("weeks", str(DEFAULT_WEEKS))
    if not text.isdigit() or not 1 <= int(text) <= MAX_WEEKS:
        return json_error(400, f"must be a whole number of weeks from 1 to {MAX_WEEKS}, not {text[:20]!r}",
                          field="weeks")
    data = week_for(profile_id, int(text))
    return jsonify(data) if data is not None else json_error(404, f"no profile {profile_id}")


@bp.route("/profiles/<text>", methods=["GET", "PATCH", "DELETE"])
@bp.post("/profiles/<text>/choose")
@bp.get("/profiles/<text>/report")
@bp.get("/profiles/<text>/week")
def not_a_profile_id(text: str):
    """Anything else after /api/profiles/ (the routes above take the numbers)."""
    return json_error(400, f"must be a profile number (a whole number from 1), not {text!r}", field="profile_id")
