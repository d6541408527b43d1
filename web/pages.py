"""The pages: live, history, one session, settings, and the session exports."""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, send_from_directory, url_for

from mat.recording import RecordingWriter
from mat.store import SettingsError

from . import get_relay, get_store

bp = Blueprint("pages", __name__)

#: 15 perfect reps with a 3-second descent: time for a harder variant (DOMAIN.md).
PROGRESS_PERFECT_REPS = 15
PROGRESS_DESCENT_S = 3.0


@bp.get("/")
def live():
    return render_template("live.html", settings=get_store().get_settings(), page="live")


@bp.get("/history")
def history():
    sessions = get_store().list_sessions()
    best = max(sessions, key=lambda s: (s["perfect_reps"] or 0), default=None)
    ready = [s for s in sessions if (s["perfect_reps"] or 0) >= PROGRESS_PERFECT_REPS
             and (s["mean_descent_s"] or 0) >= PROGRESS_DESCENT_S]
    return render_template("history.html", sessions=sessions, best=best, ready=ready[0] if ready else None,
                           progress_reps=PROGRESS_PERFECT_REPS, progress_descent=PROGRESS_DESCENT_S,
                           when=_when, duration=_duration, page="history")


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    store = get_store()
    data = store.get_session(session_id)
    if data is None:
        abort(404, f"There is no session {session_id}.")
    return render_template("session.html", s=data, reps=store.session_reps(session_id), when=_when,
                           duration=_duration, page="history")


@bp.get("/sessions/<int:session_id>.csv")
def session_csv(session_id: int):
    store = get_store()
    data = store.get_session(session_id)
    if data is None:
        abort(404, f"There is no session {session_id}.")
    t, counts = store.session_frames(session_id)
    text = io.StringIO()
    writer = RecordingWriter(text, data["rows"] or 4, data["cols"] or 4, gain=data["gain"] or 1,
                             material=data["material"] or "velostat")
    t0 = float(t[0]) if len(t) else 0.0
    for ti, frame in zip(t.tolist(), counts):
        writer.write(ti - t0, frame)
    writer.close()
    return Response(text.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=flatback-session-{session_id}.csv"})


@bp.get("/sessions/<int:session_id>.json")
def session_json(session_id: int):
    data = get_store().export_session_json(session_id)
    if data is None:
        abort(404, f"There is no session {session_id}.")
    response = jsonify(data)
    response.headers["Content-Disposition"] = f"attachment; filename=flatback-session-{session_id}.json"
    return response


@bp.post("/sessions/<int:session_id>/delete")
def delete(session_id: int):
    if not get_store().delete_session(session_id):
        abort(404, f"There is no session {session_id}.")
    return redirect(url_for("pages.history"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    store = get_store()
    error = None
    if request.method == "POST":
        form = request.form
        try:
            changes = {"floor": _number(form, "floor"), "tempo_s": _number(form, "tempo_s"),
                       "sound": form.get("sound") == "on"}
            store.update_settings(**changes)
            get_relay().send_command("settings_changed")
            return redirect(url_for("pages.settings", saved=1))
        except SettingsError as problem:
            error = problem
    page = render_template("settings.html", settings=store.get_settings(), error=error,
                           saved=request.args.get("saved"), page="settings")
    return page, (400 if error else 200)


def _number(form, field: str) -> float:
    try:
        return float(form.get(field, ""))
    except ValueError:
        raise SettingsError(field, "must be a number") from None


@bp.get("/vendor/uplot/<path:name>")
def uplot_static(name: str):
    """uPlot from the installed uplot-python package: ~50 KB of JS drawn by the phone, so the
    Pi only serves JSON. Served from the package, never copied into this repository."""
    import uplot

    if name not in ("uPlot.iife.js", "uPlot.min.css"):
        abort(404)
    return send_from_directory(Path(uplot.__file__).parent / "static", name, max_age=86400)


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone().strftime("%a %d %b %Y, %H:%M")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
