"""The pages in a real browser (Debian's chromium, phone viewport), served by waitress, with a
fake daemon on the live socket. Screenshots go to test-artifacts/screenshots/."""
from __future__ import annotations

from datetime import datetime, timedelta

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
