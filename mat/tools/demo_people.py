"""The demo's people: on a fresh demo database, two profiles with a few weeks of history, so a
new user sees profiles, history and the report per person, floor-finder results by week, and
the mat recognising who lies down (the demo's simulated person is Anna).

Their bodies are real signatures: the demo's simulated person (and a heavier one on the same
emulated mat) through the pipeline to their first calibration, as the daemon takes them, varied
a little from day to day as bodies are (mat/profiles/recognition.py). Everything else (reps,
lift-offs, descents, floor-finder results) is drawn, improving over the weeks.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from hardware.emulation.person import Scenario, SimulatedPerson
from hardware.emulation.scenarios import DEMO
from mat.pipeline import Pipeline
from mat.pipeline.session import summarize
from mat.profiles.recognition import body_signature
from mat.storage.store import Store, StoreWriter

#: name, colour, settings, the body (None: the demo's own simulated person), sessions, weeks.
PEOPLE = (
    ("Anna", "#bf3989", {"floor": 0.55, "tempo_s": 3.0}, None, 9),
    ("Ben", "#1a7f37", {"floor": 0.45, "tempo_s": 4.0}, "mass_kg=98 seed=11 offset_x_cm=0.8", 6),
)
WEEKS = 4


def seed_demo_people(path, now: datetime | None = None, seed: int = 7) -> bool:
    """Give a fresh demo database (no sessions, only the profiles every new mat has) its people.
    False, and nothing changed, for any other database."""
    store = Store(path)
    try:
        people = [p for p in store.list_profiles() if not p["guest"]]
        if store.list_sessions() or len(people) != 1:
            return False
        now = now or datetime.now(timezone.utc)
        rng = np.random.default_rng(seed)
        writer = StoreWriter(store)
        for k, (name, colour, settings, body, sessions) in enumerate(PEOPLE):
            if k == 0:  # the new mat's "Me" becomes Anna
                profile = store.update_profile(people[0]["id"], name=name, colour=colour, settings=settings)
            else:
                profile = store.create_profile(name, colour, settings)
            signature = _first_signature(body)
            for i in range(sessions):
                started = now - timedelta(days=WEEKS * 7 * (1 - i / sessions), hours=float(rng.uniform(0, 6)))
                _seed_session(writer, profile, started, i / max(sessions - 1, 1), _another_day(signature, rng), rng)
        writer.close()
        store.set_current_profile(people[0]["id"])
        return True
    finally:
        store.close()


def _first_signature(body: str | None) -> dict:
    """The body's signature at its first calibration on the demo's mat, as the daemon takes it."""
    text = DEMO if body is None else DEMO.replace("person mass_kg=72 seed=11", f"person {body}", 1)
    person = SimulatedPerson(Scenario.parse(text))
    times = np.arange(0.0, 20.0, 0.01)
    pipeline = Pipeline(material=person.mat.material)
    for t, counts in zip(times, person.frames(times)):
        if any(e["type"] == "calibrated" for e in pipeline.process(float(t), counts)):
            return body_signature(pipeline.calibration)
    raise RuntimeError("the demo's person never calibrated")


def _another_day(signature: dict, rng) -> dict:
    """The same body on another day: each cell a few per cent off, all of them a little."""
    shared = rng.normal(0, 0.03)
    load = [[None if v is None else round(v * float(np.exp(shared + rng.normal(0, 0.04))), 6) for v in row]
            for row in signature["load"]]
    return dict(signature, load=load)


def _seed_session(writer: StoreWriter, profile: dict, started: datetime, progress: float, signature: dict, rng) -> None:
    """One past session of 2–3 sets of 10, better as `progress` goes from 0 to 1, with its
    contact chart, reps, events, body signature and, now and then, a floor-finder result."""
    settings = profile["settings"]
    session_id = writer.open_session({"floor": settings["floor"], "tempo_s": settings["tempo_s"], "rows": 4, "cols": 4,
                                      "material": "velostat", "gain": 1, "profile_id": profile["id"]},
                                     started_at=started.isoformat(timespec="seconds"))
    events = [{"t": 0.0, "type": "present"}]
    t = 8.0
    sets = int(rng.integers(2, 4))
    for set_no in range(1, sets + 1):
        for rep_no in range(1, 11):
            descent = float(np.clip(rng.normal(2.2 + 1.2 * progress, 0.35), 1.0, 5.0))
            lifted = rng.random() < 0.35 - 0.25 * progress
            if lifted:
                events += [{"t": t + descent - 0.3, "type": "liftoff", "contact": 0.32, "depth": 0.8},
                           {"t": t + descent + 0.2, "type": "contact", "duration_s": 0.5}]
            rep = {"t": t + descent + 2.0, "type": "rep", "set": set_no, "rep": rep_no, "top_t": t,
                   "bottom_t": t + descent, "end_t": t + descent + 2.0, "descent_s": round(descent, 2),
                   "perfect": not lifted, "balance": round(float(rng.normal(0, 0.04)), 3), "depth": 0.9}
            events.append(rep)
            writer.add_rep(session_id, rep)
            for i in range(int((descent + 2.5) * 10)):  # the contact chart, 10 samples a second
                dip = np.sin(np.pi * min(i / 10 / max(descent, 0.1), 1.0)) * (0.55 if lifted else 0.12)
                writer.add_sample(session_id, round(t + i / 10, 1), round(float(0.97 - dip), 3))
            t += descent + 2.5
        t += 45.0  # the rest
    if rng.random() < 0.5 or progress in (0.0, 1.0):
        angle = float(np.clip(rng.normal(40 - 18 * progress, 3), 5, 70))
        result = {"t": t, "type": "floor_finder_result", "beats": round(10 * (1 - angle / 90), 1),
                  "angle_deg": round(angle, 1), "depth": round(1 - angle / 90, 2), "reached_floor": False}
        events.append(result)
        writer.add_floor_test(session_id, result, result["depth"], taken_at=(started + timedelta(minutes=8)).isoformat())
    for event in events:
        writer.add_event(session_id, event)
    writer.add_signature(session_id, signature)
    writer.close_session(session_id, summarize(events, 0.0, t + 5, sets),
                         ended_at=(started + timedelta(seconds=t + 5)).isoformat(timespec="seconds"))
