"""The simulated person produces the pressure shapes DOMAIN.md describes, and knows the truth."""
import numpy as np
import pytest

from hardware.materials import material, rail_counts
from hardware.simulated_person import Scenario, SimulatedPerson

SESSION = """
person mass_kg=75 seed=5 noise=0
empty 3
lie_down 1.5
relax 3
press 4
set reps=4 descent_s=3 ascent_s=2 arch_reps=2 arch_depth=0.3
rest 10
get_up
empty 4
"""


@pytest.fixture
def person():
    return SimulatedPerson(Scenario.parse(SESSION))


def row_shares(load):
    rows = load.sum(axis=1)
    return rows / rows.sum()


def test_lying_relaxed_loads_the_rows_about_20_17_22_40_percent(person):
    shares = row_shares(person.loads(6.5))
    np.testing.assert_allclose(shares, [0.20, 0.17, 0.22, 0.40], atol=0.02)
    columns = person.loads(6.5).sum(axis=0) / person.loads(6.5).sum()
    assert columns[0] == pytest.approx(0.25, abs=0.04) and columns[3] == pytest.approx(0.25, abs=0.04)


def test_pressing_flat_fills_the_lumbar_trough(person):
    relaxed, pressed = person.loads(6.5), person.loads(10.0)
    gain = pressed.sum(axis=1) / relaxed.sum(axis=1)
    assert gain[1] > 1.4 and gain[2] > 1.4
    assert gain[0] == pytest.approx(1.0, abs=0.05)


def test_the_centre_of_pressure_moves_toward_the_sacrum_once_per_rep(person):
    def cop(t):
        rows = person.loads(t).sum(axis=1)
        return float(np.dot(rows, np.arange(4)) / rows.sum())

    rep = person.reps[0]
    top, bottom, end = cop(rep["top"]), cop(rep["bottom"]), cop(rep["end"])
    assert bottom - top > 0.05 and bottom - end > 0.05


def test_an_arch_drops_the_lumbar_rows_while_the_sacrum_gains(person):
    start, end = person.liftoffs(0.5)[0]
    before, during = person.loads(start - 1.0).sum(axis=1), person.loads((start + end) / 2).sum(axis=1)
    assert during[1] < 0.6 * before[1] and during[2] < 0.6 * before[2]
    assert during[3] > before[3]


def test_truth_matches_the_script(person):
    assert len(person.reps) == 4 and person.sets[0]["reps"] == 4
    liftoffs = person.liftoffs(0.5)
    assert len(liftoffs) == 1
    arch_rep = person.reps[1]
    assert arch_rep["top"] < liftoffs[0][0] < arch_rep["end"]
    assert person.contact(10.0) == pytest.approx(1.0, abs=0.01)
    assert 0.5 < person.contact(6.5) < 0.7
    labels = person.labels(0.5)
    assert labels["liftoffs"] == [list(liftoffs[0])]
    assert [r["perfect"] for r in labels["reps"]] == [True, False, True, True]
    assert labels["contact"]["dt"] == 0.01 and len(labels["contact"]["values"]) == int(person.duration_s / 0.01) + 1


def test_heavier_bodies_read_higher():
    light = SimulatedPerson(Scenario.parse("person mass_kg=45 seed=1 noise=0\nlie_down 1\nrelax 5"))
    heavy = SimulatedPerson(Scenario.parse("person mass_kg=120 seed=1 noise=0\nlie_down 1\nrelax 5"))
    assert heavy.counts(3.0).sum() > light.counts(3.0).sum() * 1.3


def test_lying_off_centre_shifts_the_column_centroid():
    def centroid(offset):
        p = SimulatedPerson(Scenario.parse(f"person offset_x_cm={offset} noise=0\nlie_down 1\nrelax 5"))
        cols = p.loads(3.0).sum(axis=0)
        return float(np.dot(cols, np.arange(4)) / cols.sum())

    assert centroid(3) > centroid(0) + 0.2 > centroid(-3) + 0.4


def test_velostat_reads_half_the_load_as_about_three_quarters_of_the_conductance():
    velostat = material("velostat")
    full, half = velostat.conductance_ratio(1.0), velostat.conductance_ratio(0.5)
    assert half / full == pytest.approx(0.68, abs=0.06)


def test_creep_raises_a_constant_load_by_8_to_24_percent_within_seconds():
    p = SimulatedPerson(Scenario.parse("person noise=0 drift=0 seed=2\nlie_down 0.1\nrelax 30"))
    rail = rail_counts(1)
    velostat = material("velostat")
    tare = p.counts(0.0)
    first = velostat.load_from_counts(p.counts(1.0), tare, rail).sum()
    later = velostat.load_from_counts(p.counts(8.0), tare, rail).sum()
    assert 1.08 <= later / first <= 1.30


def test_a_dead_cell_stays_stuck():
    p = SimulatedPerson(Scenario.parse("person seed=3\nlie_down 1\nrelax 2\ndead_cell row=1 col=2 kind=rail\n"
                                       "dead_cell row=2 col=0 kind=zero\nrelax 5"))
    frames = np.array([p.counts(t) for t in np.arange(3.5, 8.0, 0.1)])
    assert np.all(frames[:, 1, 2] == rail_counts(1))
    assert np.all(frames[:, 2, 0] == 0)


def test_the_same_seed_gives_the_same_frames():
    a, b = (SimulatedPerson(Scenario.parse(SESSION)) for _ in range(2))
    for t in np.arange(0, 30, 0.37):
        np.testing.assert_array_equal(a.counts(t), b.counts(t))


def test_an_unknown_step_names_its_line():
    with pytest.raises(ValueError, match="scenario line 2: unknown step 'jump'"):
        Scenario.parse("empty 1\njump 3\n")
