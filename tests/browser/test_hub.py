"""`mat hub` in a real browser: three mats publishing to a real Mosquitto, the hub subscribed
to it (web/hub.py on waitress), chromium showing the room. One mat's user lifts the back; one mat
is killed and its last will marks it offline."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mat.config import MqttConfig
from mat.daemon.mqtt import MqttPublisher
from web.hub import create_hub_app
from web_seed import waitress_in_thread

from conftest import SCREENSHOTS, live_state

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1280, "height": 760}


def _settings(broker, mat_id):
    return MqttConfig(enabled=True, host="127.0.0.1", port=broker.port, mat_id=mat_id, keepalive_s=5,
                      discovery=False)


def _killable_mat(broker, mat_id):
    """A mat in its own process, publishing one state, that can be killed without a goodbye."""
    state = live_state("resting", 0.95, reps=3, perfect_reps=3, liftoffs=0, session_id=1)
    script = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
              "from mat.config import MqttConfig\nfrom mat.daemon.mqtt import MqttPublisher\n"
              f"p = MqttPublisher(MqttConfig(enabled=True, host='127.0.0.1', port={broker.port}, mat_id={mat_id!r}, "
              "keepalive_s=5, discovery=False))\n"
              "while not p.connected: time.sleep(0.05)\n"
              f"p.offer_state({state!r})\n"
              "print('ready', flush=True)\ntime.sleep(120)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    return child


@pytest.fixture
def hub(broker):
    app = create_hub_app(_settings(broker, "hub"))
    with waitress_in_thread(app) as server:
        yield f"http://127.0.0.1:{server.effective_port}"


def test_the_hub_shows_every_mat_live_and_a_lifted_back_stands_out(broker, hub, chromium_browser):
    mats = {name: MqttPublisher(_settings(broker, name)) for name in ("bay-1", "bay-2", "bay-3")}
    doomed = _killable_mat(broker, "bay-4")
    context = chromium_browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        for publisher in mats.values():
            deadline = time.monotonic() + 10
            while not publisher.connected and time.monotonic() < deadline:
                time.sleep(0.05)
        mats["bay-1"].offer_state(live_state("exercising", 0.91, reps=8, perfect_reps=7, liftoffs=1, set=1))
        mats["bay-2"].offer_state(live_state("lifted", 0.31, reps=5, perfect_reps=3, liftoffs=2, set=2))
        mats["bay-3"].offer_state(live_state("empty", None, reps=0, perfect_reps=0, liftoffs=0, set=0,
                                             session_id=None))
        page.goto(hub + "/")
        page.locator(".mat[data-mat='bay-4']").wait_for(timeout=10000)
        for name in ("bay-1", "bay-2", "bay-3"):
            page.locator(f".mat[data-mat='{name}']").wait_for(timeout=10000)
        assert [el.get_attribute("data-mat") for el in page.locator(".mat").all()] == ["bay-1", "bay-2", "bay-3", "bay-4"]
        lifted = page.locator(".mat[data-mat='bay-2']")
        page.locator(".mat[data-mat='bay-2'][data-zone='lifted']").wait_for(timeout=5000)
        assert lifted.locator(".mat-status").inner_text() == "LIFTED"
        assert lifted.locator(".contact-value").inner_text() == "31 %"
        assert [lifted.locator(f".{k}").inner_text() for k in ("reps", "perfect", "liftoffs", "set")] == ["5", "3", "2", "2"]
        # the lifted card is red; the others are not
        red = lifted.evaluate("el => getComputedStyle(el).borderTopColor")
        calm = page.locator(".mat[data-mat='bay-1']").evaluate("el => getComputedStyle(el).borderTopColor")
        assert red == "rgb(207, 34, 46)" and calm != red
        assert page.locator(".mat[data-mat='bay-3'] .contact-value").inner_text() == "–"
        # the user presses the back down: the card calms
        mats["bay-2"].offer_state(live_state("exercising", 0.88, reps=6, perfect_reps=4, liftoffs=2, set=2))
        page.locator(".mat[data-mat='bay-2'][data-zone='ok']").wait_for(timeout=5000)
        mats["bay-2"].offer_state(live_state("lifted", 0.31, reps=6, perfect_reps=4, liftoffs=3, set=2))
        page.locator(".mat[data-mat='bay-2'][data-zone='lifted']").wait_for(timeout=5000)
        # a finished session arrives (as the outbox sends it): it is listed under the mat
        import json

        from paho.mqtt.client import CallbackAPIVersion, Client

        sender = Client(CallbackAPIVersion.VERSION2)
        sender.connect("127.0.0.1", broker.port)
        sender.loop_start()
        summary = {"session_id": 41, "mat": "bay-1", "ended_at": "2026-03-02T18:30:00+00:00", "reps": 12,
                   "perfect_reps": 10, "liftoffs": 2, "mean_descent_s": 3.1}
        sender.publish("flatback/bay-1/session", json.dumps(summary), qos=1, retain=True).wait_for_publish(5)
        sender.loop_stop()
        sender.disconnect()
        page.get_by_text("10/12 perfect, 2 lift-offs").wait_for(timeout=5000)
        # bay-4's process dies: the broker's last will marks it offline on the page
        os.kill(doomed.pid, signal.SIGKILL)
        page.locator(".mat[data-mat='bay-4'][data-online='false']").wait_for(timeout=10000)
        assert page.locator(".mat[data-mat='bay-4'] .mat-status").inner_text().startswith("Offline")
        assert problems == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "hub.png"), full_page=True)
    finally:
        context.close()
        for publisher in mats.values():
            publisher.close()
        doomed.kill()
        doomed.wait()
        doomed.stdout.close()
