"""Who is on the mat, for the realtime loop: the profiles (read from the store when they change),
the one whose settings apply now, and what the mat made of the body lying down.

A session starts under the guest profile, unless someone was chosen (page or button) while
the mat was empty: that choice is kept in the store, so a restart of the daemon keeps it too.
At the first calibration the body's signature is matched (mat/profiles/recognition.py, which
also owns the rule for a mat with one person): a clear match is suggested, its settings apply,
the page shows "Anna? — change" and the buzzer says whose floor it is (n chirps for profile n);
anything unsure keeps the guest's settings and asks on the page. It never applies someone
else's floor without saying whose it is.
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
    only when something changed: at start and on the settings_changed command; the loop writes
    through its StoreWriter)."""

    def __init__(self, store) -> None:
        self.store = store
        self.profiles: list[dict] = []
        self.signatures: dict[int, list[dict]] = {}
        self.guest_id = 0
        self.now = OnTheMat(0)
        self.chosen_for_next: int | None = store.next_session_profile_id()
        self.reload()
        self.now = OnTheMat(self.chosen_for_next or store.current_profile_id(), confirmed=True)

    def reload(self) -> None:
        self.profiles = self.store.list_profiles()
        self.signatures = self.store.body_signatures()
        self.guest_id = self.store.guest_profile_id
        if self.profile(self.now.profile_id) is None:  # deleted: the guest serves
            self.now = OnTheMat(self.guest_id)
        if self.chosen_for_next is not None and self.profile(self.chosen_for_next) is None:
            self.chosen_for_next = None

    def profile(self, profile_id: int) -> dict | None:
        return next((p for p in self.profiles if p["id"] == profile_id), None)

    def position(self, profile_id: int) -> int:
        """A profile's place in the People page's order (people, then the guest), from 1: the
        number of chirps that name it."""
        ids = [p["id"] for p in self.profiles]
        return ids.index(profile_id) + 1 if profile_id in ids else 0

    @property
    def settings(self) -> dict:
        return self.profile(self.now.profile_id)["settings"]

    # -- what happens on the mat -------------------------------------------------------------
    def session_started(self) -> bool:
        """A body lay down: the guest's settings apply until it is recognised, or the person
        chosen beforehand's. True when that choice was used up (the loop forgets it in the store)."""
        chosen = self.chosen_for_next
        self.chosen_for_next = None
        self.now = OnTheMat(chosen, confirmed=True) if chosen is not None else OnTheMat(self.guest_id)
        return chosen is not None

    def recognise(self, signature: dict) -> bool:
        """The first calibration's body signature; True when a suggestion changed whose settings
        apply. A person already chosen stays chosen."""
        if self.now.confirmed:
            return False
        people = [p["id"] for p in self.profiles if not p["guest"]]
        self.now.suggestion = suggest(signature, self.signatures, people)
        chosen = self.now.suggestion.profile_id
        if chosen is None or chosen == self.now.profile_id:
            return False
        self.now.profile_id = chosen
        return True

    def announcement(self) -> int | None:
        """How many chirps say whose floor guards the person lying down (their place on the
        People page), or None for the guest's: no count means nobody was recognised."""
        return None if self.now.profile_id == self.guest_id else self.position(self.now.profile_id) or None

    def choose(self, profile_id: int, session_running: bool) -> bool:
        """Someone chose a profile (page or button): for this session, or the next one while the
        mat is empty. False for a profile that does not exist."""
        if self.profile(profile_id) is None:
            return False
        self.now = OnTheMat(profile_id, confirmed=True, suggestion=self.now.suggestion)
        if not session_running:
            self.chosen_for_next = profile_id
        return True

    def next_profile(self) -> tuple[int, int]:
        """The button: the profile after the one serving now, in the page's order (people, then
        the guest), and its place in that order from 1."""
        ids = [p["id"] for p in self.profiles]
        following = ids[self.position(self.now.profile_id) % len(ids)]
        return following, self.position(following)

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
