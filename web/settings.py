"""The settings page: the floor (with a live preview), the descent target, sound.

Saved all-or-nothing in the store; the daemon is told at once ({"cmd": "settings_changed"})
and applies it within a second.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from mat.store import SettingsError

from . import get_relay
from .db import get_store

bp = Blueprint("settings", __name__)


@bp.route("/settings", methods=["GET", "POST"])
def index():
    store = get_store()
    error = None
    if request.method == "POST":
        try:
            store.update_settings(floor=_number("floor"), tempo_s=_number("tempo_s"),
                                  sound=request.form.get("sound") == "on")
        except SettingsError as problem:
            error = problem
        else:
            applied = get_relay().send_command("settings_changed")
            return redirect(url_for("settings.index", saved="applied" if applied else "stored"))
    return render_template("settings.html", settings=store.get_settings(), error=error, saved=request.args.get("saved"),
                           page="settings"), (400 if error else 200)


def _number(field: str) -> float:
    text = request.form.get(field, "").strip()
    if not text:
        raise SettingsError(field, "is missing")
    try:
        return float(text)
    except ValueError:
        raise SettingsError(field, f"must be a number, not {text!r}") from None
