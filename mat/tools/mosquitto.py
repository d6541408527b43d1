"""A real Mosquitto (Debian's package) on loopback, started and stopped at will, for
`mat bench --mqtt` and the tests; and a subscriber that records what it receives.

`make broker` installs it (as `make browser` does chromium). Without it, and not root, the tests
that need it skip with the reason; under CI they fail.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")


def mosquitto_path() -> str | None:
    found = shutil.which("mosquitto")
    return found or next((p for p in MOSQUITTO_CANDIDATES if os.path.exists(p)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto on 127.0.0.1:<free port>, its state (retained messages) kept across restarts
    as a Debian install keeps it. `users`: {name: password} (then anonymous clients are refused)."""

    def __init__(self, users: dict[str, str] | None = None, port: int | None = None) -> None:
        self.binary = mosquitto_path()
        if self.binary is None:
            raise RuntimeError("mosquitto is not installed (make broker)")
        self.dir = Path(tempfile.mkdtemp(prefix="fbmq-"))
        self.port = port or free_port()
        self.users = users or {}
        lines = [f"listener {self.port} 127.0.0.1", "persistence true", f"persistence_location {self.dir}/",
                 "autosave_interval 1", f"log_dest file {self.dir}/mosquitto.log", "log_type error",
                 "log_type warning", "log_type notice", "max_queued_messages 100"]
        if os.geteuid() == 0:
            lines.append("user root")  # as root mosquitto would become `mosquitto`, who cannot read our files
        if self.users:
            passwd = self.dir / "passwd"
            for n, (user, password) in enumerate(self.users.items()):
                subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if n == 0 else []) + [str(passwd), user, password],
                               check=True, capture_output=True)
            os.chmod(passwd, 0o600)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 10.0) -> "Broker":
        self.process = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log()[-800:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: mosquitto saves its retained messages and exits
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def log(self) -> str:
        try:
            return (self.dir / "mosquitto.log").read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Recorder:
    """A paho subscriber that keeps every message: [(topic, payload text, retained, time.time())].
    `persistent`: a persistent session (a fixed client id, clean_session false), so the broker
    keeps what arrives while this subscriber is away, across a broker restart too, as a hub or
    Home Assistant would want."""

    def __init__(self, port: int, topics=("flatback/#",), username=None, password=None,
                 persistent: str | None = None) -> None:
        from paho.mqtt.client import CallbackAPIVersion, Client

        self.messages: list[tuple[str, str, bool, float]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        if persistent:
            self.client = Client(CallbackAPIVersion.VERSION2, client_id=persistent, clean_session=False)
        else:
            self.client = Client(CallbackAPIVersion.VERSION2)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        if username:
            self.client.username_pw_set(username, password)
        self.topics = topics
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in self.topics])
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.subscribed.wait(5):
            raise RuntimeError("the recorder could not subscribe")

    def _message(self, client, userdata, message) -> None:
        with self.lock:
            self.messages.append((message.topic, message.payload.decode(errors="replace"), bool(message.retain),
                                  time.time()))

    def on(self, topic: str) -> list[str]:
        with self.lock:
            return [payload for t, payload, _, _ in self.messages if t == topic]

    def json_on(self, topic: str) -> list[dict]:
        return [json.loads(p) for p in self.on(topic) if p]

    def wait_for(self, predicate, timeout_s: float = 15.0, what: str = "a message"):
        """Wait until predicate(self) is truthy; return its value (AssertionError after timeout_s)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate(self)
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"no {what} within {timeout_s} s; got topics "
                             f"{sorted({t for t, *_ in self.messages})}")

    def close(self) -> None:
        self.client.disconnect()  # before loop_stop: the network thread closes its sockets
        self.client.loop_stop()


def retained(port: int, topic: str, timeout_s: float = 3.0, **auth) -> str | None:
    """The retained message on `topic` as a fresh subscriber sees it (None if there is none)."""
    recorder = Recorder(port, topics=(topic,), **auth)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [p for t, p, r, _ in recorder.messages if r]
            if found:
                return found[-1]
            time.sleep(0.02)
        return None
    finally:
        recorder.close()
