"""The settings page: one person's floor (with a live preview), descent target and sound (each
profile has its own; ?profile=N, by default whoever the mat serves now), and the PIN.

Saved all-or-nothing in the store; the daemon is told at once ({"cmd": "settings_changed"})
and applies it within a second.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from mat.storage.pin import PinError, validate_pin
from mat.daemon.live_socket import SETTINGS_CHANGED
from mat.pipeline.settings import (PLAN_REPS_MAX, PLAN_REPS_MIN, PLAN_SETS_MAX, PLAN_SETS_MIN, REST_MAX_S,
                                   REST_MIN_S, VARIANT_NAMES, VARIANTS, SettingsError)
from mat.profiles import ProfileError

from web.db import get_store
from web.guards import pin_lock, require_pin, set_pin, status_for
from web.live_relay import get_relay

bp = Blueprint("settings", __name__)

LIMITS = {"plan_sets": (PLAN_SETS_MIN, PLAN_SETS_MAX), "plan_reps": (PLAN_REPS_MIN, PLAN_REPS_MAX),
          "rest_s": (REST_MIN_S, REST_MAX_S)}


@bp.get("/settings")
def index():
    return render_settings()


@bp.post("/settings")
def save():
    profile_id = _profile_id()
    try:
        require_pin(request.form.get("pin"))
        changes = {"floor": _number("floor"), "tempo_s": _number("tempo_s"), "sound": request.form.get("sound") == "on"}
        # The plan and the variant: only when the form has them (older forms and scripts send
        # only the three above).
        for field in ("plan_sets", "plan_reps", "rest_s"):
            if field in request.form:
                changes[field] = _number(field)
        if "variant" in request.form:
            changes["variant"] = request.form["variant"]
        if "stop_depth" in request.form:
            text = request.form["stop_depth"].strip()
            changes["stop_depth"] = None if not text else _number("stop_depth") / 100  # the form says %
        get_store().update_settings(profile_id, **changes)
    except PinError as problem:
        return render_settings(error=problem, status=status_for(problem))
    except (SettingsError, ProfileError) as problem:
        return render_settings(error=problem, status=400)
    applied = get_relay().send_command(SETTINGS_CHANGED)
    return redirect(url_for("settings.index", profile=profile_id, saved="applied" if applied else "stored"))


def _profile_id() -> int:
    """Whose settings: ?profile=N or the form's profile_id; by default whoever the mat serves."""
    store = get_store()
    text = request.values.get("profile") or request.values.get("profile_id")
    if text is None:
        return store.current_profile_id()
    if not text.isdigit() or store.get_profile(int(text)) is None:
        abort(404, f"There is no profile {text[:20]!r}.")
    return int(text)


def render_settings(error=None, pin_error=None, status: int = 200):
    """The page, with what went wrong (a settings or PIN form) and the status to answer with."""
    saved = request.args.get("saved") if request.method == "GET" else None
    store = get_store()
    profile_id = _profile_id()
    return render_template("settings.html", settings=store.get_settings(profile_id), profile=store.get_profile(profile_id),
                           profiles=store.list_profiles(), error=error, pin_error=pin_error,
                           saved=saved, page="settings", variants=VARIANTS, variant_names=VARIANT_NAMES,
                           limits=LIMITS), status


def _number(field: str) -> float:
    text = request.form.get(field, "").strip()
    if field in LIMITS and text.isdigit():
        return int(text)
    if not text:
        raise SettingsError(field, "is missing")
    try:
        return float(text)
    except ValueError:
        raise SettingsError(field, f"must be a number, not {text!r}") from None


# -- the PIN's forms --------------------------------------------------------------------------------
@bp.post("/settings/pin")
def change_pin():
    """Set or change the PIN from the settings page (new_pin twice; the current one if locked)."""
    try:
        require_pin(request.form.get("pin"))
        new_pin = validate_pin(request.form.get("new_pin", ""), "new_pin")
        if request.form.get("confirm_pin", "") != new_pin:
            raise PinError("does not match the new PIN", "confirm_pin")
        set_pin(new_pin, "new_pin")
    except PinError as error:
        return _settings_with(error)
    return redirect(url_for("settings.index", saved="pin_set"))


@bp.post("/settings/pin/remove")
def remove_pin():
    try:
        require_pin(request.form.get("pin"))
    except PinError as error:
        return _settings_with(error)
    pin_lock().clear()
    session.clear()
    return redirect(url_for("settings.index", saved="pin_removed"))


@bp.post("/settings/lock")
def lock_now():
    session.clear()
    return redirect(url_for("settings.index", saved="locked"))


def _settings_with(error: PinError):
    return render_settings(pin_error=error, status=status_for(error))
