"""The floor finder end to end in a real browser: the real daemon on emulated chips with a
simulated person who follows the beat (their back gives way 60 % of the way down: 36° above
the floor), started from the page; its stored result on the chart beside earlier weeks'."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from emulated_daemon import start_emulated_daemon
from mat.storage.store import Store
from web import create_app
from web_seed import waitress_in_thread

from conftest import screenshot

ASKS_AT_S = 16.0  # the scenario's floor_test step starts here: the person asks, then follows the beat
FOLLOWS_THE_BEAT = f"""
person mass_kg=70 seed=61
empty 1
lie_down 1.5
relax 3
press 4
rest 6.5
floor_test give_way=0.6 pace=1.0
rest 40
"""


@pytest.fixture
def real_mat(workdir):
    store = Store(workdir / "flatback.db")
    now = datetime.now(timezone.utc)
    # Two earlier weeks' results of "Me": alone on this new mat (Me and the guest), the person's
    # session (and the floor finder's result) is theirs while the mat learns their body.
    with store.transaction() as db:
        for angle, weeks in ((52.0, 2), (44.0, 1)):
            db.execute("INSERT INTO floor_tests (taken_at, profile_id, beats, angle_deg, depth, reached_floor)"
                       " VALUES (?,?,?,?,?,0)",
                       ((now - timedelta(weeks=weeks)).isoformat(timespec="seconds"), store.list_profiles()[0]["id"],
                        10 * (1 - angle / 90), angle, round(1 - angle / 90, 3)))
    store.close()
    daemon = start_emulated_daemon(workdir, FOLLOWS_THE_BEAT)
    app = create_app({"DATABASE": str(workdir / "flatback.db"), "LIVE_SOCKET": str(workdir / "mat.sock"),
                      "SECRET_KEY": "test"})
    with waitress_in_thread(app) as server:
        yield f"http://127.0.0.1:{server.effective_port}", app, workdir
    daemon.terminate()
    daemon.wait(timeout=10)


def test_the_floor_finder_from_the_page_stores_and_charts_where_the_back_gave_way(real_mat, page):
    base, app, workdir = real_mat
    # The emulated person's script starts when the daemon builds it, a little before its loop's
    # clock starts: line the two up on their arrival (the script's `present`, 1.75 s in).
    relay = app.extensions["live_relay"]
    store = Store(workdir / "flatback.db")
    deadline = time.monotonic() + 30
    present = None
    while present is None:  # the daemon stores the session's events about every second
        assert time.monotonic() < deadline, "nobody arrived on the mat"
        events = store.session_events(1) if store.get_session(1) else []
        present = next((e["t"] for e in events if e["type"] == "present"), None)
        time.sleep(0.1)
    me = store.list_profiles()[0]["id"]
    while store.current_profile_id() != me:  # the guest's until the first calibration: then theirs
        assert time.monotonic() < deadline, "the session never became Me's"
        time.sleep(0.1)
    store.close()
    page.goto(base + "/floor")  # whom the mat serves: Me, whose session it is
    assert page.locator("#floor-chart .point").count() == 2
    ask_at = ASKS_AT_S + present - 1.75
    deadline = time.monotonic() + 60
    while (relay.latest_state or {}).get("t", 0) < ask_at - 0.05:
        assert time.monotonic() < deadline, "the daemon never got there"
        time.sleep(0.01)
    page.locator("#floor-finder").click()
    # The page follows the beat, then says stop, then shows the stored result (it reloads).
    try:
        page.locator("#floor-finder-status", has_text="Beat").wait_for(timeout=15_000)
    except Exception:
        raise AssertionError((page.locator("#action-result").inner_text(), page.locator("#floor-finder-status").inner_text(),
                              relay.latest_state))
    page.locator("#floor-finder-status", has_text="Stop").wait_for(timeout=15_000)
    page.locator("#floor-chart .point >> nth=2").wait_for(timeout=10_000)
    rows = Store(workdir / "flatback.db").floor_tests(me)
    assert len(rows) == 3
    angle = rows[-1]["angle_deg"]
    # 90° × (1 − 0.6) = 36° with the beat followed exactly; here the person's script and the click
    # are lined up only to a few tenths of a second (a beat's tenth is 9°).
    assert angle == pytest.approx(36.0, abs=10), rows[-1]
    assert page.locator("#floor-tests .angle").first.inner_text() == f"{angle:.0f}°"  # newest first
    assert float(page.locator("#floor-chart .point >> nth=2").get_attribute("data-angle")) == angle
    assert "of the way down" in page.locator("#stop-depth").inner_text()
    screenshot(page, "floor-finder")
    assert page.problems == []
