"""End to end in a real browser: the real daemon on emulated chips with a simulated person who
arches, the web server, and chromium. Nothing is faked between the pressure cells and the page."""
import time

import pytest

from conftest import real_mat_serving

ARCHING = """
person mass_kg=72 seed=91
empty 1
lie_down 1
relax 2
press 4
set reps=6 descent_s=2 ascent_s=1.5 arch_reps=1,2,3,4,5,6 arch_s=2.5 arch_depth=0.25
rest 30
"""


@pytest.fixture
def real_mat(workdir):
    """`mat run --emulated` playing ARCHING, and the app on waitress reading its socket."""
    with real_mat_serving(workdir, ARCHING) as served:
        yield served


def test_the_live_page_follows_the_simulated_person_arching_and_the_floor_slider_reaches_the_daemon(real_mat, page):
    base, app = real_mat
    page.goto(base + "/")
    # The person lies down, presses flat (calibrated), lifts the legs and arches on every rep.
    page.locator("#banner[data-state='lifted']").wait_for(timeout=40_000)
    assert page.locator("#state-word").inner_text() == "Lifted"
    assert page.locator("#gauge").get_attribute("data-zone") == "lifted"
    assert int(page.locator("#contact-value").inner_text().rstrip(" %")) < 50
    # The floor slider: the new floor is saved and the daemon reports it back in its live state.
    page.goto(base + "/settings")
    page.locator("#floor").fill("0.75")
    page.locator("#save").click()
    page.wait_for_load_state()
    relay = app.extensions["live_relay"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        state = relay.latest_state or {}
        if state.get("floor") == 0.75:
            break
        time.sleep(0.1)
    assert state.get("floor") == 0.75, state
    assert state.get("warning_floor") == 0.95
    assert page.problems == []
