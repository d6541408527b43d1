"""`mat bench --profiles`: how often the mat recognises who lies down, on simulated families.

Each family shares one mat (its cells' gains drawn once) and has PEOPLE profiles of drawn
builds (mass 45–110 kg; size and lumbar length follow, with their own spread), each with a
usual place on the mat. On each day a person lies down a little differently: 1 cm (σ) off their
usual place along the back (the pad's top edge is at their lowest ribs, which they can feel) and
1.5 cm across, ±1.5 % in weight, and starts the session in one of the ways people do (press at
once, settle then press, never press, ...); and the mat itself reads each day a little
differently (its cells' gains drift: `day` in the simulator's `mat` step, 7 % per cell and
3.5 % shared by all). Every session runs through the real pipeline; its first calibration gives
the body signature, as in the daemon.

The first ENROLLED sessions of each person are their stored history; each later session is
suggested against everyone's history (right / wrong / abstain), and then joins its owner's
history, as a session the user confirmed does. Strangers (people with no profile) lie down too:
for them the only right answer is to abstain.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from hardware.emulation.person import Scenario, SimulatedPerson
from hardware.emulation.scenarios import CHOREOGRAPHIES, _choreography, frame_times
from mat.pipeline import Pipeline
from mat.profiles.recognition import body_signature, suggest

FAMILIES = 4
PEOPLE = 5
DAYS = 8
ENROLLED = 2
STRANGERS = 3
PLACE_SPREAD_CM = 1.5   # where each person usually lies, across people
DAY_ALONG_CM = 1.0      # how far from their usual place they lie on a given day: along the back
DAY_ACROSS_CM = 1.5     # ... and across it
FRAME_HZ = 100


@dataclass
class Body:
    mass_kg: float
    size: float
    lumbar_len_cm: float
    relaxed_level: float
    dx_cm: float
    dy_cm: float


def draw_body(rng) -> Body:
    mass = float(rng.uniform(45, 110))
    size = float(np.clip((mass / 75.0) ** (1 / 3) * rng.normal(1, 0.04), 0.82, 1.2))
    return Body(mass, size, 17.0 * size * float(rng.normal(1, 0.04)), float(rng.uniform(0.68, 0.85)),
                float(np.clip(rng.normal(0, PLACE_SPREAD_CM), -3, 3)), float(np.clip(rng.normal(0, PLACE_SPREAD_CM), -3, 3)))


def day_signature(body: Body, mat_line: str, rng, day: int) -> dict | None:
    """One session's first calibration of `body` lying down on `day` (from 1), through the pipeline."""
    choreography = str(rng.choice(CHOREOGRAPHIES))
    text = (f"{mat_line} day={day}\nperson mass_kg={body.mass_kg * rng.normal(1, 0.015):.1f} size={body.size:.3f} "
            f"lumbar_len_cm={body.lumbar_len_cm:.1f} relaxed_level={body.relaxed_level:.3f} "
            f"offset_x_cm={body.dx_cm + rng.normal(0, DAY_ACROSS_CM):.2f} "
            f"offset_y_cm={body.dy_cm + rng.normal(0, DAY_ALONG_CM):.2f} seed={int(rng.integers(1, 10**6))}\n"
            f"empty {rng.uniform(1, 4):.1f}\n" + _choreography(rng, choreography) + "relax 4\nget_up 1.2\nempty 2\n")
    person = SimulatedPerson(Scenario.parse(text))
    times = frame_times(person.duration_s, FRAME_HZ, rng, 0.1)
    frames = person.frames(times)
    pipeline = Pipeline(material=person.mat.material)
    for t, counts in zip(times, frames):
        for event in pipeline.process(t, counts):
            if event["type"] == "calibrated":
                return body_signature(pipeline.calibration)
    return None


def run(families: int = FAMILIES, seed: int = 15) -> dict:
    rng = np.random.default_rng(seed)
    tally = {"right": 0, "wrong": 0, "abstain": 0, "stranger_abstain": 0, "stranger_wrong": 0, "no_calibration": 0}
    notes = []
    for family in range(families):
        mat_line = (f"mat material=velostat spread={rng.uniform(0.1, 0.3):.2f} strip_spread={rng.uniform(0.2, 0.6):.2f} "
                    f"creep={rng.uniform(0.07, 0.12):.3f} seed={int(rng.integers(1, 10**6))}")
        bodies = [draw_body(rng) for _ in range(PEOPLE)]
        history: dict[int, list[dict]] = {k: [] for k in range(PEOPLE)}
        days = [(k, day) for day in range(DAYS) for k in range(PEOPLE)]
        for k, day in days:
            signature = day_signature(bodies[k], mat_line, rng, day + 1)
            if signature is None:
                tally["no_calibration"] += 1
                continue
            if day >= ENROLLED:
                guess = suggest(signature, history)
                outcome = "abstain" if guess.profile_id is None else "right" if guess.profile_id == k else "wrong"
                tally[outcome] += 1
                if outcome == "wrong":
                    notes.append(f"family {family}: person {k} ({bodies[k].mass_kg:.0f} kg) taken for person "
                                 f"{guess.profile_id} ({bodies[guess.profile_id].mass_kg:.0f} kg), "
                                 f"distance {guess.distance:.2f} vs {guess.runner_up:.2f}")
            history[k].append(signature)
        for _ in range(STRANGERS):
            signature = day_signature(draw_body(rng), mat_line, rng, DAYS + 1)
            if signature is None:
                tally["no_calibration"] += 1
                continue
            guess = suggest(signature, history)
            tally["stranger_abstain" if guess.profile_id is None else "stranger_wrong"] += 1
    tested = tally["right"] + tally["wrong"] + tally["abstain"]
    return {"families": families, "people": PEOPLE, "days": DAYS, "enrolled": ENROLLED, "seed": seed,
            "sessions": tested, **tally,
            "right_share": round(tally["right"] / tested, 3) if tested else None,
            "wrong_share": round(tally["wrong"] / tested, 3) if tested else None,
            "abstain_share": round(tally["abstain"] / tested, 3) if tested else None,
            "notes": notes}


def main(as_json: bool = False, quick: bool = False, seed: int = 15) -> int:
    result = run(1 if quick else FAMILIES, seed)
    if as_json:
        print(json.dumps(result))
        return 0
    n = result["sessions"]
    print(f"recognition on {result['families']} simulated families x {PEOPLE} people, "
          f"{DAYS} sessions each ({ENROLLED} to learn from), seed {seed}:")
    print(f"  {n} sessions of known people: right {result['right']} ({result['right_share']:.0%}), "
          f"wrong {result['wrong']} ({result['wrong_share']:.0%}), abstained {result['abstain']} "
          f"({result['abstain_share']:.0%})")
    strangers = result["stranger_abstain"] + result["stranger_wrong"]
    print(f"  {strangers} sessions of strangers: abstained {result['stranger_abstain']}, "
          f"taken for someone {result['stranger_wrong']}")
    if result["no_calibration"]:
        print(f"  {result['no_calibration']} sessions never calibrated (not counted)")
    for note in result["notes"]:
        print("  wrong: " + note)
    return 0


