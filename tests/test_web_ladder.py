"""The week view and the ladder in the API and on the pages (real SQLite, Flask's test client):
the week's numbers, the proposed rung and its acceptance behind the PIN and the cross-site rule,
what a session's reps looked like, and each rep's bounce."""
from datetime import datetime, timedelta, timezone

import pytest

from mat.profiles.week import monday
from mat.storage.pin import PinLock
from mat.storage.store import StoreWriter
from web_seed import seed_session


@pytest.fixture
def guest(store):
    """The seeded sessions are the guest's (stored before anyone was recognised)."""
    return store.guest_profile_id


def test_the_week_view_counts_sessions_against_the_goal_and_perfect_reps_by_week(client, guest):
    view = client.get(f"/api/profiles/{guest}/week?weeks=4").get_json()
    assert view["goal"] == {"min": 2, "max": 3}
    weeks = view["weeks"]
    assert len(weeks) == 4 and weeks[-1]["start"] == monday(datetime.now().astimezone().date()).isoformat()
    # The seeded sessions: 21 days ago (10 reps, 6 perfect), 7 days ago (14, 12), 2 hours ago (16, 15).
    assert [w["sessions"] for w in weeks].count(1) == 3 and sum(w["sessions"] for w in weeks) == 3
    assert sum(w["perfect_reps"] for w in weeks) == 6 + 12 + 15
    assert view["this_week"] == dict(weeks[-1], status="short")  # one session at most: short of 2
    assert [d["mean_descent_s"] for d in view["descents"]] == [2.1, 2.8, 3.2]  # oldest first


def test_a_session_without_reps_is_no_training_session_and_two_meet_the_goal(client, store, guest):
    before = client.get(f"/api/profiles/{guest}/week").get_json()["this_week"]["sessions"]
    writer = StoreWriter(store)
    now = datetime.now(timezone.utc)
    seed_session(store, writer, now - timedelta(seconds=50), reps=0, perfect=0, descent_s=0, t0=30000.0)
    assert client.get(f"/api/profiles/{guest}/week").get_json()["this_week"]["sessions"] == before
    for k in range(2 - before):
        seed_session(store, writer, now - timedelta(seconds=40 - k), reps=4, perfect=4, descent_s=3.0, t0=31000.0 + k)
    writer.close()
    this_week = client.get(f"/api/profiles/{guest}/week").get_json()["this_week"]
    assert (this_week["sessions"], this_week["status"]) == (2, "met")
    assert "Goal reached:" in client.get(f"/week?profile={guest}").get_data(as_text=True)


def test_fifteen_perfect_slow_reps_propose_the_next_rung_and_accepting_moves_the_profile(client, store, guest):
    ladder = client.get(f"/api/profiles/{guest}/week").get_json()["ladder"]
    assert ladder["variant"] == "straight" and ladder["rung"] == 5
    assert ladder["proposal"] == {"variant": "straight_weighted", "direction": "harder", "reps": 16,
                                  "slow_perfect_reps": 15, "liftoff_reps": 1}
    html = client.get(f"/week?profile={guest}").get_data(as_text=True)
    assert 'id="proposal"' in html and "Ready for the next rung." in html and 'data-variant="straight_weighted"' in html
    response = client.patch(f"/api/profiles/{guest}", json={"settings": {"variant": "straight_weighted"}})
    assert response.status_code == 200 and response.get_json()["settings"]["variant"] == "straight_weighted"
    assert store.get_settings(guest)["variant"] == "straight_weighted"
    ladder = client.get(f"/api/profiles/{guest}/week").get_json()["ladder"]
    assert ladder["rung"] == 6 and ladder["proposal"] is None  # the top of the ladder: nothing beyond


def test_many_lift_offs_propose_an_easier_rung(client, store, guest):
    writer = StoreWriter(store)
    seed_session(store, writer, datetime.now(timezone.utc) - timedelta(minutes=20), reps=9, perfect=5,
                 descent_s=3.3, t0=20000.0)
    writer.close()
    proposal = client.get(f"/api/profiles/{guest}/week").get_json()["ladder"]["proposal"]
    assert proposal == {"variant": "alternating", "direction": "easier", "reps": 9, "slow_perfect_reps": 5,
                        "liftoff_reps": 4}
    assert "Your back lifted in 4 of 9 reps" in client.get(f"/week?profile={guest}").get_data(as_text=True)


def test_accepting_a_rung_needs_the_pin_when_one_is_set_and_comes_from_the_mats_own_page(client, store, guest):
    PinLock(store).set("2468")
    refused = client.patch(f"/api/profiles/{guest}", json={"settings": {"variant": "straight_weighted"}})
    assert refused.status_code == 403 and store.get_settings(guest)["variant"] == "straight"
    assert "Your PIN" in client.get(f"/week?profile={guest}").get_data(as_text=True)  # the form asks for it
    assert client.post("/api/unlock", json={"pin": "2468"}).status_code == 200
    cross_site = client.patch(f"/api/profiles/{guest}", json={"settings": {"variant": "straight_weighted"}},
                              headers={"Origin": "http://evil.example"})
    assert cross_site.status_code == 403 and store.get_settings(guest)["variant"] == "straight"
    same_site = client.patch(f"/api/profiles/{guest}", json={"settings": {"variant": "straight_weighted"}},
                             headers={"Origin": "http://localhost"})
    assert same_site.status_code == 200 and store.get_settings(guest)["variant"] == "straight_weighted"


@pytest.mark.parametrize("body, field", [
    ({"settings": {"variant": "handstand"}}, "variant"),
    ({"settings": {"variant": None}}, "variant"),
    ({"settings": {"variant": 5}}, "variant"),
    ({"settings": "straight"}, "settings"),
])
def test_a_bad_variant_is_a_400_naming_it_and_changes_nothing(client, store, guest, body, field):
    response = client.patch(f"/api/profiles/{guest}", json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert response.get_json()["error"]
    assert store.get_settings(guest)["variant"] == "straight"


@pytest.mark.parametrize("query", ["weeks=0", "weeks=105", "weeks=two", "weeks=-1"])
def test_a_bad_number_of_weeks_is_a_400(client, guest, query):
    response = client.get(f"/api/profiles/{guest}/week?{query}")
    assert response.status_code == 400 and response.get_json()["field"] == "weeks"


def test_the_week_of_nobody_is_a_404_and_of_no_number_a_400(client):
    assert client.get("/api/profiles/999/week").status_code == 404
    assert client.get("/api/profiles/anna/week").status_code == 400
    assert client.get("/week?profile=999").status_code == 404
    assert client.get("/week?profile=anna").status_code == 400


def test_a_session_that_looked_alternating_suggests_switching_and_shows_each_reps_bounce(client, store, guest):
    writer = StoreWriter(store)
    session_id = writer.open_session({"floor": 0.5, "tempo_s": 3.0, "rows": 4, "cols": 4, "variant": "straight",
                                      "profile_id": guest})
    for k, (sway, bounce) in enumerate([(0.09, False), (-0.1, True), (0.08, False), (-0.09, False)], start=1):
        writer.add_rep(session_id, {"t": 5.0 * k, "type": "rep", "set": 1, "rep": k, "perfect": True,
                                    "descent_s": 3.4, "balance": 0.0, "depth": 0.8, "bounce": bounce, "sway": sway})
    writer.close_session(session_id, {"reps": 4, "perfect_reps": 4, "variant_seen": "alternating"})
    writer.close()
    html = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "the reps looked like <b>alternating</b>" in html
    assert 'id="suggestion"' in html and 'data-variant="alternating"' in html
    cells = [part.split("</td>")[0] for part in html.split('class="bounce-cell">')[1:]]
    assert ["bounce" in cell for cell in cells] == [False, True, False, False]
    # The week view suggests the same (its latest session), and proposes no rung on top of it.
    ladder = client.get(f"/api/profiles/{guest}/week").get_json()["ladder"]
    assert (ladder["seen"], ladder["suggestion"], ladder["proposal"]) == ("alternating", "alternating", None)
    # On alternating already, or dead bug (which moves the legs alternately too), nothing to suggest.
    client.patch(f"/api/profiles/{guest}", json={"settings": {"variant": "dead_bug"}})
    assert 'id="suggestion"' not in client.get(f"/sessions/{session_id}").get_data(as_text=True)
