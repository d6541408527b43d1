"""The week view in a real browser (Debian's chromium at a phone's viewport, the app on waitress,
a real SQLite file): this week against the goal, perfect reps and descent tempo by week drawn by
uPlot, and the ladder's proposal accepted on the page, with and without a PIN."""
from __future__ import annotations

from datetime import datetime

from mat.profiles.week import monday
from mat.storage.pin import PinLock
from mat.storage.store import Store

from conftest import screenshot

#: The browser fixtures' seeded sessions (conftest.seeded), oldest first: perfect reps, mean descent.
SEEDED = [(6, 2.1), (9, 2.5), (12, 2.9), (15, 3.2)]


def seeded_weeks(path) -> tuple[int, dict[str, int]]:
    """The guest's id and their seeded sessions' perfect reps by local week (Monday)."""
    store = Store(path)
    guest = store.guest_profile_id
    by_week: dict[str, int] = {}
    for session in store.list_sessions(guest):
        week = monday(datetime.fromisoformat(session["started_at"]).astimezone().date()).isoformat()
        by_week[week] = by_week.get(week, 0) + session["perfect_reps"]
    store.close()
    return guest, by_week


def test_the_week_view_shows_the_weeks_numbers_and_accepting_the_proposal_moves_up_a_rung(site, page, seeded,
                                                                                           fake_daemon):
    guest, by_week = seeded_weeks(seeded[0])
    assert sorted(by_week.values()) == [p for p, _ in SEEDED]  # one session a week, three weeks back and more
    page.goto(f"{site}/week?profile={guest}")
    for chart in ("sessions-chart", "perfect-chart", "descent-chart"):
        page.locator(f"#{chart}[data-drawn='1'] canvas").wait_for(timeout=5000)
    this_monday = monday(datetime.now().astimezone().date()).isoformat()
    assert page.locator("#week-sessions").inner_text() == str(int(this_monday in by_week))
    assert page.locator("#week-perfect").inner_text() == str(by_week.get(this_monday, 0))
    assert page.locator("#goal-note").get_attribute("data-status") == "short"
    for week, perfect in by_week.items():
        row = page.locator(f"#weeks tr[data-start='{week}']")
        assert row.locator(".sessions-count").inner_text() == "1" and row.locator(".good").inner_text() == str(perfect)
    # What the charts drew: sessions and perfect reps per week (twelve weeks), each session's descent.
    sessions = [int(v) for v in page.locator("#sessions-chart").get_attribute("data-values").split(",")]
    perfect = [int(v) for v in page.locator("#perfect-chart").get_attribute("data-values").split(",")]
    assert len(sessions) == 12 and sum(sessions) == 4 and sorted(p for p in perfect if p) == [6, 9, 12, 15]
    descents = [float(v) for v in page.locator("#descent-chart").get_attribute("data-values").split(",")]
    assert descents == [d for _, d in SEEDED]
    # The ladder: on straight legs (rung 5); the newest session had 15 perfect reps of 3.1-3.3 s.
    assert page.locator("#ladder li[aria-current]").get_attribute("data-variant") == "straight"
    proposal = page.locator("#proposal")
    assert "Ready for the next rung. 15 perfect reps with a descent of 3 s or more" in proposal.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits a phone
    screenshot(page, "week")
    proposal.get_by_role("button", name="Move to straight legs, light weight").click()
    page.locator("#ladder-saved").wait_for(timeout=5000)
    assert "Now on straight legs, light weight" in page.locator("#ladder-saved").inner_text()
    assert page.locator("#ladder li[aria-current]").get_attribute("data-variant") == "straight_weighted"
    assert page.locator("#proposal").count() == 0  # the top rung: nothing beyond
    assert fake_daemon.commands() == [{"cmd": "settings_changed"}]  # the mat uses it at once
    store = Store(seeded[0])
    assert store.get_settings(guest)["variant"] == "straight_weighted"
    store.close()
    assert page.problems == []


def test_with_a_pin_the_proposal_asks_for_it_and_a_wrong_one_changes_nothing(site, page, seeded):
    guest, _ = seeded_weeks(seeded[0])
    store = Store(seeded[0])
    PinLock(store).set("8642")
    page.goto(f"{site}/week?profile={guest}")
    form = page.locator("#proposal")
    form.locator("input[name=pin]").fill("1111")
    form.get_by_role("button").click()
    page.get_by_text("Not changed: wrong PIN").wait_for(timeout=5000)
    assert store.get_settings(guest)["variant"] == "straight"
    form.locator("input[name=pin]").fill("8642")
    form.get_by_role("button").click()
    page.locator("#ladder-saved").wait_for(timeout=5000)
    assert store.get_settings(guest)["variant"] == "straight_weighted"
    store.close()
    assert [p for p in page.problems if "403" not in p] == []  # the refused unlock is the browser's own 403 line
