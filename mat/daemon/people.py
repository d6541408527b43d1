"""Who is on the mat, for the realtime loop: the profiles (read from the store when they change),
the one whose settings apply now, and what the mat made of the body lying down.

A session starts under the guest profile, unless someone was chosen (page or button) while
the mat was empty. At the first calibration the body's signature is matched
(mat/profiles/recognition.py): a clear match is suggested and its settings apply, and the page
shows "Anna? — change"; anything unsure keeps the guest's settings and asks on the page. It
never applies someone else's floor without saying whose it is.
"""
from __future__ import annotations

from dataclasses import dataclass

from mat.profiles.recognition import Suggestion, suggest


@dataclass
class OnTheMat:
    """profile_id: whose settings apply. confirmed: chosen by the person (not a suggestion).
    suggestion: the last match's Suggestion (None before the first calibration)."""

    profile_id: int
    confirmed: bool = False
    suggestion: Suggestion | None = None


class People:
    """The loop's view of the profiles. `store`: a mat.storage.store.Store (read on this thread
    only when something changed: at start and on the settings_changed command)."""

    def __init__(self, store) -> None:
        self.store = store
        self.profiles: list[dict] = []
        self.signatures: dict[int, list[dict]] = {}
        self.guest_id = 0
        self.now = OnTheMat(0)
        self._chosen_for_next: int | None = None
        self.reload()
        self.now = OnTheMat(store.current_profile_id(), confirmed=True)

    def reload(self) -> None:
        self.profiles = self.store.list_profiles()
        self.signatures = self.store.body_signatures()
        self.guest_id = self.store.guest_profile_id
        if self.profile(self.now.profile_id) is None:  # deleted: the guest serves
            self.now = OnTheMat(self.guest_id)
        if self._chosen_for_next is not None and self.profile(self._chosen_for_next) is None:
            self._chosen_for_next = None

    def profile(self, profile_id: int) -> dict | None:
        return next((p for p in self.profiles if p["id"] == profile_id), None)

    @property
    def settings(self) -> dict:
        return self.profile(self.now.profile_id)["settings"]

    # -- what happens on the mat -------------------------------------------------------------
    def session_started(self) -> int:
        """A body lay down: whose settings apply until it is recognised (or chosen)."""
        if self._chosen_for_next is not None:
            self.now = OnTheMat(self._chosen_for_next, confirmed=True)
            self._chosen_for_next = None
        else:
            self.now = OnTheMat(self.guest_id)
        return self.now.profile_id

    def recognise(self, signature: dict) -> bool:
        """The first calibration's body signature; True when a suggestion changed whose settings
        apply. A person already chosen stays chosen."""
        if self.now.confirmed:
            return False
        self.now.suggestion = suggest(signature, self.signatures)
        chosen = self.now.suggestion.profile_id
        if chosen is None or chosen == self.now.profile_id:
            return False
        self.now.profile_id = chosen
        return True

    def choose(self, profile_id: int, session_running: bool) -> bool:
        """Someone chose a profile (page or button): for this session, or the next one while the
        mat is empty. False for a profile that does not exist."""
        if self.profile(profile_id) is None:
            return False
        self.now = OnTheMat(profile_id, confirmed=True, suggestion=self.now.suggestion)
        if not session_running:
            self._chosen_for_next = profile_id
        return True

    def next_profile(self) -> tuple[int, int]:
        """The button: the profile after the one serving now, in the page's order (people, then
        the guest), and its place in that order from 1."""
        ids = [p["id"] for p in self.profiles]
        here = ids.index(self.now.profile_id) if self.now.profile_id in ids else -1
        position = (here + 1) % len(ids)
        return ids[position], position + 1

    def session_ended(self, signature: dict | None) -> None:
        """Keep the session's signature under its profile for the next match (never the guest's)."""
        if signature is not None and self.now.profile_id != self.guest_id:
            self.signatures.setdefault(self.now.profile_id, []).append(signature)
        self.now.suggestion = None  # nobody is there to ask any more

    def live_state(self) -> dict:
        profile = self.profile(self.now.profile_id) or {}
        suggestion = self.now.suggestion
        return {
            "id": self.now.profile_id, "name": profile.get("name"), "colour": profile.get("colour"),
            "guest": bool(profile.get("guest")), "confirmed": self.now.confirmed,
            # the mat is unsure who this is and asks on the page (the guest's settings apply)
            "asking": not self.now.confirmed and suggestion is not None and suggestion.profile_id is None,
            "suggested": not self.now.confirmed and suggestion is not None and suggestion.profile_id is not None,
            "match": None if suggestion is None else suggestion.as_json(),
            "profiles": [{"id": p["id"], "name": p["name"], "colour": p["colour"], "guest": p["guest"]}
                         for p in self.profiles],
        }
