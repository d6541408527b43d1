"""Property-based fuzzing of every JSON API operation against /api/openapi.json (schemathesis):
no 5xx on any input, and every response conforms to the description (status, content type,
headers, body). Runs on a seeded database with a fake daemon answering commands.

The live stream (/api/live) is endless, so it is left to its own tests in test_web_app.py.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from mat.storage.pin import PinLock
from web import DEFAULT_CONFIG
from web.openapi import openapi_spec

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
REQUESTS: dict[str, int] = {}
PIN = "5150"


class CountRequests:
    """WSGI middleware: how many requests each operation's fuzzing really sent."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.count = 0

    def __call__(self, environ, start_response):
        self.count += 1
        return self.wsgi_app(environ, start_response)


@pytest.fixture(params=["no PIN", "PIN set"])
def served(request, app, daemon, store):
    """The app behind a request counter, with a fake daemon acknowledging commands; with or
    without a PIN (then no fuzzed change may go through)."""
    if request.param == "PIN set":
        PinLock(store).set(PIN)
    counter = CountRequests(app.wsgi_app)
    app.wsgi_app = counter
    return app, counter, request.param


def test_the_description_covers_every_api_route_and_nothing_else(client):
    """Every route under /api is described with its methods (a route added without its
    description fails here), and the app serves that description."""
    served = client.get("/api/openapi.json").get_json()
    described = {(path, method.upper()) for path, item in served["paths"].items()
                 for method in item if method in ("get", "put", "post", "delete", "patch")}
    routed = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
              for rule in client.application.url_map.iter_rules() if rule.rule.startswith("/api/")
              and not rule.endpoint.startswith("api.not_a_")  # the catch-alls that answer 400 to a non-number
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed


# The description is the served one (above); loading it from the module lets each operation be
# its own test (schemathesis' fixture loader does not run under pytest 9).
schema = schemathesis.openapi.from_dict(openapi_spec(DEFAULT_CONFIG["MAX_LIVE_CLIENTS"]))


#: Examples per operation and mode: with 25 operations, twice (with and without a PIN), this is
#: about 10 000 requests, which keeps `make test` inside CI's 15 minutes.
FUZZ_EXAMPLES = 200


@schema.exclude(path="/api/live").parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api_and_every_answer_matches_its_description(case, served, store):
    app, counter, mode = served
    before = (store.list_profiles(), store.list_sessions(), store.get_pin())
    response = case.call_and_validate(app=app)
    guarded = case.method in ("PUT", "DELETE", "PATCH") or (case.method == "POST" and case.path == "/api/profiles")
    if mode == "PIN set" and guarded:
        assert response.status_code in (400, 403, 404, 405, 413, 429), response.status_code
        after = (store.list_profiles(), store.list_sessions(), store.get_pin())
        assert (after[0], after[1], after[2]["hash"]) == (before[0], before[1], before[2]["hash"])
    REQUESTS[f"{case.operation.label} ({mode})"] = counter.count  # cumulative for this operation
    ARTIFACTS.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # one file per test worker
    (ARTIFACTS / f"fuzz-requests-{worker}.json").write_text(json.dumps(
        dict(REQUESTS, total=sum(REQUESTS.values())), indent=1, sort_keys=True))
