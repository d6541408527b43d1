"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

Built from the same limits the code enforces (floor steps, tempo range, PIN digits, the live
stream's client limit), so the description cannot drift from them. The test suite fuzzes every
operation against it with schemathesis.
"""
from __future__ import annotations

from mat.pipeline import breathing
from mat.storage.pin import PIN_PATTERN
from mat.pipeline.settings import (FLOOR_CHOICES, PLAN_REPS_MAX, PLAN_REPS_MIN, PLAN_SETS_MAX, PLAN_SETS_MIN,
                                   REST_MAX_S, REST_MIN_S, STOP_DEPTH_MAX, STOP_DEPTH_MIN, TEMPO_MAX_S,
                                   TEMPO_MIN_S, VARIANTS)
from mat.profiles import COLOUR_PATTERN, NAME_MAX, NAME_PATTERN
from mat.profiles.report import CSV_FIELDS
from mat.profiles.week import DEFAULT_WEEKS, MAX_WEEKS
from mat.storage.store import MAX_SESSION_ID


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _nullable(type_: str, **extra) -> dict:
    return {"type": [type_, "null"], **extra}


CROSS_SITE = _error("a browser's request from another site (Origin or Referer not this host): refused")
PIN_REFUSED = _error("a PIN is set and this client is not unlocked, or the PIN is wrong")
PIN_PAUSED = {**_error("too many wrong PINs: paused"),
              "headers": {"Retry-After": {"description": "seconds until a PIN is checked again",
                                          "schema": {"type": "integer", "minimum": 1}}}}
TOO_LARGE = _error("the body is larger than 64 KiB")
BAD_ID = _error("the session id is not a whole number from 1 (`field` is session_id)")
DAEMON_DOWN = _error("the mat's daemon is not running or did not answer within a second")


def _guarded_write(ok: dict, *, with_body: bool) -> dict:
    """Responses of a change that a PIN guards."""
    responses = {"200": ok, "403": PIN_REFUSED, "429": PIN_PAUSED}
    if with_body:
        responses |= {"400": _error("bad input: `field` names it; nothing was changed"), "413": TOO_LARGE}
    return responses


def _command(summary: str) -> dict:
    return {"post": {"summary": summary, "tags": ["commands"], "responses": {
        "200": _json({"type": "object", "required": ["sent"], "properties": {"sent": {"type": "string"}},
                      "additionalProperties": False}, "the daemon acknowledged the command"),
        "403": CROSS_SITE, "503": DAEMON_DOWN}}}


SESSION_ID = {"name": "session_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SESSION_ID}}
PROFILE_ID = {"name": "profile_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SESSION_ID}}
BAD_PROFILE_ID = _error("the profile id is not a whole number from 1 (`field` is profile_id)")
NO_PROFILE = _error("no such profile")
DAY = {"type": "string", "format": "date"}


def _live_state_schema() -> dict:
    """The live stream's `state` message (mat.pipeline.live.live_state plus the daemon's
    own figures, mat.daemon.loop.MatLoop.live_state). Breathing from mat.pipeline.breathing."""
    trace_len = int(breathing.TRACE_S * breathing.SAMPLE_HZ / breathing.TRACE_STEP)
    number = {"type": "number"}
    return {"type": "object", "required": ["type", "t", "state", "breath_rate_bpm", "breath_holding",
                                            "breath_holds", "breath_trace"], "properties": {
        "type": {"const": "state"},
        "t": {"type": "number", "description": "the pipeline's clock (s)"},
        "state": {"type": "string", "description": "empty, waiting, calibrating, resting, exercising or lifted"},
        "contact": _nullable("number", description="lumbar contact against the glued level (1: glued)"),
        "floor": {"enum": list(FLOOR_CHOICES)},
        "warning_floor": {"type": "number"},
        "zone": _nullable("string", description="ok, warning or lifted"),
        "warning_level": _nullable("number", minimum=0, maximum=1),
        "pressure": {"type": "array", "items": {"type": "array", "items": number},
                     "description": "per-cell pressure 0..1.5 against the calibrated peak, row 0 at the head"},
        "reps": {"type": "integer", "minimum": 0}, "perfect_reps": {"type": "integer", "minimum": 0},
        "liftoffs": {"type": "integer", "minimum": 0}, "set": {"type": "integer", "minimum": 0},
        "calibration": _nullable("string", description="pressed or relaxed; null before calibrating"),
        "calibration_problem": _nullable("string", description="not_still, no_body or no_lumbar_cells"),
        "dead_cells": {"type": "array", "items": {"type": "array", "items": {"type": "integer"},
                                                   "minItems": 2, "maxItems": 2}, "description": "[row, col]"},
        "offline_chips": {"type": "array", "items": {"type": "integer"}, "description": "rows"},
        "tempo_s": {"type": "number", "minimum": TEMPO_MIN_S, "maximum": TEMPO_MAX_S},
        "breath_rate_bpm": _nullable("number", minimum=breathing.MIN_BPM, maximum=breathing.MAX_BPM,
                                     description="the latest breathing rate (breaths/min); null while it "
                                                 "cannot tell (moving, in a set, nobody there)"),
        "breath_holding": {"type": "boolean", "description": "a held breath was cued and is still held"},
        "breath_holds": {"type": "integer", "minimum": 0, "description": "held breaths cued this session"},
        "breath_trace": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["dt_s", "values"], "additionalProperties": False, "properties": {
                "dt_s": {"const": breathing.TRACE_STEP / breathing.SAMPLE_HZ},
                "values": {"type": "array", "items": number, "maxItems": trace_len,
                           "description": "oldest first; breathing in upward when that is known "
                                          "(units: the cells' own noise)"}}}],
            "description": f"the last {breathing.TRACE_S:g} s of the breathing signal; null while moving"},
        "session_id": _nullable("integer", minimum=1),
        "frames": {"type": "integer", "minimum": 0}, "frame_rate_hz": number,
        "cpu_ms": {"type": "number", "description": "the loop's CPU per frame"},
        "sound": {"type": "boolean"},
        "totals": {"type": "object", "properties": {k: {"type": "integer", "minimum": 0}
                                                    for k in ("liftoffs", "reps", "sessions")}},
        "mqtt": {"type": ["object", "null"], "description": "the MQTT publisher's figures; null when off"},
        "variant": {"enum": [*VARIANTS, None], "description": "the variant of whom the mat serves (the button "
                                                              "held three ticks steps it)"},
    }}


def _week_view_schema() -> dict:
    """mat.profiles.week.week_view's answer."""
    whole = {"type": "integer", "minimum": 0}
    week = {"type": "object", "required": ["start", "sessions", "reps", "perfect_reps", "mean_descent_s"],
            "properties": {"start": DAY, "sessions": whole, "reps": whole, "perfect_reps": whole,
                           "mean_descent_s": _nullable("number")}}
    proposal = {"type": "object", "required": ["variant", "direction", "reps", "slow_perfect_reps", "liftoff_reps"],
                "additionalProperties": False, "properties": {
                    "variant": {"enum": list(VARIANTS)}, "direction": {"enum": ["harder", "easier"]},
                    "reps": whole, "slow_perfect_reps": whole, "liftoff_reps": whole}}
    return {"type": "object", "required": ["profile", "goal", "this_week", "weeks", "descents", "ladder"],
            "properties": {
                "profile": {"type": "object", "required": ["id", "name", "colour"]},
                "goal": {"type": "object", "required": ["min", "max"], "properties": {"min": whole, "max": whole}},
                "this_week": {"allOf": [week, {"type": "object", "required": ["status"], "properties": {
                    "status": {"enum": ["short", "met", "beyond"]}}}]},
                "weeks": {"type": "array", "items": week, "minItems": 1, "description": "oldest first"},
                "descents": {"type": "array", "description": "each trained session's mean descent, oldest first",
                             "items": {"type": "object", "required": ["session_id", "started_at", "mean_descent_s"]}},
                "ladder": {"type": "object", "required": ["variant", "rung", "rungs", "seen", "suggestion", "proposal"],
                           "properties": {
                               "variant": {"enum": list(VARIANTS)},
                               "rung": {"type": "integer", "minimum": 1, "maximum": len(VARIANTS)},
                               "rungs": {"type": "array", "items": {"enum": list(VARIANTS)}},
                               "session_id": _nullable("integer", description="the latest trained session"),
                               "session_started_at": _nullable("string", format="date-time"),
                               "seen": {"enum": ["alternating", "single_leg", None]},
                               "suggestion": {"enum": ["alternating", "single_leg", None],
                                              "description": "the variant the latest session looked like, when "
                                                             "it is not the one chosen"},
                               "proposal": {"oneOf": [{"type": "null"}, proposal],
                                            "description": "15 perfect reps with a 3 s descent: the next rung; "
                                                           "lift-offs in over a third of the reps: an easier one"}}}}}


def _profile_query(description: str) -> dict:
    """?profile=N, as web.api.sessions.profile_filter reads it."""
    return {"name": "profile", "in": "query", "required": False, "description": description,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SESSION_ID}}


def openapi_spec(max_live_clients: int) -> dict:
    settings_props = {
        "floor": {"enum": list(FLOOR_CHOICES),
                  "description": "share of the pressed contact below which the back counts as lifted"},
        "tempo_s": {"type": "number", "minimum": TEMPO_MIN_S, "maximum": TEMPO_MAX_S,
                    "description": "descent target in seconds (kept to 0.1 s)"},
        "sound": {"type": "boolean"},
        "plan_sets": {"type": "integer", "minimum": PLAN_SETS_MIN, "maximum": PLAN_SETS_MAX,
                      "description": "sets in the plan"},
        "plan_reps": {"type": "integer", "minimum": PLAN_REPS_MIN, "maximum": PLAN_REPS_MAX,
                      "description": "perfect reps that complete a set"},
        "rest_s": {"type": "integer", "minimum": REST_MIN_S, "maximum": REST_MAX_S,
                   "description": "rest between sets (s)"},
        "variant": {"enum": list(VARIANTS), "description": "the exercise, easiest first (the ladder)"},
        "stop_depth": _nullable("number", minimum=STOP_DEPTH_MIN, maximum=STOP_DEPTH_MAX,
                                description="the stop-here depth (0 legs vertical, 1 the floor; the floor "
                                            "finder sets it); null: learnt from each session's lift-offs"),
    }
    profile_props = {
        "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX, "pattern": NAME_PATTERN.pattern},
        "colour": {"type": "string", "pattern": f"^{COLOUR_PATTERN.pattern}$"},
        "settings": {"type": "object", "properties": settings_props, "additionalProperties": False},
    }
    profile_body = {"type": "object", "properties": profile_props, "additionalProperties": False}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Flatback mat", "version": "1",
                 "description": "The JSON API of the mat's local web page. Errors are {error, field?}. "
                                "With a PIN set, changes need an unlock (POST /api/unlock) first."},
        "paths": {
            "/api/sessions": {"get": {
                "summary": "every session, newest first", "tags": ["history"],
                "parameters": [_profile_query("only this profile's sessions")],
                "responses": {"200": _json({"type": "array", "items": _ref("Session")}, "the sessions"),
                              "400": _error("`profile` is not a profile number")}}},
            "/api/sessions/{session_id}": {
                "parameters": [SESSION_ID],
                "get": {"summary": "one session with its reps, events and contact samples", "tags": ["history"],
                        "responses": {"200": _json(_ref("SessionDetail"), "the session"),
                                      "400": BAD_ID, "404": _error("no such session")}},
                "delete": {"summary": "delete a session and everything stored with it", "tags": ["history"],
                           "responses": {**_guarded_write(_json(
                               {"type": "object", "required": ["deleted"], "additionalProperties": False,
                                "properties": {"deleted": {"type": "integer"}}}, "deleted"), with_body=False),
                               "400": BAD_ID, "404": _error("no such session")}},
                "patch": {"summary": "move a session (and its body signature) to another profile", "tags": ["history"],
                          "requestBody": {"required": True, "content": {"application/json": {"schema": {
                              "type": "object", "required": ["profile_id"], "additionalProperties": False,
                              "properties": {"profile_id": {"type": "integer", "minimum": 1,
                                                            "maximum": MAX_SESSION_ID}}}}}},
                          "responses": {**_guarded_write(_json(_ref("Session"), "moved"), with_body=True),
                                        "404": _error("no such session, or no such profile")}},
            },
            "/api/profiles": {
                "get": {"summary": "every profile: people first, the guest last", "tags": ["profiles"],
                        "responses": {"200": _json({"type": "array", "items": _ref("Profile")}, "the profiles")}},
                "post": {"summary": "a new profile", "tags": ["profiles"],
                         "requestBody": {"required": True, "content": {"application/json": {"schema": {
                             **profile_body, "required": ["name"]}}}},
                         "responses": {**_guarded_write(_json(_ref("Profile"), "made"), with_body=True),
                                       "201": _json(_ref("Profile"), "made")}},
            },
            "/api/profiles/{profile_id}": {
                "parameters": [PROFILE_ID],
                "get": {"summary": "one profile", "tags": ["profiles"],
                        "responses": {"200": _json(_ref("Profile"), "the profile"), "400": BAD_PROFILE_ID,
                                      "404": NO_PROFILE}},
                "patch": {"summary": "rename, recolour or change settings: all of it or nothing", "tags": ["profiles"],
                          "requestBody": {"required": True, "content": {"application/json": {"schema": {
                              **profile_body, "minProperties": 1}}}},
                          "responses": {**_guarded_write(_json(_ref("Profile"), "saved"), with_body=True),
                                        "404": NO_PROFILE}},
                "delete": {"summary": "delete a profile and all its sessions (not the guest: 409)", "tags": ["profiles"],
                           "responses": {**_guarded_write(_json(
                               {"type": "object", "required": ["deleted"], "additionalProperties": False,
                                "properties": {"deleted": {"type": "integer"}}}, "deleted"), with_body=False),
                               "400": BAD_PROFILE_ID, "404": NO_PROFILE,
                               "409": _error("the guest profile cannot be deleted")}},
            },
            "/api/profiles/{profile_id}/choose": {
                "parameters": [PROFILE_ID],
                "post": {"summary": "this person is on the mat (or lies down next): their settings apply",
                         "tags": ["profiles", "commands"], "responses": {
                             "200": _json({"type": "object", "required": ["chosen", "applied"],
                                           "additionalProperties": False, "properties": {
                                               "chosen": {"type": "integer"},
                                               "applied": {"type": "boolean",
                                                           "description": "the running daemon took it"}}}, "chosen"),
                             "400": BAD_PROFILE_ID, "403": CROSS_SITE, "404": NO_PROFILE}},
            },
            "/api/profiles/{profile_id}/report": {
                "parameters": [PROFILE_ID,
                               {"name": "from", "in": "query", "required": False, "schema": DAY,
                                "description": "first day (default: 27 days before `to`)"},
                               {"name": "to", "in": "query", "required": False, "schema": DAY,
                                "description": "last day (default: today)"}],
                "get": {"summary": "the report for the physiotherapist over a period", "tags": ["profiles"],
                        "responses": {"200": _json(_ref("Report"), "the report"),
                                      "400": _error("a bad profile number or day"), "404": NO_PROFILE}},
            },
            "/api/profiles/{profile_id}/week": {
                "parameters": [PROFILE_ID,
                               {"name": "weeks", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_WEEKS},
                                "description": f"weeks up to this one (default {DEFAULT_WEEKS})"}],
                "get": {"summary": "the week view: sessions against 2–3 a week, perfect reps per week, descent "
                                   "tempo, and the ladder (the rung, a suggested variant, a proposed rung)",
                        "tags": ["profiles"],
                        "responses": {"200": _json(_ref("WeekView"), "the week view"),
                                      "400": _error("a bad profile number or number of weeks"),
                                      "404": NO_PROFILE}},
            },
            "/api/settings": {
                "get": {"summary": "the user's settings", "tags": ["settings"],
                        "responses": {"200": _json(_ref("Settings"), "the settings")}},
                "put": {"summary": "change some settings: all of them or none", "tags": ["settings"],
                        "requestBody": {"required": True, "content": {"application/json": {"schema": {
                            "type": "object", "properties": settings_props, "minProperties": 1,
                            "additionalProperties": False}}}},
                        "responses": _guarded_write(_json({"allOf": [_ref("Settings"), {
                            "type": "object", "required": ["applied"],
                            "properties": {"applied": {"type": "boolean",
                                                       "description": "the running daemon took it"}}}]},
                            "saved"), with_body=True)},
            },
            "/api/calibrate": _command("take the next steady 3 s hold as the new baseline"),
            "/api/session/start": _command("start a session now"),
            "/api/session/stop": _command("end the session; no new one until the mat has been empty"),
            "/api/floor-finder": _command("start the floor finder (the double-leg-lowering test, by ear)"),
            "/api/floor-tests": {"get": {
                "summary": "the floor finder's results of whom the mat serves, oldest first", "tags": ["history"],
                "parameters": [_profile_query("this profile's results instead")],
                "responses": {"200": _json({"type": "array", "items": _ref("FloorTest")}, "the results"),
                              "400": _error("`profile` is not a profile number")}}},
            "/api/live": {"get": {
                "summary": "Server-Sent Events: `state` (latest wins), `event`, `daemon` ({connected})",
                "description": "Each message is JSON: `state` is a LiveState, `event` an Event (as "
                               "`mat replay --json` prints it), `daemon` a DaemonStatus "
                               "(#/components/schemas/...).",
                "tags": ["live"],
                "responses": {"200": {"description": "an endless event stream",
                                      "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                              "503": _error(f"already {max_live_clients} live pages open")}}},
            "/api/pin": {
                "get": {"summary": "is a PIN set, and is this client unlocked", "tags": ["pin"],
                        "responses": {"200": _json(_ref("PinStatus"), "the PIN's state")}},
                "put": {"summary": "set or change the PIN (needs an unlock when one is set)", "tags": ["pin"],
                        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Pin")}}},
                        "responses": _guarded_write(_json(_ref("PinStatus"), "set; this client is unlocked"),
                                                    with_body=True)},
                "delete": {"summary": "remove the PIN (needs an unlock)", "tags": ["pin"],
                           "responses": _guarded_write(_json(_ref("PinStatus"), "removed"), with_body=False)},
            },
            "/api/unlock": {"post": {
                "summary": "unlock this client for a while with the PIN (a cookie)", "tags": ["pin"],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Pin")}}},
                "responses": {"200": _json(_ref("PinStatus"), "unlocked (or no PIN is set)"),
                              "400": _error("no PIN of 4 to 12 digits sent"), "403": PIN_REFUSED, "429": PIN_PAUSED,
                              "413": TOO_LARGE}}},
            "/api/lock": {"post": {"summary": "end this client's unlock", "tags": ["pin"], "responses": {
                "200": _json(_ref("PinStatus"), "locked"), "403": CROSS_SITE}}},
            "/api/openapi.json": {"get": {"summary": "this description", "tags": ["meta"], "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {
                "error": {"type": "string", "minLength": 1}, "field": {"type": "string"}}},
            "Settings": {"type": "object", "required": ["floor", "tempo_s", "sound"], "properties": settings_props},
            "Profile": {"type": "object", "required": ["id", "name", "colour", "guest", "settings", "sessions", "current"],
                        "properties": {
                            "id": {"type": "integer", "minimum": 1}, **profile_props,
                            "settings": _ref("Settings"),
                            "guest": {"type": "boolean", "description": "serves whoever the mat cannot tell"},
                            "sessions": {"type": "integer", "minimum": 0},
                            "current": {"type": "boolean", "description": "the mat serves this profile now"},
                            "created_at": {"type": "string", "format": "date-time"}}},
            "Report": {"type": "object", "required": ["profile", "period", "totals", "floor_finder", "sessions"],
                       "properties": {
                           "profile": {"type": "object"},
                           "period": {"type": "object", "required": ["from", "to"],
                                      "properties": {"from": DAY, "to": DAY}},
                           "totals": {"type": "object", "required": ["sessions", "reps", "perfect_reps", "liftoffs"]},
                           "floor_finder": {"type": "array"},
                           "sessions": {"type": "array", "items": {"type": "object", "required": list(CSV_FIELDS)}}}},
            "WeekView": _week_view_schema(),
            "Pin": {"type": "object", "required": ["pin"], "additionalProperties": False, "properties": {
                "pin": {"type": "string", "pattern": f"^{PIN_PATTERN.pattern}$"}}},
            "PinStatus": {"type": "object", "required": ["set", "unlocked", "unlocked_for_s"],
                          "additionalProperties": False, "properties": {
                              "set": {"type": "boolean"}, "unlocked": {"type": "boolean"},
                              "unlocked_for_s": {"type": "integer", "minimum": 0}}},
            "Session": {"type": "object", "required": ["id", "started_at", "status"], "properties": {
                "id": {"type": "integer", "minimum": 1},
                "started_at": {"type": "string", "format": "date-time"},
                "ended_at": _nullable("string", format="date-time"),
                "status": {"enum": ["open", "closed", "interrupted"]},
                "duration_s": _nullable("number"), "reps": _nullable("integer"),
                "perfect_reps": _nullable("integer"), "liftoffs": _nullable("integer"),
                "sets": _nullable("integer"), "mean_descent_s": _nullable("number"),
                "floor": _nullable("number"), "tempo_s": _nullable("number"),
                "rows": _nullable("integer"), "cols": _nullable("integer"),
                "material": _nullable("string"), "gain": _nullable("number"),
                "profile_id": _nullable("integer", description="whose session it is"),
                "balance": _nullable("number", description="left/right: − left, + right"),
                "breath_holds": _nullable("integer", minimum=0,
                                          description="held breaths cued; null: not measured (stored before)"),
                "mean_breath_bpm": _nullable("number", exclusiveMinimum=0,
                                             description="mean of the session's known breathing rates "
                                                         "(breaths/min; known only lying still), or null"),
                "variant": {"enum": [*VARIANTS, None],
                            "description": "the variant it was done on; null: stored before variants were"},
                "variant_seen": {"enum": ["alternating", "single_leg", None],
                                 "description": "what the reps' left/right sway showed; null: both legs or "
                                                "too little to tell"}}},
            "Rep": {"type": "object", "required": ["set_no", "rep_no", "perfect"], "properties": {
                "set_no": {"type": "integer"}, "rep_no": {"type": "integer"},
                "t_top": _nullable("number"), "t_bottom": _nullable("number"), "t_end": _nullable("number"),
                "descent_s": _nullable("number"), "perfect": {"enum": [0, 1]},
                "balance": _nullable("number"),
                "depth": _nullable("number", description="how far down the legs went (0 vertical, 1 the "
                                                         "person's full lowering)"),
                "bounce": {"enum": [0, 1, None], "description": "it rebounded at its bottom; null: not known"},
                "sway": _nullable("number", description="the centre of pressure's move from top to bottom "
                                                        "(share of the half-width; − left, + right)")}},
            "FloorTest": {"type": "object", "required": ["id", "taken_at", "beats", "angle_deg", "depth",
                                                         "reached_floor"], "properties": {
                "id": {"type": "integer"}, "taken_at": {"type": "string", "format": "date-time"},
                "session_id": _nullable("integer"), "profile_id": _nullable("integer"),
                "beats": {"type": "number", "description": "beats of the lowering reached (of 10)"},
                "angle_deg": {"type": "number", "description": "leg angle above the floor when the back began "
                                                               "to give way, assuming the beat was followed"},
                "depth": {"type": "number"}, "reached_floor": {"type": "boolean"}}},
            "Event": {"type": "object", "required": ["t", "type"], "properties": {
                "t": {"type": "number"}, "type": {"type": "string"}}},
            "LiveState": _live_state_schema(),
            "DaemonStatus": {"type": "object", "required": ["connected"], "additionalProperties": False,
                             "properties": {"connected": {"type": "boolean"}}},
            "SessionDetail": {"type": "object", "required": ["session", "reps", "events", "contact"],
                              "additionalProperties": False, "properties": {
                "session": _ref("Session"),
                "reps": {"type": "array", "items": _ref("Rep")},
                "events": {"type": "array", "items": _ref("Event")},
                "contact": {"type": "object", "required": ["t", "values"], "properties": {
                    "t": {"type": "array", "items": {"type": "number"}},
                    "values": {"type": "array", "items": {"type": "number"}}}}}},
        }},
    }
