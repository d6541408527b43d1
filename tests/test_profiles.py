"""Profiles: the store's upgrade in place, each person's settings and sessions, and the daemon
recognising who lies down (simulated people of different builds on one mat), applying their
floor only when it is sure, and the button stepping through the profiles with n chirps."""
import json
import sqlite3

import numpy as np
import pytest

from hardware.clock import VirtualClock
from hardware.emulation.person import Scenario, SimulatedPerson
from hardware.feedback import COUNT_CHIRP, RISING_CHIRP, Feedback
from hardware.grid_adc import Frame
from mat.daemon.live_socket import CHOOSE_PROFILE, NEXT_PROFILE
from mat.daemon.loop import MatLoop
from mat.pipeline.pipeline import Pipeline
from mat.pipeline.settings import DEFAULTS
from mat.profiles import ProfileError
from mat.profiles.recognition import ALONE_LEARNING, MATCH_MAX, body_signature, distances, suggest
from mat.storage.store import MIGRATIONS, Store, StoreWriter

MAT = "mat material=velostat seed=4242"


def lying_down(mass_kg: float, dx: float = 0.0, dy: float = 0.0, seed: int = 1, start: str = "relax 4") -> str:
    return (f"{MAT}\nperson mass_kg={mass_kg} size={(mass_kg / 75) ** (1 / 3):.3f} offset_x_cm={dx} offset_y_cm={dy} "
            f"relaxed_level=0.75 seed={seed}\nempty 2\nlie_down 1.5\n{start}\nrelax 4\nget_up 1.2\nempty 6\n")


class RecordedGrid:
    """A grid that plays a simulated person's frames at 100 Hz on a virtual clock (the register-
    level emulation is tested elsewhere; here only who lies down matters)."""

    def __init__(self, text: str, clock: VirtualClock) -> None:
        person = SimulatedPerson(Scenario.parse(text))
        self.clock = clock
        self.t0 = clock.monotonic()
        self.times = np.arange(0.0, person.duration_s, 0.01)
        self.frames = person.frames(self.times)
        self.i = 0

    @property
    def done(self) -> bool:
        return self.i >= len(self.times)

    def read_frame(self) -> Frame:
        self.clock.advance(0.01)
        frame = Frame(t=self.t0 + self.times[self.i], counts=self.frames[self.i])
        self.i += 1
        return frame


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "flatback.db")
    yield store
    store.close()


def run_session(store, text: str, before=None) -> MatLoop:
    """One person lying down and getting up, through the loop with the store; `before(loop)` runs
    first (a choice made while the mat is empty)."""
    clock = VirtualClock()
    grid = RecordedGrid(text, clock)
    writer = StoreWriter(store, commit_interval_s=0.1)
    settings = store.get_settings()
    loop = MatLoop(grid, Pipeline(floor=settings["floor"]), Feedback(clock=clock, threaded=False), clock,
                   store=store, store_writer=writer)
    if before:
        before(loop)
    floors = []
    while not grid.done:
        loop.step()
        floors.append((loop.pipeline.state, loop.pipeline.floor, loop.people.now.profile_id))
        if loop.pipeline.present:
            loop.who_while_lying = loop.people.live_state()  # what the page shows
    loop.close()
    writer.close()
    loop.feedback.close()
    loop.floors = floors
    return loop


def test_an_older_database_upgrades_in_place_into_one_profile_with_its_sessions_and_settings(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:5], 1):
        db.executescript(script)
        db.execute(f"PRAGMA user_version = {number}")
    db.execute("INSERT INTO sessions (id, started_at, status, reps) VALUES (7, '2026-01-01T10:00:00+00:00', 'closed', 12)")
    db.execute("INSERT INTO settings (key, value) VALUES ('floor', '0.65'), ('sound', 'false')")
    db.commit()
    db.close()
    store = Store(path)
    me, guest = store.list_profiles()
    assert (me["name"], me["guest"], me["sessions"]) == ("Me", False, 1)
    assert me["settings"] == dict(DEFAULTS, floor=0.65, tempo_s=3.0, sound=False)
    assert guest["guest"] and guest["settings"] == me["settings"]  # a single user stays guarded by their floor
    assert store.get_session(7)["profile_id"] == me["id"] and store.current_profile_id() == me["id"]
    assert store.get_settings() == me["settings"]
    store.close()


def test_each_person_keeps_their_own_settings_and_deleting_one_removes_only_their_sessions(store):
    anna = store.create_profile("  Anna ", "#BF3989", {"floor": 0.6})
    ben = store.create_profile("Ben")
    assert (anna["name"], anna["colour"], anna["settings"]["floor"]) == ("Anna", "#bf3989", 0.6)
    store.update_settings(ben["id"], floor=0.8, sound=False)
    assert store.get_settings(anna["id"])["floor"] == 0.6 and store.get_settings(ben["id"])["floor"] == 0.8
    for bad in ({"name": ""}, {"name": "x" * 41}, {"colour": "red"}):
        with pytest.raises(ProfileError):
            store.update_profile(anna["id"], **bad)
    assert store.get_profile(anna["id"])["name"] == "Anna"
    writer = StoreWriter(store)
    ids = {who: writer.open_session({"rows": 4, "cols": 4, "profile_id": who}) for who in (anna["id"], ben["id"])}
    writer.add_signature(ids[anna["id"]], {"version": 1, "load": [[1.0] * 4] * 4, "pressed": False})
    writer.close()
    assert [s["id"] for s in store.list_sessions(anna["id"])] == [ids[anna["id"]]]
    assert store.delete_profile(anna["id"])
    assert store.get_session(ids[anna["id"]]) is None and store.get_session(ids[ben["id"]]) is not None
    assert store.db.execute("SELECT COUNT(*) FROM body_signatures").fetchone()[0] == 0
    with pytest.raises(ProfileError):
        store.delete_profile(store.guest_profile_id)


def test_a_signature_is_nearer_the_same_body_on_another_day_than_a_much_heavier_one():
    def first_calibration(text):
        person = SimulatedPerson(Scenario.parse(text))
        times = np.arange(0.0, person.duration_s, 0.01)
        pipeline = Pipeline()
        for t, counts in zip(times, person.frames(times)):
            if any(e["type"] == "calibrated" for e in pipeline.process(t, counts)):
                return body_signature(pipeline.calibration)

    anna_monday, anna_friday = first_calibration(lying_down(55, seed=1)), first_calibration(lying_down(55, 0.8, -0.6, seed=2))
    ben = first_calibration(lying_down(95, 0.5, 0.5, seed=3))
    near = distances(anna_friday, {1: [anna_monday], 2: [ben]})
    assert near[1][0] < 2.0 and near[2][0] > 1.3 * MATCH_MAX  # in same-person spreads
    assert suggest(anna_friday, {1: [anna_monday], 2: [ben]}).profile_id == 1
    # Nobody known, or two bodies the signature cannot tell apart: no guess.
    assert suggest(anna_friday, {}).reason == "nobody_known"
    assert suggest(anna_friday, {1: [anna_monday], 2: [anna_monday]}).reason == "too_close_to_call"
    assert suggest(ben, {1: [anna_monday, anna_friday]}).reason == "nobody_close"


def count_chirps(loop, after_t: float = 0.0) -> int:
    """The profile chirps the buzzer pin played (COUNT_CHIRP's note) since `after_t`."""
    return sum(1 for t, f in loop.feedback.tone_log if f == COUNT_CHIRP[0][0] and t >= after_t)


def test_the_mat_applies_a_recognised_persons_floor_says_whose_by_ear_and_keeps_the_guests_when_unsure(store):
    anna = store.create_profile("Anna", settings={"floor": 0.7})  # second on the People page, after "Me"
    ben = store.create_profile("Ben", settings={"floor": 0.35})
    store.update_settings(store.guest_profile_id, floor=0.5)
    # Each lies down once, chosen on the page while the mat is empty: their bodies are learnt.
    for who, text in ((anna, lying_down(50, seed=1)), (ben, lying_down(110, 0.5, 0.5, seed=3))):
        loop = run_session(store, text, before=lambda loop, who=who: loop.command(CHOOSE_PROFILE, profile_id=who["id"]))
        assert {f for s, f, p in loop.floors if s == "resting"} == {who["settings"]["floor"]}
    assert sorted(store.body_signatures()) == [anna["id"], ben["id"]]

    # Anna on another day, nobody chosen: the guest's floor until calibration, then hers, and
    # two chirps after the calibration's rising chirp say it is hers (Anna is profile 2).
    loop = run_session(store, lying_down(50, 0.8, -0.6, seed=2))
    (session,) = store.list_sessions(anna["id"])[:1]
    assert session["profile_id"] == anna["id"] and session["floor"] == 0.7
    resting = [(f, p) for s, f, p in loop.floors if s == "resting"]
    assert resting and set(resting) == {(0.7, anna["id"])}
    waiting = [(f, p) for s, f, p in loop.floors if s == "waiting"]
    assert waiting and set(waiting) == {(0.5, store.guest_profile_id)}
    assert store.current_profile_id() == anna["id"]
    rising = next(t for t, f in loop.feedback.tone_log if f == RISING_CHIRP[0][0])
    assert count_chirps(loop) == 2 and count_chirps(loop, after_t=rising) == 2

    # A stranger of another build: no guess, the guest's floor throughout, the page asks, and no
    # chirps name anyone.
    loop = run_session(store, lying_down(78, -1.0, 1.5, seed=9))
    state = loop.who_while_lying
    assert not loop.people.live_state()["asking"]  # once they got up, nobody is asked
    assert {f for s, f, p in loop.floors if s in ("waiting", "resting")} == {0.5}
    assert state["id"] == store.guest_profile_id and state["asking"] and state["match"]["profile_id"] is None
    assert store.list_sessions()[0]["profile_id"] == store.guest_profile_id
    assert count_chirps(loop) == 0 and any(f == RISING_CHIRP[0][0] for _, f in loop.feedback.tone_log)


def test_someone_alone_on_the_mat_finds_their_sessions_under_their_own_name_and_a_visitor_under_the_guest(store):
    (me,) = [p for p in store.list_profiles() if not p["guest"]]  # a new mat: "Me" and the guest
    store.update_settings(me["id"], floor=0.65)
    store.update_settings(store.guest_profile_id, floor=0.5)
    # Their first sessions are theirs while the mat learns their body (one chirp: profile 1) ...
    for day in range(ALONE_LEARNING):
        loop = run_session(store, lying_down(62, 0.5 * day, -0.4 * day, seed=20 + day))
        assert store.list_sessions()[0]["profile_id"] == me["id"]
        assert loop.who_while_lying["suggested"] and loop.who_while_lying["match"]["basis"] == "only_person"
        assert {f for s, f, p in loop.floors if s == "resting"} == {0.65} and count_chirps(loop) == 1
    # ... then their body is recognised ...
    loop = run_session(store, lying_down(62, -0.6, 0.5, seed=30))
    assert store.list_sessions()[0]["profile_id"] == me["id"] and loop.who_while_lying["match"]["basis"] == "body"
    # ... and a visitor of another build is the guest, asked on the page.
    loop = run_session(store, lying_down(100, 0.3, 0.3, seed=31))
    assert store.list_sessions()[0]["profile_id"] == store.guest_profile_id and loop.who_while_lying["asking"]
    assert {f for s, f, p in loop.floors if s == "resting"} == {0.5} and count_chirps(loop) == 0
    assert len(store.list_sessions(me["id"])) == ALONE_LEARNING + 1


def test_a_person_chosen_on_an_empty_mat_is_kept_over_a_restart_and_the_next_session_is_theirs(store):
    anna = store.create_profile("Anna", settings={"floor": 0.7})
    store.create_profile("Ben")
    clock = VirtualClock()
    writer = StoreWriter(store)
    loop = MatLoop(RecordedGrid("empty 2\n", clock), Pipeline(), Feedback(clock=clock, threaded=False), clock,
                   store=store, store_writer=writer)
    loop.command(CHOOSE_PROFILE, profile_id=anna["id"])
    loop.step()
    writer.close()  # the daemon stops (an update, a power cut) before anyone lies down
    loop.feedback.close()
    assert store.next_session_profile_id() == anna["id"]
    # The daemon starts again: the next session is Anna's, with her floor from the start, and
    # the choice is used up.
    loop = run_session(store, lying_down(50, seed=1))
    assert store.list_sessions()[0]["profile_id"] == anna["id"]
    assert {f for s, f, p in loop.floors if s in ("waiting", "resting")} == {0.7}
    assert count_chirps(loop) == 2  # said at calibration: Anna's floor guards this back
    assert store.next_session_profile_id() is None
    loop = run_session(store, lying_down(80, seed=5))
    assert store.list_sessions()[0]["profile_id"] == store.guest_profile_id
    # A choice for a person deleted before the next session is gone with them, even if a new
    # profile later gets their number.
    store.set_next_session_profile(anna["id"])
    store.delete_profile(anna["id"])
    assert store.next_session_profile_id() is None
    assert store.db.execute("SELECT COUNT(*) FROM settings WHERE key='next_session_profile'").fetchone()[0] == 0


def test_the_button_steps_through_the_profiles_with_one_chirp_per_place(store):
    store.create_profile("Anna", settings={"floor": 0.7})
    store.create_profile("Ben", settings={"floor": 0.35})
    clock = VirtualClock()
    grid = RecordedGrid(lying_down(55), clock)
    feedback = Feedback(clock=clock, threaded=False)
    writer = StoreWriter(store)
    loop = MatLoop(grid, Pipeline(), feedback, clock, store=store, store_writer=writer)
    names = []
    for presses in range(1, 5):
        loop.command(NEXT_PROFILE)
        start = clock.monotonic()
        for _ in range(150):  # 1.5 s: the chirps play out
            loop.step()
        chirps = [t for t, f in feedback.tone_log if f == COUNT_CHIRP[0][0] and t >= start]
        calibrated = any(f == RISING_CHIRP[0][0] and t >= start for t, f in feedback.tone_log)
        names.append((loop.people.profile(loop.people.now.profile_id)["name"], len(chirps), loop.pipeline.floor,
                      calibrated))
    writer.close()
    feedback.close()
    # "Me" serves at first (the profile of an upgraded database); the guest comes last. The body
    # lying down meanwhile is calibrated after the fourth press: the rising chirp, then one more
    # chirp says whose floor guards it (Me's, chosen).
    assert names == [("Anna", 2, 0.7, False), ("Ben", 3, 0.35, False), ("Guest", 4, 0.5, False),
                     ("Me", 1 + 1, 0.5, True)]
    assert store.current_profile_id() == store.list_profiles()[0]["id"]
    assert json.loads(store.db.execute("SELECT value FROM settings WHERE key='current_profile'").fetchone()[0]) == 1


def test_mat_bench_profiles_counts_every_session_of_a_family_and_rarely_names_the_wrong_person():
    from mat.tools.profilebench import DAYS, ENROLLED, PEOPLE, STRANGERS, run

    result = run(families=1, seed=15)
    assert result["sessions"] + result["no_calibration"] == PEOPLE * (DAYS - ENROLLED)
    assert result["right"] + result["wrong"] + result["abstain"] == result["sessions"]
    assert result["stranger_abstain"] + result["stranger_wrong"] == STRANGERS
    assert result["right"] > 0 and result["wrong"] <= 0.1 * result["sessions"]


def test_a_person_chosen_on_the_page_while_lying_there_hears_their_chirps_and_an_empty_mat_stays_silent(store):
    store.create_profile("Anna", settings={"floor": 0.7})
    ben = store.create_profile("Ben", settings={"floor": 0.35})  # third on the People page
    clock = VirtualClock()
    grid = RecordedGrid(lying_down(90), clock)
    writer = StoreWriter(store)
    loop = MatLoop(grid, Pipeline(), Feedback(clock=clock, threaded=False), clock, store=store, store_writer=writer)
    loop.command(CHOOSE_PROFILE, profile_id=ben["id"])  # the mat is still empty: for the next session
    for _ in range(100):
        loop.step()
    assert count_chirps(loop) == 0 and loop.people.chosen_for_next == ben["id"]
    while not loop.pipeline.present:
        loop.step()
    anna = store.list_profiles()[1]
    loop.command(CHOOSE_PROFILE, profile_id=anna["id"])  # lying there: Anna after all
    chosen_at = clock.monotonic()
    for _ in range(60):
        loop.step()
    writer.close()
    loop.feedback.close()
    assert count_chirps(loop, after_t=chosen_at) == 2 and loop.pipeline.floor == 0.7


def test_a_dead_cell_drops_out_of_both_bodies_and_a_lost_row_means_no_guess():
    rng = np.random.default_rng(1)
    body = rng.uniform(1, 5, (4, 4))

    def signature(load):
        return {"version": 1, "load": [[None if np.isnan(v) else float(v) for v in row] for row in load], "pressed": False}

    def day(scale=1.0):
        return signature(body * scale * np.exp(rng.normal(0, 0.03, (4, 4))))

    known = {1: [day(), day(), day()], 2: [day(1.5), day(1.5), day(1.5)]}
    today = body * np.exp(rng.normal(0, 0.03, (4, 4)))
    today[1, 2] = np.nan  # died since: compared without it on both sides
    assert suggest(signature(today), known).profile_id == 1
    today[3, :] = np.nan  # a chip offline: the pelvis' row is gone
    assert suggest(signature(today), known).reason == "nobody_known"
