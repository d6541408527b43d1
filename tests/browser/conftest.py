"""Browser fixtures: the app served by waitress on a free port, a fake daemon (a real
mat.daemon.live_socket.LiveServer publishing scripted states), a seeded store, and Debian's chromium
driven by Playwright's sync API at a phone's viewport."""
from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from mat.daemon.live_socket import LiveServer
from mat.storage.store import Store, StoreWriter
from web import create_app
from web_seed import waitress_in_thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CYCLE_S = 5.0  # one rep: legs down and up


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


def contact_at(t: float, arches: list[tuple[float, float]]) -> float:
    """A lumbar contact curve: a small sag each rep, deep dips (arches) in `arches` intervals."""
    value = 0.97 - 0.12 * (1 - math.cos(2 * math.pi * t / CYCLE_S)) / 2
    for a, b in arches:
        if a <= t <= b:
            value -= 0.6 * math.sin(math.pi * (t - a) / (b - a))
    return round(value, 4)


def seed_session(store: Store, writer: StoreWriter, started_at: datetime, reps: int, arch_reps: tuple[int, ...],
                 descent_s: float, t0: float = 500.0) -> int:
    """A session as the daemon stores it: frames, 10 Hz contact samples, events and reps."""
    session_id = writer.open_session({"floor": 0.5, "tempo_s": 3.0, "rows": 4, "cols": 4, "material": "velostat",
                                      "gain": 1}, started_at=started_at.isoformat())
    seconds = 3 + reps * CYCLE_S + 2
    arches = [(3 + (k - 1) * CYCLE_S + 1.5, 3 + (k - 1) * CYCLE_S + 3.0) for k in arch_reps]
    rng = np.random.default_rng(session_id)
    for i in range(int(seconds * 20)):
        writer.add_frame(session_id, t0 + i / 20, rng.integers(300, 18000, size=(4, 4), dtype=np.int32))
    was_lifted = False
    for i in range(int(seconds * 10)):
        t = i / 10
        contact = contact_at(t - 3, [(a - 3, b - 3) for a, b in arches]) if t >= 3 else 1.0
        writer.add_sample(session_id, t0 + t, contact)
        if contact < 0.5 and not was_lifted:
            writer.add_event(session_id, {"t": t0 + t, "type": "liftoff", "contact": contact})
        elif contact >= 0.5 and was_lifted:
            writer.add_event(session_id, {"t": t0 + t, "type": "contact", "duration_s": 0.5})
        was_lifted = contact < 0.5
    writer.add_event(session_id, {"t": t0, "type": "present"})
    for k in range(1, reps + 1):
        end = t0 + 3 + k * CYCLE_S
        rep = {"t": end, "type": "rep", "set": 1 + (k - 1) // 10, "rep": 1 + (k - 1) % 10,
               "top_t": end - CYCLE_S, "bottom_t": end - CYCLE_S / 2, "end_t": end,
               "descent_s": descent_s + 0.1 * (k % 3), "perfect": k not in arch_reps, "balance": 0.03}
        writer.add_rep(session_id, rep)
        writer.add_event(session_id, rep)
    # Breathing every 10 s: unknown now and then (legs moving), one held breath cued at 40 s.
    rates = [None if k % 3 == 0 else round(13.0 + 0.4 * k, 1) for k in range(1, int(seconds // 10) + 1)]
    for k, rate in enumerate(rates, start=1):
        writer.add_event(session_id, {"t": t0 + 10 * k, "type": "breathing", "rate_bpm": rate})
    writer.add_event(session_id, {"t": t0 + 40.0, "type": "breath_hold", "duration_s": 5.0})
    known = [r for r in rates if r is not None]
    writer.close_session(session_id, {"reps": reps, "perfect_reps": reps - len(arch_reps), "liftoffs": len(arch_reps),
                                      "sets": 1 + (reps - 1) // 10, "mean_descent_s": descent_s + 0.1,
                                      "duration_s": seconds, "balance": 0.03, "breath_holds": 1,
                                      "mean_breath_bpm": round(sum(known) / len(known), 1)})
    writer.flush()
    return session_id


class FakeDaemon:
    """The daemon's side of the live socket, with scripted states."""

    def __init__(self, path: str) -> None:
        self.server = LiveServer(path)

    def play(self, states: list[dict], interval_s: float = 0.08) -> None:
        """Publish `states` one after another (the last one stays the current state)."""
        for state in states:
            self.server.publish_state(state)
            time.sleep(interval_s)

    def event(self, event: dict) -> None:
        """Publish one pipeline event, as the daemon's _emit does."""
        self.server.publish_event({"type": "event", "event": event})

    def commands(self, count: int = 1, timeout_s: float = 5.0) -> list[dict]:
        found: list[dict] = []
        deadline = time.monotonic() + timeout_s
        while len(found) < count and time.monotonic() < deadline:
            found += self.server.poll_commands()
            time.sleep(0.02)
        return found


def live_state(state: str, contact: float | None, **changes) -> dict:
    base = {"type": "state", "t": 30.0, "state": state, "contact": contact, "floor": 0.5, "warning_floor": 0.65,
            "zone": None if contact is None else ("lifted" if contact < 0.5 else "warning" if contact < 0.65 else "ok"),
            "pressure": [[round(0.25 + 0.2 * r + 0.05 * c, 2) for c in range(4)] for r in range(4)],
            "reps": 7, "perfect_reps": 6, "liftoffs": 1, "set": 1, "session_id": 3, "dead_cells": [],
            "offline_chips": [], "frame_rate_hz": 100.0, "cpu_ms": 0.5, "tempo_s": 3.0, "sound": True,
            "breath_rate_bpm": None, "breath_holding": False, "breath_holds": 0, "breath_trace": None}
    base.update(changes)
    return base


@pytest.fixture(scope="session")
def chromium_browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing and CI is set: install Debian's chromium (make browser)")
        pytest.skip(f"{CHROMIUM} is missing: `sudo apt-get install chromium` (or `make browser`) to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="fbb-", dir="/tmp"))  # short: Unix socket paths are limited
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def seeded(workdir):
    """Database path and session ids, oldest first: four sessions over four weeks."""
    path = workdir / "flatback.db"
    store = Store(path)
    writer = StoreWriter(store)
    now = datetime.now(timezone.utc).replace(hour=18, minute=5, second=0)
    ids = [seed_session(store, writer, now - timedelta(days=d), reps, arches, descent)
           for d, reps, arches, descent in [(24, 10, (4, 7, 9, 10), 2.0), (17, 12, (5, 9, 11), 2.4),
                                            (10, 14, (6, 12), 2.8), (3, 16, (7,), 3.1)]]
    writer.close()
    store.close()
    return path, ids


@pytest.fixture
def fake_daemon(workdir):
    daemon = FakeDaemon(str(workdir / "mat.sock"))
    yield daemon
    daemon.server.close()


@pytest.fixture
def site(seeded, workdir, fake_daemon):
    """The app on waitress at 127.0.0.1:<free port>, in a thread; yields its base URL."""
    app = create_app({"DATABASE": str(seeded[0]), "LIVE_SOCKET": str(workdir / "mat.sock"), "SECRET_KEY": "test"})
    with waitress_in_thread(app) as server:
        yield f"http://127.0.0.1:{server.effective_port}"


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()


@contextmanager
def real_mat_serving(workdir: Path, scenario: str):
    """`mat run --emulated` playing `scenario` in its own process, and the app on waitress reading
    its socket and database: yields (base URL, app). Nothing is faked between cells and page."""
    from emulated_daemon import start_emulated_daemon

    daemon = start_emulated_daemon(workdir, scenario)
    app = create_app({"DATABASE": str(workdir / "flatback.db"), "LIVE_SOCKET": str(workdir / "mat.sock"),
                      "SECRET_KEY": "test"})
    try:
        with waitress_in_thread(app) as server:
            yield f"http://127.0.0.1:{server.effective_port}", app
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
