"""`mat run`: the realtime loop. It alone owns the hardware.

Per frame: read the grid, run the pipeline, drive the buzzer, hand the frame to the store's
writer thread and the latest state to the live socket. Nothing in the loop waits for the web,
the disk or a client: storage and sockets have their own threads and bounded queues
(the Klipper/Moonraker split).
"""
from __future__ import annotations

import gc
import logging
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from mat.daemon.alerts import AlertSounds
from mat.pipeline.events import Event
from mat.daemon.live_socket import (CALIBRATE, CHOOSE_PROFILE, FLOOR_FINDER, NEXT_PROFILE, NEXT_VARIANT,
                                    SETTINGS_CHANGED, START_SESSION, STOP_SESSION)
from mat.daemon.people import People
from mat.pipeline import Pipeline
from mat.pipeline.ladder import RUNGS, next_rung
from mat.pipeline.live import live_state
from mat.profiles.recognition import body_signature

log = logging.getLogger(__name__)

#: Live state goes out at this rate; the socket thread sends each client the latest (Hz).
STATE_RATE_HZ = 15.0
#: Frames kept from before a session starts, so an exported session replays from an empty mat (s).
PRE_ROLL_S = 3.0
#: The systemd watchdog is fed at this interval from the loop itself (s).
WATCHDOG_INTERVAL_S = 1.0


@dataclass
class LoopFigures:
    """What the loop measures about itself, for the page and `mat bench`."""

    frames: int = 0
    frame_rate_hz: float = 0.0
    cpu_ms: float = 0.0  # pipeline + alerts + hand-off to storage, per frame
    # since the daemon started (for /metrics): lift-offs (events.count_liftoffs' rule), reps, sessions
    liftoffs: int = 0
    reps: int = 0
    sessions: int = 0
    _frame_times: deque = field(default_factory=lambda: deque(maxlen=200))

    def record(self, t: float, cpu_s: float) -> None:
        self.frames += 1
        self._frame_times.append(t)
        if len(self._frame_times) >= 2:
            span = self._frame_times[-1] - self._frame_times[0]
            self.frame_rate_hz = (len(self._frame_times) - 1) / span if span > 0 else 0.0
        self.cpu_ms += (cpu_s * 1000 - self.cpu_ms) * 0.02

    def count(self, events: list[Event]) -> None:
        for event in events:
            kind = event["type"]
            if kind == "liftoff":
                self.liftoffs += 1
            elif kind == "contact" and event.get("left_mat"):
                self.liftoffs -= 1  # that was getting up (events.count_liftoffs)
            elif kind == "rep":
                self.reps += 1
            elif kind == "session_end":
                self.sessions += 1


class MatLoop:
    """The realtime loop around one Pipeline.

    grid: a `hardware.grid_adc.GridADC`. feedback: a `hardware.feedback.Feedback`.
    store_writer: a `mat.storage.store.StoreWriter` (or None). store: the `mat.storage.store.Store` the writer
    writes to (sessions are opened and closed through it). live: a `mat.daemon.live_socket.LiveServer`
    (or None). recorder: a `mat.storage.recording.RecordingWriter` for `--record` (or None).
    clock: the clock the grid runs on. notify: callable(str) for sd_notify (or None).
    mqtt: a `mat.daemon.mqtt.MqttPublisher` (or None): handed events and the state without waiting.
    """

    def __init__(self, grid, pipeline: Pipeline, feedback, clock, store=None, store_writer=None,
                 live=None, recorder=None, notify=None, mqtt=None) -> None:
        self.grid = grid
        self.pipeline = pipeline
        self.feedback = feedback
        self.alerts = AlertSounds(feedback)
        self.clock = clock
        self.store = store
        self.writer = store_writer
        self.live = live
        self.recorder = recorder
        self.notify = notify
        self.mqtt = mqtt
        self.figures = LoopFigures()
        self.session_id: int | None = None
        # who is on the mat (with a store; without one, as in replay, everyone is one user)
        self.people = People(store) if store is not None else None
        self._signature: dict | None = None  # the body signature of the session's first calibration
        self.event_log: list[Event] = []  # kept for tests and the benchmark; bounded below
        self._t0: float | None = None
        self._pre_roll: deque = deque()
        self._next_state_t = 0.0
        self._next_watchdog_t = 0.0
        self._ready_sent = False
        self._local_commands: deque[dict] = deque()  # from the button's thread (deque: thread-safe)
        self.keep_events = 10_000

    def command(self, name: str, **fields) -> None:
        """A command from this process (the button), handled at the next frame like the page's."""
        self._local_commands.append({"cmd": name, **fields})

    def apply_settings(self, settings: dict) -> None:
        """Settings from the store (the page) take effect at the next frame."""
        if "floor" in settings:
            self.pipeline.set_floor(settings["floor"])
        if "tempo_s" in settings:
            self.pipeline.set_tempo(settings["tempo_s"])
        if "sound" in settings:
            self.feedback.sound_enabled = bool(settings["sound"])
        if {"plan_sets", "plan_reps", "rest_s"} <= settings.keys():
            self.pipeline.set_plan(settings["plan_sets"], settings["plan_reps"], settings["rest_s"])
        if "stop_depth" in settings:
            self.pipeline.set_stop_depth(settings["stop_depth"])

    def step(self) -> list[Event]:
        """Read one frame and do everything that follows from it."""
        frame = self.grid.read_frame()
        started = time.perf_counter()
        if self._t0 is None:
            self._t0 = frame.t
        # The pipeline's time base is the recording's: seconds since the loop started, to the
        # microsecond, so a recording made here replays to exactly these events.
        t = round(frame.t - self._t0, 6)
        events = self.pipeline.process(t, frame.counts, frame.offline_rows)
        self._emit(t, events, frame.counts)
        self.figures.record(frame.t, time.perf_counter() - started)
        self._publish_state()
        self._handle_commands()
        self._feed_watchdog()
        return events

    def run(self, should_stop) -> None:
        """Loop until `should_stop()` is true; then close the session cleanly."""
        gc.freeze()  # startup objects never need collecting: shorter GC pauses in the loop
        try:
            while not should_stop():
                try:
                    self.step()
                except Exception:  # a bug must not silence the buzzer for good: log, go on
                    log.exception("frame failed")
                    self.clock.sleep(0.01)
        finally:
            self.close()

    def close(self) -> None:
        self._emit(self.pipeline.t, self.pipeline.finish())
        if self.writer is not None:
            self.writer.flush()

    def _emit(self, t: float, events: list[Event], counts=None) -> None:
        """Every event leaves the daemon here, whatever produced it (a frame, a command, the
        end): the sound first (an alert waits for nothing), then the recording, the store,
        the live socket, MQTT (a put on its queue, never a network call) and the log."""
        announce = self._follow_people(events) if self.people is not None else None
        self.alerts.respond(self.clock.monotonic(), events, self.pipeline.zone, self.pipeline.present,
                            self.pipeline.rest_remaining_s)
        if announce is not None:  # after the calibration's own chirp
            self.alerts.announce_profile(announce)
        if self.recorder is not None and counts is not None:
            self.recorder.write(t, counts)
        self._store(t, counts, events)
        if self.live is not None:
            for event in events:
                self.live.publish_event({"type": "event", "event": event})
        if self.mqtt is not None:
            for event in events:
                self.mqtt.offer_event(event)
        if events:
            self.figures.count(events)
            self.event_log.extend(events)
            del self.event_log[: -self.keep_events]

    # -- who is on the mat --------------------------------------------------------------------
    def _follow_people(self, events: list[Event]) -> int | None:
        """A session starts under the guest (or the person chosen beforehand); its first
        calibration is matched against everyone's body (mat/daemon/people.py). Returns the
        chirps that then say whose floor applies (None: the guest's, or nothing to say)."""
        announce = None
        for event in events:
            kind = event["type"]
            if kind == "present":
                if self.people.session_started() and self.writer is not None:
                    self.writer.set_next_session_profile(None)  # the choice is used up
                self._signature = None
                self._serve_profile()
            elif kind == "calibrated" and self._signature is None and self.pipeline.calibration is not None:
                self._signature = body_signature(self.pipeline.calibration)
                if self.people.recognise(self._signature):
                    self._serve_profile()
                announce = self.people.announcement()
            elif kind == "session_end":
                self.people.session_ended(self._signature)
        return announce

    def _serve_profile(self) -> None:
        """The profile in self.people now applies: its settings, the session it owns, the
        store's current profile (what the page shows and edits)."""
        self.apply_settings(self.people.settings)
        profile_id = self.people.now.profile_id
        if self.writer is not None:
            self.writer.set_current_profile(profile_id)
            if self.session_id is not None:
                self.writer.assign_session(self.session_id, profile_id, self.pipeline.floor, self.pipeline.tempo_s,
                                           self.people.settings["variant"])

    def _choose_profile(self, profile_id, by_button: bool = False) -> None:
        """Someone said who is (or lies down next) on the mat. The button always answers with
        the profile's chirps; a choice from the page only while someone lies there to hear it."""
        if self.people is None or not isinstance(profile_id, int) or isinstance(profile_id, bool):
            return
        running = self.pipeline.present
        if self.people.choose(profile_id, session_running=running):
            self._serve_profile()
            if not running and self.writer is not None:
                self.writer.set_next_session_profile(profile_id)  # kept over a restart too
            if by_button or running:
                self.alerts.feedback.chirps(self.people.position(profile_id))

    def _step_variant(self) -> None:
        """The button: the person served steps to the next rung (the top wraps to the first),
        for this session and the next, announced by n notes climbing for rung n."""
        if self.people is None:
            return
        settings = self.people.settings
        settings["variant"] = next_rung(settings["variant"])  # the loop's copy; the writer stores it
        if self.writer is not None:
            self.writer.set_variant(self.people.now.profile_id, settings["variant"], self.session_id)
        self.alerts.feedback.climb(RUNGS.index(settings["variant"]) + 1)

    # -- storage ----------------------------------------------------------------------------
    def _store(self, t: float, counts, events: list[Event]) -> None:
        if self.writer is None:
            return
        for event in events:
            if event["type"] == "present":
                self._open_session(event)
        if self.session_id is not None:
            if counts is not None:
                self.writer.add_frame(self.session_id, t, np.asarray(counts))
            for event in events:
                self.writer.add_event(self.session_id, event)
                if event["type"] == "rep":
                    self.writer.add_rep(self.session_id, event)
                elif event["type"] == "calibrated" and self._signature is not None and self.people is not None:
                    self.writer.add_signature(self.session_id, self._signature)
                elif event["type"] == "floor_finder_result":
                    self.writer.add_floor_test(self.session_id, event, self.pipeline.stop_depth)
            if self.pipeline.contact is not None and self.figures.frames % 10 == 0:
                self.writer.add_sample(self.session_id, t, self.pipeline.contact)
            for event in events:
                if event["type"] == "session_end":
                    self.writer.close_session(self.session_id, event)
                    self.session_id = None
        elif counts is not None:
            self._pre_roll.append((t, np.asarray(counts)))
            while self._pre_roll and t - self._pre_roll[0][0] > PRE_ROLL_S:
                self._pre_roll.popleft()

    def _open_session(self, event: Event) -> None:
        meta = {"floor": self.pipeline.floor, "tempo_s": self.pipeline.tempo_s, "rows": self.pipeline.rows,
                "cols": self.pipeline.cols, "material": self.pipeline.material, "gain": self.pipeline.gain,
                "profile_id": None if self.people is None else self.people.now.profile_id,
                "variant": None if self.people is None else self.people.settings["variant"]}
        self.session_id = self.writer.open_session(meta)
        for t, counts in self._pre_roll:
            self.writer.add_frame(self.session_id, t, counts)
        self._pre_roll.clear()

    # -- live socket and commands ----------------------------------------------------------
    def live_state(self) -> dict:
        state = live_state(self.pipeline)
        state.update(
            session_id=self.session_id,
            frames=self.figures.frames,
            frame_rate_hz=round(self.figures.frame_rate_hz, 1),
            cpu_ms=round(self.figures.cpu_ms, 3),
            sound=bool(getattr(self.feedback, "sound_enabled", True)),
            totals={"liftoffs": self.figures.liftoffs, "reps": self.figures.reps, "sessions": self.figures.sessions},
            mqtt=None if self.mqtt is None else self.mqtt.figures(),
            profile=None if self.people is None else self.people.live_state(),
            variant=None if self.people is None else self.people.settings["variant"],
        )
        return state

    def _publish_state(self) -> None:
        if self.live is None and self.mqtt is None:
            return
        now = self.clock.monotonic()
        if now >= self._next_state_t:
            self._next_state_t = now + 1.0 / STATE_RATE_HZ
            state = self.live_state()
            if self.live is not None:
                self.live.publish_state(state)
            if self.mqtt is not None:
                self.mqtt.offer_state(state)

    def _handle_commands(self) -> None:
        commands = []
        while self._local_commands:
            commands.append(self._local_commands.popleft())
        if self.live is not None:
            commands += self.live.poll_commands()
        if self.mqtt is not None:
            commands += self.mqtt.poll_commands()
        for command in commands:
            name = command.get("cmd")
            if name == CALIBRATE:
                self.pipeline.recalibrate()
            elif name == STOP_SESSION:
                self._emit(self.pipeline.t, self.pipeline.end_session())
            elif name == START_SESSION:
                self.pipeline.start_session()
            elif name == SETTINGS_CHANGED and self.people is not None:
                self.people.reload()  # profiles made, renamed, deleted, their settings changed
                self.apply_settings(self.people.settings)
                if self.writer is not None and self.session_id is not None:  # a variant chosen on the page
                    self.writer.assign_session(self.session_id, self.people.now.profile_id, self.pipeline.floor,
                                               self.pipeline.tempo_s, self.people.settings["variant"])
            elif name == CHOOSE_PROFILE:
                self._choose_profile(command.get("profile_id"))
            elif name == NEXT_PROFILE and self.people is not None:
                profile_id, _ = self.people.next_profile()
                self._choose_profile(profile_id, by_button=True)
            elif name == NEXT_VARIANT:
                self._step_variant()
            elif name == FLOOR_FINDER:
                self._emit(self.pipeline.t, self.pipeline.start_floor_finder())

    def _feed_watchdog(self) -> None:
        if self.notify is None:
            return
        now = self.clock.monotonic()
        if not self._ready_sent:
            self.notify("READY=1")
            self._ready_sent = True
        if now >= self._next_watchdog_t:
            self._next_watchdog_t = now + WATCHDOG_INTERVAL_S
            self.notify("WATCHDOG=1")
