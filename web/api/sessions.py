"""/api/sessions: the history, one session, deleting one."""
from __future__ import annotations

from flask import jsonify, request

from mat.daemon.live_socket import SETTINGS_CHANGED

from web.api import bp
from web.db import get_store
from web.guards import json_error, pin_required
from web.live_relay import get_relay


def profile_filter():
    """?profile=N: (N, None), or (None, None) without it, or (None, a 400) when N is no profile id."""
    text = request.args.get("profile")
    if text is None:
        return None, None
    if not text.isdigit() or not 1 <= int(text) < 2**63:
        return None, json_error(400, f"must be a profile number, not {text[:20]!r}", field="profile")
    return int(text), None


@bp.get("/sessions")
def sessions():
    """Every session, newest first; ?profile=N: only that person's."""
    profile_id, problem = profile_filter()
    return problem or jsonify(get_store().list_sessions(profile_id))


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


@bp.patch("/sessions/<id:session_id>")
@pin_required
def move_session(session_id: int):
    """{"profile_id": N}: the session (and its body signature) belongs to that person now."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"profile_id"}:
        return json_error(400, 'send {"profile_id": <a profile number>}', field="profile_id")
    profile_id = body["profile_id"]
    if isinstance(profile_id, float) and profile_id.is_integer():
        profile_id = int(profile_id)  # 3.0 is a whole number in JSON
    if not isinstance(profile_id, int) or isinstance(profile_id, bool) or not 1 <= profile_id < 2**63:
        return json_error(400, "must be a profile number (a whole number from 1)", field="profile_id")
    store = get_store()
    if store.get_session(session_id) is None:
        return json_error(404, f"no session {session_id}")
    moved = store.move_session(session_id, profile_id)
    if moved is None:
        return json_error(404, f"no profile {profile_id}", field="profile_id")
    get_relay().send_command(SETTINGS_CHANGED)  # its body signature now counts for that person
    return jsonify(moved)


@bp.route("/sessions/<path:text>", methods=["GET", "DELETE", "PATCH"])
def not_a_session_id(text: str):
    """Anything else after /api/sessions/ (the routes above take the numbers)."""
    return json_error(400, f"must be a session number (a whole number from 1), not {text!r}", field="session_id")
