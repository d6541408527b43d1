"""The optional PIN on the page: which changes need it, unlocking for a while, setting it.

With a PIN set, changing settings, deleting a session and changing or removing the PIN need
either the PIN in the same form or a browser unlocked within the last PIN_UNLOCK_S (a signed,
HttpOnly, SameSite=Strict cookie). Reading, and the commands a user gives lying on the mat
(calibrate, start, stop), stay open: they change no stored data.
"""
from __future__ import annotations

import functools
import time

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for

from mat.pin import PinError, PinLock, PinLockedOut, PinNeeded, WrongPin, validate_pin

from . import json_error
from .db import get_store

bp = Blueprint("pin", __name__)


def pin_lock() -> PinLock:
    return PinLock(get_store())


def _unlocked_for_s(pin_row: dict | None) -> float:
    """Seconds this browser stays unlocked (0: locked, or no PIN). Unlocks under an older PIN
    (`pin_row` is the store's) do not count."""
    if pin_row is None or session.get("pin_generation") != pin_row["changed_at"]:
        return 0.0
    return max(0.0, float(session.get("unlocked_until", 0.0)) - time.time())


def unlock(lock: PinLock, pin, field: str = "pin") -> None:
    """Check `pin` (PinError if missing, wrong or paused) and unlock this browser for PIN_UNLOCK_S."""
    lock.check(pin, field)
    _grant(lock)


def require_pin(pin=None, field: str = "pin") -> None:
    """Return when the change may go ahead: no PIN set, this browser unlocked, or `pin` (from
    the form) right, which also unlocks it. Otherwise PinError, and nothing has changed."""
    if not _status()["unlocked"]:
        unlock(pin_lock(), pin, field)


def pin_required(view):
    """For API views that change stored data: with a PIN set, only an unlocked client gets in."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        try:
            require_pin()
        except PinError as error:
            return pin_error_response(error)
        return view(*args, **kwargs)

    return guarded


def status_for(error: PinError) -> int:
    """400 for a PIN that is not allowed, 403 for a missing or wrong one, 429 while paused."""
    if isinstance(error, PinLockedOut):
        return 429
    return 403 if isinstance(error, (PinNeeded, WrongPin)) else 400


def pin_error_response(error: PinError):
    """The API's answer to a PinError ({"error", "field"}, with Retry-After while paused)."""
    response = json_error(status_for(error), error.message, field=error.field)
    if isinstance(error, PinLockedOut):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


@bp.app_context_processor
def pin_state() -> dict:
    """Every page knows whether changes need the PIN (forms then ask for it)."""
    status = _status()
    remaining = status["unlocked_for_s"]
    return {"pin_set": status["set"], "unlocked": status["unlocked"],
            "unlocked_min": max(1, round(remaining / 60)) if remaining else 0}


def _grant(lock: PinLock) -> None:
    session.clear()
    session.permanent = True  # the cookie itself expires with the unlock
    session["pin_generation"] = lock.generation
    session["unlocked_until"] = time.time() + float(current_app.config["PIN_UNLOCK_S"])


def _status() -> dict:
    """Is a PIN set, and is this browser unlocked: from one read of the PIN's row."""
    pin_row = get_store().get_pin()
    remaining = _unlocked_for_s(pin_row)
    return {"set": pin_row is not None, "unlocked": pin_row is None or remaining > 0,
            "unlocked_for_s": int(remaining)}


def _set_pin(new_pin, field: str) -> None:
    lock = pin_lock()
    lock.set(new_pin, field)  # validates first: a PinError names `field`
    _grant(lock)  # whoever set it stays unlocked; every other browser is locked out


# -- the page ---------------------------------------------------------------------------------
@bp.post("/settings/pin")
def change():
    """Set or change the PIN from the settings page (new_pin twice; the current one if locked)."""
    try:
        require_pin(request.form.get("pin"))
        new_pin = validate_pin(request.form.get("new_pin", ""), "new_pin")
        if request.form.get("confirm_pin", "") != new_pin:
            raise PinError("does not match the new PIN", "confirm_pin")
        _set_pin(new_pin, "new_pin")
    except PinError as error:
        return _settings_with(error)
    return redirect(url_for("settings.index", saved="pin_set"))


@bp.post("/settings/pin/remove")
def remove():
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
    from .settings import render_settings  # here: the settings blueprint imports this module

    return render_settings(pin_error=error, status=status_for(error))


# -- the API ----------------------------------------------------------------------------------
@bp.get("/api/pin")
def api_status():
    """{"set": is there a PIN, "unlocked": may this client change things, "unlocked_for_s"}."""
    return jsonify(_status())


def _pin_body(example: str):
    """The body {"pin": ...} and nothing else, or the 400 that says so."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "pin" not in body:
        return None, json_error(400, f'send {{"pin": "{example}"}}', field="pin")
    unknown = sorted(set(body) - {"pin"})
    if unknown:
        return None, json_error(400, f'unknown field; send only {{"pin": "{example}"}}', field=unknown[0])
    return body, None


@bp.post("/api/unlock")
def api_unlock():
    body, problem = _pin_body("<the PIN, as a string of digits>")
    if problem:
        return problem
    lock = pin_lock()
    try:
        pin = validate_pin(body["pin"])  # not even a PIN: a 400, not a wrong try
        if lock.is_set:
            unlock(lock, pin)
    except PinError as error:
        return pin_error_response(error)
    return jsonify(_status())


@bp.post("/api/lock")
def api_lock():
    session.clear()
    return jsonify(_status())


@bp.put("/api/pin")
@pin_required
def api_set():
    body, problem = _pin_body("<4 to 12 digits>")
    if problem:
        return problem
    try:
        _set_pin(body["pin"], "pin")
    except PinError as error:
        return pin_error_response(error)
    return jsonify(_status())


@bp.delete("/api/pin")
@pin_required
def api_remove():
    pin_lock().clear()
    session.clear()
    return jsonify(_status())
