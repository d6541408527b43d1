"""Named scenarios for the demo, the tests and `mat bench`, and the suite of varied people.

Each scenario is a text for `hardware.emulation.person.Scenario`; `frame_times` gives the
frame times a real loop would read them at. `mat.tools.suite` writes them out as labelled
recordings.
"""
from __future__ import annotations


import numpy as np

_START = "empty 3\nlie_down 1.5\nrelax 3\npress 4\n"
_END = "get_up 1.2\nempty 8\n"


def session_text(person: str, body: str) -> str:
    return f"person {person}\n{_START}{body}{_END}"


#: The demo: sets of leg lifts with an arch now and then, a near miss, a too-fast set.
DEMO = session_text(
    "mass_kg=72 seed=11",
    "set reps=8 descent_s=3 arch_reps=5 arch_depth=0.3\nrest 15\n"
    "set reps=8 descent_s=3 near_miss_reps=3 arch_reps=7 arch_kind=slow arch_depth=0.35\nrest 15\n"
    "set reps=6 variant=bent_knee descent_s=1.5\nrest 10\n",
)

#: Breathing as people do (irregular, sighs, pauses), holding the breath in rests, while pressing
#: and through a descent, with the truth in the labels (`sim.breathing`).
BREATHING = session_text(
    "mass_kg=68 seed=21 breathing=natural breath_bpm=14",
    "hold_breath 7\npress 4\nrest 35\nhold_breath 10\nrest 30\nhold_breath 8\nset reps=6 descent_s=3\n"
    "rest 30\nhold_breath 12\nrest 35\n",
)

SUITE_SEED = 2024

#: How people start a session (README, "Using the mat"): every one of them appears in a drawn suite.
CHOREOGRAPHIES = ("settle_then_press", "press_at_once", "long_relax", "short_hold", "press_twice", "never_press")
VARIANTS = ("straight", "bent_knee", "single_leg", "alternating", "dead_bug")
FAULTS = ("none", "none", "dead_zero", "dead_rail", "dead_frozen", "dead_dying", "high_noise", "none")
ARCH_KINDS = ("sharp", "slow", "pop", "held")


def _r(rng, lo: float, hi: float, digits: int = 1) -> float:
    return round(float(rng.uniform(lo, hi)), digits)


def _choreography(rng, kind: str) -> str:
    """The start of a session, from lying down to the moment the legs first go up."""
    lie = f"lie_down {_r(rng, 1.2, 2.8)}\n"
    if kind == "settle_then_press":
        return lie + f"relax {_r(rng, 2, 6)}\npress {_r(rng, 3.5, 5.5)}\n"
    if kind == "press_at_once":
        return lie + f"press {_r(rng, 3.5, 5.5)}\n"
    if kind == "long_relax":  # up to ~30 s relaxed, with small adjustments, then the press
        parts, total = [], _r(rng, 10, 30)
        for _ in range(int(rng.integers(1, 4))):
            parts.append(f"relax {_r(rng, 2.5, max(2.6, total / 2))}\nfidget {_r(rng, 0.8, 2.0)}\n")
        return lie + "".join(parts) + f"relax {_r(rng, 2, 6)}\npress {_r(rng, 3.5, 5.5)}\n"
    if kind == "short_hold":  # 2–3 s only, then straight into the first set
        return lie + f"relax {_r(rng, 1.5, 5)}\npress {_r(rng, 2.0, 3.0)}\n"
    if kind == "press_twice":
        return lie + (f"relax {_r(rng, 2, 5)}\npress {_r(rng, 2.5, 3.0)}\nrelax {_r(rng, 1.5, 3.5)}\n"
                      f"press {_r(rng, 3.5, 5.0)}\n")
    if kind == "never_press":  # relaxed lying (a steady stretch first), then the legs go up
        steady = f"relax {_r(rng, 4, 12)}\n"
        extra = f"fidget {_r(rng, 0.8, 1.8)}\nrelax {_r(rng, 2, 8)}\n" if rng.random() < 0.5 else ""
        return lie + steady + extra
    raise ValueError(f"unknown choreography {kind!r}")


def _set_line(rng, variant: str, reps: int, style: str) -> str:
    """One set: tempo, arches (by kind), near misses, fatigue, bouncing."""
    if style == "fast":
        descent, ascent = _r(rng, 1.0, 1.6, 2), _r(rng, 0.8, 1.3, 2)
    elif style == "slow":
        descent, ascent = _r(rng, 4.0, 5.0, 2), _r(rng, 1.8, 2.8, 2)
    else:
        descent, ascent = _r(rng, 2.0, 4.0, 2), _r(rng, 1.2, 2.5, 2)
    words = [f"set reps={reps} variant={variant} descent_s={descent} ascent_s={ascent}",
             f"pause_s={_r(rng, 0.2, 0.8, 2)} top_pause_s={_r(rng, 0.3, 1.0, 2)} tempo_jitter={_r(rng, 0.04, 0.12, 2)}"]
    if variant == "single_leg":
        words.append(f"side={rng.choice(['left', 'right'])}")
    if style == "fast":
        words.append(f"bounce={_r(rng, 0.1, 0.4, 2)}")
    arches: set[int] = set()
    roll = rng.random()
    if style == "fatigue" or roll < 0.25:  # the last 2–3 reps arch, descents speed up
        arches = set(range(reps - int(rng.integers(1, 3)), reps + 1))
        words.append(f"speedup={_r(rng, 0.2, 0.45, 2)}")
    elif roll < 0.75:
        arches = set(int(x) for x in rng.choice(np.arange(1, reps + 1), size=int(rng.integers(1, 4)), replace=False))
    if arches:
        words.append(f"arch_reps={','.join(str(x) for x in sorted(arches))} arch_kind={rng.choice(ARCH_KINDS)}")
    near = [x for x in range(1, reps + 1) if x not in arches and rng.random() < 0.15]
    if near:
        words.append(f"near_miss_reps={','.join(str(x) for x in near)}")
    return " ".join(words) + "\n"


def _rest(rng, fault_line: str = "") -> str:
    """A rest between sets, with a disturbance or a re-press now and then."""
    parts = [f"rest {_r(rng, 5, 20)}\n"]
    for step in ("cough\n", f"arms {_r(rng, 1.5, 6)}\n", f"resettle dy_cm={_r(rng, -1.5, 1.5)}\n",
                 f"shift {_r(rng, 1, 2)} dx_cm={_r(rng, -2, 2)}\n"):
        if rng.random() < 0.2:
            parts.append(step + f"rest {_r(rng, 2, 8)}\n")
    if fault_line:
        parts.append(fault_line + f"rest {_r(rng, 2, 6)}\n")
    if rng.random() < 0.3:  # a re-press before the next set
        parts.append(f"press {_r(rng, 2, 4)}\nrest {_r(rng, 1, 4)}\n")
    return "".join(parts)


def draw_scenario(rng, choreography: str, variant: str, fault: str, material: str, people: int = 1) -> str:
    """One scenario text: a mat, one or two people, their sessions, a recording's frame timing."""
    hum = _r(rng, 0.5, 4.0, 2)
    noise = _r(rng, 0.005, 0.02, 3)
    adc = _r(rng, 1, 6)
    if fault == "high_noise":
        noise, adc, hum = _r(rng, 0.04, 0.07, 3), _r(rng, 15, 30), _r(rng, 4, 8, 2)
    text = (f"mat material={material} noise={noise} spread={_r(rng, 0.1, 0.3, 2)} "
            f"strip_spread={_r(rng, 0.2, 0.6, 2)} creep={_r(rng, 0.07, 0.12, 3)} drift={_r(rng, 0.01, 0.05, 3)} "
            f"unloaded={_r(rng, 0.5, 2.0, 2)} hum_mv={hum} mains_hz={rng.choice([50, 60])} adc_noise={adc} "
            f"seed={int(rng.integers(1, 10**6))}\n"
            f"recording fps={int(rng.integers(50, 121))} jitter={_r(rng, 0.02, 0.12, 3)} drop={_r(rng, 0.0, 0.01, 4)}\n")
    for k in range(people):
        placed = rng.random() < 0.6
        dx, dy = (_r(rng, -4, 4), _r(rng, -4, 4)) if placed else (0.0, 0.0)
        text += (f"person mass_kg={int(rng.integers(45, 121))} offset_x_cm={dx} offset_y_cm={dy} "
                 f"seed={int(rng.integers(1, 10**6))}\nempty {_r(rng, 1, 4)}\n")
        text += _choreography(rng, choreography if k == 0 else str(rng.choice(CHOREOGRAPHIES)))
        sets = int(rng.integers(2, 5)) if people == 1 else 2
        style = str(rng.choice(["normal", "normal", "fast", "slow", "fatigue"]))
        dead = ""
        if fault.startswith("dead_") and k == 0:
            row, col = int(rng.integers(0, 4)) if rng.random() < 0.3 else int(rng.integers(1, 3)), int(rng.integers(0, 4))
            dead = f"dead_cell row={row} col={col} kind={fault[5:]} fade_s={_r(rng, 3, 20)}\n"
            if fault != "dead_dying" and rng.random() < 0.5:
                text, dead = text + dead, ""  # dead from the start
        for s in range(sets):
            reps = int(rng.integers(6, 13)) if style != "slow" else int(rng.integers(5, 9))
            set_variant = variant if s == 0 else str(rng.choice(VARIANTS))
            text += _set_line(rng, set_variant, reps, style)
            if s < sets - 1:
                text += _rest(rng, dead)
                dead = ""
        text += f"rest {_r(rng, 2, 6)}\nget_up {_r(rng, 1.0, 2.5)}\nempty {_r(rng, 4, 10)}\n"
    return text


def draw_suite(seed: int, n: int) -> dict[str, str]:
    """N scenario texts drawn from a seed. Every choreography, variant, fault and both materials
    come round in turn (so any n ≥ 8 covers them); bodies, placement, tempo, arches, near misses,
    disturbances, sensor quirks and frame timing are drawn."""
    rng = np.random.default_rng(seed)
    suite: dict[str, str] = {}
    for i in range(n):
        choreography = CHOREOGRAPHIES[i % len(CHOREOGRAPHIES)]
        variant = VARIANTS[i % len(VARIANTS)]
        fault = FAULTS[i % len(FAULTS)]
        material = "fsr" if i % 4 == 3 else "velostat"
        people = 2 if i % 9 == 5 else 1
        name = f"d{i:02d}_{choreography}_{variant}_{fault}_{material}" + ("_two" if people == 2 else "")
        suite[name] = draw_scenario(rng, choreography, variant, fault, material, people)
    return suite



def draw_breathing_scenario(rng, material: str) -> str:
    """One person breathing as people do (mat/pipeline/breathing.py's test): 8-24 breaths a
    minute, shallow to deep, lying on or off centre, on a quiet or a noisy mat, doing 2-3 sets
    with long rests; breaths held in rests (5-14 s, anywhere in the rest), now and then
    through a set, and disturbances (a cough, arms, a shift) in some rests."""
    noisy = rng.random() < 0.25
    noise, adc, hum = (_r(rng, 0.03, 0.06, 3), _r(rng, 10, 25), _r(rng, 3, 8, 2)) if noisy else \
        (_r(rng, 0.005, 0.02, 3), _r(rng, 1, 6), _r(rng, 0.5, 4.0, 2))
    text = (f"mat material={material} noise={noise} spread={_r(rng, 0.1, 0.3, 2)} "
            f"strip_spread={_r(rng, 0.2, 0.6, 2)} creep={_r(rng, 0.07, 0.12, 3)} drift={_r(rng, 0.01, 0.05, 3)} "
            f"unloaded={_r(rng, 0.5, 2.0, 2)} hum_mv={hum} mains_hz={rng.choice([50, 60])} adc_noise={adc} "
            f"seed={int(rng.integers(1, 10**6))}\n"
            f"recording fps={int(rng.integers(50, 121))} jitter={_r(rng, 0.02, 0.12, 3)} drop={_r(rng, 0.0, 0.005, 4)}\n"
            f"person mass_kg={int(rng.integers(45, 121))} offset_x_cm={_r(rng, -3, 3)} offset_y_cm={_r(rng, -3, 3)} "
            f"breathing=natural breath_bpm={_r(rng, 8, 24)} breath_depth={_r(rng, 0.4, 1.6, 2)} "
            f"seed={int(rng.integers(1, 10**6))}\nempty {_r(rng, 1, 3)}\n")
    text += _choreography(rng, str(rng.choice(CHOREOGRAPHIES)))
    text += f"rest {_r(rng, 20, 40)}\n"
    for s in range(int(rng.integers(2, 4))):
        if rng.random() < 0.3:
            text += f"hold_breath {_r(rng, 5, 10)}\n"  # through the set's first reps
        text += _set_line(rng, str(rng.choice(VARIANTS)), int(rng.integers(5, 10)), "normal")
        rest = _r(rng, 30, 55)
        if rng.random() < 0.75:
            before = _r(rng, 3, rest - 20)
            text += f"rest {before}\nhold_breath {_r(rng, 5, 14)}\n"
            rest = round(rest - before, 1)
        if rng.random() < 0.3:
            text += f"rest {_r(rng, 15, rest - 5)}\n{rng.choice(['cough', 'arms 2', 'shift 1.5 dx_cm=1.5'])}\n"
        text += f"rest {rest}\n"
    return text + f"get_up {_r(rng, 1.0, 2.5)}\nempty {_r(rng, 4, 8)}\n"


def draw_breathing_suite(seed: int, n: int) -> dict[str, str]:
    """N breathing scenarios drawn from a seed (both materials in turn)."""
    rng = np.random.default_rng(seed)
    return {f"b{i:02d}_{'fsr' if i % 4 == 3 else 'velostat'}": draw_breathing_scenario(rng, "fsr" if i % 4 == 3 else "velostat")
            for i in range(n)}


#: The bench suite: drawn, fixed seed, ~2–5 minutes per scenario.
SUITE: dict[str, str] = draw_suite(SUITE_SEED, 26)

#: The breathing suite (`mat bench`'s own breathing figures): drawn, fixed seed, ~4 minutes each.
BREATHING_SUITE_SEED = 1414
BREATHING_SUITE: dict[str, str] = draw_breathing_suite(BREATHING_SUITE_SEED, 12)

#: Scenarios with many lift-offs, for measuring alert latency through the whole loop.
LATENCY_SUITE: dict[str, str] = {
    "latency_sharp": session_text("mass_kg=75 seed=31", "set reps=10 arch_reps=1,2,3,4,5,6,7,8,9,10\n"),
    "latency_slow": session_text("mass_kg=90 seed=32",
                             "set reps=10 arch_reps=1,2,3,4,5,6,7,8,9,10 arch_kind=slow arch_depth=0.35\n"),
    "latency_light": session_text("mass_kg=50 noise=0.02 seed=33", "set reps=10 arch_reps=1,3,5,7,9\n"),
}


def scenario_text(name_or_text: str) -> tuple[str, str]:
    """(name, text) for a suite name, or for a scenario text itself."""
    for table in (SUITE, LATENCY_SUITE, BREATHING_SUITE, {"demo": DEMO, "breathing": BREATHING}):
        if name_or_text in table:
            return name_or_text, table[name_or_text]
    return "scenario", name_or_text


def frame_times(duration_s: float, frame_rate_hz: float, rng=None, jitter: float = 0.1, drop: float = 0.0) -> list[float]:
    """Frame times as a real loop produces them: the nominal interval ± `jitter` (a share of
    it), frames dropped with probability `drop` (now and then a burst of them, as when the
    SD card stalls), µs resolution."""
    dt = 1.0 / frame_rate_hz
    n = int(duration_s * frame_rate_hz * 1.3) + 10
    steps = np.full(n, dt)
    if rng is not None:
        steps *= 1 + 2 * jitter * (rng.random(n) - 0.5)
        if drop:
            dropped = rng.random(n) < drop
            burst = np.where(rng.random(n) < 0.1, rng.integers(3, 16, n), 1)
            steps += dt * burst * dropped
    times = np.round(np.concatenate([[0.0], np.cumsum(steps)]), 6)
    return times[times < duration_s].tolist()
