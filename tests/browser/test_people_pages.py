"""Profiles in a real browser: people made on the page, a session of the real daemon landing on
the person chosen on the live page, the history filtered by person, the physiotherapist's report
printed to PDF with its charts, and deleting a person behind the PIN."""
from __future__ import annotations

import re

import pytest

from mat.storage.pin import PinLock
from mat.storage.store import Store

from conftest import SCREENSHOTS, real_mat_serving, screenshot

def _closed_sessions_and_signatures(db, page):
    """The sessions closed in the store (waiting up to 40 s for the first) and the bodies learnt."""
    store = Store(db)
    try:
        for _ in range(400):
            sessions = [s for s in store.list_sessions() if s["status"] == "closed"]
            if sessions:
                break
            page.wait_for_timeout(100)
        return sessions, store.body_signatures()
    finally:
        store.close()


#: Lies down after the page has had time to make two profiles, stays a while, gets up.
ONE_SESSION = """
person mass_kg=70 seed=5
empty 10
lie_down 1
relax 3
press 3
rest 8
get_up 1
empty 60
"""


@pytest.fixture
def real_mat(workdir):
    with real_mat_serving(workdir, ONE_SESSION) as (base, _):
        yield base, workdir / "flatback.db"


def make_profile(page, base: str, name: str) -> int:
    page.goto(base + "/profiles")
    page.locator("#new-name").fill(name)
    page.locator("#make-profile").click()
    page.locator("#profiles-saved").wait_for()
    return int(page.locator(f"li.person:has(b.person-name:text-is('{name}'))").get_attribute("data-profile"))


def test_two_people_made_on_the_page_and_a_session_lands_on_the_one_chosen_on_the_mat(real_mat, page):
    base, db = real_mat
    anna, ben = make_profile(page, base, "Anna"), make_profile(page, base, "Ben")
    assert page.locator("li.person").count() == 4  # Me, Anna, Ben, and the guest last
    assert page.locator("li.person").last.locator("b.person-name").inner_text() == "Guest"
    screenshot(page, "people")
    page.goto(base + "/")
    # Nobody's body is known yet: the mat asks, with the guest's floor meanwhile.
    page.locator("#who[data-asking='true']").wait_for(timeout=40_000)
    assert page.locator("#who-name").inner_text() == "Who is on the mat?"
    assert "guest's floor" in page.locator("#who-note").inner_text()
    screenshot(page, "live-who-asks")
    page.locator(f"#who-pick button[data-profile='{ben}']").click()
    page.locator(f"#who[data-profile='{ben}'][data-asking='false']").wait_for(timeout=5000)
    assert page.locator("#who-name").inner_text() == "Ben"
    # Ben gets up: his session is stored as his, with his body's signature.
    sessions, signatures = _closed_sessions_and_signatures(db, page)
    assert [s["profile_id"] for s in sessions] == [ben]
    assert list(signatures) == [ben] and len(signatures[ben]) == 1
    page.goto(base + f"/history?profile={ben}")
    assert page.locator("table.sessions tbody tr").count() == 1
    page.goto(base + f"/history?profile={anna}")
    assert page.locator("table.sessions tbody tr").count() == 0
    assert page.problems == []


def test_someone_alone_on_the_mat_finds_their_session_under_their_own_name(real_mat, page):
    """A new mat has one person's profile ("Me") and the guest: while the mat learns that body,
    the sessions are theirs, said on the live page as a suggestion they can change."""
    base, db = real_mat
    page.goto(base + "/")
    # Lying down: calibrated, the mat says it is theirs (and a chirp says so by ear).
    page.locator("#who[data-profile='1'][data-asking='false'] #who-name:text-is('Me?')").wait_for(timeout=40_000)
    assert page.locator("#change").inner_text() == "— change" and page.locator("#change").is_visible()
    assert page.locator("#who-note").inner_text() == "Me's floor applies."
    screenshot(page, "live-alone")
    sessions, signatures = _closed_sessions_and_signatures(db, page)
    assert [s["profile_id"] for s in sessions] == [1]
    assert list(signatures) == [1]  # the mat learns their body from it
    page.goto(base + "/history?profile=1")
    assert page.locator("table.sessions tbody tr").count() == 1
    page.goto(base + "/history?profile=2")  # the guest's
    assert page.locator("table.sessions tbody tr").count() == 0
    assert page.problems == []


@pytest.fixture
def two_people(seeded):
    """The seeded sessions (oldest first) shared: the two oldest Anna's, the two newest Ben's."""
    store = Store(seeded[0])
    anna = store.create_profile("Anna", "#bf3989", {"floor": 0.6})["id"]
    ben = store.create_profile("Ben", "#1a7f37")["id"]
    for session_id, who in zip(seeded[1], (anna, anna, ben, ben)):
        store.move_session(session_id, who)
    store.close()
    return anna, ben


def test_the_history_filters_by_person(site, page, two_people):
    anna, ben = two_people
    page.goto(site + "/history")
    assert page.locator("table.sessions tbody tr").count() == 4
    page.locator(f"nav.filters a[data-profile='{anna}']").click()
    page.wait_for_url(re.compile(rf".*profile={anna}$"))
    assert page.locator("table.sessions tbody tr").count() == 2
    assert page.locator("h1").inner_text() == "History · Anna"
    page.locator("#history-chart[data-drawn='1'] canvas").wait_for(timeout=5000)
    # the chart too shows only Anna's sessions
    assert page.evaluate("document.getElementById('history-chart').dataset.src").endswith(f"profile={anna}")
    screenshot(page, "history-anna")
    assert page.problems == []


def test_the_report_prints_on_at_most_two_a4_pages_with_its_charts(site, page, two_people):
    anna, ben = two_people
    page.goto(site + f"/profiles/{ben}/report")
    page.locator("#reps-chart[data-drawn='1'] canvas").wait_for(timeout=5000)
    page.locator("#descent-chart[data-drawn='1'] canvas").wait_for(timeout=5000)
    totals = page.locator("#totals tr").nth(1).locator("td")
    assert [totals.nth(i).inner_text().split()[0] for i in range(4)] == ["2", "30", "27", "3"]  # 14 + 16 reps, 12 + 15 perfect
    assert page.locator("table.report-sessions tbody tr").count() == 2
    screenshot(page, "report")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi: the charts drawn at print width
    page.reload()
    page.locator("#descent-chart[data-drawn='1'] canvas").wait_for(timeout=5000)
    page.emulate_media(media="print")
    screenshot(page, "report-print")  # what the paper shows: no navigation or buttons
    assert page.locator("nav").first.is_hidden() and page.locator("#print").is_hidden()
    pdf = page.pdf(format="A4", print_background=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "report.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    images = len(re.findall(rb"/Subtype\s*/Image", pdf))
    assert 1 <= pages <= 2, pages
    assert images >= 2, images  # both charts' canvases are in the printed page
    # The JSON and CSV exports hold the same sessions.
    data = page.request.get(site + f"/profiles/{ben}/report.json").json()
    assert (data["totals"]["sessions"], data["totals"]["perfect_reps"]) == (2, 27)
    csv = page.request.get(site + f"/profiles/{ben}/report.csv").text().splitlines()
    assert csv[0].startswith("session_id,started_at") and len(csv) == 3
    assert page.problems == []


def test_deleting_a_person_needs_the_pin_and_removes_their_sessions(site, page, two_people, seeded):
    anna, ben = two_people
    store = Store(seeded[0])
    PinLock(store).set("2468")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(site + "/profiles")
    person = page.locator(f"li.person[data-profile='{anna}']")
    person.locator("summary").click()
    person.locator("form.delete-profile input[name=pin]").fill("1111")
    person.locator("form.delete-profile button").click()
    assert "wrong PIN" in page.locator("#profiles-error").inner_text()
    assert store.get_profile(anna) is not None and len(store.list_sessions(anna)) == 2
    person = page.locator(f"li.person[data-profile='{anna}']")
    person.locator("summary").click()
    person.locator("form.delete-profile input[name=pin]").fill("2468")
    person.locator("form.delete-profile button").click()
    page.locator("#profiles-saved").wait_for()
    assert store.get_profile(anna) is None and store.list_sessions(anna) == []
    assert len(store.list_sessions(ben)) == 2 and page.locator(f"li.person[data-profile='{anna}']").count() == 0
    store.close()
    assert [p for p in page.problems if "403" not in p] == []
