"""/api/settings and the PIN: reading and changing the user's settings, unlocking, setting
or removing the PIN."""
from __future__ import annotations

from flask import jsonify, request, session

from mat.storage.pin import PinError, validate_pin
from mat.daemon.live_socket import SETTINGS_CHANGED
from mat.pipeline.settings import SettingsError

from web.api import bp
from web.db import get_store
from web.guards import json_error, pin_error_response, pin_lock, pin_required, pin_status, set_pin, unlock
from web.live_relay import get_relay


@bp.get("/settings")
def get_settings():
    return jsonify(get_store().get_settings())


@bp.put("/settings")
@pin_required
def put_settings():
    """Change some of the settings (settings.py names them): all of them or none (the store validates)."""
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict) or not changes:
        return json_error(400, 'send a JSON object such as {"floor": 0.5, "tempo_s": 3, "sound": true}')
    try:
        settings = get_store().update_settings(**changes)
    except SettingsError as error:
        return json_error(400, error.message, field=error.field)
    applied = get_relay().send_command(SETTINGS_CHANGED)
    return jsonify(dict(settings, applied=applied))


# -- the API ----------------------------------------------------------------------------------
@bp.get("/pin")
def apipin_status():
    """{"set": is there a PIN, "unlocked": may this client change things, "unlocked_for_s"}."""
    return jsonify(pin_status())


def _pin_body(example: str):
    """The body {"pin": ...} and nothing else, or the 400 that says so."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "pin" not in body:
        return None, json_error(400, f'send {{"pin": "{example}"}}', field="pin")
    unknown = sorted(set(body) - {"pin"})
    if unknown:
        return None, json_error(400, f'unknown field; send only {{"pin": "{example}"}}', field=unknown[0])
    return body, None


@bp.post("/unlock")
def unlock_api():
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
    return jsonify(pin_status())


@bp.post("/lock")
def lock_api():
    session.clear()
    return jsonify(pin_status())


@bp.put("/pin")
@pin_required
def set_pin_api():
    body, problem = _pin_body("<4 to 12 digits>")
    if problem:
        return problem
    try:
        set_pin(body["pin"], "pin")
    except PinError as error:
        return pin_error_response(error)
    return jsonify(pin_status())


@bp.delete("/pin")
@pin_required
def remove_pin_api():
    pin_lock().clear()
    session.clear()
    return jsonify(pin_status())
