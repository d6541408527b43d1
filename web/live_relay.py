"""One connection to the daemon's live socket per web process, fanned out to browsers.

Each browser gets a small queue; states are latest-wins (a slow phone skips states), events
are kept in order up to a bound. Beyond `max_clients` a new stream gets a 503, not a hang.
"""
from __future__ import annotations

import json
import queue
import threading

from mat.live_socket import LiveClient


class Subscriber:
    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=64)

    def offer(self, message: dict) -> None:
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            if message.get("type") == "state":
                return  # latest wins: this phone will get the next one
            try:
                self.queue.get_nowait()
                self.queue.put_nowait(message)
            except (queue.Empty, queue.Full):
                pass


class LiveRelay:
    def __init__(self, socket_path: str, max_clients: int = 25) -> None:
        self.client = LiveClient(socket_path)
        self.max_clients = max_clients
        self.latest_state: dict | None = None
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def daemon_connected(self) -> bool:
        return self.client.connected

    def subscribe(self) -> Subscriber | None:
        with self._lock:
            if len(self._subscribers) >= self.max_clients:
                return None
            subscriber = Subscriber()
            self._subscribers.add(subscriber)
            self._ensure_thread()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def send_command(self, name: str) -> bool:
        return self.client.send_command({"cmd": name})

    def start(self) -> None:
        with self._lock:
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._relay, name="live-relay", daemon=True)
            self._thread.start()

    def _relay(self) -> None:
        for message in self.client.messages():
            if message.get("type") == "state":
                self.latest_state = message
            with self._lock:
                subscribers = list(self._subscribers)
            for subscriber in subscribers:
                subscriber.offer(message)


def sse(message: dict) -> str:
    kind = "state" if message.get("type") == "state" else "event"
    return f"event: {kind}\ndata: {json.dumps(message, separators=(',', ':'))}\n\n"
