"""A handful of recordings from an independent simulator (made apart from this project, modelled
on real Velostat/FSR grids and people lying on pressure mats), replayed through `mat replay`'s
pipeline. They live outside the repository, beside it in `../shared/recordings/external`; the
tests skip when that folder is not there.

What must hold on recordings we did not make: the lumbar footprint lies above the pelvis row
(never the sacrum row, which carries the legs' weight), calibration is never taken while the
legs move, every true lift-off is alerted in time, and events come out in time order.
"""
import json
from pathlib import Path

import pytest

from mat.tools.replay import replay_events

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "recordings" / "external"
#: Different bodies, placements, materials and frame rates, the ones that failed first.
NAMES = ["clean_basic", "light_body", "dead_cell_zero", "fps_50", "offcentre_left_high",
         "offcentre_right_low", "two_sessions"]

pytestmark = pytest.mark.skipif(not EXTERNAL.is_dir(), reason=f"{EXTERNAL} is not there")


def _replay(name):
    events = list(replay_events(EXTERNAL / f"{name}.csv"))
    labels = json.loads((EXTERNAL / f"{name}.labels.json").read_text())
    return events, labels


@pytest.mark.parametrize("name", NAMES)
def test_the_footprint_lies_above_the_pelvis_and_events_are_in_time_order(name):
    events, labels = _replay(name)
    times = [e["t"] for e in events]
    assert times == sorted(times)
    assert events[-1]["type"] == "session_end"
    calibrations = [e for e in events if e["type"] == "calibrated"]
    assert calibrations
    for event in calibrations:
        rows = {r for r, _c in event["lumbar_cells"]}
        assert rows and max(rows) < 3, f"footprint on the sacrum row: {event}"


@pytest.mark.parametrize("name", NAMES)
def test_calibration_is_taken_before_the_legs_move_and_every_lift_off_is_alerted(name):
    events, labels = _replay(name)
    sim = labels["sim"]
    for session in sim["sessions"]:
        first_set = min((s["start"] for s in sim["sets"] if s["session"] == sim["sessions"].index(session)),
                        default=session["up"])
        taken = [e["t"] for e in events if e["type"] == "calibrated" and session["enter"] <= e["t"] <= session["up"]]
        assert taken and all(t < first_set for t in taken), (taken, first_set)
    alerts = [e["t"] for e in events if e["type"] == "liftoff"]
    for start, end in labels["liftoffs"]:
        assert any(start - 0.1 <= t <= min(end, start + 0.1) for t in alerts), f"lift-off at {start} not alerted"
