"""The coach on the page and in the API: the floor finder's command and results (a chart by
week), the plan, variant and stop-here depth among the settings, bad values refused."""
from datetime import datetime, timedelta, timezone

import pytest

from mat.pipeline.settings import DEFAULTS
from web_seed import wait_for_commands


def add_results(store, angles_weeks_ago):
    now = datetime.now(timezone.utc)
    with store.transaction() as db:
        for angle, weeks in angles_weeks_ago:
            db.execute("INSERT INTO floor_tests (taken_at, profile_id, beats, angle_deg, depth, reached_floor)"
                       " VALUES (?,?,?,?,?,?)",
                       ((now - timedelta(weeks=weeks)).isoformat(timespec="seconds"), store.current_profile_id(),
                        10 * (1 - angle / 90),
                        angle, round(1 - angle / 90, 3), int(angle == 0)))


def test_the_floor_finder_command_reaches_the_daemon(client, daemon):
    response = client.post("/api/floor-finder")
    assert response.status_code == 200 and response.get_json() == {"sent": "floor_finder"}
    assert wait_for_commands(daemon) == [{"cmd": "floor_finder"}]


def test_the_floor_finder_without_a_daemon_is_a_503(client):
    response = client.post("/api/floor-finder")
    assert response.status_code == 503 and "not running" in response.get_json()["error"]


def test_the_floor_page_charts_the_results_by_week_lower_is_stronger(client, store):
    assert "No results yet" in client.get("/floor").get_data(as_text=True)
    add_results(store, [(45.0, 3), (38.0, 2), (30.0, 1), (22.0, 0)])
    results = client.get("/api/floor-tests").get_json()
    assert [r["angle_deg"] for r in results] == [45.0, 38.0, 30.0, 22.0]  # oldest first
    html = client.get("/floor").get_data(as_text=True)
    assert html.count('class="point"') == 4 and "week 4" in html
    # Points run left to right in time and fall as the angle falls (90° at the top, 0° at the bottom).
    import re
    points = [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([0-9.]+)" cy="([0-9.]+)"', html)]
    assert [x for x, _ in points] == sorted(x for x, _ in points)
    assert [y for _, y in points] == sorted(y for _, y in points)
    assert ">22°<" in html and ">45°<" in html


def test_the_plan_variant_and_stop_depth_are_settings(client, store, daemon):
    response = client.put("/api/settings", json={"plan_sets": 4, "plan_reps": 12, "rest_s": 90,
                                                 "variant": "dead_bug", "stop_depth": 0.55})
    assert response.status_code == 200
    assert store.get_settings() == dict(DEFAULTS, plan_sets=4, plan_reps=12, rest_s=90, variant="dead_bug",
                                        stop_depth=0.55)
    assert client.put("/api/settings", json={"stop_depth": None}).get_json()["stop_depth"] is None
    form = {"floor": "0.5", "tempo_s": "3", "plan_sets": "2", "plan_reps": "15", "rest_s": "45",
            "variant": "straight_weighted", "stop_depth": "62"}
    assert client.post("/settings", data=form).status_code == 302
    assert store.get_settings() == dict(DEFAULTS, sound=False, plan_sets=2, plan_reps=15, rest_s=45,
                                        variant="straight_weighted", stop_depth=0.62)


@pytest.mark.parametrize("body, field", [
    ({"plan_sets": 0}, "plan_sets"), ({"plan_sets": 2.5}, "plan_sets"), ({"plan_sets": True}, "plan_sets"),
    ({"plan_reps": 51}, "plan_reps"), ({"rest_s": 5}, "rest_s"), ({"rest_s": "60"}, "rest_s"),
    ({"variant": "hanging"}, "variant"), ({"stop_depth": 1.5}, "stop_depth"), ({"stop_depth": "deep"}, "stop_depth"),
    ({"plan_sets": 1e308}, "plan_sets"),
])
def test_bad_plan_values_are_a_400_naming_the_field(client, store, body, field):
    response = client.put("/api/settings", json=body)
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert store.get_settings() == DEFAULTS


def test_the_settings_form_refuses_a_bad_plan_with_a_400(client, store):
    form = {"floor": "0.5", "tempo_s": "3", "plan_sets": "many", "plan_reps": "10", "rest_s": "60"}
    response = client.post("/settings", data=form)
    assert response.status_code == 400 and "plan_sets" in response.get_data(as_text=True)
    assert store.get_settings() == DEFAULTS


def test_floor_finder_results_are_each_persons_own_and_in_their_report(client, store):
    add_results(store, [(40.0, 1), (25.0, 0)])
    me, guest = store.current_profile_id(), store.guest_profile_id
    assert [r["angle_deg"] for r in client.get(f"/api/floor-tests?profile={me}").get_json()] == [40.0, 25.0]
    assert client.get(f"/api/floor-tests?profile={guest}").get_json() == []
    assert client.get("/api/floor-tests?profile=x").status_code == 400
    report = client.get(f"/api/profiles/{me}/report").get_json()
    assert [f["angle_deg"] for f in report["floor_finder"]] == [40.0, 25.0]
    html = client.get(f"/profiles/{me}/report").get_data(as_text=True)
    assert 'id="floor-finder"' in html and "40°" in html and "25°" in html
    assert client.get(f"/api/profiles/{guest}/report").get_json()["floor_finder"] == []
