"""/api/sessions: the history, one session, deleting one."""
from __future__ import annotations

from flask import jsonify

from web.api import bp
from web.db import get_store
from web.guards import json_error, pin_required


@bp.get("/sessions")
def sessions():
    return jsonify(get_store().list_sessions())


@bp.get("/sessions/<id:session_id>")
def session(session_id: int):
    """The session row, its reps, events and contact samples ({"t": [...], "values": [...]})."""
    data = get_store().export_session_json(session_id)
    if data is None:
        return json_error(404, f"no session {session_id}")
    return jsonify(data)


@bp.delete("/sessions/<id:session_id>")
@pin_required
def delete_session(session_id: int):
    if not get_store().delete_session(session_id):
        return json_error(404, f"no session {session_id}")
    return jsonify({"deleted": session_id})


@bp.route("/sessions/<path:text>", methods=["GET", "DELETE"])
def not_a_session_id(text: str):
    """Anything else after /api/sessions/ (the routes above take the numbers)."""
    return json_error(400, f"must be a session number (a whole number from 1), not {text!r}", field="session_id")
