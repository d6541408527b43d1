"""The pages in a real browser (Debian's chromium, phone viewport), served by waitress, with a
fake daemon on the live socket. Screenshots go to test-artifacts/screenshots/."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from mat.pipeline.events import make_event
from mat.storage.store import Store

from conftest import live_state, screenshot


def test_live_page_shows_the_back_lifted_below_the_floor(site, page, fake_daemon):
    page.goto(site + "/")
    contacts = [1.0, 0.92, 0.8, 0.7, 0.62, 0.55, 0.48, 0.4, 0.33]
    fake_daemon.play([live_state("lifted" if c < 0.5 else "exercising", c) for c in contacts])
    banner = page.locator("#banner[data-state='lifted']")
    banner.wait_for(timeout=5000)
    assert page.locator("#state-word").inner_text() == "Lifted"
    assert page.locator("#contact-value").inner_text() == "33 %"
    gauge = page.locator("#gauge")
    assert gauge.get_attribute("data-zone") == "lifted"
    fill = page.locator("#gauge .gauge-fill").bounding_box()
    floor = page.locator("#gauge .gauge-floor").bounding_box()
    box = gauge.bounding_box()
    assert fill["y"] > floor["y"] + 1  # the bar's top is below the floor line
    assert abs((box["y"] + box["height"] - floor["y"]) / box["height"] - 0.5 / 1.2) < 0.03
    assert page.locator("#heatmap .cell").count() == 16
    assert [page.locator(f"#{i}").inner_text() for i in ("reps", "perfect", "liftoffs")] == ["7", "6", "1"]
    assert page.problems == []
    screenshot(page, "live")


def breath_trace(bpm: float | None, seconds: float = 20.0) -> dict:
    """A live state's breathing trace: `seconds` of the signal every 0.4 s (flat when bpm is None)."""
    n = int(seconds / 0.4)
    return {"dt_s": 0.4, "values": [round(5 * math.sin(2 * math.pi * bpm / 60 * 0.4 * i), 1) if bpm else 0.1 * (i % 2)
                                    for i in range(n)]}


def test_live_page_shows_the_breathing_rate_its_trace_and_a_held_breath(site, page, fake_daemon):
    page.goto(site + "/")
    fake_daemon.play([live_state("resting", 0.98, reps=0, perfect_reps=0, liftoffs=0)])
    page.locator("#banner[data-state='resting']").wait_for(timeout=5000)
    assert page.locator("#breath-rate").inner_text() == "–"  # not known yet: no number
    assert page.locator("#breath-trace polyline").get_attribute("points") == ""
    assert "lie still" in page.locator("#breath-trace-note").inner_text()

    fake_daemon.play([live_state("resting", 0.98, breath_rate_bpm=14.2, breath_trace=breath_trace(14))])
    page.locator("#breath-trace[data-samples='50']").wait_for(timeout=5000)
    assert page.locator("#breath-rate").inner_text() == "14"
    points = [tuple(map(float, p.split(","))) for p in page.locator("#breath-trace polyline").get_attribute("points").split()]
    assert len(points) == 50 and points[-1][0] == 200.0 and points[0][0] == 4.0  # 19.6 s back, newest right
    ys = [y for _, y in points]
    assert max(ys) - min(ys) > 30  # the breaths fill most of the 60-unit box
    assert page.locator("#breath-hold").is_hidden()

    # The breath stops: the daemon says so in its state, then the cue's event arrives.
    flat = breath_trace(None)
    fake_daemon.play([live_state("resting", 0.98, breath_holding=True, breath_holds=1, breath_trace=flat)])
    page.locator("#breath-hold:not([hidden])").wait_for(timeout=5000)
    assert "holding your breath" in page.locator("#breath-hold").inner_text()
    assert page.locator("#breath-holds").inner_text() == "1"
    ys = [float(p.split(",")[1]) for p in page.locator("#breath-trace polyline").get_attribute("points").split()]
    assert max(ys) - min(ys) < 3  # flat, and not blown up to fill the box
    fake_daemon.event(make_event(31.0, "breath_hold", duration_s=4.1))
    fake_daemon.play([live_state("resting", 0.98, breath_holding=True, breath_holds=1, breath_trace=flat)])
    page.get_by_text("You have held your breath 4 s: breathe.").wait_for(timeout=5000)
    screenshot(page, "live-breath-held")

    # Legs up: the rate is unknown and the trace gone; the count stays.
    fake_daemon.play([live_state("exercising", 0.9, breath_holds=1)])
    page.locator("#breath-trace[data-samples='0']").wait_for(timeout=5000)
    assert page.locator("#breath-rate").inner_text() == "–"
    assert page.locator("#breath-holds").inner_text() == "1"
    assert page.problems == []


def test_live_page_calibrate_button_reaches_the_daemon(site, page, fake_daemon):
    page.goto(site + "/")
    fake_daemon.play([live_state("waiting", 0.2)])
    page.locator("#banner[data-state='waiting']").wait_for(timeout=5000)
    page.locator("#calibrate").click()
    page.get_by_text("calibrating now", exact=False).or_(page.get_by_text("Press your back flat and hold still")).first.wait_for()
    assert fake_daemon.commands() == [{"cmd": "calibrate"}]


def test_settings_floor_slider_previews_saves_and_tells_the_daemon(site, page, fake_daemon, seeded):
    page.goto(site + "/settings")
    fake_daemon.play([live_state("exercising", 0.72)])
    page.get_by_text("72 %").wait_for(timeout=5000)
    line_before = page.locator("#preview-gauge .gauge-floor").bounding_box()["y"]
    page.locator("#floor").fill("0.65")
    assert page.locator("#floor-value").inner_text() == "0.65"
    assert page.locator("#preview-gauge .gauge-floor").bounding_box()["y"] < line_before - 5  # the line went up
    assert page.locator("#preview-gauge").get_attribute("data-zone") == "warning"  # 0.72 is just above 0.65
    screenshot(page, "settings")
    page.locator("#save").click()
    page.locator("#settings-saved").wait_for()
    assert "The mat uses it now" in page.locator("#settings-saved").inner_text()
    assert fake_daemon.commands() == [{"cmd": "settings_changed"}]
    store = Store(seeded[0])
    assert store.get_settings()["floor"] == 0.65
    store.close()
    assert page.locator("#floor").input_value() == "0.65"
    assert page.problems == []


def test_history_page_draws_the_chart_and_says_when_to_progress(site, page):
    page.goto(site + "/history")
    page.locator("#history-chart[data-drawn='1'] canvas").wait_for(timeout=5000)
    assert page.locator("table.sessions tbody tr").count() == 4
    newest = page.locator("table.sessions tbody tr").first.locator("td.breath")
    assert newest.inner_text().split() == ["14.8", "1", "held"]  # mean resting rate, held breaths
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table fits a phone
    assert "Time to progress. 15 perfect reps with a 3 s descent" in page.locator("#progression").inner_text()
    assert page.problems == []
    screenshot(page, "history")


def test_history_with_one_session_labels_its_day_not_the_epoch(site, page, seeded):
    """A single session gives the time axis no span; its ticks must still be real days."""
    store = Store(seeded[0])
    for session_id in seeded[1][:-1]:
        store.delete_session(session_id)
    newest = store.get_session(seeded[1][-1])
    store.close()
    page.goto(site + "/history")
    page.locator("#history-chart[data-ticks] canvas").wait_for(timeout=5000)
    ticks = page.locator("#history-chart").get_attribute("data-ticks").split("|")
    day = datetime.fromisoformat(newest["started_at"])
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), ticks  # days around it, each once
    assert all(label.split()[0] in (f"{day:%b}", f"{day.replace(day=1) - timedelta(days=1):%b}",
                                    f"{day + timedelta(days=7):%b}") for label in ticks), ticks
    assert page.problems == []


def test_session_page_draws_the_contact_chart(site, page, seeded):
    newest = seeded[1][-1]
    page.goto(site + f"/sessions/{newest}")
    canvas = page.locator("#session-chart[data-drawn='1'] canvas")
    canvas.wait_for(timeout=5000)
    assert canvas.bounding_box()["width"] > 300
    assert page.locator("table.reps tbody tr").count() == 16
    # Below it, the breathing rate with the held breath marked, and both in the summary.
    breath = page.locator("#breath-chart[data-drawn='1']")
    breath.locator("canvas").wait_for(timeout=5000)
    assert breath.get_attribute("data-holds") == "1"
    assert breath.get_attribute("data-rates") == "6"  # 8 reports, 2 of them unknown (legs moving)
    assert breath.locator("canvas").bounding_box()["width"] > 300
    assert page.locator("#mean-breath").inner_text() == "14.8"  # (13.4 + 13.8 + 14.6 + 15.0 + 15.8 + 16.2) / 6
    assert page.locator("#breath-holds").inner_text() == "1"
    assert page.problems == []
    screenshot(page, "session")


def test_deleting_a_session_from_its_page_returns_to_history(site, page, seeded):
    oldest = seeded[1][0]
    page.goto(site + f"/sessions/{oldest}")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("form.confirm-delete button").click()
    page.wait_for_url(site + "/history")
    assert page.locator("table.sessions tbody tr").count() == 3
    assert page.locator(f"a[href='/sessions/{oldest}']").count() == 0


def test_a_pin_set_on_the_settings_page_guards_changes_from_every_browser(site, page, fake_daemon, seeded,
                                                                             chromium_browser):
    page.goto(site + "/settings")
    page.locator("#new_pin").fill("2468")
    page.locator("#confirm_pin").fill("2468")
    page.locator("#set-pin").click()
    assert "PIN set" in page.locator("#settings-saved").inner_text()
    page.locator("#lock").click()
    assert "Locked" in page.locator("#settings-saved").inner_text()

    page.locator("#floor").fill("0.75")
    page.locator("form.settings input[name=pin]").first.fill("1357")
    page.locator("#save").click()
    error = page.locator("#settings-error")
    assert error.get_attribute("data-field") == "pin" and "wrong PIN" in error.inner_text()
    screenshot(page, "settings-pin-wrong")
    page.locator("#floor").fill("0.75")
    page.locator("form.settings input[name=pin]").first.fill("2468")
    page.locator("#save").click()
    page.locator("#settings-saved").wait_for()
    store = Store(seeded[0])
    assert store.get_settings()["floor"] == 0.75
    store.close()

    # Another phone on the Wi-Fi: watching is open, deleting needs the PIN.
    other = chromium_browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    try:
        other.goto(site + f"/sessions/{seeded[1][0]}")
        other.on("dialog", lambda dialog: dialog.accept())
        other.locator("form.confirm-delete input[name=pin]").fill("0000")
        other.locator("form.confirm-delete button").click()
        assert "Not deleted: wrong PIN" in other.locator("p.big").inner_text()
        other.goto(site + "/history")
        assert other.locator("table.sessions tbody tr").count() == 4
    finally:
        other.context.close()
    assert [p for p in page.problems if "403" not in p] == []  # the wrong PIN's page is a 403


def coach_state(**changes) -> dict:
    """The live state's `coach` part, as mat/pipeline/live.py sends it."""
    coach = {"plan_sets": 3, "plan_reps": 10, "rest_s": 60, "sets_done": 1, "set_of_plan": 2, "set_perfect": 7,
             "finished": False, "rest_remaining_s": None, "depth": 0.64, "stop_depth": 0.7, "floor_finder": None}
    coach.update(changes)
    return coach


def test_live_page_shows_set_x_of_y_perfect_reps_toward_the_set_the_rest_countdown_and_cues(site, page, fake_daemon):
    page.goto(site + "/")
    fake_daemon.play([live_state("exercising", 0.9, coach=coach_state())])
    page.locator("#plan-set", has_text="2 of 3").wait_for(timeout=5000)
    assert page.locator("#plan-perfect").inner_text() == "7 / 10"
    assert page.locator("#depth").inner_text() == "64 %"
    assert page.locator("#rest").inner_text() == "–"
    fake_daemon.event(make_event(31.0, "stop_cue", depth=0.61, stop_depth=0.7))
    page.locator("#coach-note", has_text="Stop here").wait_for(timeout=5000)
    fake_daemon.play([live_state("resting", 0.98, coach=coach_state(sets_done=2, set_of_plan=3, set_perfect=10,
                                                                     rest_remaining_s=45.0, depth=None))])
    page.locator("#rest", has_text="0:45").wait_for(timeout=5000)
    assert page.locator("#plan-set").inner_text() == "3 of 3"
    assert page.locator("#depth").inner_text() == "–"
    fake_daemon.event(make_event(40.0, "set_done", set=3, perfect_reps=10, sets_planned=3, last=True))
    page.locator("#coach-note", has_text="Plan done").wait_for(timeout=5000)
    assert page.problems == []
