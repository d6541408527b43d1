"""The buzzer, the status LED and the optional button, through gpiozero.

On a Pi gpiozero picks the platform's pin factory (lgpio first). Anywhere else gpiozero's mock
factory with PWM pins stands in, chosen here in one place, so the same code drives a real
buzzer on GPIO 18 or a mock pin whose state history the tests read.

Sound patterns are data: a tuple of (frequency_hz or None for silence, duration_s) steps.
One player advances them, either on its own thread (the Pi, the demo) or only when the loop
calls `update(now)` (tests and the latency bench, on a VirtualClock).
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from hardware.clock import Clock, SystemClock

log = logging.getLogger(__name__)

Pattern = tuple[tuple[float | None, float], ...]

#: A body lay down: a session starts.
CHIRP: Pattern = ((1320.0, 0.06),)
#: Calibrated: two notes rising.
RISING_CHIRP: Pattern = ((880.0, 0.09), (None, 0.04), (1320.0, 0.12))
#: The descent was faster than the tempo target.
DOUBLE_CHIRP: Pattern = ((1760.0, 0.05), (None, 0.06), (1760.0, 0.05))
#: A chip stopped answering or a cell died: low and distinct from every exercise sound.
FAULT: Pattern = ((330.0, 0.25), (None, 0.1), (262.0, 0.35))
#: The breath is held: a slow, soft swell up and down, like a breath in and out. Low notes
#: (G4-B4-D5) no other sound uses, ten times slower than the chirps: an invitation, not an alarm.
BREATHE: Pattern = ((392.0, 0.3), (494.0, 0.3), (587.0, 0.4), (None, 0.25), (494.0, 0.3), (392.0, 0.5))
#: A profile chosen with the button: one short chirp per place in the list (profile n: n chirps).
COUNT_CHIRP: Pattern = ((1568.0, 0.05), (None, 0.15))
#: The variant chosen with the button: one note per rung, climbing a scale (rung n: n notes up
#: from C5), so it cannot be mistaken for the profile's equal chirps.
CLIMB_NOTES_HZ = (523.0, 587.0, 659.0, 698.0, 784.0, 880.0, 988.0, 1047.0)
CLIMB_NOTE_S, CLIMB_GAP_S = 0.09, 0.05
#: Before chirps that follow another sound (whose floor applies, after "calibrated"): a pause,
#: so they are heard as a count of their own.
COUNT_PAUSE_S = 0.3
#: Coaching (soft, short, each its own shape, so they can be told apart by ear):
#: nearing the depth where the back gives way: one soft low note, "stop here".
STOP_HERE: Pattern = ((523.0, 0.15),)
#: A rebound at the bottom: a quick high-low "boing".
BOUNCE: Pattern = ((1568.0, 0.05), (1047.0, 0.09))
#: The set's last perfect rep: three notes rising.
SET_DONE: Pattern = ((1047.0, 0.08), (None, 0.03), (1319.0, 0.08), (None, 0.03), (1568.0, 0.16))
#: The rest is over: start the next set (two equal notes, "go-go").
NEXT_SET: Pattern = ((1175.0, 0.12), (None, 0.1), (1175.0, 0.12))
#: The plan's last set is done: a closing phrase falling to rest.
CLOSING: Pattern = ((1568.0, 0.15), (1319.0, 0.15), (1047.0, 0.15), (784.0, 0.4))
#: The floor finder: "legs up" (rising), a short tick per count-in and lowering beat, "go" (a
#: longer, higher tick), "stop" (the back starts to give way: two long low notes) and "done"
#: (the floor reached without giving way).
LEGS_UP: Pattern = ((659.0, 0.12), (880.0, 0.12), (1109.0, 0.2))
BEAT: Pattern = ((988.0, 0.05),)
GO: Pattern = ((1319.0, 0.15),)
STOP: Pattern = ((440.0, 0.3), (None, 0.08), (440.0, 0.45))
DONE: Pattern = ((1319.0, 0.1), (1568.0, 0.3))
#: Lifted: one tone for as long as the back is up.
LIFTED_HZ = 1047.0
#: Warning beeps: like a parking sensor, the period shrinks as contact sinks toward the floor.
WARNING_HZ = 880.0
WARNING_BEEP_S = 0.04
WARNING_PERIOD_SLOW_S = 0.6
WARNING_PERIOD_FAST_S = 0.12
#: Buzzer changes kept in `tone_log` (for tests and the bench).
TONE_LOG_LENGTH = 10_000


def climb_pattern(count: int) -> Pattern:
    """`count` notes up the scale (1 to len(CLIMB_NOTES_HZ)), each followed by a short gap."""
    count = min(max(1, int(count)), len(CLIMB_NOTES_HZ))
    steps: list[tuple[float | None, float]] = []
    for frequency in CLIMB_NOTES_HZ[:count]:
        steps += [(frequency, CLIMB_NOTE_S), (None, CLIMB_GAP_S)]
    return tuple(steps)


def warning_period_s(level: float) -> float:
    """Beep period for a warning level 0..1 (1 = at the floor)."""
    level = min(max(level, 0.0), 1.0)
    return WARNING_PERIOD_SLOW_S + (WARNING_PERIOD_FAST_S - WARNING_PERIOD_SLOW_S) * level


def on_raspberry_pi() -> bool:
    try:
        return "raspberry pi" in Path("/proc/device-tree/model").read_text(errors="ignore").lower()
    except OSError:
        return False


def choose_pin_factory():
    """The pin factory for this machine: gpiozero's own choice on a Pi (or whatever
    GPIOZERO_PIN_FACTORY names), the mock factory with PWM pins anywhere else."""
    from gpiozero import Device

    if os.environ.get("GPIOZERO_PIN_FACTORY") or on_raspberry_pi():
        return Device._default_pin_factory() if Device.pin_factory is None else Device.pin_factory
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    if not isinstance(Device.pin_factory, MockFactory):
        log.info("not a Raspberry Pi: buzzer, LED and button run on gpiozero's mock pins")
        Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    return Device.pin_factory


class Feedback:
    """Buzzer (tone-capable, PWM), status LED and optional button.

    buzzer_pin, led_pin, button_pin: BCM numbers (button_pin None: no button).
    clock: the clock patterns are timed on. threaded: play on a background thread; when
    False, patterns advance only on `update(now)`.
    tone_log: (time, frequency_hz or None) each time the buzzer changes, the last TONE_LOG_LENGTH
    or so, for tests and the bench.
    """

    def __init__(self, buzzer_pin: int = 18, led_pin: int = 23, button_pin: int | None = 24,
                 clock: Clock | None = None, threaded: bool | None = None) -> None:
        from gpiozero import LED, Button, PWMOutputDevice

        factory = choose_pin_factory()
        self.clock = clock or SystemClock()
        # A PWMOutputDevice rather than TonalBuzzer: any frequency, no note range to fit.
        self.buzzer = PWMOutputDevice(buzzer_pin, frequency=WARNING_HZ, pin_factory=factory)
        self.led = LED(led_pin, pin_factory=factory)
        self.button = Button(button_pin, pin_factory=factory) if button_pin is not None else None
        self.sound_enabled = True
        self.tone_log: list[tuple[float, float | None]] = []
        self._lock = threading.RLock()
        self._one_shot: list[tuple[float | None, float]] = []
        self._one_shot_until = 0.0
        self._continuous = False
        self._warning_level = 0.0
        self._next_beep_t = 0.0
        self._beep_off_t = 0.0
        self._frequency: float | None = None
        self._session = False
        self._blink_fault_until = 0.0
        self._stop = threading.Event()
        self._thread = None
        if threaded is None:
            threaded = isinstance(self.clock, SystemClock)
        if threaded:
            self._thread = threading.Thread(target=self._run, name="buzzer", daemon=True)
            self._thread.start()

    # -- what the loop asks for ------------------------------------------------------------
    def chirp(self) -> None:
        self._play(CHIRP)

    def rising_chirp(self) -> None:
        self._play(RISING_CHIRP)

    def double_chirp(self) -> None:
        self._play(DOUBLE_CHIRP)

    def breathe(self) -> None:
        self._play(BREATHE)

    def chirps(self, count: int, after_current: bool = False) -> None:
        """`count` short chirps (profile n). after_current: once the sound playing now has
        ended, after a pause (at once when nothing plays)."""
        self._play(COUNT_CHIRP * max(1, int(count)), after_current)

    def climb(self, count: int) -> None:
        """`count` notes climbing a scale (the button's variant: rung n of the ladder)."""
        self._play(climb_pattern(count))

    def play(self, pattern: Pattern) -> None:
        """Any pattern (the coaching sounds above)."""
        self._play(pattern)

    def fault(self) -> None:
        self._play(FAULT)
        self._blink_fault_until = self.clock.monotonic() + 3.0

    def continuous(self, on: bool) -> None:
        """The lift-off alert: the pin changes now, not at the player's next tick."""
        with self._lock:
            self._continuous = on
            self.update(self.clock.monotonic())

    def warning(self, level: float) -> None:
        """Warning beeps at `level` 0..1 (0 = silent)."""
        with self._lock:
            if level > 0 and self._warning_level <= 0:
                self._next_beep_t = self.clock.monotonic()
            self._warning_level = max(0.0, min(level, 1.0))

    def session_running(self, running: bool) -> None:
        self._session = running

    # -- playing -------------------------------------------------------------------------
    def _play(self, pattern: Pattern, after_current: bool = False) -> None:
        with self._lock:
            now = self.clock.monotonic()
            t = now
            if after_current and now < self._one_shot_until:
                t = self._one_shot_until + COUNT_PAUSE_S  # the current sound ends with silence
            else:
                self._one_shot = []
            for frequency, duration in pattern:
                self._one_shot.append((frequency, t))
                t += duration
            self._one_shot.append((None, t))
            self._one_shot_until = t

    def update(self, now: float | None = None) -> None:
        """Set the buzzer and LED for time `now` (the clock's)."""
        now = self.clock.monotonic() if now is None else now
        with self._lock:
            self._set_tone(now, self._tone_at(now))
            blink = now < self._blink_fault_until and int(now * 4) % 2 == 0
            led_on = self._session != blink
            if bool(self.led.value) != led_on:
                self.led.value = led_on

    def _tone_at(self, now: float) -> float | None:
        if self._continuous:  # the alert outranks everything
            return LIFTED_HZ
        if now < self._one_shot_until:
            current = None
            for frequency, start in self._one_shot:
                if start <= now:
                    current = frequency
            return current
        if self._warning_level > 0:
            if now >= self._next_beep_t:
                self._beep_off_t = now + WARNING_BEEP_S
                self._next_beep_t = now + warning_period_s(self._warning_level)
            return WARNING_HZ if now < self._beep_off_t else None
        return None

    def _set_tone(self, now: float, frequency: float | None) -> None:
        if not self.sound_enabled:
            frequency = None
        if frequency == self._frequency:
            return
        self._frequency = frequency
        self.tone_log.append((now, frequency))
        if len(self.tone_log) > 2 * TONE_LOG_LENGTH:  # a daemon runs for months: keep the recent ones
            del self.tone_log[:-TONE_LOG_LENGTH]
        if frequency is None:
            self.buzzer.value = 0
        else:
            self.buzzer.frequency = frequency
            self.buzzer.value = 0.5

    def _run(self) -> None:
        while not self._stop.is_set():
            self.update()
            self._stop.wait(0.005)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        for device in (self.buzzer, self.led, self.button):
            if device is not None:
                device.close()
