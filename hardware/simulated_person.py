"""A simulated person on the mat, scripted from a small scenario text.

It feeds the emulated ADS1115s (volts per cell) and knows the truth the detector must find:
the noise-free lumbar contact, the lift-off intervals and the reps. Physics from DOMAIN.md:
load shares per row, the pressed lumbar trough, the pelvis tilting as the legs go down, arches
moving load from the lumbar rows to the sacrum, and real sensors' habits (power-law response,
per-cell gain spread, creep, drift, noise, mains hum, breathing, dead cells).

Scenario vocabulary, one step per line (`#` starts a comment; durations in seconds, `s` optional):

    person mass_kg=75 offset_x_cm=0 offset_y_cm=0 material=velostat noise=0.01 spread=0.2
           creep=0.08 drift=0.02 seed=1          # a new person (a second `person` = new session)
    empty 3                 # nobody on the mat
    lie_down 1.5            # load arrives
    relax 3                 # lying relaxed, lumbar trough
    press 4                 # the calibration hold: back pressed flat
    set reps=10 variant=straight descent_s=3 ascent_s=2 arch_reps=3,7 arch_depth=0.3
        arch_kind=sharp|slow arch_s=0.8 near_miss_reps=5 near_miss_depth=0.68 side=left
                            # variants: straight bent_knee single_leg alternating dead_bug
    rest 20                 # legs on the floor, back relaxed but flat
    cough | arms 2 | resettle   # disturbances: a 0.25 s spike, arms shifted to one side,
                            # re-settling 1.5 cm lower (creep restarts)
    get_up 1.2              # load leaves
    dead_cell row=1 col=2 kind=zero|rail|frozen   # from this moment on
"""
from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field

import numpy as np

from .materials import SUPPLY_V, material as material_named, volts_to_counts

CELL_CM = 6.0
#: Body load per row, from above the grid's top edge (upper back) to below it (buttocks).
#: Rows 1–4 are the grid's rows 0–3 when the person lies centred: 20/17/22/40 % (DOMAIN.md).
BODY_ROWS = np.array([0.22, 0.20, 0.17, 0.22, 0.40, 0.45])
BODY_COLS = np.array([0.04, 0.23, 0.27, 0.27, 0.23, 0.04])
LUMBAR_ROWS = (2, 3)  # indices in BODY_ROWS: grid rows 1 and 2
#: Pressing flat fills the lumbar trough: these rows gain this share of their relaxed load.
PRESS_GAIN = {2: 0.9, 3: 0.5}
#: Lowering the legs tilts the pelvis forward: good form loses at most this much lumbar load.
GOOD_FORM_WOBBLE = 0.10
LEVER_SCALE = {"straight": 1.0, "bent_knee": 0.6, "single_leg": 0.55, "alternating": 0.55, "dead_bug": 0.5}
MAINS_HZ = 100.0
VARIABLES = ("w", "p", "u", "lam", "a", "lat", "spike", "off_y", "off_x")


def _calibrated_lumbar() -> float:
    return sum(BODY_ROWS[r] * (1 + PRESS_GAIN[r]) for r in LUMBAR_ROWS)


@dataclass
class PersonSpec:
    mass_kg: float = 75.0
    offset_x_cm: float = 0.0
    offset_y_cm: float = 0.0
    material: str = "velostat"
    noise: float = 0.01
    spread: float = 0.2
    creep: float = 0.08
    drift: float = 0.02
    seed: int = 1


@dataclass
class Scenario:
    """Parsed steps: a list of (command, positional args, keyword args, line number)."""

    steps: list[tuple[str, list[str], dict[str, str], int]]
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> "Scenario":
        steps = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            words = shlex.split(line)
            command, positional, keywords = words[0], [], {}
            for word in words[1:]:
                if "=" in word:
                    key, value = word.split("=", 1)
                    keywords[key] = value
                else:
                    positional.append(word.rstrip("s") if word.endswith("s") and word[:-1].replace(".", "").isdigit() else word)
            if command not in _COMMANDS:
                raise ValueError(f"scenario line {number}: unknown step {command!r}; "
                                 f"known: {', '.join(sorted(_COMMANDS))}")
            steps.append((command, positional, keywords, number))
        return cls(steps, text)


_COMMANDS = {"person", "empty", "lie_down", "relax", "press", "set", "rest", "cough", "arms",
             "resettle", "get_up", "dead_cell"}


@dataclass
class _Track:
    """Piecewise-linear keyframes per variable, evaluated with np.interp."""

    keys: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {v: [(0.0, 0.0)] for v in VARIABLES})

    def value(self, var: str) -> float:
        return self.keys[var][-1][1]

    def to(self, var: str, t: float, value: float) -> None:
        keys = self.keys[var]
        if keys[-1][0] < t:
            keys.append((t, keys[-1][1]))  # hold until this segment starts
        keys.append((t, value))

    def ramp(self, var: str, t0: float, t1: float, value: float, eased: bool = False) -> None:
        start = self.value(var)
        self.to(var, t0, start)
        if eased:  # cosine easing: legs move smoothly, not at constant speed
            for i in range(1, 9):
                f = (1 - math.cos(math.pi * i / 8)) / 2
                self.keys[var].append((t0 + (t1 - t0) * i / 8, start + (value - start) * f))
        else:
            self.keys[var].append((t1, value))


class SimulatedPerson:
    """A scripted person (or several, one after another) lying on the grid.

    rows, cols: the grid. gain: the ADS1115 gain the cells are read at.
    """

    def __init__(self, scenario: Scenario, rows: int = 4, cols: int = 4, gain: float = 1, seed: int | None = None) -> None:
        self.rows, self.cols, self.gain = rows, cols, gain
        self.track = _Track()
        self.reps: list[dict] = []
        self.sets: list[dict] = []
        self.presence: list[list[float]] = []
        self.persons: list[tuple[float, PersonSpec]] = []
        self.dead_cells: list[tuple[float, int, int, str]] = []
        self.calibration_holds: list[tuple[float, float]] = []
        self._build(scenario, seed)
        self._keys = {v: (np.array([k[0] for k in ks]), np.array([k[1] for k in ks])) for v, ks in self.track.keys.items()}
        self._sensor_state_for(0.0)
        self._cache_t: float | None = None
        self._cache_volts: np.ndarray | None = None

    # -- building the timeline ------------------------------------------------------------
    def _build(self, scenario: Scenario, seed: int | None) -> None:
        t, tr = 0.0, self.track
        set_no = 0
        for command, args, kw, line in scenario.steps:
            duration = float(args[0]) if args else None
            if command == "person":
                spec = PersonSpec(**{k: _typed(PersonSpec, k, v, line) for k, v in kw.items()})
                if seed is not None:
                    spec.seed = seed
                self.persons.append((t, spec))
                tr.to("off_x", t, spec.offset_x_cm)
                tr.to("off_y", t, spec.offset_y_cm)
            elif command == "empty":
                t += duration or 3.0
            elif command == "lie_down":
                d = duration or 1.5
                tr.ramp("w", t, t + d, 1.0)
                tr.to("p", t, 0.0)
                self.presence.append([t, math.inf])
                t += d
            elif command == "relax":
                tr.ramp("p", t, t + 0.5, 0.0)
                t += duration or 3.0
            elif command == "press":
                d = duration or 4.0
                tr.ramp("p", t, t + 0.6, 1.0)
                self.calibration_holds.append((t + 0.6, t + d))
                t += d
            elif command == "rest":
                tr.ramp("p", t, t + 1.0, 0.75)
                t += duration or 20.0
            elif command == "set":
                set_no += 1
                t = self._build_set(t, set_no, kw)
            elif command == "cough":
                tr.ramp("spike", t, t + 0.08, 0.35)
                tr.ramp("spike", t + 0.12, t + 0.25, 0.0)
                t += 0.3
            elif command == "arms":
                d = duration or 2.0
                tr.ramp("lat", t, t + 0.4, 0.5)
                tr.ramp("lat", t + d - 0.4, t + d, 0.0)
                t += d
            elif command == "resettle":
                tr.ramp("off_y", t, t + 0.8, tr.value("off_y") - 1.5)
                t += 1.0
            elif command == "get_up":
                d = duration or 1.2
                tr.ramp("w", t, t + d, 0.0)
                tr.ramp("u", t, t + d, 0.0)
                tr.ramp("p", t, t + d, 0.0)
                if self.presence:
                    self.presence[-1][1] = t + d
                t += d
            elif command == "dead_cell":
                self.dead_cells.append((t, int(kw.get("row", 0)), int(kw.get("col", 0)), kw.get("kind", "zero")))
        if not self.persons:
            self.persons.append((0.0, PersonSpec(seed=seed or 1)))
        self.duration_s = t

    def _build_set(self, t: float, set_no: int, kw: dict[str, str]) -> float:
        tr = self.track
        reps = int(kw.get("reps", 10))
        variant = kw.get("variant", "straight")
        if variant not in LEVER_SCALE:
            raise ValueError(f"scenario: unknown variant {variant!r}; known: {', '.join(LEVER_SCALE)}")
        lever = LEVER_SCALE[variant]
        descent, ascent = float(kw.get("descent_s", 3.0)), float(kw.get("ascent_s", 2.0))
        pause_bottom, pause_top = float(kw.get("pause_s", 0.4)), float(kw.get("top_pause_s", 0.6))
        arch_reps = _int_list(kw.get("arch_reps", ""))
        near_reps = _int_list(kw.get("near_miss_reps", ""))
        arch_depth = float(kw.get("arch_depth", 0.3))
        near_depth = float(kw.get("near_miss_depth", 0.68))
        arch_kind = kw.get("arch_kind", "sharp")
        arch_s = float(kw.get("arch_s", 0.8))
        side = kw.get("side", "left")
        start = t
        tr.ramp("p", t, t + 0.5, 1.0)
        # Legs come up from the floor: horizontal first (full lever), then to vertical.
        tr.to("lam", t, lever)
        tr.ramp("u", t, t + 0.5, 1.0)
        tr.ramp("lam", t + 0.5, t + 2.0, 0.0, eased=True)
        t += 2.0 + pause_top
        for rep in range(1, reps + 1):
            rep_side = None
            if variant in ("single_leg",):
                rep_side = side
            elif variant in ("alternating", "dead_bug"):
                rep_side = "left" if rep % 2 else "right"
            lat = 0.0 if rep_side is None else (-0.6 if rep_side == "left" else 0.6)
            top = t
            tr.ramp("lat", t, t + descent, lat, eased=True)
            tr.ramp("lam", t, t + descent, lever, eased=True)
            bottom = t + descent
            hold = pause_bottom
            if rep in arch_reps or rep in near_reps:
                depth = arch_depth if rep in arch_reps else near_depth
                ramp_s = 0.2 if arch_kind == "sharp" else 1.0
                length = arch_s if rep in arch_reps else 0.4
                begin = bottom - 0.3
                base = self._contact_at(p=1.0, u=1.0, lam=lever)
                peak = max(0.0, 1 - depth / base)
                tr.ramp("a", begin, begin + ramp_s, peak, eased=True)
                tr.ramp("a", begin + ramp_s + length, begin + ramp_s + length + 0.3, 0.0, eased=True)
                hold = max(pause_bottom, begin + ramp_s + length + 0.3 - bottom)
            t = bottom + hold
            tr.ramp("lat", t, t + ascent, 0.0, eased=True)
            tr.ramp("lam", t, t + ascent, 0.0, eased=True)
            t += ascent
            self.reps.append({"top": round(top, 3), "bottom": round(bottom, 3), "end": round(t, 3),
                              "set": set_no, "rep": rep, "side": rep_side, "descent_s": descent})
            t += pause_top
        # Legs lowered to the floor: the lever grows, then the heels take the weight.
        tr.ramp("lam", t, t + 1.5, lever, eased=True)
        tr.ramp("u", t + 1.5, t + 2.0, 0.0)
        tr.ramp("lam", t + 2.0, t + 2.1, 0.0)
        t += 2.1
        self.sets.append({"set": set_no, "start": round(start, 3), "end": round(t, 3), "reps": reps, "variant": variant})
        return t

    # -- truth ----------------------------------------------------------------------------
    @staticmethod
    def _contact_at(p: float, u: float, lam: float, a: float = 0.0, w: float = 1.0) -> float:
        relaxed = sum(BODY_ROWS[r] * (1 + PRESS_GAIN[r] * p) for r in LUMBAR_ROWS)
        return w * relaxed * (1 - GOOD_FORM_WOBBLE * lam * u) * (1 - a) / _calibrated_lumbar()

    def state(self, t: float) -> dict[str, float]:
        return {v: float(np.interp(t, kt, kv)) for v, (kt, kv) in self._keys.items()}

    def contact(self, t: float) -> float:
        """Noise-free lumbar contact: 1.0 = pressed as at the calibration hold."""
        s = self.state(t)
        return self._contact_at(s["p"], s["u"], s["lam"], s["a"], s["w"])

    def liftoffs(self, floor: float = 0.5, dt: float = 0.005) -> list[tuple[float, float]]:
        """Intervals during sets with contact below the floor (gaps < 0.2 s merged)."""
        spans: list[list[float]] = []
        for s in self.sets:
            times = np.arange(s["start"], s["end"], dt)
            below = np.array([self.contact(x) < floor for x in times])
            edges = np.flatnonzero(np.diff(np.concatenate([[0], below.astype(int), [0]])))
            for a, b in zip(edges[::2], edges[1::2]):
                start, end = float(times[a]), float(times[min(b, len(times) - 1)])
                if spans and start - spans[-1][1] < 0.2:
                    spans[-1][1] = end
                else:
                    spans.append([start, end])
        return [(round(a, 3), round(b, 3)) for a, b in spans]

    def labels(self, floor: float = 0.5, dt: float = 0.01) -> dict:
        times = np.arange(0.0, self.duration_s, dt)
        liftoffs = self.liftoffs(floor)
        return {
            "floor": floor,
            "contact": {"t0": 0.0, "dt": dt, "values": [round(self.contact(x), 4) for x in times]},
            "liftoffs": [list(span) for span in liftoffs],
            "reps": [dict(r, perfect=not any(a < r["end"] and b > r["top"] for a, b in liftoffs)) for r in self.reps],
            "sets": self.sets,
            "sessions": [[a, None if math.isinf(b) else b] for a, b in self.presence],
        }

    # -- sensors --------------------------------------------------------------------------
    def _spec_at(self, t: float) -> PersonSpec:
        spec = self.persons[0][1]
        for start, candidate in self.persons:
            if start <= t:
                spec = candidate
        return spec

    def _sensor_state_for(self, t: float) -> None:
        """Per-person sensor constants (the same mat, but a person's seed draws the mat's quirks)."""
        spec = self._spec_at(t)
        self._spec = spec
        rng = np.random.default_rng(spec.seed)
        shape = (self.rows, self.cols)
        self._material = material_named(spec.material)
        self._cell_gain = np.exp(spec.spread * rng.standard_normal(shape)) * math.exp(0.15 * rng.standard_normal())
        self._creep_c = rng.uniform(0.06, 0.10, shape) * (spec.creep / 0.08)
        self._drift_phase = rng.uniform(0, 2 * math.pi, shape)
        self._drift_period = rng.uniform(60, 240, shape)
        self._mains_phase = rng.uniform(0, 2 * math.pi, shape)
        self._breath_hz = rng.uniform(0.2, 0.33)
        self._noise = np.random.default_rng(spec.seed + 1000)
        self._creep_since = np.zeros(shape)
        self._creep_ref = np.zeros(shape)
        self._frozen: dict[tuple[int, int], float] = {}
        self._last_t = t

    def loads(self, t: float) -> np.ndarray:
        """True load per cell (arbitrary units, ~1 for a typical loaded cell at 75 kg)."""
        s = self.state(t)
        spec = self._spec
        rows = BODY_ROWS.copy()
        lost = 0.0
        for r in LUMBAR_ROWS:
            rows[r] *= (1 + PRESS_GAIN[r] * s["p"]) * (1 - GOOD_FORM_WOBBLE * s["lam"] * s["u"])
            rows[r] *= 1 + 0.025 * math.sin(2 * math.pi * self._breath_hz * t)
            lost += rows[r] * s["a"]
            rows[r] *= 1 - s["a"]
        rows[1] *= 1 - 0.08 * s["lam"] * s["u"]
        rows[1] += 0.2 * lost
        for r in (4, 5):
            rows[r] *= (1 - 0.15 * s["p"]) * (1 + s["u"] * (0.6 + 0.35 * s["lam"]))
        rows[4] += 0.6 * lost
        lat = s["lat"]
        cols = BODY_COLS * (1 + lat * np.array([-0.6, -0.4, -0.15, 0.15, 0.4, 0.6]))
        y = np.arange(self.rows) + 1 - s["off_y"] / CELL_CM
        x = np.arange(self.cols) + 1 - s["off_x"] / CELL_CM
        row_profile = np.interp(y, np.arange(len(rows)), rows, left=0.05, right=0.3)
        col_profile = np.interp(x, np.arange(len(cols)), cols, left=0.0, right=0.0)
        scale = 16 * spec.mass_kg / 75.0 * s["w"] * (1 + s["spike"])
        return scale * np.outer(row_profile, col_profile)

    def volts(self, t: float) -> np.ndarray:
        """Cell voltages at time t (noise, creep, drift, hum, dead cells included)."""
        if self._spec is not self._spec_at(t) or t < self._last_t:
            self._sensor_state_for(t)  # a new person, or the demo looping back to the start
        self._last_t = t
        spec = self._spec
        load = self.loads(t)
        # Creep restarts wherever the load changed a lot since the last restart.
        changed = np.abs(load - self._creep_ref) > 0.25 * np.maximum(self._creep_ref, 0.2)
        self._creep_since[changed] = t
        self._creep_ref[changed] = load[changed]
        creep = 1 + self._creep_c * np.log1p(np.maximum(t - self._creep_since, 0.0))
        drift = 1 + spec.drift * np.sin(2 * math.pi * t / self._drift_period + self._drift_phase)
        reading = load * creep * drift * (1 + spec.noise * self._noise.standard_normal(load.shape))
        g = self._cell_gain * (self._material.unloaded_fraction * drift + np.maximum(reading, 0) ** self._material.exponent)
        volts = SUPPLY_V * g / (g + 1)
        volts += 0.002 * np.sin(2 * math.pi * MAINS_HZ * t + self._mains_phase)
        for since, r, c, kind in self.dead_cells:
            if t >= since and r < self.rows and c < self.cols:
                if kind == "zero":
                    volts[r, c] = 0.0
                elif kind == "rail":
                    volts[r, c] = SUPPLY_V
                else:
                    volts[r, c] = self._frozen.setdefault((r, c), float(volts[r, c]))
        return np.clip(volts, 0.0, SUPPLY_V)

    def counts(self, t: float) -> np.ndarray:
        """Ideal ADS1115 codes for the cell voltages at time t."""
        return volts_to_counts(self.volts(t), self.gain)

    def analog_input_for_row(self, row: int):
        """The analog inputs of the chip reading `row`: (channel, t) -> volts."""

        def read(channel: int, t: float) -> float:
            # One grid per 0.5 ms: a chip's four channels and the four chips share it.
            key = round(t * 2000)
            if key != self._cache_t:
                self._cache_t = key
                self._cache_volts = self.volts(t)
            return float(self._cache_volts[row, channel]) if channel < self.cols else 0.0

        return read


def _int_list(text: str) -> set[int]:
    return {int(x) for x in text.split(",") if x.strip()}


def _typed(cls, key: str, value: str, line: int):
    if key not in cls.__dataclass_fields__:
        raise ValueError(f"scenario line {line}: unknown person setting {key!r}")
    kind = type(getattr(cls(), key))
    return kind(value)
