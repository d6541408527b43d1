"""One connection to the daemon's live socket per web process, fanned out to browsers.

Each browser stream has a `Subscriber`: the latest state in one slot (a slow phone skips
states, latest wins) and a bounded queue of events (the oldest is dropped when full). Beyond
`max_clients` a new stream is refused (503), never left hanging.
"""
from __future__ import annotations

import json
import os
import threading
from collections import deque

from flask import current_app

from mat.daemon.live_socket import LiveClient

EVENTS_PER_SUBSCRIBER = 64


def get_relay() -> "LiveRelay":
    """This process's one relay of the daemon's live socket (made by create_app)."""
    return current_app.extensions["live_relay"]


class Subscriber:
    """What one browser has not been sent yet."""

    def __init__(self, max_events: int = EVENTS_PER_SUBSCRIBER) -> None:
        self._ready = threading.Condition()
        self._state: dict | None = None
        self._events: deque[dict] = deque(maxlen=max_events)
        self.closed = False

    def offer(self, message: dict) -> None:
        with self._ready:
            if message.get("type") == "state":
                self._state = message
            else:
                self._events.append(message)
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify()

    def take(self, timeout_s: float) -> list[dict]:
        """Waiting events in order, then the latest state; [] after `timeout_s` of nothing."""
        with self._ready:
            if self._state is None and not self._events and not self.closed:
                self._ready.wait(timeout_s)
            messages = list(self._events)
            self._events.clear()
            if self._state is not None:
                messages.append(self._state)
                self._state = None
            return messages


class LiveRelay:
    """Reads the daemon's socket on one background thread (started by the first viewer) and
    hands every message to each subscriber."""

    def __init__(self, socket_path: str, max_clients: int = 25) -> None:
        self.client = LiveClient(socket_path)
        self.max_clients = max_clients
        self._latest_state: dict | None = None
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def daemon_connected(self) -> bool:
        return self.client.connected

    @property
    def latest_state(self) -> dict | None:
        """The daemon's last state, or None when it is not connected (a stale state would lie)."""
        return self._latest_state if self.daemon_connected else None

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def subscribe(self) -> Subscriber | None:
        """A new stream's subscriber, or None when `max_clients` streams are open."""
        with self._lock:
            if len(self._subscribers) >= self.max_clients:
                return None
            subscriber = Subscriber()
            self._subscribers.add(subscriber)
            self._start()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def send_command(self, name: str) -> bool:
        """Send {"cmd": name} to the daemon; True once it acknowledged, False when it is not
        running or did not answer within a second."""
        return self.client.send_command({"cmd": name}, timeout_s=1.0)

    def start(self) -> None:
        with self._lock:
            self._start()

    def close(self) -> None:
        """Stop relaying and end every open stream."""
        self._stopping.set()
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.client.close()

    def _start(self) -> None:
        if self._stopping.is_set():
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._relay, name="live-relay", daemon=True)
            self._thread.start()

    def _relay(self) -> None:
        while not self._stopping.is_set():
            # No connection attempts while the daemon's socket does not exist (the daemon is off).
            if not os.path.exists(self.client.path):
                self._stopping.wait(self.client.reconnect_s)
                continue
            gone = lambda: self._stopping.is_set() or (  # noqa: E731
                not self.client.connected and not os.path.exists(self.client.path))
            for message in self.client.messages(stop=gone):
                if message.get("type") == "state":
                    self._latest_state = message
                with self._lock:
                    subscribers = list(self._subscribers)
                for subscriber in subscribers:
                    subscriber.offer(message)


def sse(message: dict, kind: str | None = None) -> str:
    """One Server-Sent Event: `event: state|event|daemon` and the message as JSON."""
    kind = kind or ("state" if message.get("type") == "state" else "event")
    return f"event: {kind}\ndata: {json.dumps(message, separators=(',', ':'))}\n\n"
