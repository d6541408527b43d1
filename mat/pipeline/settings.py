"""The user's settings: the one owner of their names, defaults, limits and validation.

The store keeps them, the page and the API change them, `[detection]` in the configuration
file seeds them on first start, the OpenAPI document describes them, and the pipeline runs
with them: all through this module, so a limit is written once.
"""
from __future__ import annotations

FLOOR_MIN, FLOOR_MAX, FLOOR_STEP = 0.20, 0.90, 0.05
#: The floors a user can choose, exactly as JSON and the settings form write them.
FLOOR_CHOICES = tuple(round(FLOOR_MIN + i * FLOOR_STEP, 2)
                      for i in range(round((FLOOR_MAX - FLOOR_MIN) / FLOOR_STEP) + 1))
TEMPO_MIN_S, TEMPO_MAX_S = 1.0, 8.0
#: The plan: sets of perfect reps, with a rest between sets.
PLAN_SETS_MIN, PLAN_SETS_MAX = 1, 10
PLAN_REPS_MIN, PLAN_REPS_MAX = 1, 50
REST_MIN_S, REST_MAX_S = 10, 600
#: The ladder, easiest rung first (the variant is part of the session; the page proposes the next
#: rung or an easier one).
VARIANTS = ("bent_knee", "dead_bug", "single_leg", "alternating", "straight", "straight_weighted")
#: The variants in the user's words (the page and the README say these).
VARIANT_NAMES = {"bent_knee": "bent-knee", "dead_bug": "dead bug", "single_leg": "single-leg",
                 "alternating": "alternating", "straight": "straight legs",
                 "straight_weighted": "straight legs, light weight"}
#: The stop-here depth: how far down the legs may go before the back gives way, 0 = vertical,
#: 1 = the floor (the floor finder sets it; null: learnt from the session's own lift-offs).
STOP_DEPTH_MIN, STOP_DEPTH_MAX = 0.05, 1.0
DEFAULTS = {"floor": 0.5, "tempo_s": 3.0, "sound": True, "plan_sets": 3, "plan_reps": 10, "rest_s": 60,
            "variant": "straight", "stop_depth": None}

ALLOWED = {
    "floor": "0.20 to 0.90 in steps of 0.05 (0.20, 0.25, … 0.90)",
    "tempo_s": f"seconds from {TEMPO_MIN_S} to {TEMPO_MAX_S}",
    "sound": "true or false",
    "plan_sets": f"a whole number of sets from {PLAN_SETS_MIN} to {PLAN_SETS_MAX}",
    "plan_reps": f"a whole number of perfect reps from {PLAN_REPS_MIN} to {PLAN_REPS_MAX}",
    "rest_s": f"whole seconds from {REST_MIN_S} to {REST_MAX_S}",
    "variant": "one of " + ", ".join(VARIANTS),
    "stop_depth": f"null or a depth from {STOP_DEPTH_MIN} to {STOP_DEPTH_MAX} (0 = legs vertical, 1 = the floor)",
}


class SettingsError(ValueError):
    """A bad setting: `field` names it, the message says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def floor_choice(value) -> float:
    """The floor, exactly one of FLOOR_CHOICES (0.35, not 0.35000000000000003: the API's schema
    lists them); SettingsError otherwise."""
    if _number(value) and value in FLOOR_CHOICES:
        return float(value)
    raise SettingsError("floor", f"must be {ALLOWED['floor']}")


def tempo_choice(value) -> float:
    """The target descent in seconds, to a tenth; SettingsError outside TEMPO_MIN_S–TEMPO_MAX_S."""
    if not _number(value) or not TEMPO_MIN_S <= value <= TEMPO_MAX_S:
        raise SettingsError("tempo_s", f"must be {ALLOWED['tempo_s']}")
    return round(float(value), 1)


def _whole(key: str, value, low: int, high: int) -> int:
    if not _number(value) or not low <= value <= high or value != int(value):
        raise SettingsError(key, f"must be {ALLOWED[key]}")
    return int(value)


def stop_depth_choice(value) -> float | None:
    """The stop-here depth to a hundredth, or None; SettingsError outside its range."""
    if value is None:
        return None
    if not _number(value) or not STOP_DEPTH_MIN <= value <= STOP_DEPTH_MAX:
        raise SettingsError("stop_depth", f"must be {ALLOWED['stop_depth']}")
    return round(float(value), 2)


def validate_settings(changes: dict) -> dict:
    """Checked, normalised settings; SettingsError on the first bad field (nothing applied)."""
    clean = {}
    for key, value in changes.items():
        if key == "floor":
            clean["floor"] = floor_choice(value)
        elif key == "tempo_s":
            clean["tempo_s"] = tempo_choice(value)
        elif key == "sound":
            if not isinstance(value, bool):
                raise SettingsError("sound", f"must be {ALLOWED['sound']}")
            clean["sound"] = value
        elif key == "plan_sets":
            clean[key] = _whole(key, value, PLAN_SETS_MIN, PLAN_SETS_MAX)
        elif key == "plan_reps":
            clean[key] = _whole(key, value, PLAN_REPS_MIN, PLAN_REPS_MAX)
        elif key == "rest_s":
            clean[key] = _whole(key, value, REST_MIN_S, REST_MAX_S)
        elif key == "variant":
            if value not in VARIANTS:
                raise SettingsError("variant", f"must be {ALLOWED['variant']}")
            clean[key] = value
        elif key == "stop_depth":
            clean[key] = stop_depth_choice(value)
        else:
            raise SettingsError(key, f"unknown setting; known: {', '.join(DEFAULTS)}")
    return clean
