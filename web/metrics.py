"""/metrics: the daemon's figures in Prometheus' text format (prometheus-client), labelled by
mat (its MQTT id, or the hostname), never by person.

The figures come from the daemon's latest live state (MatLoop.live_state: frames, frame rate,
CPU per frame, totals since it started, the MQTT publisher's connection and outbox) through
this web process's one relay of the live socket; the live clients are this server's streams.
Nothing here touches the hardware or waits for the daemon more than a moment.
"""
from __future__ import annotations

import time

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from web.live_relay import get_relay

bp = Blueprint("metrics", __name__)

#: A first scrape after the web server started waits this long for the daemon's state (s).
FIRST_STATE_WAIT_S = 1.0


class MatCollector:
    """Collects at scrape time from `state()` (the daemon's live state or None) and `clients()`."""

    def __init__(self, mat_id: str, state, clients) -> None:
        self.mat_id = mat_id
        self.state = state
        self.clients = clients

    def describe(self):
        return []  # collected only at scrape time

    def collect(self):
        labels, values = ["mat"], [self.mat_id]
        state = self.state()

        def gauge(name, doc, value):
            family = GaugeMetricFamily(name, doc, labels=labels)
            family.add_metric(values, float(value))
            return family

        def counter(name, doc, value):
            family = CounterMetricFamily(name, doc, labels=labels)  # the _total suffix is added
            family.add_metric(values, float(value))
            return family

        yield gauge("flatback_up", "1 when the mat's daemon is running and connected to this web server",
                    state is not None)
        yield gauge("flatback_live_clients", "browsers watching the live view on this web server", self.clients())
        if state is None:
            return
        totals = state.get("totals") or {}
        yield counter("flatback_frames", "frames read from the grid since the daemon started", state.get("frames", 0))
        yield gauge("flatback_frame_rate_hertz", "frames per second over the last 200 frames",
                    state.get("frame_rate_hz", 0.0))
        yield gauge("flatback_loop_cpu_per_frame_seconds", "CPU time per frame of pipeline, alerts and hand-offs "
                    "(moving average)", state.get("cpu_ms", 0.0) / 1000)
        yield counter("flatback_liftoffs", "lift-offs since the daemon started", totals.get("liftoffs", 0))
        yield counter("flatback_reps", "reps since the daemon started", totals.get("reps", 0))
        yield counter("flatback_sessions", "sessions ended since the daemon started", totals.get("sessions", 0))
        mqtt = state.get("mqtt")
        yield gauge("flatback_mqtt_enabled", "1 when the daemon publishes to an MQTT broker ([mqtt] enabled)",
                    mqtt is not None)
        if mqtt is not None:
            yield gauge("flatback_mqtt_connected", "1 while the daemon is connected to its MQTT broker",
                        bool(mqtt.get("connected")))
            yield gauge("flatback_mqtt_outbox_messages", "session summaries waiting for the broker's acknowledgement",
                        mqtt.get("outbox", 0))
            yield counter("flatback_mqtt_events_dropped", "events not published (queue full) since the daemon "
                          "started", mqtt.get("events_dropped", 0))


def _daemon_state():
    """The daemon's latest state; None when it is not running (its socket is not there)."""
    import os

    relay = get_relay()
    relay.start()  # the relay's thread otherwise starts with the first live page
    deadline = time.monotonic() + FIRST_STATE_WAIT_S
    while relay.latest_state is None and os.path.exists(relay.client.path) and time.monotonic() < deadline:
        time.sleep(0.05)
    return relay.latest_state


@bp.get("/metrics")
def metrics():
    state = _daemon_state()
    relay = get_relay()
    mat_id = current_app.config.get("MAT_ID") or ((state or {}).get("mqtt") or {}).get("mat_id") or "flatback"
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MatCollector(mat_id, lambda: state, lambda: relay.subscriber_count))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
