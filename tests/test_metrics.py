"""/metrics in Prometheus' text format, parsed with prometheus-client's own parser: the
daemon's figures from its live state, labelled by mat, with Prometheus' naming rules."""
import time

from prometheus_client.parser import text_string_to_metric_families


def _families(client):
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}


def _value(families, name, sample=None):
    (s,) = [s for s in families[name].samples if s.name == (sample or name)]
    return s.value, s.labels


STATE = {"type": "state", "t": 12.0, "state": "resting", "contact": 0.9, "frames": 12345, "frame_rate_hz": 128.4,
         "cpu_ms": 0.162, "totals": {"liftoffs": 3, "reps": 21, "sessions": 2}, "session_id": 4,
         "mqtt": {"connected": True, "outbox": 1, "events_dropped": 0, "mat_id": "gym-3"}}


def test_metrics_say_the_daemon_is_down_when_it_is(app, client):
    families = _families(client)
    assert _value(families, "flatback_up") == (0.0, {"mat": "flatback"})
    assert "flatback_frames" not in families


def test_metrics_carry_the_daemons_figures_labelled_by_mat(app, client, daemon):
    app.config["MAT_ID"] = "gym-3"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        daemon.publish_state(STATE)
        families = _families(client)
        if _value(families, "flatback_up")[0] == 1.0:
            break
    assert _value(families, "flatback_up") == (1.0, {"mat": "gym-3"})
    assert families["flatback_frames"].type == "counter"
    assert _value(families, "flatback_frames", "flatback_frames_total") == (12345.0, {"mat": "gym-3"})
    assert _value(families, "flatback_frame_rate_hertz")[0] == 128.4
    assert abs(_value(families, "flatback_loop_cpu_per_frame_seconds")[0] - 0.000162) < 1e-12
    assert _value(families, "flatback_liftoffs", "flatback_liftoffs_total")[0] == 3
    assert _value(families, "flatback_reps", "flatback_reps_total")[0] == 21
    assert _value(families, "flatback_sessions", "flatback_sessions_total")[0] == 2
    assert _value(families, "flatback_mqtt_connected")[0] == 1 and _value(families, "flatback_mqtt_outbox_messages")[0] == 1
    assert _value(families, "flatback_live_clients")[0] == 0
    for family in families.values():
        assert family.name.startswith("flatback_")
        for sample in family.samples:
            assert set(sample.labels) == {"mat"}  # by mat, never by person or session
            assert sample.name == family.name + ("_total" if family.type == "counter" else "")
