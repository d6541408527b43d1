"""The web app through Flask's test client, on a real SQLite file seeded through mat.storage.store.

Pages, the JSON API, exports, deleting, settings validation (400s, all-or-nothing), commands
to a fake daemon (a real mat.daemon.live_socket.LiveServer) and the Server-Sent Events relay.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from mat.pipeline.settings import DEFAULTS

from mat.storage.recording import read_recording
from mat.storage.store import Store, StoreWriter
from web import create_app
from web.live_relay import Subscriber
from web_seed import COLS, FRAME_HZ, ROWS, seed_session, wait_for_commands

# -- pages -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/history", "/settings", "/profiles", "/profiles/1/report", "/history?profile=1"])
def test_every_page_renders_with_only_external_scripts_and_a_strict_csp(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and body.strip() == "" for attrs, body in scripts)
    assert "style=" not in html  # style-src 'self' forbids inline styles too
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_live_page_has_gauge_heatmap_counters_and_the_three_commands(client):
    html = client.get("/").get_data(as_text=True)
    for element in ('id="gauge"', 'class="gauge-floor"', 'class="gauge-warning"', 'id="heatmap"', 'id="reps"',
                    'id="perfect"', 'data-command="/api/calibrate"', 'data-command="/api/session/start"',
                    'data-command="/api/session/stop"', 'src="/static/live.js"', 'id="breath-rate"',
                    'id="breath-trace"', 'id="breath-holds"', 'id="breath-hold"'):
        assert element in html


def test_history_lists_sessions_newest_first_with_their_figures(client, seeded):
    html = client.get("/history").get_data(as_text=True)
    links = re.findall(r'href="/sessions/(\d+)"', html)
    assert [int(i) for i in links] == list(reversed(seeded[1]))
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    assert [c[2:6] for c in cells] == [["16", "15", "1", "3.2 s"], ["14", "12", "2", "2.8 s"],
                                       ["10", "6", "4", "2.1 s"]]
    assert cells[0][1] == "4 s"
    assert 'data-src="/api/sessions"' in html and "uPlot.iife.js" in html


def test_history_says_time_to_progress_after_15_perfect_reps_with_a_3_s_descent(client):
    html = client.get("/history").get_data(as_text=True)
    assert "Time to progress" in html and "15 perfect reps with a\n  3 s descent" in html


def test_history_sets_the_goal_when_recent_descents_are_too_fast(short_dir):
    path = short_dir / "fast.db"
    store = Store(path)
    writer = StoreWriter(store)
    seed_session(store, writer, datetime.now(timezone.utc), reps=20, perfect=20, descent_s=2.0)
    writer.close()
    app = create_app({"DATABASE": str(path), "LIVE_SOCKET": str(short_dir / "none.sock")})
    html = app.test_client().get("/history").get_data(as_text=True)
    assert "Time to progress" not in html
    assert "Goal: 15 perfect reps with a 3 s descent." in html and "Best lately: 0." in html


def test_history_without_sessions_says_how_one_starts(short_dir):
    app = create_app({"DATABASE": str(short_dir / "empty.db"), "LIVE_SOCKET": str(short_dir / "none.sock")})
    html = app.test_client().get("/history").get_data(as_text=True)
    assert "No sessions yet" in html and "history-chart" not in html


def test_session_page_shows_each_rep_with_its_descent_and_perfect_mark(client, seeded):
    newest = seeded[1][2]
    html = client.get(f"/sessions/{newest}").get_data(as_text=True)
    table = html.split('<table class="reps">')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td>\s*<td>([\d.]+) s</td>", table)
    assert len(rows) == 16 and rows[0] == ("1", "1", "3.2") and rows[-1] == ("2", "6", "3.2")
    assert table.count("✓") == 15 and table.count("✗") == 1
    assert f'data-src="/api/sessions/{newest}"' in html
    assert f'href="/sessions/{newest}.csv"' in html and f'href="/sessions/{newest}.json"' in html


def test_unknown_session_is_404_everywhere(client):
    assert client.get("/sessions/999").status_code == 404
    assert "There is no session 999" in client.get("/sessions/999").get_data(as_text=True)
    for response in (client.get("/api/sessions/999"), client.get("/sessions/999.csv"),
                     client.get("/sessions/999.json"), client.delete("/api/sessions/999")):
        assert response.status_code == 404 and "999" in response.get_json()["error"]
    assert client.post("/sessions/999/delete").status_code == 404


# -- exports and deleting ----------------------------------------------------------------------

def test_csv_export_reads_back_with_mat_recording_and_equals_the_stored_frames(client, store, seeded, short_dir):
    session_id = seeded[1][1]
    response = client.get(f"/sessions/{session_id}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f"flatback-session-{session_id}.csv" in response.headers["Content-Disposition"]
    path = short_dir / "export.csv"
    path.write_bytes(response.data)
    recording = read_recording(path)
    t, counts = store.session_frames(session_id)
    assert len(t) == 4 * FRAME_HZ
    assert (recording.rows, recording.cols) == (4, 4) and recording.header["material"] == "velostat"
    np.testing.assert_array_equal(recording.counts, counts)
    np.testing.assert_allclose(recording.t, t - t[0], atol=1e-6)
    assert recording.t[0] == 0.0


def test_json_export_and_api_session_carry_reps_events_and_samples(client, seeded):
    session_id = seeded[1][0]
    data = client.get(f"/api/sessions/{session_id}").get_json()
    assert data["session"]["id"] == session_id and data["session"]["reps"] == 10
    assert [r["perfect"] for r in data["reps"]] == [1] * 6 + [0] * 4
    assert [e["type"] for e in data["events"]].count("liftoff") == 4
    assert len(data["contact"]["t"]) == len(data["contact"]["values"]) == 40
    download = client.get(f"/sessions/{session_id}.json")
    assert download.get_json() == data and "attachment" in download.headers["Content-Disposition"]


def test_api_sessions_lists_the_summaries(client, seeded):
    sessions = client.get("/api/sessions").get_json()
    assert [s["id"] for s in sessions] == list(reversed(seeded[1]))
    assert [s["perfect_reps"] for s in sessions] == [15, 12, 6]
    # Closed without breathing figures (as before breathing was measured): unknown, not zero.
    assert all(s["breath_holds"] is None and s["mean_breath_bpm"] is None for s in sessions)


def test_sessions_without_breathing_figures_show_a_dash_not_a_number(client, seeded):
    html = client.get("/history").get_data(as_text=True)
    cells = re.findall(r'<td class="breath">(.*?)</td>', html, re.S)
    assert [c.strip() for c in cells] == ["–"] * 3
    page = client.get(f"/sessions/{seeded[1][2]}").get_data(as_text=True)
    assert '<b id="mean-breath">–</b>' in page and '<b id="breath-holds">–</b>' in page


def test_delete_from_the_page_removes_every_row_and_returns_to_history(client, store, seeded):
    session_id = seeded[1][0]
    response = client.post(f"/sessions/{session_id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/history"
    assert store.get_session(session_id) is None
    assert store.session_reps(session_id) == [] and store.session_events(session_id) == []
    assert store.session_samples(session_id) == ([], []) and len(store.session_frames(session_id)[0]) == 0
    assert [s["id"] for s in store.list_sessions()] == list(reversed(seeded[1][1:]))


def test_delete_through_the_api(client, store, seeded):
    session_id = seeded[1][2]
    assert client.delete(f"/api/sessions/{session_id}").get_json() == {"deleted": session_id}
    assert store.get_session(session_id) is None and store.session_reps(session_id) == []
    assert client.get(f"/api/sessions/{session_id}").status_code == 404


def test_a_cross_site_form_cannot_delete_or_change_settings(client, store, seeded):
    session_id = seeded[1][0]
    evil = {"Origin": "http://evil.example"}
    assert client.post(f"/sessions/{session_id}/delete", headers=evil).status_code == 403
    assert client.put("/api/settings", json={"floor": 0.8}, headers=evil).status_code == 403
    assert store.get_session(session_id) is not None and store.get_settings()["floor"] == 0.5
    same = {"Origin": "http://localhost"}
    assert client.post(f"/sessions/{session_id}/delete", headers=same).status_code == 302


# -- settings ----------------------------------------------------------------------------------

def test_put_settings_saves_and_tells_the_daemon(client, store, daemon):
    daemon.publish_state(lifted_state())
    response = client.put("/api/settings", json={"floor": 0.65, "tempo_s": 4, "sound": False})
    assert response.status_code == 200
    assert response.get_json() == dict(DEFAULTS, floor=0.65, tempo_s=4.0, sound=False, applied=True)
    assert store.get_settings() == dict(DEFAULTS, **{"floor": 0.65, "tempo_s": 4.0, "sound": False})
    assert wait_for_commands(daemon) == [{"cmd": "settings_changed"}]
    assert client.get("/api/settings").get_json() == dict(DEFAULTS, **{"floor": 0.65, "tempo_s": 4.0, "sound": False})


def test_put_settings_without_a_daemon_still_saves(client, store):
    response = client.put("/api/settings", json={"floor": 0.3})
    assert response.status_code == 200 and response.get_json()["applied"] is False
    assert store.get_settings()["floor"] == 0.3


@pytest.mark.parametrize("body, field", [
    ({"floor": 0.93}, "floor"),
    ({"floor": 0.33}, "floor"),
    ({"floor": "abc"}, "floor"),
    ({"floor": None}, "floor"),
    ({"floor": True}, "floor"),
    ({"tempo_s": 0.2}, "tempo_s"),
    ({"sound": "yes"}, "sound"),
    ({"colour": "red"}, "colour"),
    ({"floor": 0.6, "tempo_s": 99}, "tempo_s"),  # all or nothing: the good floor is not kept
])
def test_bad_settings_are_a_400_naming_the_field_and_change_nothing(client, store, daemon, body, field):
    response = client.put("/api/settings", json=body)
    assert response.status_code == 400
    error = response.get_json()
    assert error["field"] == field and error["error"]
    assert store.get_settings() == dict(DEFAULTS, **{"floor": 0.5, "tempo_s": 3.0, "sound": True})
    assert daemon.poll_commands() == []


@pytest.mark.parametrize("data", [b"", b"not json", b"[0.5]", b"{}"])
def test_a_settings_body_that_is_not_an_object_is_a_400(client, data):
    response = client.put("/api/settings", data=data, content_type="application/json")
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]


def test_the_settings_form_saves_and_redirects(client, store, daemon):
    response = client.post("/settings", data={"floor": "0.70", "tempo_s": "3.5"})
    assert response.status_code == 302 and response.headers["Location"] == "/settings?profile=1&saved=applied"
    assert store.get_settings() == dict(DEFAULTS, **{"floor": 0.7, "tempo_s": 3.5, "sound": False})
    assert wait_for_commands(daemon) == [{"cmd": "settings_changed"}]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved. The mat uses it now." in html and 'value="0.70"' in html


@pytest.mark.parametrize("form, field, words", [
    ({"floor": "0.93", "tempo_s": "3"}, "floor", "0.20 to 0.90"),
    ({"floor": "0.33", "tempo_s": "3"}, "floor", "steps of 0.05"),
    ({"floor": "abc", "tempo_s": "3"}, "floor", "must be a number"),
    ({"tempo_s": "3"}, "floor", "is missing"),
    ({"floor": "0.5", "tempo_s": "fast"}, "tempo_s", "must be a number"),
])
def test_the_settings_form_shows_what_is_wrong_with_a_400(client, store, form, field, words):
    response = client.post("/settings", data=dict(form, sound="on"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'data-field="{field}"' in html and words in html
    assert store.get_settings() == dict(DEFAULTS, **{"floor": 0.5, "tempo_s": 3.0, "sound": True})


# -- commands ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/calibrate", "/api/session/start", "/api/session/stop"])
def test_commands_without_the_daemon_are_a_503_saying_so(client, path):
    response = client.post(path)
    assert response.status_code == 503 and "not running" in response.get_json()["error"]


@pytest.mark.parametrize("path, command", [("/api/calibrate", "calibrate"),
                                           ("/api/session/start", "start_session"),
                                           ("/api/session/stop", "stop_session")])
def test_commands_reach_the_daemon_while_it_publishes_states(client, daemon, path, command):
    daemon.publish_state(lifted_state())  # the real daemon always has a state to send a newcomer
    response = client.post(path)
    assert response.status_code == 200 and response.get_json() == {"sent": command}
    assert wait_for_commands(daemon) == [{"cmd": command}]


def test_uplot_is_served_from_the_installed_package(client):
    import uplot

    response = client.get("/vendor/uplot/uPlot.iife.js")
    assert response.status_code == 200
    assert response.data == (Path(uplot.__file__).parent / "static" / "uPlot.iife.js").read_bytes()
    response.close()
    with client.get("/vendor/uplot/uPlot.min.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
    assert client.get("/vendor/uplot/__init__.py").status_code == 404


# -- the live stream ---------------------------------------------------------------------------

def read_events(response, want: str, timeout_s: float = 5.0) -> list[tuple[str, object]]:
    """(kind, data) of the stream's events up to and including the first of kind `want`."""
    seen = []
    deadline = time.monotonic() + timeout_s
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        match = re.match(r"event: (\w+)\ndata: (.*)\n\n", text)
        if match:
            seen.append((match[1], json.loads(match[2])))
            if match[1] == want:
                return seen
        assert time.monotonic() < deadline, f"no {want} event in {seen}"
    raise AssertionError(f"stream ended before a {want} event: {seen}")


def lifted_state(contact: float = 0.3) -> dict:
    return {"type": "state", "t": 12.5, "state": "lifted", "contact": contact, "floor": 0.5,
            "warning_floor": 0.65, "zone": "lifted", "pressure": [[0.2] * 4] * 4, "reps": 3,
            "perfect_reps": 2, "liftoffs": 1, "set": 1, "session_id": 3, "dead_cells": [],
            "offline_chips": [], "frame_rate_hz": 100.0, "cpu_ms": 0.4, "tempo_s": 3.0, "sound": True}


def test_the_live_stream_relays_the_daemons_state_and_lets_go_when_closed(app, client, daemon):
    daemon.publish_state(lifted_state())
    response = client.get("/api/live", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    relay = app.extensions["live_relay"]
    assert relay.subscriber_count == 1
    events = read_events(response, "state")
    assert events[0] == ("daemon", {"connected": events[0][1]["connected"]})
    assert events[-1][1]["state"] == "lifted" and events[-1][1]["contact"] == 0.3
    daemon.publish_event({"type": "event", "event": {"t": 13.0, "type": "liftoff", "contact": 0.3}})
    assert read_events(response, "event")[-1][1]["event"]["type"] == "liftoff"
    response.close()
    assert relay.subscriber_count == 0


def test_the_live_stream_refuses_viewers_beyond_the_limit(seeded, short_dir):
    app = create_app({"DATABASE": str(seeded[0]), "LIVE_SOCKET": str(short_dir / "mat.sock"), "MAX_LIVE_CLIENTS": 2})
    client = app.test_client()
    streams = [client.get("/api/live", buffered=False) for _ in range(2)]
    refused = client.get("/api/live")
    assert refused.status_code == 503 and "at most 2" in refused.get_json()["error"]
    streams[0].close()
    again = client.get("/api/live", buffered=False)
    assert again.status_code == 200
    for response in (streams[1], again):
        response.close()
    app.extensions["live_relay"].close()


def test_the_live_stream_says_when_the_daemon_is_not_running(client):
    response = client.get("/api/live", buffered=False)
    assert read_events(response, "daemon")[-1] == ("daemon", {"connected": False})
    response.close()


def test_a_slow_viewer_gets_the_latest_state_and_the_events_in_order():
    viewer = Subscriber(max_events=3)
    for i in range(5):
        viewer.offer({"type": "state", "t": i})
        viewer.offer({"type": "event", "event": {"t": i, "type": "rep"}})
    messages = viewer.take(timeout_s=0)
    assert [m["event"]["t"] for m in messages[:-1]] == [2, 3, 4]  # oldest events dropped
    assert messages[-1] == {"type": "state", "t": 4}  # only the newest state
    assert viewer.take(timeout_s=0) == []


def test_a_session_still_going_shows_what_is_stored_so_far(client, seeded):
    """The session page and the history row agree on a session under way (the same summary
    rule as its `session_end`)."""
    store = Store(seeded[0])
    writer = StoreWriter(store)
    session_id = writer.open_session({"rows": ROWS, "cols": COLS, "floor": 0.5})
    writer.add_event(session_id, {"t": 10.0, "type": "present"})
    for k, perfect in enumerate([True, False, True], start=1):
        rep = {"t": 10.0 + k, "type": "rep", "set": 1, "rep": k, "end_t": 10.0 + k, "descent_s": 3.0,
               "perfect": perfect, "balance": 0.1}
        writer.add_rep(session_id, rep)
        writer.add_event(session_id, rep)
    writer.add_event(session_id, {"t": 11.5, "type": "liftoff", "contact": 0.4})
    for t, rate in ((20.0, None), (30.0, 14.0), (40.0, 15.0)):
        writer.add_event(session_id, {"t": t, "type": "breathing", "rate_bpm": rate})
    writer.add_event(session_id, {"t": 44.0, "type": "breath_hold", "duration_s": 4.0})
    writer.close()
    store.close()
    html = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    counters = re.findall(r"<div(?: class=\"\w+\")?><b>([^<]*)</b><small>", html)
    assert counters[:3] == ["3", "2", "1"] and "still going" in html
    row = next(s for s in client.get("/api/sessions").get_json() if s["id"] == session_id)
    assert (row["status"], row["reps"], row["perfect_reps"], row["liftoffs"], row["sets"]) == ("open", 3, 2, 1, 1)
    assert (row["mean_breath_bpm"], row["breath_holds"]) == (14.5, 1)  # the known rates only
    assert '<b id="mean-breath">14.5</b>' in html and '<b id="breath-holds">1</b>' in html
    assert client.get(f"/sessions/{session_id}.csv").status_code == 200  # no frames yet: a header only


def test_a_person_chosen_while_no_daemon_runs_is_kept_for_the_next_session(client, store):
    anna = store.create_profile("Anna")["id"]
    response = client.post(f"/api/profiles/{anna}/choose")
    assert response.status_code == 200 and response.get_json() == {"chosen": anna, "applied": False}
    # Nobody can be lying on a mat whose daemon is down: the choice waits for the next session.
    assert store.next_session_profile_id() == anna and store.current_profile_id() == anna


def test_a_person_chosen_while_the_daemon_runs_is_the_daemons_to_place(client, store, daemon):
    anna = store.create_profile("Anna")["id"]
    response = client.post(f"/api/profiles/{anna}/choose")
    assert response.get_json() == {"chosen": anna, "applied": True}
    assert wait_for_commands(daemon) == [{"cmd": "choose_profile", "profile_id": anna}]
    # This session's or the next one's: the daemon knows whether someone is lying down.
    assert store.next_session_profile_id() is None
