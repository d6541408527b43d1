"""Shared fixtures: gpiozero's mock pins per test; for the web tests a seeded database, the app,
its test client and a fake daemon."""
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hardware.clock import VirtualClock
from hardware.feedback import Feedback
from mat.daemon.alerts import AlertSounds
from mat.daemon.live_socket import LiveServer
from mat.storage.store import Store, StoreWriter
from web import create_app
from web_seed import seed_session


@pytest.fixture(autouse=True)
def mock_pins():
    """Every test gets fresh mock PWM pins, as gpiozero's own test suite does."""
    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = None


@pytest.fixture
def rig(mock_pins):
    """A virtual clock, a Feedback on the mock pins ticked by hand, and the alerts playing on it."""
    clock = VirtualClock()
    feedback = Feedback(clock=clock, threaded=False)
    yield clock, feedback, AlertSounds(feedback)
    feedback.close()


# -- the web app on a seeded database ---------------------------------------------------------
@pytest.fixture
def short_dir():
    """A short directory: a Unix socket path must stay under 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="fbw-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def seeded(short_dir):
    """The database path and the ids of three sessions, oldest first; the newest has 15
    perfect reps with a 3.2 s descent."""
    path = short_dir / "flatback.db"
    store = Store(path)
    writer = StoreWriter(store)
    now = datetime.now(timezone.utc)
    ids = [
        seed_session(store, writer, now - timedelta(days=21), reps=10, perfect=6, descent_s=2.1),
        seed_session(store, writer, now - timedelta(days=7), reps=14, perfect=12, descent_s=2.8, t0=5000.0),
        seed_session(store, writer, now - timedelta(hours=2), reps=16, perfect=15, descent_s=3.2, t0=9000.0),
    ]
    writer.close()
    store.close()
    return path, ids


@pytest.fixture
def app(seeded, short_dir):
    app = create_app({"DATABASE": str(seeded[0]), "LIVE_SOCKET": str(short_dir / "mat.sock"),
                      "SECRET_KEY": "test", "TESTING": True})
    yield app
    app.extensions["live_relay"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(seeded):
    store = Store(seeded[0])
    yield store
    store.close()


@pytest.fixture
def daemon(app):
    """A fake daemon: the real live socket server at the app's LIVE_SOCKET path."""
    server = LiveServer(app.config["LIVE_SOCKET"])
    yield server
    app.extensions["live_relay"].close()  # before the socket goes, so the relay does not retry it
    server.close()


# -- a real MQTT broker (Debian's mosquitto, `make broker`) -----------------------------------
def _need_mosquitto():
    import os

    from mqtt_broker import mosquitto_path

    if mosquitto_path() is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is missing and CI is set: install Debian's mosquitto (make broker)")
        pytest.skip("mosquitto is missing: `sudo apt-get install mosquitto` (or `make broker`) to run the MQTT tests")


@pytest.fixture
def broker():
    """Mosquitto on 127.0.0.1:<free port>, anonymous clients allowed."""
    _need_mosquitto()
    from mqtt_broker import Broker

    running = Broker().start()
    yield running
    running.close()


@pytest.fixture
def locked_broker():
    """Mosquitto that wants a user name and password: mat / s3cret."""
    _need_mosquitto()
    from mqtt_broker import Broker

    running = Broker(users={"mat": "s3cret"}).start()
    yield running
    running.close()
