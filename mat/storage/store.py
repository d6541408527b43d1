"""The SQLite store: profiles (each person's settings), sessions, reps, events, raw frames,
contact samples and body signatures.

One file on disk in WAL mode, so the web server reads history while the daemon writes. The
daemon never writes from its loop: `StoreWriter` takes rows through a queue and commits them
on its own thread in one transaction about every second. WAL with synchronous=NORMAL may lose
the last commit on power loss (at most ~1 s of frames) but never corrupts the database.
The schema is versioned with PRAGMA user_version; older databases upgrade in place.
"""
from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mat.pipeline.session import summarize
from mat.pipeline.settings import DEFAULTS, validate_settings
from mat.profiles import COLOURS, ProfileError, validate_profile

log = logging.getLogger(__name__)

#: SQLite's largest rowid: no session has a bigger id (and SQLite cannot be asked for one).
MAX_SESSION_ID = 2**63 - 1

MIGRATIONS: list[str] = [
    # v1: sessions, reps, events, frames, settings
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'interrupted')),
        duration_s REAL, reps INTEGER DEFAULT 0, perfect_reps INTEGER DEFAULT 0,
        liftoffs INTEGER DEFAULT 0, sets INTEGER DEFAULT 0, mean_descent_s REAL,
        floor REAL, tempo_s REAL, rows INTEGER, cols INTEGER, material TEXT, gain REAL
    );
    CREATE TABLE reps (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        set_no INTEGER NOT NULL, rep_no INTEGER NOT NULL,
        t_top REAL, t_bottom REAL, t_end REAL, descent_s REAL, perfect INTEGER NOT NULL
    );
    CREATE TABLE events (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t REAL NOT NULL, type TEXT NOT NULL, json TEXT NOT NULL
    );
    CREATE TABLE frames (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t0 REAL NOT NULL, n INTEGER NOT NULL, t BLOB NOT NULL, counts BLOB NOT NULL
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE INDEX reps_by_session ON reps(session_id);
    CREATE INDEX events_by_session ON events(session_id, t);
    CREATE INDEX frames_by_session ON frames(session_id, t0);
    """,
    # v2: contact samples for the session chart, and left/right balance
    """
    CREATE TABLE samples (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t REAL NOT NULL, contact REAL NOT NULL
    );
    CREATE INDEX samples_by_session ON samples(session_id, t);
    ALTER TABLE sessions ADD COLUMN balance REAL;
    ALTER TABLE reps ADD COLUMN balance REAL;
    """,
    # v3: the optional PIN (an Argon2 hash, never the PIN) and its count of wrong tries
    """
    CREATE TABLE pin (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        hash TEXT NOT NULL, changed_at TEXT NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0
    );
    """,
    # v4: breathing in the summary: held breaths and the mean resting rate (breaths/min). NULL
    # for sessions stored before: not measured, not zero.
    """
    ALTER TABLE sessions ADD COLUMN breath_holds INTEGER;
    ALTER TABLE sessions ADD COLUMN mean_breath_bpm REAL;
    """,
    # v5: the MQTT outbox: finished sessions' summaries waiting for the broker's acknowledgement
    # (written in the transaction that closes the session; deleted once the broker has it)
    """
    CREATE TABLE mqtt_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # v6: profiles. Each person has a name, a colour and their own settings (a JSON object, so
    # keys added later, such as a plan or a variant, need no migration), their sessions and the
    # body signatures the mat recognises them by. Everything stored so far becomes one profile
    # ("Me") with the settings in force; the guest profile serves whoever the mat cannot tell,
    # starting with the same settings (so a single user's floor keeps guarding them).
    """
    CREATE TABLE profiles (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        colour TEXT NOT NULL,
        guest INTEGER NOT NULL DEFAULT 0,
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    INSERT INTO profiles (id, name, colour, guest, settings, created_at)
        SELECT 1, 'Me', '#0969da', 0, COALESCE(json_group_object(key, json(value)), '{}'),
               strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') FROM settings;
    INSERT INTO profiles (id, name, colour, guest, settings, created_at)
        SELECT 2, 'Guest', '#6e7781', 1, settings, created_at FROM profiles WHERE id = 1;
    DELETE FROM settings;
    INSERT INTO settings (key, value) VALUES ('current_profile', '1');
    ALTER TABLE sessions ADD COLUMN profile_id INTEGER REFERENCES profiles(id);
    UPDATE sessions SET profile_id = 1;
    CREATE INDEX sessions_by_profile ON sessions(profile_id, started_at);
    CREATE TABLE body_signatures (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        signature TEXT NOT NULL
    );
    """,
    # v7: the floor finder's results (the double-leg-lowering test), each person's own, charted
    # over weeks
    """
    CREATE TABLE floor_tests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        taken_at TEXT NOT NULL,
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        profile_id INTEGER REFERENCES profiles(id) ON DELETE CASCADE,
        beats REAL NOT NULL, angle_deg REAL NOT NULL, depth REAL NOT NULL,
        reached_floor INTEGER NOT NULL
    );
    """,
    # v8: the ladder. Each session keeps the variant it was done on and the one its reps' sway
    # showed (mat/pipeline/ladder.py); each rep its depth, bounce and sway, filled in from the
    # stored rep events for sessions stored before (NULL where those did not carry them).
    """
    ALTER TABLE sessions ADD COLUMN variant TEXT;
    ALTER TABLE sessions ADD COLUMN variant_seen TEXT;
    ALTER TABLE reps ADD COLUMN depth REAL;
    ALTER TABLE reps ADD COLUMN bounce INTEGER;
    ALTER TABLE reps ADD COLUMN sway REAL;
    UPDATE reps SET (depth, bounce, sway) = (
        SELECT json_extract(e.json, '$.depth'), json_extract(e.json, '$.bounce'), json_extract(e.json, '$.sway')
        FROM events e WHERE e.session_id = reps.session_id AND e.type = 'rep'
          AND json_extract(e.json, '$.set') = reps.set_no AND json_extract(e.json, '$.rep') = reps.rep_no
        LIMIT 1);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """The database at `path`. Each thread gets its own connection (sqlite3's rule)."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.migrate()

    @property
    def db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            self._local.connection = connection
        return connection

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def transaction(self):
        """`with store.transaction() as db:` all or nothing, on this thread's connection."""
        return transaction(self.db)

    def migrate(self) -> None:
        # The version is read inside the write lock: the daemon and the web server may start
        # together, and only one of them may run a migration.
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # -- sessions --------------------------------------------------------------------------
    def mark_interrupted_open_sessions(self, outbox: bool = False) -> list[int]:
        """Close sessions a crash left open, their summary rebuilt from what was stored (and,
        with `outbox`, queued for the MQTT broker like any finished session)."""
        ids = [row[0] for row in self.db.execute("SELECT id FROM sessions WHERE status='open'")]
        for session_id in ids:
            summary = self.summary_so_far(session_id)
            with self.transaction() as db:
                _close_session(db, session_id, summary, "interrupted", now_iso())
                if outbox:
                    _queue_summary(db, session_id)
        return ids

    def summary_so_far(self, session_id: int) -> dict:
        """The summary of a session from its stored events (the same rule as its `session_end`):
        for a session still under way, or one a crash left open."""
        events = self.session_events(session_id)
        times = [e["t"] for e in events]
        last_frame = self.db.execute(
            "SELECT t FROM frames WHERE session_id=? ORDER BY t0 DESC LIMIT 1", (session_id,)).fetchone()
        if last_frame is not None:
            times.append(float(np.frombuffer(last_frame[0], dtype=np.float64)[-1]))
        first = next((e["t"] for e in events if e["type"] == "present"), min(times) if times else 0.0)
        return summarize(events, first, max(times) if times else first)

    def list_sessions(self, profile_id: int | None = None, since: str | None = None,
                      until: str | None = None) -> list[dict]:
        """Sessions newest first; only one profile's, and only those started in [since, until)
        (ISO 8601 times) when given."""
        where, args = [], []
        for clause, value in (("profile_id = ?", profile_id), ("started_at >= ?", since), ("started_at < ?", until)):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = "SELECT * FROM sessions" + (" WHERE " + " AND ".join(where) if where else "")
        return [self._with_summary(dict(row)) for row in self.db.execute(sql + " ORDER BY started_at DESC, id DESC", args)]

    def get_session(self, session_id: int) -> dict | None:
        if not 1 <= session_id <= MAX_SESSION_ID:
            return None
        row = self.db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
        return self._with_summary(dict(row)) if row else None

    def _with_summary(self, session: dict) -> dict:
        """A session row; one still under way has its summary so far (it is written at the end)."""
        if session["status"] == "open":
            session.update(self.summary_so_far(session["id"]))
        return session

    def session_reps(self, session_id: int) -> list[dict]:
        return [dict(r) for r in self.db.execute(
            "SELECT * FROM reps WHERE session_id=? ORDER BY set_no, rep_no", (session_id,))]

    def session_events(self, session_id: int) -> list[dict]:
        return [json.loads(r[0]) for r in self.db.execute(
            "SELECT json FROM events WHERE session_id=? ORDER BY t, rowid", (session_id,))]

    def session_samples(self, session_id: int) -> tuple[list[float], list[float]]:
        rows = self.db.execute("SELECT t, contact FROM samples WHERE session_id=? ORDER BY t", (session_id,)).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def session_frames(self, session_id: int) -> tuple[np.ndarray, np.ndarray]:
        session = self.get_session(session_id)
        rows, cols = (session or {}).get("rows") or 4, (session or {}).get("cols") or 4
        batches = self.db.execute("SELECT t, counts FROM frames WHERE session_id=? ORDER BY t0", (session_id,)).fetchall()
        if not batches:
            return np.zeros(0), np.zeros((0, rows, cols), dtype=np.int32)
        t = np.concatenate([np.frombuffer(b[0], dtype=np.float64) for b in batches])
        counts = np.concatenate([np.frombuffer(b[1], dtype=np.int16) for b in batches]).astype(np.int32)
        return t, counts.reshape(-1, rows, cols)

    def delete_session(self, session_id: int) -> bool:
        if not 1 <= session_id <= MAX_SESSION_ID:
            return False
        return self.db.execute("DELETE FROM sessions WHERE id=?", (session_id,)).rowcount > 0

    def export_session_json(self, session_id: int) -> dict | None:
        session = self.get_session(session_id)
        if session is None:
            return None
        t, contact = self.session_samples(session_id)
        return {"session": session, "reps": self.session_reps(session_id),
                "events": self.session_events(session_id), "contact": {"t": t, "values": contact}}

    # -- profiles and their settings ---------------------------------------------------------
    def list_profiles(self) -> list[dict]:
        """Every profile, people first (in the order they were made), the guest last; each with
        its settings (defaults filled in) and its number of sessions."""
        rows = self.db.execute(
            "SELECT p.*, (SELECT COUNT(*) FROM sessions s WHERE s.profile_id = p.id) AS sessions"
            " FROM profiles p ORDER BY p.guest, p.id").fetchall()
        return [_profile(row) for row in rows]

    def get_profile(self, profile_id: int) -> dict | None:
        if not 1 <= profile_id <= MAX_SESSION_ID:
            return None
        row = self.db.execute(
            "SELECT p.*, (SELECT COUNT(*) FROM sessions s WHERE s.profile_id = p.id) AS sessions"
            " FROM profiles p WHERE p.id=?", (profile_id,)).fetchone()
        return _profile(row) if row else None

    @property
    def guest_profile_id(self) -> int:
        return self.db.execute("SELECT id FROM profiles WHERE guest=1 ORDER BY id LIMIT 1").fetchone()[0]

    def current_profile_id(self) -> int:
        """Who the mat serves now (the last chosen or recognised); the guest if that one is gone."""
        return _current_profile_id(self.db)

    def set_current_profile(self, profile_id: int) -> None:
        _set_current_profile(self.db, profile_id)

    def next_session_profile_id(self) -> int | None:
        """The person chosen while the mat was empty (page or button): the next session is
        theirs. None: nobody chosen, or that profile is gone."""
        return _next_session_profile_id(self.db)

    def set_next_session_profile(self, profile_id: int | None) -> None:
        """Keep a choice made on an empty mat for the next session (None: forget it), so a
        restart of the daemon keeps it too."""
        _set_next_session_profile(self.db, profile_id)

    def create_profile(self, name, colour=None, settings: dict | None = None) -> dict:
        """A new person; ProfileError or SettingsError (nothing made) on bad input."""
        clean = validate_profile({"name": name, **({"colour": colour} if colour is not None else {})})
        values = validate_settings(settings or {})
        with self.transaction() as db:
            count = db.execute("SELECT COUNT(*) FROM profiles WHERE guest=0").fetchone()[0]
            cursor = db.execute("INSERT INTO profiles (name, colour, settings, created_at) VALUES (?,?,?,?)",
                                (clean["name"], clean.get("colour") or _colour_for(count), json.dumps(values), now_iso()))
        return self.get_profile(cursor.lastrowid)

    def update_profile(self, profile_id: int, name=None, colour=None, settings: dict | None = None) -> dict | None:
        """Rename, recolour or change some settings of a profile, all or nothing; None if there is
        no such profile."""
        profile = self.get_profile(profile_id)
        if profile is None:
            return None
        changes = {k: v for k, v in (("name", name), ("colour", colour)) if v is not None}
        clean = validate_profile(changes)
        values = validate_settings(settings or {})
        with self.transaction() as db:
            for key, value in clean.items():
                db.execute(f"UPDATE profiles SET {key}=? WHERE id=?", (value, profile_id))  # key: name or colour
            _update_profile_settings(db, profile_id, values)
        return self.get_profile(profile_id)

    def delete_profile(self, profile_id: int) -> bool:
        """Delete a person and every session of theirs; the guest cannot be deleted (ProfileError).
        The mat then serves the guest if it served them."""
        profile = self.get_profile(profile_id)
        if profile is None:
            return False
        if profile["guest"]:
            raise ProfileError("profile_id", "the guest profile cannot be deleted")
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE profile_id=?", (profile_id,))
            db.execute("DELETE FROM profiles WHERE id=?", (profile_id,))
            if _next_session_profile_id(db) is None:  # a choice for them is forgotten (a later profile may get their id)
                _set_next_session_profile(db, None)
        return True

    def move_session(self, session_id: int, profile_id: int) -> dict | None:
        """A session (with its body signature and floor finder results) belongs to another person
        now; None if either is missing."""
        if self.get_profile(profile_id) is None or self.get_session(session_id) is None:
            return None
        with self.transaction() as db:
            db.execute("UPDATE sessions SET profile_id=? WHERE id=?", (profile_id, session_id))
            _floor_tests_follow_session(db, session_id)
        return self.get_session(session_id)

    def body_signatures(self) -> dict[int, list[dict]]:
        """The stored body signatures by profile (the guest's are left out: many people)."""
        found: dict[int, list[dict]] = {}
        for profile_id, text in self.db.execute(
                "SELECT s.profile_id, b.signature FROM body_signatures b JOIN sessions s ON s.id = b.session_id"
                " JOIN profiles p ON p.id = s.profile_id WHERE p.guest=0 ORDER BY s.started_at"):
            found.setdefault(profile_id, []).append(json.loads(text))
        return found

    def get_settings(self, profile_id: int | None = None) -> dict:
        """A profile's settings (the current profile's by default), defaults filled in."""
        profile = self.get_profile(self.current_profile_id() if profile_id is None else profile_id)
        return dict(profile["settings"]) if profile else dict(DEFAULTS)

    def seed_settings(self, starting: dict) -> dict:
        """Store `starting` values (the config file's [detection]) for settings a profile never
        stored: they apply on the first start; after that the page owns the settings."""
        clean = validate_settings(starting)
        with self.transaction() as db:
            for profile_id, text in db.execute("SELECT id, settings FROM profiles").fetchall():
                db.execute("UPDATE profiles SET settings=? WHERE id=?",
                           (json.dumps(dict(clean, **json.loads(text))), profile_id))
        return self.get_settings()

    def update_settings(self, profile_id: int | None = None, **changes) -> dict:
        """Change some settings of a profile (the current one by default), all or nothing."""
        profile_id = self.current_profile_id() if profile_id is None else profile_id
        if self.update_profile(profile_id, settings=changes) is None:
            raise ProfileError("profile_id", f"there is no profile {profile_id}")
        return self.get_settings(profile_id)

    # -- the floor finder ------------------------------------------------------------------
    def floor_tests(self, profile_id: int | None = None, since: str = "", until: str = "\uffff") -> list[dict]:
        """A person's floor finder results (the current profile's by default), oldest first;
        `since`/`until`: ISO times bounding when they were taken."""
        profile_id = self.current_profile_id() if profile_id is None else profile_id
        rows = self.db.execute("SELECT id, taken_at, session_id, profile_id, beats, angle_deg, depth, reached_floor"
                               " FROM floor_tests WHERE profile_id=? AND taken_at >= ? AND taken_at < ?"
                               " ORDER BY taken_at, id", (profile_id, since, until)).fetchall()
        return [dict(row, reached_floor=bool(row["reached_floor"])) for row in rows]

    # -- the PIN (mat/pin.py decides; this only keeps it) ------------------------------------
    def get_pin(self) -> dict | None:
        row = self.db.execute("SELECT hash, changed_at, failures, locked_until FROM pin WHERE id=1").fetchone()
        return dict(row) if row else None

    def set_pin_hash(self, pin_hash: str | None) -> None:
        """Store a new PIN hash (the count of wrong tries starts again), or None: no PIN."""
        if pin_hash is None:
            self.db.execute("DELETE FROM pin")
            return
        # changed_at has microseconds: two changes within a second must differ (it voids unlocks)
        self.db.execute("INSERT INTO pin (id, hash, changed_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                        "hash=excluded.hash, changed_at=excluded.changed_at, failures=0, locked_until=0",
                        (pin_hash, datetime.now(timezone.utc).isoformat()))

    def record_pin_failure(self, failures: int, locked_until: float) -> None:
        self.db.execute("UPDATE pin SET failures=?, locked_until=? WHERE id=1", (failures, locked_until))

    # -- the MQTT outbox (mat/daemon/mqtt.py drains it) -----------------------------------------
    def outbox_next(self, after_id: int = 0) -> dict | None:
        """The oldest summary still waiting (with id > after_id): {"id", "session_id", "payload"}."""
        row = self.db.execute("SELECT id, session_id, payload FROM mqtt_outbox WHERE id > ? ORDER BY id LIMIT 1",
                              (after_id,)).fetchone()
        return None if row is None else {"id": row[0], "session_id": row[1], "payload": json.loads(row[2])}

    def outbox_done(self, outbox_id: int) -> None:
        """The broker acknowledged this summary: it leaves the outbox."""
        self.db.execute("DELETE FROM mqtt_outbox WHERE id=?", (outbox_id,))

    def outbox_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM mqtt_outbox").fetchone()[0]

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@contextmanager
def transaction(db: sqlite3.Connection):
    """All or nothing, holding the write lock from the start (BEGIN IMMEDIATE)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _current_profile_id(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT p.id FROM settings s JOIN profiles p ON p.id = CAST(s.value AS INTEGER)"
                     " WHERE s.key='current_profile'").fetchone()
    if row:
        return row[0]
    return db.execute("SELECT id FROM profiles WHERE guest=1 ORDER BY id LIMIT 1").fetchone()[0]


def _next_session_profile_id(db: sqlite3.Connection) -> int | None:
    row = db.execute("SELECT p.id FROM settings s JOIN profiles p ON p.id = CAST(s.value AS INTEGER)"
                     " WHERE s.key='next_session_profile'").fetchone()
    return row[0] if row else None


def _set_next_session_profile(db: sqlite3.Connection, profile_id: int | None) -> None:
    if profile_id is None:
        db.execute("DELETE FROM settings WHERE key='next_session_profile'")
    else:
        db.execute("INSERT INTO settings (key, value) VALUES ('next_session_profile', ?)"
                   " ON CONFLICT(key) DO UPDATE SET value=excluded.value", (str(int(profile_id)),))


def _update_profile_settings(db: sqlite3.Connection, profile_id: int, values: dict) -> None:
    """Merge validated `values` into a profile's stored settings (inside the caller's transaction)."""
    stored = json.loads(db.execute("SELECT settings FROM profiles WHERE id=?", (profile_id,)).fetchone()[0])
    db.execute("UPDATE profiles SET settings=? WHERE id=?", (json.dumps(dict(stored, **values)), profile_id))


def _floor_tests_follow_session(db: sqlite3.Connection, session_id: int) -> None:
    """A floor finder result is the person's whose session it was taken in."""
    db.execute("UPDATE floor_tests SET profile_id=(SELECT profile_id FROM sessions WHERE id=?) WHERE session_id=?",
               (session_id, session_id))


def _set_current_profile(db: sqlite3.Connection, profile_id: int) -> None:
    db.execute("INSERT INTO settings (key, value) VALUES ('current_profile', ?)"
               " ON CONFLICT(key) DO UPDATE SET value=excluded.value", (str(int(profile_id)),))


def _profile(row: sqlite3.Row) -> dict:
    profile = dict(row)
    stored = json.loads(profile.pop("settings"))
    # Only known keys count as settings; others (from a later version) are kept, not shown.
    profile["settings"] = {key: stored.get(key, default) for key, default in DEFAULTS.items()}
    profile["guest"] = bool(profile["guest"])
    return profile


def _colour_for(index: int) -> str:
    return COLOURS[index % len(COLOURS)]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _open_session(db: sqlite3.Connection, session_id: int, meta: dict, started_at: str) -> None:
    profile_id = meta.get("profile_id")
    if profile_id is None or db.execute("SELECT 1 FROM profiles WHERE id=?", (profile_id,)).fetchone() is None:
        profile_id = db.execute("SELECT id FROM profiles WHERE guest=1 ORDER BY id LIMIT 1").fetchone()[0]
    db.execute("INSERT INTO sessions (id, started_at, floor, tempo_s, rows, cols, material, gain, profile_id, variant)"
               " VALUES (?,?,?,?,?,?,?,?,?,?)",
               (session_id, started_at, meta.get("floor"), meta.get("tempo_s"), meta.get("rows"), meta.get("cols"),
                meta.get("material"), meta.get("gain"), profile_id, meta.get("variant")))


def _close_session(db: sqlite3.Connection, session_id: int, summary: dict, status: str, ended_at: str) -> None:
    db.execute(
        "UPDATE sessions SET status=?, ended_at=?, duration_s=?, reps=?, perfect_reps=?, liftoffs=?, sets=?,"
        " mean_descent_s=?, balance=?, breath_holds=?, mean_breath_bpm=?, variant_seen=? WHERE id=?",
        (status, ended_at, summary.get("duration_s"), summary.get("reps", 0), summary.get("perfect_reps", 0),
         summary.get("liftoffs", 0), summary.get("sets", 0), summary.get("mean_descent_s"), summary.get("balance"),
         summary.get("breath_holds"), summary.get("mean_breath_bpm"), summary.get("variant_seen"), session_id))


def session_message(session: dict) -> dict:
    """A finished session as it is published (MQTT `session` topic), from its stored row."""
    message = {"session_id": session["id"]}
    for key in ("started_at", "ended_at", "status", "duration_s", "reps", "perfect_reps", "liftoffs", "sets",
                "mean_descent_s", "balance", "breath_holds", "mean_breath_bpm", "variant", "variant_seen"):
        message[key] = session.get(key)
    return message


def _queue_summary(db: sqlite3.Connection, session_id: int) -> None:
    row = db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
    if row is None:
        return
    db.execute("INSERT INTO mqtt_outbox (session_id, payload, created_at) VALUES (?,?,?)",
               (session_id, json.dumps(session_message(dict(row))), now_iso()))


class StoreWriter:
    """Writes for the realtime loop: every call only puts on a queue, never touches SQLite.

    A background thread commits whatever has arrived in one transaction every
    `commit_interval_s` (about a second), so a kill loses at most that much. With `outbox`
    each closed session's summary is also queued for the MQTT broker, in the same transaction.
    """

    def __init__(self, store: Store, commit_interval_s: float = 1.0, outbox: bool = False) -> None:
        self.store = store
        self.outbox = outbox
        self.commit_interval_s = commit_interval_s
        self.commits = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._next_id: int | None = None
        self._id_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    # -- called from the loop --------------------------------------------------------------
    def open_session(self, meta: dict, started_at: str | None = None) -> int:
        """Reserve the next session id at once; the row is inserted by the writer thread.
        `started_at` (ISO 8601) defaults to now."""
        with self._id_lock:
            if self._next_id is None:
                row = self.store.db.execute("SELECT COALESCE(MAX(id), 0) FROM sessions").fetchone()
                self._next_id = int(row[0]) + 1
            session_id = self._next_id
            self._next_id += 1
        self._queue.put(("open", session_id, meta, started_at or now_iso()))
        return session_id

    def add_frame(self, session_id: int, t: float, counts) -> None:
        self._queue.put(("frame", session_id, t, counts))

    def add_event(self, session_id: int, event: dict) -> None:
        self._queue.put(("event", session_id, event))

    def add_rep(self, session_id: int, event: dict) -> None:
        self._queue.put(("rep", session_id, event))

    def add_floor_test(self, session_id: int | None, result: dict, stop_depth: float | None,
                       taken_at: str | None = None) -> None:
        """A floor finder result, and the stop-here depth it gives (stored as the setting).
        `taken_at` (ISO 8601) defaults to now."""
        self._queue.put(("floor_test", session_id, result, stop_depth, taken_at or now_iso()))

    def add_sample(self, session_id: int, t: float, contact: float) -> None:
        self._queue.put(("sample", session_id, t, contact))

    def close_session(self, session_id: int, summary: dict, ended_at: str | None = None) -> None:
        """`ended_at` (ISO 8601) defaults to now."""
        self._queue.put(("close", session_id, summary, ended_at or now_iso()))

    def add_signature(self, session_id: int, signature: dict) -> None:
        """The body signature of the person in this session (mat/profiles/recognition.py)."""
        self._queue.put(("signature", session_id, signature))

    def assign_session(self, session_id: int, profile_id: int, floor: float | None = None,
                       tempo_s: float | None = None, variant: str | None = None) -> None:
        """The session belongs to this profile (recognised or chosen), now with its floor, tempo
        and variant."""
        self._queue.put(("assign", session_id, profile_id, floor, tempo_s, variant))

    def set_variant(self, profile_id: int, variant: str, session_id: int | None = None) -> None:
        """The profile's variant changed on the mat (the button); the session under way is now on it."""
        self._queue.put(("variant", session_id or 0, profile_id, variant))

    def set_current_profile(self, profile_id: int) -> None:
        self._queue.put(("current", 0, profile_id))

    def set_next_session_profile(self, profile_id: int | None) -> None:
        """Store.set_next_session_profile, from the loop."""
        self._queue.put(("next", 0, profile_id))

    def flush(self, timeout_s: float = 10.0) -> None:
        """Block until everything queued so far is committed."""
        done = threading.Event()
        self._queue.put(("flush", done))
        done.wait(timeout_s)

    def close(self) -> None:
        self.flush()
        self._queue.put(("stop",))
        self._thread.join(timeout=10)

    # -- the writer thread -----------------------------------------------------------------
    def _run(self) -> None:
        db = self.store.db
        pending: list[tuple] = []
        deadline = time.monotonic() + self.commit_interval_s
        while True:
            timeout = max(deadline - time.monotonic(), 0.0)
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            flushes = []
            stop = False
            while item is not None:
                if item[0] == "flush":
                    flushes.append(item[1])
                elif item[0] == "stop":
                    stop = True
                else:
                    pending.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            if pending and (time.monotonic() >= deadline or flushes or stop):
                try:
                    self._commit(db, pending)
                except Exception:  # keep writing later rows; a bad row must not stop history
                    log.exception("store writer: a batch failed")
                pending = []
            if time.monotonic() >= deadline:
                deadline = time.monotonic() + self.commit_interval_s
            for done in flushes:
                done.set()
            if stop:
                return

    def _commit(self, db: sqlite3.Connection, items: list[tuple]) -> None:
        frames: dict[int, list[tuple[float, np.ndarray]]] = {}
        with transaction(db):
            for item in items:
                kind, session_id = item[0], item[1]
                if kind == "open":
                    _open_session(db, session_id, item[2], item[3])
                elif kind == "frame":
                    frames.setdefault(session_id, []).append((item[2], item[3]))
                elif kind == "event":
                    event = item[2]
                    db.execute("INSERT INTO events (session_id, t, type, json) VALUES (?,?,?,?)",
                               (session_id, event["t"], event["type"], json.dumps(event)))
                elif kind == "rep":
                    e = item[2]
                    db.execute(
                        "INSERT INTO reps (session_id, set_no, rep_no, t_top, t_bottom, t_end, descent_s, perfect, balance,"
                        " depth, bounce, sway) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (session_id, e["set"], e["rep"], e.get("top_t"), e.get("bottom_t"), e.get("end_t", e["t"]),
                         e["descent_s"], int(bool(e["perfect"])), e.get("balance"), e.get("depth"),
                         None if e.get("bounce") is None else int(bool(e["bounce"])), e.get("sway")))
                elif kind == "floor_test":
                    result = item[2]
                    # The person whose session it is (or whom the mat serves), and their stop-here depth.
                    row = db.execute("SELECT profile_id FROM sessions WHERE id=?", (session_id,)).fetchone()
                    profile_id = row[0] if row and row[0] is not None else _current_profile_id(db)
                    db.execute("INSERT INTO floor_tests (taken_at, session_id, profile_id, beats, angle_deg, depth,"
                               " reached_floor) VALUES (?,?,?,?,?,?,?)",
                               (item[4], session_id, profile_id, result["beats"], result["angle_deg"],
                                result["depth"], int(bool(result["reached_floor"]))))
                    _update_profile_settings(db, profile_id, validate_settings({"stop_depth": item[3]}))
                elif kind == "sample":
                    db.execute("INSERT INTO samples (session_id, t, contact) VALUES (?,?,?)",
                               (session_id, item[2], round(float(item[3]), 4)))
                elif kind == "signature":
                    db.execute("INSERT OR REPLACE INTO body_signatures (session_id, signature) VALUES (?,?)",
                               (session_id, json.dumps(item[2])))
                elif kind == "assign":
                    # a profile deleted meanwhile: the session stays where it is
                    db.execute("UPDATE sessions SET profile_id=?, floor=COALESCE(?, floor), tempo_s=COALESCE(?, tempo_s),"
                               " variant=COALESCE(?, variant) WHERE id=? AND EXISTS (SELECT 1 FROM profiles WHERE id=?)",
                               (item[2], item[3], item[4], item[5], session_id, item[2]))
                    _floor_tests_follow_session(db, session_id)
                elif kind == "variant":
                    if db.execute("SELECT 1 FROM profiles WHERE id=?", (item[2],)).fetchone() is not None:
                        _update_profile_settings(db, item[2], validate_settings({"variant": item[3]}))
                    if session_id:
                        db.execute("UPDATE sessions SET variant=? WHERE id=?", (item[3], session_id))
                elif kind == "current":
                    _set_current_profile(db, item[2])
                elif kind == "next":
                    _set_next_session_profile(db, item[2])
                elif kind == "close":
                    self._insert_frames(db, frames)
                    frames = {}
                    _close_session(db, session_id, item[2], "closed", item[3])
                    if self.outbox:
                        _queue_summary(db, session_id)
            self._insert_frames(db, frames)
        self.commits += 1

    @staticmethod
    def _insert_frames(db: sqlite3.Connection, frames: dict[int, list[tuple[float, np.ndarray]]]) -> None:
        for session_id, batch in frames.items():
            if not batch:
                continue
            t = np.array([b[0] for b in batch], dtype=np.float64)
            counts = np.stack([np.asarray(b[1]) for b in batch]).astype(np.int16)  # raw codes fit int16 exactly
            db.execute("INSERT INTO frames (session_id, t0, n, t, counts) VALUES (?,?,?,?,?)",
                       (session_id, float(t[0]), len(t), t.tobytes(), counts.tobytes()))
