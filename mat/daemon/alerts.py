"""What the user hears: pipeline events and the contact zone turned into buzzer patterns.

The person is lying on the floor and can't look at a screen, so every state that matters has a
sound (README, "Using the mat"): a chirp when a session starts, a rising chirp when calibrated,
parking-sensor beeps in the warning zone, a continuous tone while lifted, a double chirp after
a too-fast descent, the fault pattern when a chip or cell is lost, a slow "breathe" swell when
the breath has been held.
"""
from __future__ import annotations

from mat.pipeline.liftoff import Zone
from mat.pipeline.events import Event

_ONE_SHOTS = {
    "present": "chirp",
    "calibrated": "rising_chirp",
    "calibration_problem": "fault",
    "fast_descent": "double_chirp",
    "chip_offline": "fault",
    "dead_cell": "fault",
    "breath_hold": "breathe",
}


class AlertSounds:
    """Drives a `hardware.feedback.Feedback` from events and the contact zone, frame by frame."""

    def __init__(self, feedback) -> None:
        self.feedback = feedback
        self._lifted = False
        self._warning_level = 0.0

    def respond(self, t: float, events: list[Event], zone: Zone | None, session_running: bool) -> None:
        for event in events:
            if event["type"] == "liftoff":
                self._set_lifted(True)
            elif event["type"] in ("contact", "absent"):
                self._set_lifted(False)
            pattern = _ONE_SHOTS.get(event["type"])
            if pattern is not None:
                getattr(self.feedback, pattern)()
        level = zone.level if zone is not None and zone.name == "warning" and not self._lifted else 0.0
        if abs(level - self._warning_level) >= 0.05 or (level == 0.0) != (self._warning_level == 0.0):
            self._warning_level = level
            self.feedback.warning(level)
        self.feedback.session_running(session_running)
        self.feedback.update(t)

    def _set_lifted(self, lifted: bool) -> None:
        if lifted != self._lifted:
            self._lifted = lifted
            self.feedback.continuous(lifted)
