"""CellConditioner on its own: raw counts in, load and trusted cells out, with the dead-cell and
chip events, frame by frame at 100 Hz."""
import numpy as np
import pytest

from hardware.materials import material, rail_counts
from mat.pipeline.conditioning import ALIVE_AFTER_S, DEAD_AFTER_S, CellConditioner

RAIL = rail_counts(1)
EMPTY = 300  # unloaded Velostat still conducts a little
BODY = 9000


def conditioner():
    return CellConditioner(4, 4, material("velostat"), RAIL)


def frames(conditioner, seconds, counts_at, start=0.0, offline_rows=(), empty=False):
    """Run frames for `seconds`; `counts_at(t)` gives each frame's counts. Returns (last frame, events)."""
    events, frame = [], None
    for i in range(int(seconds * 100)):
        t = round(start + i / 100, 6)
        frame, new = conditioner.condition(t, counts_at(t), offline_rows, empty=empty)
        events += new
    return frame, events


def body(t, rng=np.random.default_rng(1)):
    """A body: every cell loaded and never perfectly still (breathing, noise)."""
    return (BODY + rng.integers(-40, 40, (4, 4))).astype(np.int32)


def test_an_empty_mat_is_the_tare_and_a_body_is_load_that_adds_up():
    cells = conditioner()
    frame, events = frames(cells, 1.0, lambda t: np.full((4, 4), EMPTY), empty=True)
    assert events == [] and np.allclose(frame.load, 0.0) and frame.raised_counts == 0
    light = np.full((4, 4), EMPTY + 2000)
    heavy = np.full((4, 4), EMPTY + 8000)
    load_light = cells.condition(1.0, light)[0].load
    load_heavy = cells.condition(1.01, heavy)[0].load
    assert (load_light > 0).all() and (load_heavy > 1.5 * load_light).all()


def test_a_cell_at_the_rail_is_masked_at_once_declared_dead_and_comes_back():
    cells = conditioner()
    frames(cells, 0.5, lambda t: np.full((4, 4), EMPTY), empty=True)

    def shorted(t):
        counts = body(t)
        if t < 4.0:
            counts[1, 2] = RAIL
        return counts

    first, _ = cells.condition(0.5, shorted(0.5))
    assert not first.alive[1, 2] and first.load[1, 2] == 0.0  # masked from the first frame
    _, events = frames(cells, 6.0, shorted, start=0.51)
    dead = [e for e in events if e["type"] == "dead_cell"]
    ok = [e for e in events if e["type"] == "cell_ok"]
    assert [(e["row"], e["col"], e["kind"]) for e in dead] == [(1, 2, "rail")]
    assert dead[0]["t"] == pytest.approx(0.5 + DEAD_AFTER_S, abs=0.15)
    assert [(e["row"], e["col"]) for e in ok] == [(1, 2)] and ok[0]["t"] == pytest.approx(4.0 + ALIVE_AFTER_S, abs=0.15)


def test_a_frozen_cell_under_a_body_is_dead_but_a_still_empty_mat_is_fine():
    cells = conditioner()
    _, events = frames(cells, 3.0, lambda t: np.full((4, 4), EMPTY), empty=True)
    assert events == []  # unloaded cells may sit perfectly still

    def frozen(t):
        counts = body(t)
        counts[2, 1] = BODY  # never moves
        return counts

    _, events = frames(cells, 4.0, frozen, start=3.0)  # frozen for FROZEN_AFTER_S, then dead after DEAD_AFTER_S
    assert [(e["type"], e["row"], e["col"], e["kind"]) for e in events] == [("dead_cell", 2, 1, "frozen")]


def test_a_chip_that_stops_answering_takes_its_row_out_until_it_answers():
    cells = conditioner()
    frames(cells, 0.5, lambda t: np.full((4, 4), EMPTY), empty=True)
    frame, events = frames(cells, 1.0, body, start=0.5, offline_rows=(3,))
    assert [(e["type"], e["row"]) for e in events] == [("chip_offline", 3)]
    assert not frame.alive[3].any() and frame.alive[:3].all() and (frame.load[3] == 0).all()
    frame, events = frames(cells, 0.1, body, start=1.5)
    assert [(e["type"], e["row"]) for e in events] == [("chip_online", 3)] and frame.alive.all()
