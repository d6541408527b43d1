"""The page on the home network: security headers on every answer, 404/405/413 that say what
is wrong, and no form input — typed by a user or forged — that breaks a page or half-changes
anything. (The JSON API is fuzzed against its description in test_api_fuzz.py.)"""
from __future__ import annotations

import pytest

from mat.pipeline.settings import DEFAULTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mat.storage.pin import PinLock

CSP_MUST = ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'")


def assert_hardened(response) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert all(part in csp for part in CSP_MUST) and "unsafe-inline" not in csp, csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/", 200), ("GET", "/history", 200), ("GET", "/settings", 200), ("GET", "/api/sessions", 200),
    ("GET", "/api/openapi.json", 200), ("GET", "/static/style.css", 200), ("GET", "/vendor/uplot/uPlot.iife.js", 200),
    ("GET", "/no/such/page", 404), ("GET", "/api/nothing", 404), ("POST", "/history", 405),
    ("PUT", "/api/settings", 400), ("POST", "/api/calibrate", 503),
])
def test_every_kind_of_answer_carries_the_security_headers(client, method, path, status):
    response = client.open(path, method=method)
    response.close()  # static files are streamed from disk
    assert response.status_code == status
    assert_hardened(response)


def test_the_live_stream_carries_them_too(client):
    stream = client.get("/api/live", buffered=False)
    try:
        assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
        assert_hardened(stream)
    finally:
        stream.close()


def test_unknown_routes_are_404_a_page_for_people_json_for_the_api_a_bad_id_400(client):
    page = client.get("/sessions/abc")
    assert page.status_code == 404 and page.mimetype == "text/html"
    for bad in ("-3", "0", "abc", "1.5", "7/reps"):
        api = client.get(f"/api/sessions/{bad}")
        assert api.status_code == 400 and api.get_json()["field"] == "session_id", bad
        assert client.delete(f"/api/sessions/{bad}").status_code == 400
    assert client.get("/api/sessions/99999999999999999999999").status_code == 404
    assert client.delete("/api/sessions/99999999999999999999999").status_code == 404


def test_wrong_methods_are_405_naming_the_allowed_ones(client):
    api = client.post("/api/sessions")
    assert api.status_code == 405 and set(api.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert api.get_json()["error"] == "POST is not allowed on /api/sessions; allowed: GET, HEAD, OPTIONS"
    page = client.delete("/settings")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


def test_oversized_bodies_are_413_and_change_nothing(client, store):
    padding = "x" * (65 * 1024)
    big_json = client.put("/api/settings", data='{"floor": 0.8, "pad": "' + padding + '"}',
                          content_type="application/json")
    assert big_json.status_code == 413 and big_json.get_json()["error"]
    big_form = client.post("/settings", data={"floor": "0.8", "tempo_s": "3", "pad": padding})
    assert big_form.status_code == 413
    PinLock(store).set("2468")  # even a request that would be refused for the PIN is told its size
    locked = client.put("/api/settings", data="[" + "1," * 40000 + "1]", content_type="application/json")
    assert locked.status_code == 413 and "at most 65536" in locked.get_json()["error"]
    assert store.get_settings()["floor"] == 0.5


@pytest.mark.parametrize("body, content_type", [
    ("{not json", "application/json"), ("[1, 2]", "application/json"), ("floor=0.8", "application/x-www-form-urlencoded"),
    ('{"floor": NaN}', "application/json"), ('{"floor": 1e999}', "application/json"), ("", "application/json"),
])
def test_malformed_json_is_a_400_with_a_message(client, store, body, content_type):
    response = client.put("/api/settings", data=body, content_type=content_type)
    assert response.status_code == 400 and response.get_json()["error"]
    assert store.get_settings() == dict(DEFAULTS, **{"floor": 0.5, "tempo_s": 3.0, "sound": True})


@pytest.mark.parametrize("method, path", [
    ("POST", "/settings"), ("PUT", "/api/settings"), ("POST", "/api/calibrate"), ("POST", "/api/session/start"),
    ("POST", "/api/session/stop"), ("DELETE", "/api/sessions/1"), ("POST", "/sessions/1/delete"),
    ("POST", "/api/unlock"), ("PUT", "/api/pin"), ("POST", "/settings/pin"),
])
@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"}, {"Origin": "null"}, {"Referer": "http://192.168.1.66/attack.html"},
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost"},
])
def test_every_change_forged_from_another_site_is_refused(client, store, daemon, method, path, headers):
    response = client.open(path, method=method, headers=headers, data={"floor": "0.8", "tempo_s": "3"})
    assert response.status_code == 403 and "cross-site" in response.get_json()["error"]
    assert store.get_settings()["floor"] == 0.5 and store.get_session(1) is not None
    assert daemon.poll_commands() == []


def test_the_mats_own_page_may_change_things(client, daemon):
    same = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/calibrate", headers=same).status_code == 200


# -- the forms, fuzzed --------------------------------------------------------------------------

FORM_FIELDS = ("floor", "tempo_s", "sound", "pin", "new_pin", "confirm_pin")
form_values = st.one_of(st.text(max_size=30), st.sampled_from(["0.5", "0.65", "0.9", "8", "1", "2468", "on", "nan",
                                                               "inf", "-0", "1e309", "0x10", " 0.7 ", "2468 "]))
forms = st.dictionaries(st.sampled_from(FORM_FIELDS), form_values, max_size=6)


@pytest.mark.parametrize("pin", [None, "2468"])
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(form=forms, target=st.sampled_from(["/settings", "/settings/pin", "/settings/pin/remove", "/settings/lock",
                                           "/sessions/{id}/delete"]))
def test_no_form_input_breaks_a_page_and_a_refused_form_changes_nothing(app, store, seeded, pin, form, target):
    if pin and store.get_pin() is None:
        PinLock(store).set(pin)
    client = app.test_client()  # a new browser: never unlocked
    def stored():  # a wrong PIN does count a failure: the PIN's hash is what must stay
        pin_row = store.get_pin()
        return store.get_settings(), [s["id"] for s in store.list_sessions()], pin_row and pin_row["hash"]

    before = stored()
    path = target.replace("{id}", str(seeded[1][0]))
    response = client.post(path, data=form)
    assert response.status_code in (302, 400, 403, 404, 429), (path, form, response.status_code)
    if response.status_code != 302:
        assert stored() == before
        html = response.get_data(as_text=True)  # says what went wrong: on the form, or an error page
        assert response.mimetype == "text/html" and ('role="alert"' in html or 'class="big"' in html), html
