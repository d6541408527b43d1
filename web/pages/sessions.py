"""History, one session in detail, its exports (recording CSV, JSON) and deleting it."""
from __future__ import annotations

import io
from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for

from hardware.materials import MATERIALS
from mat.pipeline.ladder import PROGRESS_DESCENT_S, PROGRESS_PERFECT_REPS, slow_perfect_reps, suggestion
from mat.storage.pin import PinError
from mat.storage.recording import RecordingWriter

from mat.daemon.live_socket import SETTINGS_CHANGED

from web.api.sessions import profile_filter
from web.db import get_store
from web.guards import require_pin, status_for
from web.live_relay import get_relay

bp = Blueprint("sessions", __name__)

#: Only recent sessions say what is possible now (after progressing, older ones no longer do).
PROGRESS_RECENT_SESSIONS = 3
#: Frames per chunk of the streamed CSV export (a long session is hundreds of thousands).
CSV_FRAMES_PER_CHUNK = 2000


class Progression:
    """Where the user stands against the physiotherapists' progression rule (mat/pipeline/ladder.py),
    from their recent sessions; the week page proposes the rung itself."""

    def __init__(self, store, sessions: list[dict]) -> None:
        self.goal_reps = PROGRESS_PERFECT_REPS
        self.goal_descent_s = PROGRESS_DESCENT_S
        self.best_reps = 0  # perfect reps with a slow-enough descent, best recent session
        self.best_session: dict | None = None
        for session in sessions[:PROGRESS_RECENT_SESSIONS]:
            slow_perfect = slow_perfect_reps(store.session_reps(session["id"]))
            if slow_perfect > self.best_reps or self.best_session is None:
                self.best_reps, self.best_session = slow_perfect, session

    @property
    def ready(self) -> bool:
        return self.best_reps >= self.goal_reps


@bp.get("/history")
def history():
    """Every session, or one person's (?profile=N): the list, the chart, the progression."""
    store = get_store()
    profile_id, problem = profile_filter()
    if problem is not None:
        abort(400, problem.get_json()["error"])
    if profile_id is not None and store.get_profile(profile_id) is None:
        abort(404, f"There is no profile {profile_id}.")
    sessions = store.list_sessions(profile_id)
    profiles = {p["id"]: p for p in store.list_profiles()}
    return render_template("history.html", sessions=sessions, progression=Progression(store, sessions),
                           profiles=profiles, profile_id=profile_id, page="history")


@bp.get("/sessions/<id:session_id>")
def session(session_id: int):
    store = get_store()
    data = _session_or_404(store, session_id)
    reps = store.session_reps(session_id)
    owner = store.get_profile(data["profile_id"]) if data.get("profile_id") else None
    # What the reps looked like against the variant the person is on now ("switch?").
    suggested = suggestion(owner["settings"]["variant"], data.get("variant_seen")) if owner else None
    return render_template("session.html", s=data, reps=reps, profiles=store.list_profiles(), owner=owner,
                           suggested=suggested, page="history")


@bp.get("/sessions/<id:session_id>.csv")
def session_csv(session_id: int):
    """The session's raw frames as a recording (mat/README.md, "Recordings"), t from its first frame."""
    store = get_store()
    data = _session_or_404(store, session_id)
    t, counts = store.session_frames(session_id)
    rows, cols = data["rows"] or 4, data["cols"] or 4
    material = data["material"] if data["material"] in MATERIALS else "velostat"

    def chunks():
        text = io.StringIO()
        writer = RecordingWriter(text, rows, cols, gain=data["gain"] or 1, material=material,
                                 extra_header={"session": session_id, "started_at": data["started_at"]})
        t0 = float(t[0]) if len(t) else 0.0
        for i, (ti, frame) in enumerate(zip(t.tolist(), counts)):
            try:
                writer.write(ti - t0, frame)
            except ValueError:
                continue  # a repeated timestamp (a frame stored twice): the format forbids it
            if (i + 1) % CSV_FRAMES_PER_CHUNK == 0:
                yield _drain(text)
        writer.close()
        yield _drain(text)

    return Response(chunks(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=flatback-session-{session_id}.csv"})


@bp.get("/sessions/<id:session_id>.json")
def session_json(session_id: int):
    data = get_store().export_session_json(session_id)
    if data is None:
        abort(404, f"There is no session {session_id}.")
    response = jsonify(data)
    response.headers["Content-Disposition"] = f"attachment; filename=flatback-session-{session_id}.json"
    return response


def _pin_or_abort(not_done: str) -> None:
    """The form's PIN rule: an error page saying what was not done ("Not deleted: wrong PIN.")."""
    try:
        require_pin(request.form.get("pin"))
    except PinError as error:
        abort(status_for(error), f"{not_done}: {error.message}.")


@bp.post("/sessions/<id:session_id>/delete")
def delete(session_id: int):
    _pin_or_abort("Not deleted")
    if not get_store().delete_session(session_id):
        abort(404, f"There is no session {session_id}.")
    return redirect(url_for("sessions.history"))


@bp.post("/sessions/<id:session_id>/move")
def move(session_id: int):
    """The session was someone else's: it (and its body signature) moves to their profile."""
    _pin_or_abort("Not moved")
    text = request.form.get("profile_id", "")
    if not text.isdigit() or get_store().move_session(session_id, int(text)) is None:
        abort(400 if _session_or_404(get_store(), session_id) else 404, "Not moved: choose one of the profiles.")
    get_relay().send_command(SETTINGS_CHANGED)  # the body signature now counts for them
    return redirect(url_for("sessions.session", session_id=session_id))


def _session_or_404(store, session_id: int) -> dict:
    data = store.get_session(session_id)
    if data is None:
        abort(404, f"There is no session {session_id}.")
    return data


def _drain(text: io.StringIO) -> str:
    chunk = text.getvalue()
    text.seek(0)
    text.truncate()
    return chunk


@bp.app_template_filter("when")
def when(iso: str | None) -> str:
    """'Tue 24 Nov, 18:05' in the Pi's local time."""
    if not iso:
        return "–"
    return datetime.fromisoformat(iso).astimezone().strftime("%a %d %b, %H:%M")


@bp.app_template_filter("day")
def day(iso: str | None) -> str:
    """'21 Nov'."""
    if not iso:
        return "–"
    local = datetime.fromisoformat(iso).astimezone()
    return f"{local.day} {local:%b}"


@bp.app_template_filter("clock")
def clock(iso: str | None) -> str:
    """'Sat 18:05'."""
    return datetime.fromisoformat(iso).astimezone().strftime("%a %H:%M") if iso else ""


@bp.app_template_filter("duration")
def duration(seconds: float | None) -> str:
    """'12:05' (minutes:seconds), or '45 s' under a minute."""
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs} s"
