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
DEFAULTS = {"floor": 0.5, "tempo_s": 3.0, "sound": True}

ALLOWED = {
    "floor": "0.20 to 0.90 in steps of 0.05 (0.20, 0.25, … 0.90)",
    "tempo_s": f"seconds from {TEMPO_MIN_S} to {TEMPO_MAX_S}",
    "sound": "true or false",
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
        else:
            raise SettingsError(key, f"unknown setting; known: {', '.join(DEFAULTS)}")
    return clean
