"""The optional PIN that guards settings and deleting history.

Stored only as an Argon2id hash (argon2-cffi). Wrong PINs are rate-limited in the database,
so restarting the web server does not reset the count: the first few are free (typos), then
each one locks the PIN out for twice as long as the last, up to a quarter of an hour. Guessing
a 4-digit PIN then takes about 50 days on average (96 tries a day), and nobody is locked out of
their own mat for long.
"""
from __future__ import annotations

import re
import threading
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PIN_PATTERN = re.compile(r"[0-9]{4,12}")
FREE_TRIES = 5
FIRST_PAUSE_S = 30.0
LONGEST_PAUSE_S = 15 * 60.0

# OWASP's smaller Argon2id setting (19 MiB, 2 passes): 19 ms a check on the x86 machine that
# runs the tests, several times that on a Pi Zero 2, whose 512 MB would not welcome the
# library's 64 MiB default per parallel check.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# One check at a time in this process: parallel guesses must not slip past the counter.
_checking = threading.Lock()


class PinError(ValueError):
    """A PIN that is not allowed (`field` names the input)."""

    def __init__(self, message: str, field: str = "pin") -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class PinNeeded(PinError):
    """A change that needs the PIN, sent without it."""


class WrongPin(PinError):
    def __init__(self, tries_left: int, pause_s: float, field: str = "pin") -> None:
        if pause_s > 0:
            message = f"wrong PIN: too many wrong tries, try again in {int(pause_s)} s"
        else:
            message = f"wrong PIN ({tries_left} more {'try' if tries_left == 1 else 'tries'} before a pause)"
        super().__init__(message, field)
        self.tries_left = tries_left


class PinLockedOut(PinError):
    def __init__(self, retry_after_s: float, field: str = "pin") -> None:
        self.retry_after_s = max(1, int(retry_after_s + 0.999))
        super().__init__(f"too many wrong PINs: try again in {self.retry_after_s} s", field)


def validate_pin(pin, field: str = "pin") -> str:
    if not isinstance(pin, str) or not PIN_PATTERN.fullmatch(pin):
        raise PinError("must be 4 to 12 digits", field)
    return pin


def pause_after(failures: int) -> float:
    """Seconds the PIN is locked out after `failures` wrong tries in a row."""
    if failures < FREE_TRIES:
        return 0.0
    return min(FIRST_PAUSE_S * 2 ** (failures - FREE_TRIES), LONGEST_PAUSE_S)


class PinLock:
    """The PIN of the mat whose database `store` holds; `now` is the wall clock (epoch s)."""

    def __init__(self, store, now=None) -> None:
        self.store = store
        self.now = now or time.time

    @property
    def is_set(self) -> bool:
        return self.store.get_pin() is not None

    @property
    def generation(self) -> str | None:
        """Changes whenever the PIN does: unlocks granted under an older PIN stop counting."""
        row = self.store.get_pin()
        return row["changed_at"] if row else None

    def set(self, new_pin, field: str = "new_pin") -> None:
        self.store.set_pin_hash(_hasher.hash(validate_pin(new_pin, field)))

    def clear(self) -> None:
        self.store.set_pin_hash(None)

    def check(self, pin, field: str = "pin") -> None:
        """Nothing when `pin` is right (or no PIN is set); PinNeeded without one, PinLockedOut
        while paused, else WrongPin. A pause refuses even the right PIN, or guessing would go on."""
        with _checking:
            row = self.store.get_pin()
            if row is None:
                return
            if not isinstance(pin, str) or not pin:
                raise PinNeeded("this mat has a PIN: enter it to make changes", field)
            wait_s = row["locked_until"] - self.now()
            if wait_s > 0:
                raise PinLockedOut(wait_s, field)
            try:
                _hasher.verify(row["hash"], pin)
            except (VerificationError, InvalidHashError):
                failures = row["failures"] + 1
                pause_s = pause_after(failures)
                self.store.record_pin_failure(failures, self.now() + pause_s)
                raise WrongPin(max(FREE_TRIES - failures, 0), pause_s, field) from None
            if row["failures"]:
                self.store.record_pin_failure(0, 0.0)
