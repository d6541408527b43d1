"""What the user hears: pipeline events and the contact zone turned into buzzer patterns.

The person is lying on the floor and can't look at a screen, so every state that matters has a
sound (README, "Using the mat"): a chirp when a session starts, a rising chirp when calibrated,
parking-sensor beeps in the warning zone, a continuous tone while lifted, a double chirp after
a too-fast descent, the fault pattern when a chip or cell is lost, a slow "breathe" swell when
the breath has been held; and the coach's sounds (mat/pipeline/coach.py, floor_finder.py):
"stop here" before the depth where the back gives way, a "boing" for a rebound, a chirp at the
set's last perfect rep, "go-go" when the rest is over, a closing phrase after the plan's last
set, and the floor finder's beat. After the first calibration, n short chirps say whose
floor guards the person lying down (profile n on the People page; none: the guest's).
"""
from __future__ import annotations

from hardware import feedback as sounds
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
    "floor_finder_problem": "fault",
}

#: The coach's sounds, played through `Feedback.play`.
_COACH = {
    "stop_cue": sounds.STOP_HERE,
    "bounce": sounds.BOUNCE,
    "floor_finder_start": sounds.LEGS_UP,
}


def coach_pattern(event: Event):
    """The pattern for a coaching event, or None."""
    kind = event["type"]
    if kind == "set_done":
        return sounds.CLOSING if event["last"] else sounds.SET_DONE
    if kind == "floor_finder_beat":
        return sounds.GO if event["beat"] == 0 else sounds.BEAT
    if kind == "floor_finder_result":
        return sounds.DONE if event["reached_floor"] else sounds.STOP
    return _COACH.get(kind)


class AlertSounds:
    """Drives a `hardware.feedback.Feedback` from events and the contact zone, frame by frame."""

    def __init__(self, feedback) -> None:
        self.feedback = feedback
        self._lifted = False
        self._warning_level = 0.0
        self._resting = False

    def respond(self, t: float, events: list[Event], zone: Zone | None, session_running: bool,
                rest_remaining_s: float | None = None) -> None:
        """rest_remaining_s: the rest timer (None: no rest under way); its end plays "go-go"."""
        for event in events:
            if event["type"] == "liftoff":
                self._set_lifted(True)
            elif event["type"] in ("contact", "absent"):
                self._set_lifted(False)
            pattern = _ONE_SHOTS.get(event["type"])
            if pattern is not None:
                getattr(self.feedback, pattern)()
            coach = coach_pattern(event)
            if coach is not None:
                self.feedback.play(coach)
        resting = rest_remaining_s is not None and rest_remaining_s > 0
        if self._resting and rest_remaining_s == 0:
            self.feedback.play(sounds.NEXT_SET)
        self._resting = resting
        level = zone.level if zone is not None and zone.name == "warning" and not self._lifted else 0.0
        if abs(level - self._warning_level) >= 0.05 or (level == 0.0) != (self._warning_level == 0.0):
            self._warning_level = level
            self.feedback.warning(level)
        self.feedback.session_running(session_running)
        self.feedback.update(t)

    def announce_profile(self, position: int) -> None:
        """Whose floor guards the person lying down: profile n's n chirps, after the sound
        playing now (the calibration's rising chirp)."""
        self.feedback.chirps(position, after_current=True)

    def _set_lifted(self, lifted: bool) -> None:
        if lifted != self._lifted:
            self._lifted = lifted
            self.feedback.continuous(lifted)
