"""Who is on the mat: each person's profile (its name and colour are checked here) and
recognising them by their body (mat/profiles/recognition.py).

A profile's settings are the user's settings of mat/pipeline/settings.py, one set per person.
"""
from __future__ import annotations

import re

from mat.pipeline.settings import SettingsError

NAME_MAX = 40
#: Colours given to new profiles in turn (the page's palette); any #rrggbb may be chosen.
COLOURS = ("#0969da", "#bf3989", "#1a7f37", "#bc4c00", "#8250df", "#0a7e8c", "#9a6700", "#cf222e")
COLOUR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")
#: Something to read, and no control characters.
NAME_PATTERN = re.compile(r"^[^\x00-\x1f]*[^\x00-\x1f\s][^\x00-\x1f]*$")
ALLOWED = {
    "name": f"1 to {NAME_MAX} characters, not only spaces",
    "colour": "a colour as #rrggbb (e.g. #0969da)",
}


class ProfileError(SettingsError):
    """A bad profile field: `field` names it, the message says what is allowed (the shape of a
    bad setting, so one handler answers both)."""


def validate_profile(changes: dict) -> dict:
    """Checked name and colour (ProfileError on the first bad one; nothing applied)."""
    clean = {}
    for key, value in changes.items():
        if key == "name":
            if not isinstance(value, str) or not NAME_PATTERN.search(value) or len(value.strip()) > NAME_MAX:
                raise ProfileError("name", f"must be {ALLOWED['name']}")
            clean["name"] = value.strip()
        elif key == "colour":
            if not isinstance(value, str) or not COLOUR_PATTERN.fullmatch(value):
                raise ProfileError("colour", f"must be {ALLOWED['colour']}")
            clean["colour"] = value.lower()
        else:
            raise ProfileError(key, "unknown field; known: name, colour, settings")
    return clean
