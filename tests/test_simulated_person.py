"""The simulated person produces the pressure shapes hardware/README.md describes, real sensors' habits,
people's different ways of starting a session, and knows the truth."""
import json

import numpy as np
import pytest

from hardware.materials import SUPPLY_V, material, rail_counts
from hardware.emulation.person import Scenario, SimulatedPerson

SESSION = """
person mass_kg=75 seed=5 noise=0 relaxed_level=0.7
empty 3
lie_down 1.5
relax 3
press 4
set reps=4 descent_s=3 ascent_s=2 arch_reps=2 arch_depth=0.3
rest 10
get_up
empty 4
"""
#: A mat without noise, hum, drift or unloaded conduction: the sensor's own physics shows.
QUIET_MAT = "mat noise=0 drift=0 hum_mv=0 adc_noise=0 unloaded=0 seed=4\n"


@pytest.fixture
def person():
    return SimulatedPerson(Scenario.parse(SESSION))


def sim(text, **kw):
    return SimulatedPerson(Scenario.parse(text), **kw)


def row_shares(load):
    rows = load.sum(axis=1)
    return rows / rows.sum()


def sensed_load(p, counts):
    """Undo the divider, each cell's own gain and exponent (what the detector cannot know)."""
    volts = counts * 4.096 / 32768
    g = volts / (SUPPLY_V - volts) / p._cell_gain
    return np.maximum(g, 0) ** (1 / p._exponent)


# -- the body -------------------------------------------------------------------------------
def test_lying_relaxed_loads_the_rows_about_20_17_22_40_percent(person):
    shares = row_shares(person.loads(6.5))
    np.testing.assert_allclose(shares, [0.20, 0.17, 0.22, 0.40], atol=0.02)
    columns = person.loads(6.5).sum(axis=0) / person.loads(6.5).sum()
    assert columns[0] == pytest.approx(0.25, abs=0.04) and columns[3] == pytest.approx(0.25, abs=0.04)


def test_pressing_fills_the_lumbar_trough_against_the_sacrum(person):
    relaxed, pressed = person.loads(6.5), person.loads(10.0)
    gain = pressed.sum(axis=1) / relaxed.sum(axis=1)
    assert gain[1] > 1.4 and gain[1] > gain[0] + 0.3 and gain[1] > gain[2] + 0.3  # the apex most
    assert 1.03 < gain[0] < 1.3 and gain[2] > 1.05  # L1–L2 and L4–L5 flatten too, less
    assert gain[3] < 0.95  # the pelvis rolls back: the sacrum loses


def test_the_centre_of_pressure_moves_toward_the_sacrum_once_per_rep(person):
    def cop(t):
        rows = person.loads(t).sum(axis=1)
        return float(np.dot(rows, np.arange(4)) / rows.sum())

    rep = person.reps[0]
    top, bottom, end = cop(rep["top"]), cop(rep["bottom"]), cop(rep["end"])
    assert bottom - top > 0.05 and bottom - end > 0.05


def test_good_form_tilts_the_pelvis_a_little_the_way_an_arch_does(person):
    rep = person.reps[0]
    top, bottom = person.loads(rep["top"]).sum(axis=1), person.loads(rep["bottom"]).sum(axis=1)
    assert 0.8 <= person.contact(rep["bottom"]) <= 0.93
    assert bottom[1] / top[1] < bottom[0] / top[0] < 1 and bottom[2] < top[2]  # the apex dips most
    assert bottom[3] > top[3]


def arch_ratios(text):
    """Row loads mid-arch / a second before it (rows 0–3)."""
    p = sim(text)
    start, end = p.liftoffs(0.5)[0]
    return p.loads((start + end) / 2).sum(axis=1) / p.loads(start - 1.0).sum(axis=1)


def test_an_arch_lifts_the_whole_lumbar_span_apex_most_and_the_sacrum_gains(person):
    start, end = person.liftoffs(0.5)[0]
    ratio = person.loads((start + end) / 2).sum(axis=1) / person.loads(start - 1.0).sum(axis=1)
    # Centred, rows 0–2 lie over L1–L2, the apex and L4–L5: all three lose, the apex most; row 0
    # gains nothing (the thoracic back that takes a share lies above the grid's top edge).
    assert ratio[0] < 0.6 and ratio[1] < 0.5 and ratio[2] < 0.8
    assert ratio[1] == ratio.min()
    assert ratio[3] > 1.2  # the sacrum takes most of it


def test_lying_4_cm_high_row_2_behaves_like_the_sacrum():
    body = "noise=0 seed=5 relaxed_level=0.7 lumbar_len_cm=17"
    text = (f"person {{}} {body}\nempty 2\nlie_down 1.5\nrelax 3\npress 4\n"
            "set reps=2 arch_reps=1 arch_depth=0.2\nget_up\nempty 2")
    high = arch_ratios(text.format("offset_y_cm=-4"))  # the grid lower on the body
    assert high[2] > 1.2 and high[3] > 1.2  # rows 2 and 3 over the sacrum: both gain
    assert high[0] < 0.6 and high[1] < 0.6  # the lumbar span is on rows 0–1
    p = sim(f"person offset_y_cm=-4 {body}\nlie_down 1\nrelax 4\npress 4")
    gain = p.loads(8.0).sum(axis=1) / p.loads(3.5).sum(axis=1)
    assert gain[2] < 0.97 and gain[3] < 0.97  # pressing: row 2 loses with the sacrum
    assert gain[0] > 1.3 and gain[1] > 1.3
    # Lying 4 cm low (the grid higher on the body) row 0 reaches the thoracic back: in an arch
    # it takes a share of the lost load instead of losing like L1–L2.
    low = arch_ratios(text.format("offset_y_cm=4"))
    centred = arch_ratios(text.format("offset_y_cm=0"))
    assert low[0] > centred[0] + 0.3 and low[1] < 0.5 and low[2] < 0.5


def test_the_truth_contact_is_the_lumbar_spans_load_over_its_pressed_level():
    # An 18-cm lumbar spine spans rows 0–2 when centred and rows 1–3 when lying 6 cm low.
    script = ("person {} lumbar_len_cm=18 relaxed_level=0.74 seed=4 noise=0\nempty 2\nlie_down 1.5\n"
              "relax 4\npress 4\nset reps=3 arch_reps=2 arch_depth=0.25\nrest 5\nget_up\nempty 2")
    for offset, span in ((0, slice(0, 3)), (6, slice(1, 4))):
        p = sim(script.format(f"offset_y_cm={offset}"))
        times = np.arange(3.6, p.duration_s - 2.5, 0.05)
        lumbar = np.array([p.loads(t)[span].sum() for t in times])
        hold = np.arange(*p.sessions[0]["hold"], 0.05)
        pressed = np.mean([p.loads(t)[span].sum() for t in hold]) / p.contact(hold).mean()
        np.testing.assert_allclose(p.contact(times), lumbar / pressed, rtol=1e-6, atol=1e-9)
        assert p.contact(times).min() < 0.3  # the arch is in there


def test_heavier_bodies_read_higher():
    light = sim("person mass_kg=45 seed=1 noise=0\nlie_down 1\nrelax 5")
    heavy = sim("person mass_kg=120 seed=1 noise=0\nlie_down 1\nrelax 5")
    assert heavy.loads(3.0).sum() > 2.3 * light.loads(3.0).sum()
    assert heavy.counts(3.0).sum() > light.counts(3.0).sum() * 1.15  # the divider compresses


def test_lying_off_centre_shifts_the_column_centroid():
    def centroid(offset):
        p = sim(f"person offset_x_cm={offset} noise=0\nlie_down 1\nrelax 5")
        cols = p.loads(3.0).sum(axis=0)
        return float(np.dot(cols, np.arange(4)) / cols.sum())

    assert centroid(3) > centroid(0) + 0.1 > centroid(-3) + 0.2


def test_lying_4_cm_high_moves_the_lumbar_rows_toward_row_0():
    def trough_row(offset_y):
        p = sim(f"person offset_y_cm={offset_y} relaxed_level=0.7 seed=3\nlie_down 1\nrelax 4\npress 4")
        filled = (p.loads(8.0) - p.loads(3.5)).sum(axis=1)  # where pressing adds load: the lumbar rows
        filled = np.maximum(filled, 0)
        return float(np.dot(filled, np.arange(4)) / filled.sum())

    centred, high, low = trough_row(0), trough_row(-4), trough_row(4)
    assert 0.8 < centred < 2.0
    assert high < centred - 0.4 and low > centred + 0.4


def test_breathing_ripples_most_under_the_lower_ribs():
    p = sim("person seed=8 breath_bpm=15 breath_depth=1\nlie_down 1\nrelax 40")
    rows = np.array([p.loads(t).sum(axis=1) for t in np.arange(5, 35, 0.1)])
    ripple = rows.std(axis=0) / rows.mean(axis=0)
    assert ripple[0] > 0.01 and ripple[0] > 2 * ripple[2] and ripple[0] > 3 * ripple[3]
    # about 15 breaths a minute: count the upward zero crossings of row 0
    r0 = rows[:, 0] - rows[:, 0].mean()
    crossings = np.sum((r0[:-1] < 0) & (r0[1:] >= 0))
    assert 6 <= crossings <= 9


# -- the sensors ----------------------------------------------------------------------------
def test_velostat_reads_half_the_load_as_about_three_quarters_of_the_conductance():
    velostat = material("velostat")
    full, half = velostat.conductance_ratio(1.0), velostat.conductance_ratio(0.5)
    assert half / full == pytest.approx(0.68, abs=0.06)


def test_cells_have_their_own_exponent_and_strips_their_own_gain():
    velostat = sim("mat material=velostat seed=2 strip_spread=0.5\nperson\nlie_down 1")
    fsr = sim("mat material=fsr seed=2\nperson\nlie_down 1")
    assert velostat._exponent.min() >= 0.4 and velostat._exponent.max() <= 0.95
    assert velostat._exponent.std() > 0.05 and len(np.unique(velostat._exponent.round(3))) == 16
    assert fsr._exponent.min() >= 0.85 and fsr._exponent.max() <= 1.0
    assert velostat._strip_gain.max() / velostat._strip_gain.min() > 1.5
    # Same cell, two loads: the counts-derived conductance grows as load ** (the cell's exponent).
    p = sim(QUIET_MAT + "person seed=1 relaxed_level=0.7\nlie_down 0.5\nrelax 6\npress 6")
    ratio = sensed_load(p, p.counts(11.5))[1:3] / sensed_load(p, p.counts(5.5))[1:3]
    true = p.loads(11.5)[1:3] / p.loads(5.5)[1:3]
    assert np.allclose(ratio / true, 1.0, atol=0.15)  # right once each cell's own exponent is used


def test_creep_raises_a_constant_load_by_8_to_24_percent_within_seconds():
    p = sim(QUIET_MAT + "person seed=2\nlie_down 0.1\nrelax 30")
    first, later = sensed_load(p, p.counts(1.0)), sensed_load(p, p.counts(8.0))
    assert 1.08 <= later.sum() / first.sum() <= 1.30


def test_creep_restarts_after_the_cells_are_unloaded():
    p = sim(QUIET_MAT + "person seed=2\nlie_down 0.5\nrelax 60\nget_up 1\nempty 10\nlie_down 0.5\nrelax 20")
    times = np.arange(0.0, 90.0, 0.01)  # the sensor state follows the frames it is read at
    frames = p.frames(times)
    creep = np.array([sensed_load(p, f).sum() for f in frames]) / np.maximum(
        [p.loads(t).sum() for t in times], 1e-9)
    before, again = creep[6000], creep[7400]  # t = 60 s, and 2 s after lying down again
    assert before > 1.3  # a minute of creep: 1 + c·ln(61) with c 0.07–0.12
    assert 1.02 < again < before - 0.15  # creeping from the start again
    # ... and the reading never jumps when a restart happens (no step between frames)
    lying = frames[7200:8000].astype(float).sum(axis=(1, 2))
    assert np.abs(np.diff(lying)).max() < 0.02 * lying.mean()


def test_a_cell_whose_load_goes_reads_it_gone_at_once():
    """Creep is a factor on the reading of the load lying on the cell (hardware/README.md,
    "What real sensors do"): when an arch empties the lumbar cells after a minute of creep, the
    strain still recovering scales with what is left, so the reading falls with the load."""
    p = sim(QUIET_MAT + "person seed=2 relaxed_level=0.7\nlie_down 0.5\npress 60\n"
            "set reps=2 descent_s=3 arch_reps=1 arch_kind=held arch_depth=0.05 arch_fall_s=0.12\nrest 5")
    arch = next(e for e in p.events if e["kind"] == "arch")
    times = np.arange(0.0, arch["t"] + 0.6, 0.005)
    frames = p.frames(times)
    lumbar = (1, slice(None))  # row 1: the apex of the lumbar curve, emptied most

    def creep_at(t):
        i = int(np.searchsorted(times, t))
        return sensed_load(p, frames[i])[lumbar].sum() / p.loads(times[i])[lumbar].sum()

    before = creep_at(arch["t"] - 0.05)
    assert before > 1.25  # a minute of creep
    # from the moment the load has fallen, the reading over the load stays at most what it was
    fallen = arch["t"] + arch["fall"] + 0.02
    assert all(creep_at(t) < before + 0.05 for t in np.arange(fallen, fallen + 0.3, 0.02))


def test_unloaded_cells_conduct_a_little_and_wander():
    p = sim("mat seed=6 noise=0 adc_noise=0 hum_mv=0\nperson\nempty 120\nlie_down 1\nrelax 10")
    empty_early, empty_late, loaded = p.counts(1.0), p.counts(90.0), p.counts(125.0)
    assert np.all(empty_early > 100) and np.all(empty_early < 0.35 * loaded)
    assert np.abs(empty_late / empty_early - 1).max() > 0.05


def test_frame_noise_is_about_one_percent_of_a_loaded_cell():
    p = sim("mat seed=3 noise=0.01 hum_mv=0 adc_noise=0 drift=0\nperson relaxed_level=0.7\nlie_down 0.5\nrelax 3\npress 30")
    frames = np.array([p.counts(t) for t in np.arange(20, 25, 0.01)]).astype(float)
    relative = (np.diff(frames, axis=0).std(axis=0) / np.sqrt(2)) / frames.mean(axis=0)
    assert 0.002 < np.median(relative) < 0.015  # ~1 % of the load, less in counts (power law)


def test_a_dead_cell_stays_stuck():
    p = sim("person seed=3\nlie_down 1\nrelax 2\ndead_cell row=1 col=2 kind=rail\n"
            "dead_cell row=2 col=0 kind=zero\ndead_cell row=0 col=1 kind=frozen\nrelax 5")
    frames = np.array([p.counts(t) for t in np.arange(3.5, 8.0, 0.1)])
    assert np.all(frames[:, 1, 2] == rail_counts(1))
    assert np.all(frames[:, 2, 0] == 0)
    assert len(np.unique(frames[:, 0, 1])) == 1 and len(np.unique(frames[:, 0, 0])) > 1


def test_a_dying_cell_fades_out_mid_session():
    p = sim("person seed=3\nlie_down 1\nrelax 10\ndead_cell row=1 col=1 kind=dying fade_s=6\nrelax 20")
    before = np.array([p.counts(t)[1, 1] for t in np.arange(8, 10.5, 0.05)])
    after = np.array([p.counts(t)[1, 1] for t in np.arange(25, 30, 0.05)])
    assert before.min() > 3000 and after.max() < 0.05 * before.mean()


# -- people start differently; the truth says where the reference is -----------------------
def test_truth_matches_the_script(person):
    assert len(person.reps) == 4 and person.sets[0]["reps"] == 4
    liftoffs = person.liftoffs(0.5)
    assert len(liftoffs) == 1
    arch_rep = person.reps[1]
    assert arch_rep["top"] < liftoffs[0][0] < arch_rep["end"]
    assert person.contact(10.0) == pytest.approx(1.0, abs=0.02)
    assert person.contact(6.5) == pytest.approx(0.7, abs=0.02)
    labels = person.labels(0.5)
    assert labels["liftoffs"] == [list(liftoffs[0])]
    assert [r["perfect"] for r in labels["reps"]] == [True, False, True, True]
    assert labels["contact"]["dt"] == 0.01 and len(labels["contact"]["values"]) == int(person.duration_s / 0.01) + 1


def test_a_person_who_never_presses_reads_0_68_to_0_85_of_their_glued_level():
    for seed in range(1, 6):
        p = sim(f"person seed={seed}\nempty 2\nlie_down 1.5\nrelax 6\nfidget 1\nrelax 4\n"
                "set reps=3\nrest 8\nget_up\nempty 3")
        (session,) = p.labels(0.5)["sim"]["sessions"]
        assert session["choreography"]["pressed"] is False
        a, b = session["hold"]
        assert (a, b) == pytest.approx((4.0, 7.0), abs=0.01)  # the first steady 3 s of lying
        assert session["active"][0] == b
        relaxed = p.contact(np.arange(a, b, 0.01))
        assert 0.68 <= relaxed.mean() <= 0.85
        assert session["choreography"]["relaxed_level"] == pytest.approx(relaxed.mean(), abs=1e-3)
        tops = [p.contact(r["top"]) for r in p.reps]
        assert all(0.97 <= c <= 1.03 for c in tops)  # glued at the top of every rep


def test_the_hold_in_the_labels_is_the_last_press_where_the_person_held_still():
    p = sim("person seed=9\nempty 2\nlie_down 2\nrelax 4\npress 2.6\nrelax 2\npress 4.5\n"
            "set reps=3\nrest 6\npress 3\nrest 3\nset reps=3\nget_up\nempty 3")
    labels = p.labels(0.5)
    (session,) = labels["sim"]["sessions"]
    choreography = session["choreography"]
    assert choreography["pressed"] and len(choreography["holds"]) == 2 and len(choreography["represses"]) == 1
    assert session["hold"] == choreography["holds"][-1]
    a, b = session["hold"]
    assert a == pytest.approx(13.2, abs=0.01) and b == pytest.approx(17.1, abs=0.01)
    held = p.contact(np.arange(a, b, 0.01))
    assert held.mean() == pytest.approx(1.0, abs=0.01) and held.std() < 0.01
    assert choreography["hold_levels"][0] == pytest.approx(choreography["hold_levels"][1], abs=0.01)
    first_set = labels["sim"]["sets"][0]
    assert session["active"][0] == b <= first_set["start"]
    # The re-press between the sets reads ~1.0 and is no lift-off, even at a floor of 0.7.
    ra, rb = choreography["represses"][0]
    assert p.contact(np.arange(ra, rb, 0.01)).mean() == pytest.approx(1.0, abs=0.015)


def test_labels_carry_sessions_sets_and_events_for_the_scorer():
    p = sim("mat material=fsr seed=3\nperson seed=3\nempty 2\nlie_down\npress 4\n"
            "set reps=5 arch_reps=2 arch_kind=held near_miss_reps=4 variant=alternating\nrest 8\ncough\n"
            "arms 2\nresettle\nshift 1.5\nrest 4\nset reps=4 variant=dead_bug arch_reps=3 arch_kind=pop\n"
            "get_up\nempty 4\nperson seed=4 mass_kg=110\nlie_down\nrelax 5\nset reps=3\nget_up\nempty 3")
    labels = json.loads(json.dumps(p.labels(0.5)))  # plain JSON
    assert set(labels) >= {"floor", "contact", "liftoffs", "reps", "sim"}
    s = labels["sim"]
    assert s["material"] == "fsr" and len(s["sessions"]) == 2
    for session in s["sessions"]:
        assert session["enter"] < session["present"] <= session["hold"][0] < session["hold"][1]
        assert session["active"] == [session["hold"][1], session["up"]] and session["up"] < session["absent"]
    assert [x["session"] for x in s["sets"]] == [0, 0, 1]
    assert [x["variant"] for x in s["sets"]] == ["alternating", "dead_bug", "straight"]
    assert sorted(i for x in s["sets"] for i in x["reps"]) == list(range(len(labels["reps"]))) == list(range(12))
    for x in s["sets"]:
        reps = [labels["reps"][i] for i in x["reps"]]
        assert x["start"] < reps[0]["top"] < reps[0]["bottom"] < reps[0]["end"] <= x["end"]
    actives = [x["active"] for x in s["sessions"]]
    for a, b in labels["liftoffs"]:
        assert any(lo <= a < b <= hi for lo, hi in actives)
    kinds = {e["kind"] for e in s["events"]}
    assert kinds >= {"arch", "near_miss", "cough", "arms", "resettle", "shift"}
    arches = [e for e in s["events"] if e["kind"] == "arch"]
    assert all(e["min"] < 0.4 for e in arches) and len(labels["liftoffs"]) >= 2
    near = [e for e in s["events"] if e["kind"] == "near_miss"]
    assert all(0.5 < e["min"] < 0.75 for e in near)


# -- the drawn suite and its recordings -----------------------------------------------------
def test_a_drawn_suite_covers_every_choreography_variant_material_and_fault():
    from hardware.emulation.scenarios import CHOREOGRAPHIES, VARIANTS, draw_suite

    suite = draw_suite(5, 16)
    assert draw_suite(5, 16) == suite and draw_suite(6, 16) != suite
    text = "\n".join(suite.values())
    for word in VARIANTS:
        assert f"variant={word}" in text
    for word in ("material=fsr", "material=velostat", "kind=zero", "kind=rail", "kind=frozen", "kind=dying",
                 "arch_kind=", "near_miss_reps=", "fidget", "recording fps="):
        assert word in text
    for choreography in CHOREOGRAPHIES:
        assert any(f"_{choreography}_" in name for name in suite)
    pressed = []
    durations = []
    for body in suite.values():
        p = sim(body)
        durations.append(p.duration_s)
        pressed += [s["pressed"] for s in p.sessions]
    assert True in pressed and False in pressed
    assert 90 < min(durations) and max(durations) < 420


def test_write_labelled_writes_a_recording_with_jitter_and_dropped_frames(tmp_path):
    from mat.storage.recording import read_recording
    from mat.tools.suite import write_labelled

    text = ("recording fps=60 jitter=0.08 drop=0.05\nperson seed=2\nempty 2\nlie_down\nrelax 4\npress 4\n"
            "set reps=3 arch_reps=2\nget_up\nempty 3\n")
    csv_path, labels_path = write_labelled(text, tmp_path, name="short")
    recording = read_recording(csv_path)
    gaps = np.diff(recording.t)
    assert np.median(gaps) == pytest.approx(1 / 60, rel=0.05)
    assert gaps.min() >= 0.9 / 60 and gaps.max() > 1.8 / 60  # jitter, and frames missing
    labels = json.loads(labels_path.read_text())
    assert labels["sim"]["fps"] == 60 and len(labels["liftoffs"]) == 1
    assert recording.material == "velostat" and csv_path.name == "short.csv"


def test_the_same_seed_gives_the_same_frames():
    a, b = (SimulatedPerson(Scenario.parse(SESSION)) for _ in range(2))
    for t in np.arange(0, 30, 0.37):
        np.testing.assert_array_equal(a.counts(t), b.counts(t))


def test_an_unknown_step_names_its_line():
    with pytest.raises(ValueError, match="scenario line 2: unknown step 'jump'"):
        Scenario.parse("empty 1\njump 3\n")


def test_the_same_mat_on_another_day_reads_each_cell_a_few_per_cent_differently():
    def volts(mat_line: str) -> np.ndarray:
        person = SimulatedPerson(Scenario.parse(f"{mat_line}\nperson mass_kg=75 seed=3\nlie_down 1\nrelax 6\n"))
        return person.volts(5.0)

    quiet = "mat seed=9 noise=0 adc_noise=0 hum_mv=0 drift=0"  # only the day's own change shows
    as_drawn = volts(quiet)
    assert np.array_equal(volts(quiet + " day=0"), as_drawn)  # day 0: the mat as it always was
    monday, friday = volts(quiet + " day=1"), volts(quiet + " day=5")
    assert np.array_equal(volts(quiet + " day=5"), friday)  # a day is drawn from the mat's seed
    for day in (monday, friday):
        change = np.log(day / as_drawn)
        # a few per cent per cell (volts: the load's change through the cell's exponent and the
        # divider), never the several times that gains differ between cells
        assert 0.01 < np.std(change) < 0.08 and np.abs(change).max() < 0.25
    assert not np.allclose(monday, friday, rtol=0.01)
