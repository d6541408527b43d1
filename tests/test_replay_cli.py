"""`mat replay` as other tools use it (mat/README.md, "mat replay"): JSON lines with the contract's fields."""
import json
import subprocess
import sys

import pytest

from mat.pipeline.events import EVENT_FIELDS, count_liftoffs
from mat.tools.suite import write_labelled

SCENARIO = """
person mass_kg=80 seed=61
empty 3
lie_down 1.5
relax 3
press 4
set reps=4 arch_reps=3
get_up
empty 6
person mass_kg=60 seed=62
lie_down 1.5
relax 3
press 4
set reps=3
rest 3
"""


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    csv_path, _ = write_labelled(SCENARIO, tmp_path_factory.mktemp("rec"))
    return csv_path


def mat(*args):
    return subprocess.run([sys.executable, "-m", "mat.cli", *args], capture_output=True, text=True, timeout=120)


REQUIRED = {"present": set(), "calibrated": set(), "liftoff": {"contact"}, "contact": {"duration_s"},
            "rep": {"perfect", "descent_s"}, "absent": set(), "session_end": {"reps", "perfect_reps", "liftoffs"}}


def test_json_lines_carry_the_contract_fields_and_end_with_a_summary(recording):
    result = mat("replay", str(recording), "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    for event in events:
        assert isinstance(event["t"], float) and isinstance(event["type"], str)
        assert REQUIRED.get(event["type"], set()) <= event.keys()  # mat/README.md, "mat replay"
        assert set(EVENT_FIELDS[event["type"]]) <= event.keys()  # and what mat/events.py promises
    types = [e["type"] for e in events]
    assert types[-1] == "session_end"
    assert types.count("session_end") == 2  # two people; the second still on the mat at the end
    assert types.count("present") == 2 and count_liftoffs(events) == 1  # sitting up is not one
    times = [e["t"] for e in events]
    assert times == sorted(times)


def test_a_higher_floor_is_taken_from_the_flag(recording):
    low = mat("replay", str(recording), "--json", "--floor", "0.2").stdout
    assert count_liftoffs([json.loads(line) for line in low.splitlines()]) == 0


def test_the_readable_summary(recording):
    result = mat("replay", str(recording))
    assert result.returncode == 0
    assert "Session 1: 4 reps in 1 sets, 3 perfect, 1 lift-offs" in result.stdout


def test_a_malformed_recording_names_the_line_and_changes_nothing(tmp_path):
    path = tmp_path / "broken.csv"
    lines = ["# flatback-recording 1", "# rows=1 cols=2", "t,r0c0,r0c1", "0.0,1,2", "0.01,1"]
    path.write_text("\n".join(lines) + "\n")
    result = mat("replay", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"mat replay: {path}:5: expected 3 fields, found 2"
