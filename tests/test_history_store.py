"""The SQLite store on disk: round trips, batching, migration of an older file, settings."""
import json
import sqlite3
import threading

import numpy as np
import pytest

from mat.pipeline.settings import DEFAULTS

from mat.pipeline.events import make_event
from mat.pipeline.session import SessionTally
from mat.pipeline.settings import SettingsError
from mat.storage.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreWriter


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "flatback.db")
    yield s
    s.close()


def test_a_session_written_through_the_writer_reads_back_whole(store):
    writer = StoreWriter(store, commit_interval_s=0.05)
    session_id = writer.open_session({"rows": 4, "cols": 4, "floor": 0.55, "tempo_s": 3.0, "material": "velostat", "gain": 1})
    frames = np.random.default_rng(0).integers(-32768, 32767, size=(300, 4, 4))
    for i, frame in enumerate(frames):
        writer.add_frame(session_id, i * 0.01, frame)
    writer.add_event(session_id, {"t": 1.0, "type": "liftoff", "contact": 0.31})
    writer.add_rep(session_id, {"t": 2.5, "type": "rep", "set": 1, "rep": 1, "descent_s": 3.1, "perfect": False,
                                "balance": -0.1, "top_t": 0.2, "bottom_t": 1.1, "end_t": 2.4})
    writer.add_sample(session_id, 1.0, 0.42)
    writer.close_session(session_id, {"reps": 1, "perfect_reps": 0, "liftoffs": 1, "sets": 1, "duration_s": 3.0,
                                      "mean_descent_s": 3.1, "balance": -0.1})
    writer.close()
    (session,) = store.list_sessions()
    assert (session["status"], session["reps"], session["liftoffs"], session["floor"]) == ("closed", 1, 1, 0.55)
    t, counts = store.session_frames(session_id)
    np.testing.assert_array_equal(counts, frames)
    np.testing.assert_allclose(t, np.arange(300) * 0.01)
    assert store.session_reps(session_id)[0]["perfect"] == 0
    assert store.session_events(session_id) == [{"t": 1.0, "type": "liftoff", "contact": 0.31}]
    assert store.session_samples(session_id) == ([1.0], [0.42])


def test_the_writer_commits_in_batches_not_per_frame(store):
    writer = StoreWriter(store, commit_interval_s=0.5)
    session_id = writer.open_session({"rows": 4, "cols": 4})
    for i in range(500):
        writer.add_frame(session_id, i * 0.01, np.zeros((4, 4)))
    writer.flush()
    assert writer.commits <= 2
    rows = store.db.execute("SELECT COUNT(*), SUM(n) FROM frames").fetchone()
    assert rows[0] <= 2 and rows[1] == 500
    writer.close()


def test_history_can_be_read_from_another_thread_while_the_writer_writes(store):
    writer = StoreWriter(store, commit_interval_s=0.02)
    session_id = writer.open_session({"rows": 4, "cols": 4})
    seen, errors = [], []

    def reader():
        other = Store(store.path)
        try:
            for _ in range(50):
                seen.append(len(other.session_frames(session_id)[0]))
        except Exception as error:  # pragma: no cover - the assertion below shows it
            errors.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(2000):
        writer.add_frame(session_id, i * 0.01, np.ones((4, 4)))
    thread.join()
    writer.close()
    assert errors == [] and seen == sorted(seen)


def test_an_older_database_upgrades_in_place_keeping_its_rows(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO sessions (id, started_at, status, reps) VALUES (7, '2026-01-01T10:00:00+00:00', 'closed', 12)")
    db.commit()
    db.close()
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    assert store.get_pin() is None  # v3: no PIN until one is set
    assert store.outbox_count() == 0  # v5: the MQTT outbox starts empty
    assert store.get_session(7)["reps"] == 12 and store.get_session(7)["balance"] is None
    # Breathing was not measured then: unknown, not zero.
    assert store.get_session(7)["breath_holds"] is None and store.get_session(7)["mean_breath_bpm"] is None
    assert store.session_samples(7) == ([], [])


def test_sessions_left_open_by_a_crash_are_closed_with_what_was_stored(store):
    writer = StoreWriter(store)
    session_id = writer.open_session({"rows": 4, "cols": 4})
    writer.add_event(session_id, {"t": 4.0, "type": "present"})
    writer.add_event(session_id, {"t": 9.0, "type": "liftoff", "contact": 0.3})
    rep = {"t": 12.0, "type": "rep", "set": 1, "rep": 1, "descent_s": 3.0, "perfect": False, "end_t": 12.0,
           "balance": -0.2}
    writer.add_rep(session_id, rep)
    writer.add_event(session_id, rep)  # the daemon stores every event, reps too
    for i in range(100):
        writer.add_frame(session_id, 10 + i * 0.05, np.zeros((4, 4)))
    writer.close()  # no close_session: the daemon was killed
    assert store.mark_interrupted_open_sessions() == [session_id]
    session = store.get_session(session_id)
    assert (session["status"], session["reps"], session["liftoffs"]) == ("interrupted", 1, 1)
    assert (session["sets"], session["mean_descent_s"], session["balance"]) == (1, 3.0, -0.2)  # balance was dropped
    assert session["duration_s"] == pytest.approx(14.95 - 4.0)


BREATHING_EVENTS = [make_event(4.0, "present"), make_event(14.0, "breathing", rate_bpm=None),
                    make_event(24.0, "breathing", rate_bpm=14.2), make_event(29.5, "breath_hold", duration_s=4.1),
                    make_event(34.0, "breathing", rate_bpm=None), make_event(44.0, "breathing", rate_bpm=15.1),
                    make_event(54.0, "breathing", rate_bpm=15.6), make_event(57.0, "breath_hold", duration_s=5.0)]


def test_a_session_closed_by_the_daemon_stores_its_held_breaths_and_mean_resting_rate(store):
    tally = SessionTally(4.0)
    writer = StoreWriter(store, commit_interval_s=0.05)
    session_id = writer.open_session({"rows": 4, "cols": 4})
    for event in BREATHING_EVENTS:
        tally.count(event)
        writer.add_event(session_id, event)
    session_end = tally.summary(60.0, sets=0)
    writer.close_session(session_id, session_end)
    writer.close()
    session = store.get_session(session_id)
    assert (session["breath_holds"], session["mean_breath_bpm"]) == (2, 15.0)  # (14.2 + 15.1 + 15.6) / 3
    assert session_end["breath_holds"] == 2 and session_end["mean_breath_bpm"] == 15.0
    # added last: replay's earlier fields keep their order
    assert list(session_end)[-2:] == ["mean_breath_bpm", "variant_seen"]
    assert store.list_sessions()[0]["mean_breath_bpm"] == 15.0


def test_a_session_without_a_known_rate_stores_no_mean_rate_and_zero_held_breaths(store):
    tally = SessionTally(0.0)
    for event in (make_event(10.0, "breathing", rate_bpm=None), make_event(20.0, "breathing", rate_bpm=None)):
        tally.count(event)
    writer = StoreWriter(store, commit_interval_s=0.05)
    session_id = writer.open_session({"rows": 4, "cols": 4})
    writer.close_session(session_id, tally.summary(25.0, sets=0))
    writer.close()
    session = store.get_session(session_id)
    assert (session["breath_holds"], session["mean_breath_bpm"]) == (0, None)


def test_a_session_under_way_or_cut_off_has_its_breathing_summary_from_the_stored_events(store):
    writer = StoreWriter(store)
    session_id = writer.open_session({"rows": 4, "cols": 4})
    for event in BREATHING_EVENTS:
        writer.add_event(session_id, event)
    writer.close()  # no close_session: still going (or killed)
    assert (store.get_session(session_id)["breath_holds"], store.get_session(session_id)["mean_breath_bpm"]) == (2, 15.0)
    store.mark_interrupted_open_sessions()
    session = store.get_session(session_id)
    assert (session["status"], session["breath_holds"], session["mean_breath_bpm"]) == ("interrupted", 2, 15.0)


def test_settings_have_defaults_and_change_all_or_nothing(store):
    assert store.get_settings() == dict(DEFAULTS, **{"floor": 0.5, "tempo_s": 3.0, "sound": True})
    assert store.update_settings(floor=0.65, sound=False)["floor"] == 0.65
    with pytest.raises(SettingsError) as problem:
        store.update_settings(tempo_s=4.0, floor=0.33)
    assert problem.value.field == "floor"
    assert store.get_settings() == dict(DEFAULTS, **{"floor": 0.65, "tempo_s": 3.0, "sound": False})
    for bad in ({"floor": "0.5"}, {"floor": 0.95}, {"tempo_s": 0.5}, {"sound": "yes"}, {"colour": "red"}):
        with pytest.raises(SettingsError):
            store.update_settings(**bad)


def test_deleting_a_session_removes_its_rows(store):
    writer = StoreWriter(store)
    session_id = writer.open_session({"rows": 4, "cols": 4})
    writer.close()
    store.db.execute("INSERT INTO events (session_id, t, type, json) VALUES (?, 1, 'present', ?)",
                     (session_id, json.dumps({"t": 1, "type": "present"})))
    assert store.delete_session(session_id)
    assert store.db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    assert not store.delete_session(session_id)


def test_with_an_outbox_a_closed_session_waits_for_the_broker_in_order(store):
    """The summary is written in the transaction that closes the session, and stays until
    it is acknowledged (mat/daemon/mqtt.py deletes it)."""
    writer = StoreWriter(store, outbox=True)
    ids = []
    for reps in (5, 7):
        session_id = writer.open_session({"rows": 4, "cols": 4})
        writer.close_session(session_id, {"reps": reps, "perfect_reps": reps - 1, "liftoffs": 1, "sets": 1,
                                          "mean_descent_s": 3.1, "balance": 0.02, "duration_s": 60.0,
                                          "breath_holds": 0})
        ids.append(session_id)
    writer.close()
    first = store.outbox_next()
    assert first["session_id"] == ids[0] and first["payload"]["reps"] == 5
    assert first["payload"]["status"] == "closed" and first["payload"]["ended_at"]
    assert store.outbox_next(first["id"])["payload"]["reps"] == 7
    store.outbox_done(first["id"])
    assert store.outbox_count() == 1 and store.outbox_next()["session_id"] == ids[1]
