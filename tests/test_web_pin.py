"""The optional PIN: stored hashed, needed for settings, deleting and the PIN itself; unlocks
expire; wrong PINs pause longer and longer, and the count survives a restart."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

import web.guards
from mat.storage.pin import FREE_TRIES, LONGEST_PAUSE_S, PinLock, PinLockedOut, WrongPin
from mat.storage.store import Store
from web import create_app

PIN = "2468"


@pytest.fixture
def pin_set(store):
    PinLock(store).set(PIN)
    return PIN


def test_the_pin_is_stored_only_as_an_argon2id_hash(store, seeded):
    PinLock(store).set("97531")
    row = sqlite3.connect(seeded[0]).execute("SELECT hash FROM pin").fetchone()
    assert row[0].startswith("$argon2id$") and "97531" not in row[0]
    PinLock(store).check("97531")
    with pytest.raises(WrongPin):
        PinLock(store).check("97532")


def test_without_a_pin_changes_need_nothing(client, store):
    assert client.get("/api/pin").get_json() == {"set": False, "unlocked": True, "unlocked_for_s": 0}
    assert client.put("/api/settings", json={"floor": 0.6}).status_code == 200


def test_with_a_pin_settings_and_deleting_are_refused_until_unlocked(client, store, seeded, pin_set):
    session_id = seeded[1][0]
    response = client.put("/api/settings", json={"floor": 0.8})
    assert response.status_code == 403 and response.get_json()["field"] == "pin"
    assert client.delete(f"/api/sessions/{session_id}").status_code == 403
    assert client.post(f"/sessions/{session_id}/delete").status_code == 403
    assert store.get_settings()["floor"] == 0.5 and store.get_session(session_id) is not None

    wrong = client.post("/api/unlock", json={"pin": "1111"})
    assert wrong.status_code == 403 and f"{FREE_TRIES - 1} more tries" in wrong.get_json()["error"]
    right = client.post("/api/unlock", json={"pin": pin_set})
    assert right.status_code == 200 and right.get_json()["unlocked"] is True
    assert 14 * 60 < right.get_json()["unlocked_for_s"] <= 15 * 60
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Expires=" in cookie

    assert client.put("/api/settings", json={"floor": 0.8}).status_code == 200
    assert client.delete(f"/api/sessions/{session_id}").status_code == 200
    assert store.get_settings()["floor"] == 0.8 and store.get_session(session_id) is None

    assert client.post("/api/lock").get_json()["unlocked"] is False
    assert client.put("/api/settings", json={"floor": 0.7}).status_code == 403


def test_reading_and_the_commands_from_the_mat_stay_open(client, pin_set, seeded):
    for path in ("/", "/history", "/settings", f"/sessions/{seeded[1][0]}", "/api/sessions", "/api/settings"):
        assert client.get(path).status_code == 200, path
    assert client.post("/api/calibrate").status_code == 503  # no daemon here; not a PIN refusal


def test_an_unlock_expires(client, pin_set, monkeypatch):
    assert client.post("/api/unlock", json={"pin": pin_set}).status_code == 200
    assert client.put("/api/settings", json={"tempo_s": 4}).status_code == 200
    later = web.guards.time.time() + 15 * 60 + 1
    monkeypatch.setattr(web.guards.time, "time", lambda: later)
    assert client.get("/api/pin").get_json()["unlocked"] is False
    assert client.put("/api/settings", json={"tempo_s": 5}).status_code == 403


def test_changing_the_pin_locks_every_other_browser(app, pin_set, store):
    phone, tablet = app.test_client(), app.test_client()
    for browser in (phone, tablet):
        assert browser.post("/api/unlock", json={"pin": pin_set}).status_code == 200
    assert phone.put("/api/pin", json={"pin": "13579"}).status_code == 200
    assert phone.put("/api/settings", json={"sound": False}).status_code == 200
    assert tablet.put("/api/settings", json={"sound": True}).status_code == 403
    assert tablet.post("/api/unlock", json={"pin": pin_set}).status_code == 403
    assert tablet.post("/api/unlock", json={"pin": "13579"}).status_code == 200
    assert store.get_settings()["sound"] is False


@pytest.mark.parametrize("body", [{"pin": "12"}, {"pin": "12345678901234"}, {"pin": "12a4"}, {"pin": 1234},
                                  {"pin": None}, {}])
def test_a_pin_that_is_not_4_to_12_digits_is_a_400_naming_it(client, store, body):
    response = client.put("/api/pin", json=body)
    assert response.status_code == 400 and response.get_json()["field"] == "pin"
    assert store.get_pin() is None


def test_wrong_pins_pause_longer_each_time_and_a_restart_does_not_reset_it(app, seeded, short_dir, pin_set):
    client = app.test_client()
    for attempt in range(1, FREE_TRIES):
        assert client.post("/api/unlock", json={"pin": "0000"}).status_code == 403
    last_free = client.post("/api/unlock", json={"pin": "0000"})
    assert last_free.status_code == 403 and "try again in 30 s" in last_free.get_json()["error"]
    paused = client.post("/api/unlock", json={"pin": pin_set})  # even the right PIN waits
    assert paused.status_code == 429 and 25 <= int(paused.headers["Retry-After"]) <= 30
    assert paused.get_json()["field"] == "pin"

    restarted = create_app({"DATABASE": str(seeded[0]), "LIVE_SOCKET": str(short_dir / "mat.sock"), "TESTING": True})
    try:
        assert restarted.test_client().post("/api/unlock", json={"pin": pin_set}).status_code == 429
    finally:
        restarted.extensions["live_relay"].close()


def test_the_pause_doubles_up_to_a_quarter_hour_and_the_right_pin_resets_it(store, pin_set):
    clock = [1000.0]
    lock = PinLock(store, now=lambda: clock[0])
    pauses = []
    for _ in range(FREE_TRIES + 7):
        with pytest.raises(WrongPin):
            lock.check("0000")
        locked_until = store.get_pin()["locked_until"]
        pauses.append(round(locked_until - clock[0], 6) if locked_until else 0)
        if pauses[-1]:
            clock[0] += pauses[-1] - 1
            with pytest.raises(PinLockedOut):  # a second before the pause ends: even the right PIN waits
                lock.check(pin_set)
            clock[0] += 1.01
    assert pauses[:FREE_TRIES - 1] == [0] * (FREE_TRIES - 1)
    assert pauses[FREE_TRIES - 1:FREE_TRIES + 4] == [30, 60, 120, 240, 480]
    assert max(pauses) == LONGEST_PAUSE_S == pauses[-1]
    lock.check(pin_set)
    assert store.get_pin()["failures"] == 0


# -- the page ----------------------------------------------------------------------------------

def test_the_settings_form_asks_for_the_pin_and_saves_with_it(client, store, pin_set):
    page = client.get("/settings").get_data(as_text=True)
    assert 'name="pin"' in page and "Your PIN" in page
    form = {"floor": "0.65", "tempo_s": "3", "sound": "on"}
    refused = client.post("/settings", data=form)
    assert refused.status_code == 403 and 'data-field="pin"' in refused.get_data(as_text=True)
    assert store.get_settings()["floor"] == 0.5
    wrong = client.post("/settings", data=dict(form, pin="1357"))
    assert wrong.status_code == 403 and "wrong PIN" in wrong.get_data(as_text=True)
    assert client.post("/settings", data=dict(form, pin=pin_set)).status_code == 302
    assert store.get_settings()["floor"] == 0.65
    # unlocked now: the next change needs no PIN, and the page no longer asks for it
    assert 'name="pin"' not in client.get("/settings").get_data(as_text=True)
    assert client.post("/settings", data=dict(form, floor="0.7")).status_code == 302
    assert store.get_settings()["floor"] == 0.7


def test_a_pin_is_set_changed_and_removed_on_the_settings_page(client, store):
    bad = client.post("/settings/pin", data={"new_pin": "12", "confirm_pin": "12"})
    assert bad.status_code == 400 and 'data-field="new_pin"' in bad.get_data(as_text=True)
    differ = client.post("/settings/pin", data={"new_pin": "1234", "confirm_pin": "1243"})
    assert differ.status_code == 400 and 'data-field="confirm_pin"' in differ.get_data(as_text=True)
    assert store.get_pin() is None

    assert client.post("/settings/pin", data={"new_pin": "1234", "confirm_pin": "1234"}).status_code == 302
    assert "PIN set" in client.get("/settings?saved=pin_set").get_data(as_text=True)
    assert client.post("/settings/lock").status_code == 302
    removed_without = client.post("/settings/pin/remove")
    assert removed_without.status_code == 403 and store.get_pin() is not None
    assert client.post("/settings/pin/remove", data={"pin": "1234"}).status_code == 302
    assert store.get_pin() is None


def test_deleting_from_the_session_page_with_the_pin(client, store, seeded, pin_set):
    session_id = seeded[1][1]
    assert 'name="pin"' in client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert client.post(f"/sessions/{session_id}/delete", data={"pin": "0000"}).status_code == 403
    assert store.get_session(session_id) is not None
    assert client.post(f"/sessions/{session_id}/delete", data={"pin": pin_set}).status_code == 302
    assert store.get_session(session_id) is None


# -- mat pin -----------------------------------------------------------------------------------

def test_mat_pin_sets_shows_and_removes_the_pin(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\nstate_dir = "{tmp_path}"\nsocket = "{tmp_path}/mat.sock"\n')

    def mat(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "mat.cli", "--config", str(config), "pin", *args],
                              input=stdin, capture_output=True, text=True, timeout=60)

    assert "no PIN" in mat("status").stdout
    bad = mat("set", "--stdin", stdin="12ab\n")
    assert bad.returncode == 2 and bad.stderr.strip() == "mat pin: the PIN must be 4 to 12 digits; nothing changed"
    assert mat("set", "--stdin", stdin="864200\n").returncode == 0
    assert "a PIN is set" in mat("status").stdout
    PinLock(Store(tmp_path / "flatback.db")).check("864200")
    assert mat("remove").returncode == 0 and Store(tmp_path / "flatback.db").get_pin() is None
