"""The daemon's live socket: a Unix stream socket speaking newline-delimited JSON.

Out: the latest state (at most `max_rate_hz` per client, latest wins: a slow client skips
states, it never backs up the loop) and every event (a bounded queue per client; a client
that falls that far behind is dropped). In: commands `{"cmd": ...}`.

The server runs its own selector thread; the realtime loop only stores the latest state and
appends events under a lock, which never waits on a client.
"""
from __future__ import annotations

import json
import logging
import os
import selectors
import socket
import threading
import time
from collections import deque

log = logging.getLogger(__name__)

#: What the web server may ask of the daemon: {"cmd": NAME} lines on the socket.
CALIBRATE, START_SESSION, STOP_SESSION, SETTINGS_CHANGED = "calibrate", "start_session", "stop_session", "settings_changed"
#: {"cmd": "choose_profile", "profile_id": N}: this person is on the mat (or lies down next);
#: "next_profile": the button's step to the next profile. "floor_finder": start the floor finder.
CHOOSE_PROFILE, NEXT_PROFILE, FLOOR_FINDER = "choose_profile", "next_profile", "floor_finder"
NEXT_VARIANT = "next_variant"  # the button: the person on the mat steps up the ladder
COMMANDS = (CALIBRATE, START_SESSION, STOP_SESSION, SETTINGS_CHANGED, CHOOSE_PROFILE, NEXT_PROFILE, FLOOR_FINDER,
            NEXT_VARIANT)
MAX_EVENTS_QUEUED = 1000
MAX_COMMAND_BYTES = 4096


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = bytearray()  # bytes accepted for sending, possibly half sent
        self.events: deque[bytes] = deque()
        self.inbox = bytearray()
        self.state_seq = 0  # the last state sequence number sent
        self.next_state_t = 0.0


class LiveServer:
    """Serves live state and events at `path`; collects commands for `poll_commands()`."""

    def __init__(self, path, max_rate_hz: float = 15.0) -> None:
        self.path = str(path)
        self.max_rate_hz = max_rate_hz
        self._lock = threading.Lock()
        self._state: bytes | None = None
        self._state_seq = 0
        self._commands: deque[dict] = deque(maxlen=100)
        self._clients: dict[int, _Client] = {}
        if os.path.exists(self.path):
            os.unlink(self.path)  # a stale socket left by a killed daemon
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        os.chmod(self.path, 0o660)
        self._listener.listen(32)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._running = True
        self._thread = threading.Thread(target=self._serve, name="live-socket", daemon=True)
        self._thread.start()

    # -- from the loop ---------------------------------------------------------------------
    def publish_state(self, state: dict) -> None:
        line = (json.dumps(state, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self._state = line
            self._state_seq += 1

    def publish_event(self, message: dict) -> None:
        line = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        with self._lock:
            for client in list(self._clients.values()):
                if len(client.events) >= MAX_EVENTS_QUEUED:
                    log.warning("live socket: a client fell %d events behind; dropping it", MAX_EVENTS_QUEUED)
                    self._drop(client)
                else:
                    client.events.append(line)
        self._wake()

    def poll_commands(self) -> list[dict]:
        with self._lock:
            commands = list(self._commands)
            self._commands.clear()
        return commands

    @property
    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    def close(self) -> None:
        self._running = False
        self._wake()
        self._thread.join(timeout=2)
        for client in list(self._clients.values()):
            client.sock.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    # -- the server thread -----------------------------------------------------------------
    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already awake

    def _serve(self) -> None:
        period = 1.0 / self.max_rate_hz
        while self._running:
            for key, _ in self._selector.select(timeout=period / 2):
                if key.fileobj is self._listener:
                    self._accept()
                elif key.fileobj is self._wake_r:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except (BlockingIOError, OSError):
                        pass
                else:
                    self._read(key.data)
            self._send_all(time.monotonic(), period)

    def _accept(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except OSError:
            return
        sock.setblocking(False)
        client = _Client(sock)
        with self._lock:
            self._clients[sock.fileno()] = client
        self._selector.register(sock, selectors.EVENT_READ, client)

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            with self._lock:
                self._drop(client)
            return
        client.inbox += data
        while b"\n" in client.inbox:
            line, _, rest = bytes(client.inbox).partition(b"\n")
            client.inbox = bytearray(rest)
            self._command(client, line)
        if len(client.inbox) > MAX_COMMAND_BYTES:
            client.inbox.clear()
            self._reply_error(client, f"command longer than {MAX_COMMAND_BYTES} bytes")

    def _command(self, client: _Client, line: bytes) -> None:
        try:
            command = json.loads(line)
        except ValueError:
            self._reply_error(client, "not JSON: send one JSON object per line, like {\"cmd\": \"calibrate\"}")
            return
        if not isinstance(command, dict) or command.get("cmd") not in COMMANDS:
            self._reply_error(client, f"unknown command; known: {', '.join(COMMANDS)}")
            return
        with self._lock:
            self._commands.append(command)
            client.events.append((json.dumps({"type": "ack", "cmd": command["cmd"]}) + "\n").encode())

    def _reply_error(self, client: _Client, message: str) -> None:
        with self._lock:
            client.events.append((json.dumps({"type": "error", "message": message}) + "\n").encode())

    def _send_all(self, now: float, period: float) -> None:
        with self._lock:
            state, seq = self._state, self._state_seq
            clients = list(self._clients.values())
        for client in clients:
            with self._lock:
                while client.events and len(client.out) < 65536:
                    client.out += client.events.popleft()
                if state is not None and seq != client.state_seq and now >= client.next_state_t and not client.out:
                    client.out += state  # latest wins: only when the last write has drained
                    client.state_seq = seq
                    client.next_state_t = now + period
            if client.out:
                try:
                    sent = client.sock.send(client.out)
                    del client.out[:sent]
                except BlockingIOError:
                    pass
                except OSError:
                    with self._lock:
                        self._drop(client)

    def _drop(self, client: _Client) -> None:
        """Forget a client (caller holds the lock)."""
        self._clients.pop(client.sock.fileno(), None)
        try:
            self._selector.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()


class LiveClient:
    """The web side of the socket: messages as dicts, reconnecting when the daemon restarts."""

    def __init__(self, path, reconnect_s: float = 0.5) -> None:
        self.path = str(path)
        self.reconnect_s = reconnect_s
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._send_lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def _connect(self) -> bool:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            return False
        self._sock, self._buffer = sock, b""
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def messages(self, timeout_s: float | None = None, stop=None):
        """Yield messages until `stop()` is true (or `timeout_s` passes without a message)."""
        last = time.monotonic()
        while stop is None or not stop():
            if self._sock is None and not self._connect():
                if timeout_s is not None and time.monotonic() - last > timeout_s:
                    return
                time.sleep(self.reconnect_s)
                continue
            if b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                last = time.monotonic()
                try:
                    yield json.loads(line)
                except ValueError:
                    log.warning("live socket: skipped a line that was not JSON")
                continue
            self._sock.settimeout(0.5)
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                if timeout_s is not None and time.monotonic() - last > timeout_s:
                    return
                continue
            except OSError:
                data = b""
            if not data:
                self.close()  # the daemon went away: reconnect
                continue
            self._buffer += data

    def send_command(self, command: dict, timeout_s: float = 2.0) -> bool:
        """Send a command on a short connection of its own and wait for the daemon's ack.
        False if the daemon is not there, refused the command or did not answer in time."""
        with self._send_lock:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(timeout_s)
                    sock.connect(self.path)
                    sock.sendall((json.dumps(command) + "\n").encode())
                    buffer = b""
                    deadline = time.monotonic() + timeout_s
                    while time.monotonic() < deadline:
                        data = sock.recv(65536)
                        if not data:
                            return False
                        buffer += data
                        while b"\n" in buffer:
                            line, buffer = buffer.split(b"\n", 1)
                            reply = json.loads(line)
                            if reply.get("type") == "ack":
                                return True
                            if reply.get("type") == "error":
                                return False
                    return False
            except (OSError, ValueError):
                return False
