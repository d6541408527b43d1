"""What every request passes through: the body limit, the cross-site rule, the security
headers, errors as JSON or a page, and the optional PIN.

With a PIN set, changing settings, deleting a session and changing or removing the PIN need
either the PIN in the same form or a browser unlocked within the last PIN_UNLOCK_S (a signed,
HttpOnly, SameSite=Strict cookie). Reading, and the commands a user gives lying on the mat
(calibrate, start, stop), stay open: they change no stored data.
"""
from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit

from flask import current_app, jsonify, render_template, request, session
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from mat.storage.pin import PinError, PinLock, PinLockedOut, PinNeeded, WrongPin

from web.db import get_store


def install(app) -> None:
    """Put every guard on `app`."""
    app.before_request(_refuse_oversized_bodies)
    app.before_request(_refuse_cross_site_writes)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.context_processor(pin_state)


def json_error(status: int, message: str, field: str | None = None):
    """The API's error shape: {"error": what is wrong, "field": which input} with `status`."""
    body = {"error": message}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    return response


def _refuse_oversized_bodies():
    """413 before anything else looks at the request (Flask alone raises it only when the body
    is read, so a locked or refused request would answer 403 to an oversized body)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge(f"the body is {request.content_length} bytes; at most {limit} are taken")


def _refuse_cross_site_writes():
    """A page on another site must not change settings, delete history or command the mat:
    a browser's write must come from this origin. Browsers say where a request comes from
    (Sec-Fetch-Site, Origin on every cross-site POST/PUT/DELETE, else Referer)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return _cross_site()
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin is None:
        return None  # not a browser (curl, scripts): no ambient credentials at stake
    if urlsplit(origin).netloc != request.host:
        return _cross_site()
    return None


def _cross_site():
    return json_error(403, "cross-site request refused: changes must come from the mat's own page")


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for older browsers
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _http_error(error: HTTPException):
    """Errors as JSON for the API and exports, as a page elsewhere; with the error's own
    headers (Allow on a 405)."""
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if isinstance(error, MethodNotAllowed):
        error.description = (f"{request.method} is not allowed on {request.path}; "
                             f"allowed: {', '.join(sorted(error.valid_methods or []))}")
    if request.path.startswith("/api/") or request.path.endswith((".json", ".csv")):
        response = json_error(error.code or 500, error.description or error.name)
        response.headers.extend(headers)
        return response
    return render_template("error.html", code=error.code, message=error.description), error.code, headers


# -- the PIN ----------------------------------------------------------------------------------
def pin_lock() -> PinLock:
    return PinLock(get_store())


def _unlocked_for_s(pin_row: dict | None) -> float:
    """Seconds this browser stays unlocked (0: locked, or no PIN). Unlocks under an older PIN
    (`pin_row` is the store's) do not count."""
    if pin_row is None or session.get("pin_generation") != pin_row["changed_at"]:
        return 0.0
    return max(0.0, float(session.get("unlocked_until", 0.0)) - time.time())


def unlock(lock: PinLock, pin, field: str = "pin") -> None:
    """Check `pin` (PinError if missing, wrong or paused) and unlock this browser for PIN_UNLOCK_S."""
    lock.check(pin, field)
    grant(lock)


def require_pin(pin=None, field: str = "pin") -> None:
    """Return when the change may go ahead: no PIN set, this browser unlocked, or `pin` (from
    the form) right, which also unlocks it. Otherwise PinError, and nothing has changed."""
    if not pin_status()["unlocked"]:
        unlock(pin_lock(), pin, field)


def pin_required(view):
    """For API views that change stored data: with a PIN set, only an unlocked client gets in."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        try:
            require_pin()
        except PinError as error:
            return pin_error_response(error)
        return view(*args, **kwargs)

    return guarded


def status_for(error: PinError) -> int:
    """400 for a PIN that is not allowed, 403 for a missing or wrong one, 429 while paused."""
    if isinstance(error, PinLockedOut):
        return 429
    return 403 if isinstance(error, (PinNeeded, WrongPin)) else 400


def pin_error_response(error: PinError):
    """The API's answer to a PinError ({"error", "field"}, with Retry-After while paused)."""
    response = json_error(status_for(error), error.message, field=error.field)
    if isinstance(error, PinLockedOut):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def pin_state() -> dict:
    """Every page knows whether changes need the PIN (forms then ask for it)."""
    status = pin_status()
    remaining = status["unlocked_for_s"]
    return {"pin_set": status["set"], "unlocked": status["unlocked"],
            "unlocked_min": max(1, round(remaining / 60)) if remaining else 0}


def grant(lock: PinLock) -> None:
    session.clear()
    session.permanent = True  # the cookie itself expires with the unlock
    session["pin_generation"] = lock.generation
    session["unlocked_until"] = time.time() + float(current_app.config["PIN_UNLOCK_S"])


def pin_status() -> dict:
    """Is a PIN set, and is this browser unlocked: from one read of the PIN's row."""
    pin_row = get_store().get_pin()
    remaining = _unlocked_for_s(pin_row)
    return {"set": pin_row is not None, "unlocked": pin_row is None or remaining > 0,
            "unlocked_for_s": int(remaining)}


def set_pin(new_pin, field: str) -> None:
    lock = pin_lock()
    lock.set(new_pin, field)  # validates first: a PinError names `field`
    grant(lock)  # whoever set it stays unlocked; every other browser is locked out
