"""A simulated person on the mat, scripted from a small scenario text.

It feeds the emulated ADS1115s (volts per cell) and knows the truth the detector must find:
the noise-free lumbar contact, the lift-off intervals, the reps, sets and sessions. Physics from
hardware/README.md ("What the sensors see", "What real sensors do"):

- the body: a load profile along the back, averaged over each grid row's 6 cm with the
  person's placement: 20/17/22/40 % head→sacrum when centred and relaxed. The lumbar spine
  (L1–L5, lumbar_len_cm) runs from the lowest ribs (the grid's top edge when centred) down:
  row 0 over L1–L2, row 1 over the apex (the relaxed trough, ~9 cm), row 2 over L4–L5, row 3
  over the sacrum. The truth contact is the load over that span relative to the pressed level.
  Pressing fills the trough (the apex most) against the sacrum; an arch lifts the whole span,
  the apex most, moving its load to the sacrum and to the thoracic back above it (off the grid
  when centred); lowering the legs tilts the pelvis the same way, a little. Breathing (a ripple
  strongest under the lower ribs), bodies of 45–120 kg and different sizes, lying a few
  centimetres off;
- the sensors: a power-law response with a per-cell exponent (the detector only knows the
  material's typical one), unloaded conduction that wanders, gain spread within a strip and
  between strips (a strip = one grid row: its chip, its cable, its run of sensor material),
  logarithmic creep that restarts on a large load change, slow drift, noise, mains hum, ADC
  noise, dead cells (zero, rail, frozen, dying).

Scenario vocabulary, one step per line (`#` starts a comment; durations in seconds, `s` optional):

    mat material=velostat noise=0.01 spread=0.2 strip_spread=0.45 creep=0.095 drift=0.02
        unloaded=1 hum_mv=1.5 mains_hz=50 adc_noise=2 seed=1 day=0 day_scatter=0.07
                            # the mat's quirks (optional; default: taken from the first person);
                            # day: the same mat (seed) on another day reads each cell's load a
                            # little differently (σ day_scatter in log, half of it shared by all
                            # cells) and its slow drift is elsewhere in its cycle
    recording fps=100 jitter=0.1 drop=0.002
                            # how `mat.tools.suite.write_labelled` samples it (no effect here)
    person mass_kg=75 size=1.0 lumbar_len_cm=17 offset_x_cm=0 offset_y_cm=0
           relaxed_level=0.75 rest_press=0.6 breath_bpm=15 breath_depth=1 breathing=natural seed=1
           (legacy, used for the mat when there is no `mat` step:) material noise spread creep drift
                            # a new person (a second `person` = a new session); settings left
                            # out are drawn from the person's seed. offset_x_cm > 0: lying
                            # toward column 3 (the user's right); offset_y_cm > 0: lying low
                            # (toward the feet): the grid sits higher on the body, so
                            # the lumbar rows move toward row 3 (row 0 reaches the thoracic
                            # back); lying high (< 0) puts the sacrum under row 2.
    empty 3                 # nobody on the mat
    lie_down 1.5            # load arrives
    relax 3                 # lying relaxed: the lumbar trough
    fidget 1.5              # a small adjustment while lying
    press 4                 # press the back flat and hold (before the first set: a calibration
                            # hold, the last one is the reference; after it: a re-press)
    set reps=10 variant=straight descent_s=3 ascent_s=2 pause_s=0.4 top_pause_s=0.6
        tempo_jitter=0.08 speedup=0 bounce=0 side=left
        arch_reps=3,7 arch_kind=sharp|slow|pop|held arch_depth=0.3 arch_s=0.8 arch_fall_s=0.12
        near_miss_reps=5 near_miss_depth=0.65 give_way=0.8 depth=0.6,1.15
                            # give_way: the back gives way (an arch of arch_kind) in every rep whose
                            # descent goes deeper than this share of the variant's full lever, as
                            # the legs pass it (a weak core against the growing lever); depth: the
                            # range each rep's bottom is drawn from (share of the lever).
                            # variants: straight bent_knee single_leg alternating dead_bug.
                            # arch_depth / near_miss_depth = the contact's true minimum; left
                            # out: drawn per arch (0–0.35; 0.55–0.70). speedup: the last
                            # descent this share shorter than the first (fatigue).
    rest 20                 # legs on the floor, back relaxed but fairly flat
    cough                   # a 0.25 s whole-body jerk: a dip, then a rebound (sensor only, not contact)
    arms 2                  # arms moved (load shifts to one side and toward the head)
    resettle dy_cm=1        # hips lifted and set down again, sliding (creep restarts)
    shift 1.5 dx_cm=1.5     # the body shifts sideways
    hold_breath 8           # holds the breath for 8 s from the top of the next breath in
                            # (takes no time: the next steps go on meanwhile; with breathing=natural)
    floor_test give_way=0.6 pace=1.0 beats=10 beat_s=1 count_in=4 arch_kind=sharp
                            # the floor finder's test, following its beat from the step's start:
                            # legs up during the count-in (count_in beats), then lowered straight
                            # from vertical to the floor over `beats` beats (pace > 1: slower than
                            # the beat); the back gives way at give_way (share of the way down;
                            # >= 1: never), then the legs go down
    get_up 1.2              # sits up (lumbar unloads first), then the load leaves
    dead_cell row=1 col=2 kind=zero|rail|frozen|dying fade_s=8   # from this moment on
"""
from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field, fields

import numpy as np

from hardware.emulation.breathing import BreathingPattern
from hardware.materials import GAIN_FULL_SCALE_V, SUPPLY_V, material as material_named, volts_to_counts

CELL_CM = 6.0
#: The body along the back, in nominal cm below the lowest ribs (a body with a 17-cm lumbar
#: spine; a person's body is this stretched by lumbar_len_cm / 17). The lumbar spine (L1–L5)
#: spans 0–17 nominal cm: it begins right below the lowest ribs, i.e. at the grid's top edge when
#: the person lies centred, so grid row 0 lies over L1–L2, row 1 over the apex of the lumbar
#: curve (the relaxed trough, ~9 cm), row 2 over L4–L5 and row 3 over the sacrum. Above 0 is the
#: thoracic back (off the grid when centred), below 17 the sacrum and pelvis.
LUMBAR_NOMINAL_CM = 17.0
BIN_CM = 0.5
BIN_EDGES = np.arange(-15.0, 39.0 + 1e-9, BIN_CM)
BIN_Y = (BIN_EDGES[:-1] + BIN_EDGES[1:]) / 2
LUMBAR = (BIN_Y > 0.0) & (BIN_Y < LUMBAR_NOMINAL_CM)  # the bins of the lumbar span
#: Relaxed load density (load per 6-cm band, centred, 75 kg) at knots 6 cm apart, centred
#: (k − 1.5) · 6 cm below the lowest ribs, linear in between. Averaged over grid rows 0–3 (0–24 cm)
#: it gives 20/17/22/40 % (hardware/README.md); its minimum, the relaxed lumbar trough, is at ~9 cm.
BODY_KNOTS_Y = (np.arange(8) - 1.5) * CELL_CM
BODY_KNOTS = np.array([0.22, 0.22, 0.203, 0.16, 0.196, 0.426, 0.45, 0.15])
BODY_PROFILE = np.interp(BIN_Y, BODY_KNOTS_Y, BODY_KNOTS)
#: The relaxed load over the lumbar span (the truth contact's relaxed numerator), in band · cm.
RELAXED_LUMBAR = float(BODY_PROFILE[LUMBAR].sum() * BIN_CM)
#: Pressing flat fills the trough: where along the lumbar span the extra load goes (sums to 1;
#: the apex gains most, L1–L2 and L4–L5 a little).
TROUGH_FILL = np.where(LUMBAR, np.exp(-0.5 * ((BIN_Y - 9.5) / 3.2) ** 2), 0.0)
TROUGH_FILL /= TROUGH_FILL.sum()
#: ... and the pelvis rolls back a little: the sacrum loses this share at a full press.
SACRUM_PRESS_LOSS = 0.12
#: The pelvis (sacrum and buttocks): carries the legs' weight, rolls back when pressing.
PELVIS = np.interp(BIN_Y, [16.5, 19.5, 28.0, 34.0], [0.0, 1.0, 1.0, 0.0])
#: Everything from the sacrum down (a resettle lifts it), and everything above (sitting up).
LOWER = np.interp(BIN_Y, [16.5, 19.5], [0.0, 1.0])
#: The arms shift load toward the head: the thoracic back, fading over L1–L2.
ARMS = np.interp(BIN_Y, [-3.0, 6.0], [1.0, 0.0])
#: An arch (the hip flexors pulling the lumbar spine into lordosis) lifts the whole lumbar span,
#: most at the apex, less toward L1 and L5: the relative lift-off profile (renormalised per frame
#: so that the span's load falls by exactly the arch's share).
ARCH_BUMP = np.where(LUMBAR, 0.45 + np.exp(-0.5 * ((BIN_Y - 9.0) / 5.0) ** 2), 0.0)
#: ... and the lost load goes mostly to the sacrum/pelvis and a smaller share to the thoracic
#: back above the lumbar span (above the grid's top edge when centred); the rest to the legs.
ARCH_TO_SACRUM, ARCH_TO_THORAX = 0.7, 0.25
ARCH_SACRUM = np.interp(BIN_Y, [17.5, 20.5, 25.0, 31.0], [0.0, 1.0, 1.0, 0.0])
ARCH_SACRUM /= ARCH_SACRUM.sum()
ARCH_THORAX = np.interp(BIN_Y, [-12.0, -6.0, -1.0, 0.0], [0.0, 1.0, 1.0, 0.0])
ARCH_THORAX /= ARCH_THORAX.sum()
#: Body load across the back, 6-cm bands centred at 6 · (j − 3.5) cm from the spine.
BODY_COLS = np.array([0.0, 0.04, 0.23, 0.27, 0.27, 0.23, 0.04, 0.0])
#: Breathing ripple at depth 1 (share of the local load) at the body knots: strongest under the
#: lower ribs (just above the grid's top edge), fading over L1–L2, little over the sacrum.
BREATH_RIPPLE = np.interp(BIN_Y, BODY_KNOTS_Y, [0.035, 0.045, 0.015, 0.006, 0.004, 0.003, 0.0, 0.0])
#: Lowering the legs tilts the pelvis forward the way an arch does, only a little: good form
#: loses about this share of the lumbar load at a full lever (the contact dips to ~0.8–0.9).
GOOD_FORM_WOBBLE = 0.15
LEVER_SCALE = {"straight": 1.0, "bent_knee": 0.6, "single_leg": 0.55, "alternating": 0.55, "dead_bug": 0.5}
#: Arch shapes: (fall s, hold s, recover s) ranges; `pop` stays below the floor 150–250 ms.
ARCH_KINDS = {
    "sharp": ((0.10, 0.15), (0.3, 0.9), (0.3, 0.6)),
    "slow": ((0.45, 0.60), (0.3, 0.8), (0.4, 0.7)),
    "pop": ((0.08, 0.12), (0.0, 0.06), (0.10, 0.15)),
    "held": ((0.15, 0.40), (1.5, 2.5), (0.4, 0.7)),
}
#: Creep restarts when a cell's load moves this share away from its load at the last restart.
CREEP_RESTART = 0.25
#: After a restart the old creep strain recovers with this time constant (s): no jump in reading.
#: Creep is a factor on the reading of whatever load lies on the cell (1 + c·ln(1 + t/1 s),
#: hardware/README.md), so the strain still recovering scales with the load too: a cell whose
#: load goes reads it gone at once, not the old strain.
CREEP_RECOVERY_S = 0.4
#: Unloaded conductance per material, as a share of a typically loaded cell's (hardware/README.md:
#: Velostat hundreds to a few thousand counts, FSRs a few counts).
UNLOADED = {"velostat": 0.05, "fsr": 0.0012}
VARIABLES = ("w", "p", "u", "lam", "a", "lat", "spike", "off_y", "off_x", "hips", "sit", "arms",
             "mass", "pitch", "size", "relaxed", "breath_hz", "breath_amp")


@dataclass
class MatSpec:
    """The mat's sensors. noise: frame-to-frame, share of a loaded reading; spread / strip_spread:
    σ of ln(gain) within a strip and between strips; creep: mean creep coefficient (cells draw
    0.07–0.12 scaled by creep / 0.095); drift: slow gain wander; unloaded: scale of the unloaded
    conduction; hum_mv: mains hum amplitude; adc_noise: ADC noise σ in counts. day: which day
    the mat is used on (0: as drawn from its seed; any other: the same mat on another day);
    day_scatter: σ of ln(the load a cell reads) from one day to another (repeated loadings of
    one cell scatter by about ±14 %; temperature and humidity move every cell: half as much
    again, shared)."""

    material: str = "velostat"
    noise: float = 0.01
    spread: float = 0.2
    strip_spread: float = 0.45
    creep: float = 0.095
    drift: float = 0.02
    unloaded: float = 1.0
    hum_mv: float = 1.5
    mains_hz: float = 50.0
    adc_noise: float = 2.0
    seed: int = 1
    day: int = 0
    day_scatter: float = 0.07


@dataclass
class PersonSpec:
    mass_kg: float = 75.0
    size: float | None = None            # body scale, 1 = average; default from the mass
    lumbar_len_cm: float | None = None   # lowest ribs to sacrum; default 17 · size
    offset_x_cm: float = 0.0
    offset_y_cm: float = 0.0
    relaxed_level: float | None = None   # relaxed lumbar load / pressed; default 0.68–0.85
    rest_press: float | None = None      # how flat the back stays in rests (0 relaxed … 1 pressed)
    breath_bpm: float | None = None      # resting breathing rate; default 12–20
    breath_depth: float | None = None    # ripple scale; default 0.6–1.4
    breathing: str = "steady"            # "natural": breath by breath, irregular, sighs, pauses, holds
    seed: int = 1
    # legacy: the mat's settings when the scenario has no `mat` step (MatSpec's defaults)
    material: str = MatSpec.material
    noise: float = MatSpec.noise
    spread: float = MatSpec.spread
    creep: float = MatSpec.creep
    drift: float = MatSpec.drift


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


_COMMANDS = {"mat", "recording", "person", "empty", "lie_down", "relax", "fidget", "press", "set", "rest",
             "floor_test", "cough", "arms", "resettle", "shift", "get_up", "dead_cell", "hold_breath"}


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
        if eased:  # cosine easing: bodies move smoothly, not at constant speed
            for i in range(1, 9):
                f = (1 - math.cos(math.pi * i / 8)) / 2
                self.keys[var].append((t0 + (t1 - t0) * i / 8, start + (value - start) * f))
        else:
            self.keys[var].append((t1, value))


def _interp_rows(k: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Linear interpolation per frame: positions k (N, M) into knot values (N, K) at 0..K-1."""
    last = knots.shape[1] - 1
    kc = np.clip(k, 0.0, last)
    i0 = np.minimum(np.floor(kc).astype(int), last - 1)
    f = kc - i0
    return np.take_along_axis(knots, i0, 1) * (1 - f) + np.take_along_axis(knots, i0 + 1, 1) * f


class SimulatedPerson:
    """A scripted person (or several, one after another) lying on the grid.

    rows, cols: the grid. gain: the ADS1115 gain the cells are read at. seed: overrides every
    person's and the mat's seed.
    """

    def __init__(self, scenario: Scenario, rows: int = 4, cols: int = 4, gain: float = 1, seed: int | None = None) -> None:
        self.rows, self.cols, self.gain = rows, cols, gain
        self.track = _Track()
        self.reps: list[dict] = []
        self.sets: list[dict] = []
        self.presence: list[list[float]] = []
        self.persons: list[tuple[float, PersonSpec]] = []
        self.sessions: list[dict] = []
        self.events: list[dict] = []
        self.dead_cells: list[tuple[float, int, int, str, float]] = []
        self.calibration_holds: list[tuple[float, float]] = []
        self.breath_holds: list[tuple[float, float]] = []  # (from, length s), scripted
        self.recording = {"fps": 100.0, "jitter": 0.1, "drop": 0.0}
        self.mat = MatSpec()
        self._build(scenario, seed)
        self._keys = {v: (np.array([k[0] for k in ks]), np.array([k[1] for k in ks])) for v, ks in self.track.keys.items()}
        self._breath_clock()
        self._finish_sessions()
        self._init_sensors()
        self._reset_sensor_state()
        self._cache_t: float | None = None
        self._cache_volts: np.ndarray | None = None

    # -- building the timeline ------------------------------------------------------------
    def _build(self, scenario: Scenario, seed: int | None) -> None:
        t, tr = 0.0, self.track
        mat_steps = [kw for command, _, kw, _ in scenario.steps if command == "mat"]
        self._rng = np.random.default_rng(seed or 1)
        session: dict | None = None
        for command, args, kw, line in scenario.steps:
            duration = float(args[0]) if args else None
            if command == "mat":
                continue
            if command == "recording":
                self.recording.update({k: float(v) for k, v in kw.items() if k in self.recording})
            elif command == "person":
                spec = PersonSpec(**{k: _typed(PersonSpec, k, v, line) for k, v in kw.items()})
                if seed is not None:
                    spec.seed = seed
                self._start_person(t, spec)
            elif command == "empty":
                t += duration or 3.0
            elif command == "lie_down":
                if not self.persons:
                    self._start_person(t, PersonSpec(seed=seed or 1))
                d = duration or 1.5
                tr.ramp("w", t, t + d, 1.0, eased=True)
                for var in ("p", "u", "lam", "a", "sit", "hips"):
                    tr.to(var, t, 0.0)
                session = {"enter": round(t, 3), "present": round(t + 0.5 * d, 3), "lying": t + d,
                           "holds": [], "relaxed": [], "represses": [], "sets": [],
                           "person": len(self.persons) - 1}
                self.sessions.append(session)
                self.presence.append([t, math.inf])
                t += d
            elif command == "relax":
                d = duration or 3.0
                tr.ramp("p", t, t + 0.5, 0.0, eased=True)
                if session is not None and not session["sets"]:
                    session["relaxed"].append((t + 0.5, t + d))
                t += d
            elif command == "fidget":
                d = duration or 1.5
                rng = self._rng
                for var, size in (("off_x", 0.6), ("off_y", 0.6)):
                    tr.ramp(var, t, t + d, tr.value(var) + rng.uniform(-size, size), eased=True)
                side = rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.3)
                tr.ramp("lat", t, t + d / 2, side, eased=True)
                tr.ramp("lat", t + d / 2, t + d, 0.0, eased=True)
                p0 = tr.value("p")
                tr.ramp("p", t, t + d / 2, min(1.0, p0 + rng.uniform(0.1, 0.3)), eased=True)
                tr.ramp("p", t + d / 2, t + d, p0, eased=True)
                self._event("fidget", t, d, session)
                t += d
            elif command == "press":
                d = duration or 4.0
                tr.ramp("p", t, t + 0.6, 1.0, eased=True)
                hold = (round(t + 0.6, 3), round(t + d, 3))
                self.calibration_holds.append(hold)
                if session is not None:
                    if session["sets"]:
                        session["represses"].append(hold)
                        self._event("repress", t, d, session)
                    else:
                        session["holds"].append(hold)
                t += d
            elif command == "rest":
                d = duration or 20.0
                tr.ramp("p", t, t + 1.0, self._person.rest_press, eased=True)
                tr.ramp("breath_hz", t, t + min(d, 15.0), self._person.breath_bpm / 60.0)
                t += d
            elif command == "set":
                t = self._build_set(t, kw, session)
            elif command == "floor_test":
                t = self._build_floor_test(t, kw, session)
            elif command == "cough":
                # The trunk jerks: every cell reads 20-45 % less for a few hundredths of a
                # second, then more as it lands back, then settles.
                depth = float(self._rng.uniform(0.2, 0.45))
                tr.ramp("spike", t, t + 0.04, -depth)
                tr.ramp("spike", t + 0.04, t + 0.1, 0.7 * depth)
                tr.ramp("spike", t + 0.1, t + 0.25, 0.0)
                self._event("cough", t, 0.3, session)
                t += 0.3
            elif command == "arms":
                d = duration or 2.0
                side = float(kw.get("side", self._rng.choice([-1.0, 1.0])))
                tr.ramp("lat", t, t + 0.4, 0.35 * side, eased=True)
                tr.ramp("arms", t, t + 0.4, 1.0, eased=True)
                tr.ramp("lat", t + d - 0.4, t + d, 0.0, eased=True)
                tr.ramp("arms", t + d - 0.4, t + d, 0.0, eased=True)
                self._event("arms", t, d, session)
                t += d
            elif command == "resettle":
                dy = float(kw.get("dy_cm", 1.0))
                tr.ramp("hips", t, t + 0.4, 1.0, eased=True)
                tr.ramp("off_y", t + 0.3, t + 0.9, tr.value("off_y") + dy, eased=True)
                tr.ramp("hips", t + 0.9, t + 1.4, 0.0, eased=True)
                self._event("resettle", t, 1.5, session, dy_cm=dy)
                t += 1.5
            elif command == "shift":
                d = duration or 1.5
                dx = float(kw.get("dx_cm", self._rng.choice([-1.0, 1.0]) * 1.5))
                tr.ramp("off_x", t, t + d, tr.value("off_x") + dx, eased=True)
                tr.ramp("hips", t, t + d / 2, 0.3, eased=True)
                tr.ramp("hips", t + d / 2, t + d, 0.0, eased=True)
                self._event("shift", t, d, session, dx_cm=dx)
                t += d
            elif command == "get_up":
                d = duration or 1.2
                # Sitting up rolls the back off the mat first, then the pelvis leaves.
                tr.ramp("sit", t, t + 0.45 * d, 1.0, eased=True)
                tr.ramp("w", t + 0.3 * d, t + d, 0.0, eased=True)
                tr.ramp("u", t, t + d, 0.0)
                tr.ramp("lam", t, t + d, 0.0)
                if self.presence:
                    self.presence[-1][1] = t + d
                if session is not None:
                    session["up"], session["absent"] = round(t, 3), round(t + d, 3)
                    session = None
                t += d
            elif command == "hold_breath":
                self.breath_holds.append((t, duration or 8.0))
            elif command == "dead_cell":
                self.dead_cells.append((t, int(kw.get("row", 0)), int(kw.get("col", 0)), kw.get("kind", "zero"),
                                        float(kw.get("fade_s", 8.0))))
            else:  # pragma: no cover - _COMMANDS and this chain list the same steps
                raise AssertionError(command)
        if not self.persons:
            self._start_person(0.0, PersonSpec(seed=seed or 1))
        first = self.persons[0][1]
        if mat_steps:
            merged = {k: v for kw in mat_steps for k, v in kw.items()}
            self.mat = MatSpec(**{k: _typed(MatSpec, k, v, 0) for k, v in merged.items()})
        else:
            self.mat = MatSpec(material=first.material, noise=first.noise, spread=first.spread,
                               creep=first.creep, drift=first.drift, seed=first.seed)
        if seed is not None:
            self.mat.seed = seed
        material_named(self.mat.material)  # an unknown material fails here, with its name
        self.duration_s = t

    def _start_person(self, t: float, spec: PersonSpec) -> None:
        """Fill in what the scenario left out from the person's seed, and key the body in."""
        rng = np.random.default_rng(spec.seed * 7919 + 17)
        if spec.size is None:
            spec.size = round(float(np.clip((spec.mass_kg / 75.0) ** (1 / 3) * rng.normal(1, 0.03), 0.82, 1.2)), 3)
        if spec.lumbar_len_cm is None:
            spec.lumbar_len_cm = round(17.0 * spec.size * rng.normal(1, 0.03), 1)
        if spec.relaxed_level is None:
            spec.relaxed_level = round(rng.uniform(0.68, 0.85), 3)
        if spec.rest_press is None:
            spec.rest_press = round(rng.uniform(0.45, 0.8), 3)
        if spec.breath_bpm is None:
            spec.breath_bpm = round(rng.uniform(12, 20), 1)
        if spec.breath_depth is None:
            spec.breath_depth = round(rng.uniform(0.6, 1.4), 2)
        self._rng = rng
        self._person = spec
        self.persons.append((t, spec))
        tr = self.track
        first = len(self.persons) == 1
        for var, value in (("off_x", spec.offset_x_cm), ("off_y", spec.offset_y_cm), ("mass", spec.mass_kg),
                           ("size", spec.size), ("pitch", CELL_CM * spec.lumbar_len_cm / 17.0),
                           ("relaxed", spec.relaxed_level), ("breath_hz", spec.breath_bpm / 60.0),
                           ("breath_amp", spec.breath_depth)):
            if first:  # the first person's body holds from the start (no size 0 before them)
                tr.keys[var] = [(0.0, float(value))] + ([(t, float(value))] if t > 0 else [])
            else:
                tr.to(var, t, value)

    def _event(self, kind: str, t: float, duration: float, session: dict | None, **extra) -> None:
        self.events.append({"kind": kind, "t": round(t, 3), "dur": round(duration, 3),
                            "session": len(self.sessions) - 1 if session is not None else None, **extra})

    def _build_set(self, t: float, kw: dict[str, str], session: dict | None) -> float:
        tr, rng = self.track, self._rng
        reps = int(kw.get("reps", 10))
        variant = kw.get("variant", "straight")
        if variant not in LEVER_SCALE:
            raise ValueError(f"scenario: unknown variant {variant!r}; known: {', '.join(LEVER_SCALE)}")
        lever = LEVER_SCALE[variant]
        descent, ascent = float(kw.get("descent_s", 3.0)), float(kw.get("ascent_s", 2.0))
        pause_bottom, pause_top = float(kw.get("pause_s", 0.4)), float(kw.get("top_pause_s", 0.6))
        jitter = float(kw.get("tempo_jitter", 0.08))
        speedup = float(kw.get("speedup", 0.0))
        bounce = float(kw.get("bounce", 0.0))
        arch_reps = _int_list(kw.get("arch_reps", ""))
        near_reps = _int_list(kw.get("near_miss_reps", ""))
        arch_kind = kw.get("arch_kind", "sharp")
        if arch_kind not in ARCH_KINDS:
            raise ValueError(f"scenario: unknown arch_kind {arch_kind!r}; known: {', '.join(ARCH_KINDS)}")
        side = kw.get("side", "left")
        give_way = float(kw["give_way"]) if "give_way" in kw else None
        depth_range = tuple(float(v) for v in kw.get("depth", "0.6,1.15").split(","))
        tilt = rng.uniform(0.35, 0.65)  # how far this person's hips tilt on one leg
        set_index = len(self.sets)
        set_no = set_index + 1
        start = t
        tr.ramp("p", t, t + 0.5, 1.0, eased=True)  # glue the back down before the legs go up
        tr.ramp("breath_hz", t, t + 10.0, self._person.breath_bpm * rng.uniform(1.15, 1.4) / 60.0)
        # Legs come up from the floor: horizontal first (full lever), then to vertical.
        tr.to("lam", t, lever)
        tr.ramp("u", t, t + 0.5, 1.0)
        tr.ramp("lam", t + 0.5, t + 2.0, 0.0, eased=True)
        t += 2.0 + pause_top
        first_rep = len(self.reps)

        def vary(value: float) -> float:
            return value * float(np.clip(1 + jitter * rng.standard_normal(), 0.7, 1.3))

        for rep in range(1, reps + 1):
            rep_side = None
            if variant == "single_leg":
                rep_side = side
            elif variant in ("alternating", "dead_bug"):
                rep_side = "left" if rep % 2 else "right"
            lat = 0.0 if rep_side is None else (-tilt if rep_side == "left" else tilt)
            lam_bottom = lever * rng.uniform(*depth_range)  # good-form wobble differs rep to rep
            d = vary(descent * (1 - speedup * (rep - 1) / max(reps - 1, 1)))
            top = t
            tr.ramp("lat", t, t + d, lat, eased=True)
            tr.ramp("lam", t, t + d, lam_bottom, eased=True)
            bottom = t + d
            hold = vary(pause_bottom)
            if bounce:  # legs swung down: they rebound off the bottom
                tr.ramp("lam", bottom, bottom + 0.12, lam_bottom * (1 + bounce), eased=True)
                tr.ramp("lam", bottom + 0.12, bottom + 0.3, lam_bottom * (1 - 0.5 * bounce), eased=True)
                hold = max(hold, 0.3)
            # A weak core gives way where the legs' lever passes its strength: as the descent
            # crosses give_way (the eased ramp's share of the way: (1 - cos(pi f)) / 2).
            gives_way = give_way is not None and lam_bottom > give_way * lever
            if rep in arch_reps or rep in near_reps or gives_way:
                arch = rep in arch_reps or gives_way
                kind = arch_kind if arch else "near_miss"
                if arch:
                    fall_r, hold_r, recover_r = ARCH_KINDS[arch_kind]
                    target = float(kw["arch_depth"]) if "arch_depth" in kw else rng.uniform(0.0, 0.35)
                    fall = float(kw["arch_fall_s"]) if "arch_fall_s" in kw else rng.uniform(*fall_r)
                    length = float(kw["arch_s"]) if "arch_s" in kw else rng.uniform(*hold_r)
                else:
                    target = float(kw["near_miss_depth"]) if "near_miss_depth" in kw else rng.uniform(0.55, 0.70)
                    fall, length = rng.uniform(0.25, 0.5), rng.uniform(0.2, 0.5)
                    recover_r = (0.4, 0.5)
                recover = rng.uniform(*recover_r)
                if gives_way:
                    share = give_way * lever / lam_bottom
                    begin = top + d * math.acos(1 - 2 * share) / math.pi
                else:
                    begin = bottom - rng.uniform(0.1, 0.4) * min(d, 2.0)  # it starts as the legs near the bottom
                base = 1 - GOOD_FORM_WOBBLE * lam_bottom
                peak = float(np.clip(1 - target / base, 0.0, 1.0))
                tr.ramp("a", begin, begin + fall, peak, eased=True)
                tr.ramp("a", begin + fall + length, begin + fall + length + recover, 0.0, eased=True)
                hold = max(hold, begin + fall + length + recover - 0.2 - bottom)
                self.events.append({"kind": "arch" if arch else "near_miss", "shape": kind,
                                    "t": round(begin, 3), "fall": round(fall, 3), "hold": round(length, 3),
                                    "recover": round(recover, 3), "target_min": round(target, 3),
                                    "session": len(self.sessions) - 1, "rep": len(self.reps),
                                    **({"give_way": give_way} if gives_way else {})})
            t = bottom + hold
            last = rep == reps
            if last:  # the last rep's legs go on down to the floor
                tr.ramp("lat", t, t + 1.2, 0.0, eased=True)
                tr.ramp("lam", t, t + 1.0, lever, eased=True)
                tr.ramp("u", t + 1.0, t + 1.5, 0.0)
                tr.ramp("lam", t + 1.5, t + 1.6, 0.0)
                t += 1.6
            else:
                a_s = vary(ascent)
                tr.ramp("lat", t, t + a_s, 0.0, eased=True)
                tr.ramp("lam", t, t + a_s, 0.0, eased=True)
                t += a_s
            self.reps.append({"top": round(top, 3), "bottom": round(bottom, 3), "end": round(t, 3),
                              "set": set_no, "rep": rep, "side": rep_side, "descent_s": round(d, 3),
                              "session": len(self.sessions) - 1, "depth": round(lam_bottom / lever, 3),
                              "bounce": bool(bounce)})
            if not last:
                t += vary(pause_top)
        self.sets.append({"set": set_no, "session": len(self.sessions) - 1, "start": round(start, 3),
                          "end": round(t, 3), "reps": reps, "variant": variant,
                          "rep_indices": list(range(first_rep, len(self.reps)))})
        if session is not None:
            session["sets"].append(set_index)
        return t

    def _build_floor_test(self, t: float, kw: dict[str, str], session: dict | None) -> float:
        """The floor finder's test, following its beat from `t` (when the mat was asked)."""
        tr, rng = self.track, self._rng
        beats, beat_s = int(kw.get("beats", 10)), float(kw.get("beat_s", 1.0))
        count_in, pace = float(kw.get("count_in", 4)), float(kw.get("pace", 1.0))
        give_way = float(kw.get("give_way", 0.6))
        arch_kind = kw.get("arch_kind", "sharp")
        if arch_kind not in ARCH_KINDS:
            raise ValueError(f"scenario: unknown arch_kind {arch_kind!r}; known: {', '.join(ARCH_KINDS)}")
        lever = LEVER_SCALE["straight"]
        tr.ramp("p", t, t + 0.5, 1.0, eased=True)
        tr.to("lam", t, lever)  # legs up from the floor: horizontal first, then vertical
        tr.ramp("u", t, t + 0.5, 1.0)
        tr.ramp("lam", t + 0.5, t + 2.0, 0.0, eased=True)
        go = t + count_in * beat_s
        floor_t = go + beats * beat_s * pace  # lowered straight, one beat's share at a time
        tr.to("lam", go, 0.0)
        truth = {"kind": "floor_test", "t": round(t, 3), "go": round(go, 3), "beat_s": beat_s, "beats": beats,
                 "pace": pace, "give_way": give_way, "session": len(self.sessions) - 1}
        if give_way < 1.0:
            gives_t = go + give_way * (floor_t - go)
            fall_r, hold_r, recover_r = ARCH_KINDS[arch_kind]
            fall, length, recover = rng.uniform(*fall_r), max(rng.uniform(*hold_r), 0.6), rng.uniform(*recover_r)
            target = rng.uniform(0.0, 0.35)
            tr.ramp("lam", go, gives_t + 0.4, lever * (give_way + 0.4 / (floor_t - go)))  # on a little: reaction
            base = 1 - GOOD_FORM_WOBBLE * lever * give_way
            tr.ramp("a", gives_t, gives_t + fall, float(np.clip(1 - target / base, 0.0, 1.0)), eased=True)
            tr.ramp("lam", gives_t + 0.4, gives_t + 1.2, lever, eased=True)  # stopped: legs down
            tr.ramp("u", gives_t + 1.2, gives_t + 1.7, 0.0)
            end = max(gives_t + fall + length + recover, gives_t + 1.7)
            tr.ramp("a", gives_t + fall + length, gives_t + fall + length + recover, 0.0, eased=True)
            truth.update(give_way_t=round(gives_t, 3), angle_deg=round(90 * (1 - give_way), 2))
        else:
            tr.ramp("lam", go, floor_t, lever)
            tr.ramp("u", floor_t, floor_t + 0.5, 0.0)
            end = floor_t + 0.5
            truth.update(give_way_t=None, angle_deg=0.0)
        tr.ramp("p", end, end + 1.0, self._person.rest_press, eased=True)
        self.events.append(truth)
        return end + 1.0

    def _finish_sessions(self) -> None:
        """The truth's session windows: which hold is the reference, when exercise begins."""
        for session in self.sessions:
            session.setdefault("up", round(self.duration_s, 3))
            session.setdefault("absent", round(self.duration_s, 3))
            first_set = self.sets[session["sets"][0]]["start"] if session["sets"] else session["up"]
            holds = [h for h in session["holds"] if h[1] <= first_set + 1e-6]
            steady = [w for w in session["relaxed"] if w[1] - w[0] >= 3.0 - 1e-6]
            if holds:
                hold, pressed = holds[-1], True
            elif steady:  # no press: the first steady 3 s of relaxed lying
                hold, pressed = (steady[0][0], steady[0][0] + 3.0), False
            else:  # neither: whatever still lying there is before the legs move
                lying = session["lying"]
                hold, pressed = (lying, max(lying, min(lying + 3.0, first_set))), False
            session["hold"] = [round(hold[0], 3), round(hold[1], 3)]
            session["pressed"] = pressed
            session["active"] = [session["hold"][1], session["up"]]

    # -- the body -------------------------------------------------------------------------
    def _states(self, times: np.ndarray) -> dict[str, np.ndarray]:
        return {v: np.interp(times, kt, kv) for v, (kt, kv) in self._keys.items()}

    def state(self, t: float) -> dict[str, float]:
        return {v: float(x[0]) for v, x in self._states(np.array([float(t)])).items()}

    def _breath_clock(self) -> None:
        """Breathing phase on a fine grid: the rate varies (tracks + a slow wander), the phase flows."""
        step = 0.02
        grid = np.arange(0.0, self.duration_s + 1.0, step)
        rng = np.random.default_rng(int(self.persons[0][1].seed) + 99)
        hz = np.interp(grid, *self._keys["breath_hz"]) * (1 + 0.08 * np.sin(2 * math.pi * grid / rng.uniform(25, 50)
                                                                         + rng.uniform(0, 6.3)))
        self._breath_grid = grid
        self._breath_phase = 2 * math.pi * np.cumsum(hz) * step
        self._breathing = None
        if any(spec.breathing == "natural" for _, spec in self.persons):
            self._breathing = BreathingPattern(self.duration_s + 1.0, lambda t: float(np.interp(t, grid, hz)),
                                               self.breath_holds, seed=int(self.persons[0][1].seed) + 101)

    def _breath(self, times: np.ndarray, amp: np.ndarray) -> np.ndarray:
        """Breathing ripple in [-1, 1] × depth: a quicker inhale than exhale (2nd harmonic)."""
        if self._breathing is not None:
            return amp * self._breathing.volume(times)
        phase = np.interp(times, self._breath_grid, self._breath_phase)
        return amp * (0.9 * np.sin(phase) + 0.25 * np.sin(2 * phase))

    def _bands(self, s: dict[str, np.ndarray], times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Body load density along the back (N, bins at BIN_Y nominal cm below the lowest ribs),
        in load per 6-cm band, and the lumbar contact (N,): the load over the lumbar span
        (0–17 nominal cm, the person's lumbar_len_cm) relative to the pressed (glued) level."""
        n = len(times)
        d = np.tile(BODY_PROFILE, (n, 1))
        relaxed = np.clip(s["relaxed"], 0.3, 1.0)
        extra = RELAXED_LUMBAR * (1 / relaxed - 1)  # what a full press adds to the lumbar span
        d += (s["p"] * extra / BIN_CM)[:, None] * TROUGH_FILL[None, :]
        d *= 1 - SACRUM_PRESS_LOSS * s["p"][:, None] * PELVIS[None, :]
        # Legs going down tilt the pelvis forward a little, an arch a lot: the same lift-off of
        # the lumbar span, apex-weighted, its load moving to the sacrum and the thoracic back.
        legs = s["lam"] * s["u"]
        a = 1 - (1 - s["a"]) * (1 - GOOD_FORM_WOBBLE * legs)
        lumbar = d[:, LUMBAR]
        bump = ARCH_BUMP[LUMBAR][None, :]
        bump = bump * lumbar.sum(axis=1, keepdims=True) / np.maximum((lumbar * bump).sum(axis=1, keepdims=True), 1e-12)
        # a · ((1 − a) · bump + a): the span loses exactly the share a (bump has a load-weighted
        # mean of 1), apex-weighted for shallow arches, flattening out as the arch goes to 1.
        lift = np.clip(a[:, None] * ((1 - a[:, None]) * bump + a[:, None]), 0.0, 1.0)
        lost = (lumbar * lift).sum(axis=1) * BIN_CM
        d[:, LUMBAR] = lumbar * (1 - lift)
        d += (lost / BIN_CM)[:, None] * (ARCH_TO_SACRUM * ARCH_SACRUM + ARCH_TO_THORAX * ARCH_THORAX)[None, :]
        d *= 1 + (s["u"] * (0.6 + 0.35 * s["lam"]))[:, None] * PELVIS[None, :]  # the legs' weight
        d[:, LUMBAR] *= (1 - 0.12 * s["hips"])[:, None]
        d *= 1 - 0.6 * s["hips"][:, None] * LOWER[None, :]
        d *= 1 - s["sit"][:, None] * (1 - LOWER)[None, :]
        d *= 1 + 0.8 * s["sit"][:, None] * PELVIS[None, :]
        d *= 1 + 0.06 * s["arms"][:, None] * ARMS[None, :]
        d *= 1 + BREATH_RIPPLE[None, :] * self._breath(times, s["breath_amp"])[:, None]
        contact = s["w"] * d[:, LUMBAR].sum(axis=1) * BIN_CM / (RELAXED_LUMBAR / relaxed)
        return d, contact

    def contact(self, t):
        """Noise-free lumbar contact: 1.0 = the person's pressed (glued) lumbar load.

        A scalar for a scalar t, an array for an array."""
        times = np.atleast_1d(np.asarray(t, dtype=float))
        values = self._bands(self._states(times), times)[1]
        return float(values[0]) if np.ndim(t) == 0 else values

    def _loads(self, times: np.ndarray) -> np.ndarray:
        """True load per cell (N, rows, cols), ~1 for a typically loaded cell at 75 kg."""
        s = self._states(times)
        bands, _ = self._bands(s, times)
        grid_x = (np.arange(self.cols) - (self.cols - 1) / 2) * CELL_CM  # cm right of its centre line
        # Each row carries the mean body load over its 6 cm. A row's edges, r·6 and r·6 + 6 cm
        # below the grid's top edge, lie off_y cm nearer the head on the body (lying low,
        # off_y > 0, puts the grid higher on the body), in nominal cm (the body scaled by pitch).
        edges = np.arange(self.rows + 1) * CELL_CM
        y = (edges[None, :] - s["off_y"][:, None]) * (CELL_CM / s["pitch"])[:, None]
        cumulative = np.concatenate([np.zeros((len(times), 1)), np.cumsum(bands, axis=1) * BIN_CM], axis=1)
        at_edges = _interp_rows((y - BIN_EDGES[0]) / BIN_CM, cumulative)
        rows = np.diff(at_edges, axis=1) / np.diff(y, axis=1)
        x_body = grid_x[None, :] - s["off_x"][:, None]
        j = x_body / (CELL_CM * s["size"][:, None]) + 3.5
        cols = np.interp(j.ravel(), np.arange(len(BODY_COLS)), BODY_COLS).reshape(j.shape)
        cols *= 1 + s["lat"][:, None] * x_body / 25.0
        scale = 16 * s["mass"] / 75.0 * s["w"] * (1 + s["spike"])
        return scale[:, None, None] * rows[:, :, None] * np.maximum(cols, 0.0)[:, None, :]

    def loads(self, t: float) -> np.ndarray:
        """True load per cell at t (rows, cols)."""
        return self._loads(np.array([float(t)]))[0]

    # -- truth ----------------------------------------------------------------------------
    def liftoffs(self, floor: float = 0.5, dt: float = 0.005, band: float = 0.1) -> list[tuple[float, float]]:
        """One [start, end] per excursion below the floor inside the sessions' active windows.

        Crossings are interpolated; dips that re-cross without the contact getting back above
        floor + band in between are one lift-off (so a wobble at the floor is not two)."""
        spans: list[tuple[float, float]] = []
        for session in self.sessions:
            a, b = session["active"]
            if b - a < 2 * dt:
                continue
            times = np.arange(a, b, dt)
            v = self.contact(times)
            below = v < floor
            edges = np.flatnonzero(np.diff(np.concatenate([[0], below.astype(np.int8), [0]])))
            current: list[float] | None = None
            prev_end_i = 0
            for i, j in zip(edges[::2], edges[1::2]):
                start = _crossing(times, v, i, floor)
                end = _crossing(times, v, j, floor) if j < len(v) else float(times[-1])
                if current is not None and v[prev_end_i:i].max(initial=-1.0) < floor + band:
                    current[1] = end
                else:
                    if current is not None:
                        spans.append((current[0], current[1]))
                    current = [start, end]
                prev_end_i = j
            if current is not None:
                spans.append((current[0], current[1]))
        return [(round(a, 3), round(b, 3)) for a, b in spans]

    def labels(self, floor: float = 0.5, dt: float = 0.01) -> dict:
        """The truth in the labelled-scenario format (mat/README.md, "Labelled recordings", plus `sim`)."""
        n = int(self.duration_s / dt) + 1
        times = np.arange(n) * dt
        contact = self.contact(times)
        liftoffs = self.liftoffs(floor)

        def mean_contact(window) -> float:
            return round(float(self.contact(np.arange(window[0], window[1], dt)).mean()), 4) if window[1] > window[0] else 1.0

        sessions = []
        for k, s in enumerate(self.sessions):
            spec = self.persons[s["person"]][1]
            entry = {"enter": s["enter"], "present": s["present"], "hold": s["hold"], "active": s["active"],
                     "up": s["up"], "absent": s["absent"], "sets": s["sets"],
                     "body": {"mass": spec.mass_kg, "size": spec.size, "lumbar_len_cm": spec.lumbar_len_cm},
                     "placement_cm": {"dx": spec.offset_x_cm, "dy": spec.offset_y_cm},
                     "choreography": {
                         "pressed": s["pressed"],
                         "reference": "hold" if s["pressed"] else "glued",
                         "holds": [list(h) for h in s["holds"]],
                         "hold_levels": [mean_contact(h) for h in s["holds"]],
                         "represses": [list(h) for h in s["represses"]]}}
            steady = [w for w in s["relaxed"] if w[1] - w[0] >= 3.0 - 1e-6]
            if steady:
                window = [round(steady[0][0], 3), round(steady[0][0] + 3.0, 3)]
                entry["choreography"]["relaxed_window"] = window
                entry["choreography"]["relaxed_level"] = mean_contact(window)
            sessions.append(entry)
        events = []
        for e in self.events:
            e = dict(e)
            if e["kind"] in ("arch", "near_miss"):
                window = np.arange(e["t"], e["t"] + e["fall"] + e["hold"] + e["recover"] + 0.3, dt)
                values = self.contact(window)
                e["min"] = round(float(values.min()), 4)
                e["below_s"] = round(float((values < floor).sum() * dt), 3)
            events.append(e)
        rep_labels = [dict(r, perfect=not any(a < r["end"] and b > r["top"] - 0.2 for a, b in liftoffs))
                      for r in self.reps]
        return {
            "floor": floor,
            "contact": {"t0": 0.0, "dt": dt, "values": np.round(contact, 4).tolist()},
            "liftoffs": [list(span) for span in liftoffs],
            "reps": rep_labels,
            "sim": {
                "version": 1,
                "source": "flatback-sim",
                "duration_s": round(self.duration_s, 3),
                "material": self.mat.material,
                "fps": self.recording["fps"],
                "sessions": sessions,
                "sets": [{"session": s["session"], "start": s["start"], "end": s["end"], "variant": s["variant"],
                          "reps": s["rep_indices"]} for s in self.sets],
                "descent_s": [r["descent_s"] for r in self.reps],
                "events": events,
                "dead_cells": [{"cell": [r, c], "mode": kind, "at": round(t, 3)} for t, r, c, kind, _ in self.dead_cells],
                **({"breathing": self._breathing_truth()} if self._breathing is not None else {}),
                "sensors": {"exponents": np.round(self._exponent, 3).tolist(),
                            "strip_gains": np.round(self._strip_gain, 3).tolist(),
                            "creep_c": np.round(self._creep_c, 3).tolist()},
            },
        }

    def _breathing_truth(self) -> dict:
        """sim.breathing as the eval's labels carry it: the rate each second (None off the mat
        and while held), the held breaths and where they were, the pauses."""
        lying = [(s["lying"], s["up"]) for s in self.sessions]
        values = [self._breathing.rate_bpm(t) if any(a <= t < b for a, b in lying) else None
                  for t in np.arange(0.0, self.duration_s, 1.0)]
        holds = [(round(a, 3), round(b, 3)) for a, b in self._breathing.holds if a < self.duration_s]

        def where(a: float, b: float) -> str:
            if any(a < s["end"] and b > s["start"] for s in self.sets):
                return "set"
            if any(a < h1 and b > h0 for h0, h1 in self.calibration_holds):
                return "press"
            return "rest"

        return {"rate_bpm": {"t0": 0.0, "dt": 1.0, "values": values},
                "holds": [list(h) for h in holds], "hold_where": [where(a, b) for a, b in holds],
                "pauses": [[round(a, 3), round(b, 3)] for a, b in self._breathing.pauses if a < self.duration_s]}

    # -- sensors --------------------------------------------------------------------------
    def _init_sensors(self) -> None:
        """The mat's quirks, drawn once from the mat's seed (the same mat for every person)."""
        m = self.mat
        rng = np.random.default_rng(m.seed)
        shape = (self.rows, self.cols)
        self._material = material_named(m.material)
        # A strip is one grid row: its chip, its cable and its run of sensor material.
        self._strip_gain = np.exp(m.strip_spread * rng.standard_normal(self.rows))
        self._cell_gain = (self._strip_gain[:, None] * np.exp(m.spread * rng.standard_normal(shape))
                           * math.exp(0.15 * rng.standard_normal()))
        if m.material == "velostat":
            self._exponent = np.clip(rng.normal(0.62, 0.13, shape), 0.4, 0.95)
        else:
            self._exponent = rng.uniform(0.85, 1.0, shape)
        self._unloaded = UNLOADED.get(m.material, 0.02) * m.unloaded * np.exp(0.5 * rng.standard_normal(shape))
        self._unloaded_wander = (rng.uniform(0.15, 0.4, shape), rng.uniform(20, 120, shape), rng.uniform(0, 6.3, shape))
        self._creep_c = rng.uniform(0.07, 0.12, shape) * (m.creep / 0.095)
        self._drift = (rng.uniform(60, 240, shape), rng.uniform(0, 6.3, shape), rng.uniform(-1, 1))
        self._hum = (rng.uniform(0.5, 1.5, self.rows) * m.hum_mv / 1000.0, rng.uniform(0, 6.3))
        self._noise_seed = m.seed + 1000
        self._day_gain = np.ones(shape)
        if m.day:  # drawn after the mat's own quirks, so day 0 is the mat exactly as before
            day = np.random.default_rng([m.seed, m.day])
            self._day_gain = np.exp(m.day_scatter * (day.standard_normal(shape) + 0.5 * day.standard_normal()))
            self._drift = (self._drift[0], day.uniform(0, 6.3, shape), day.uniform(-1, 1))
            self._noise_seed = m.seed + 1000 + 7 * m.day

    def _reset_sensor_state(self) -> None:
        shape = (self.rows, self.cols)
        self._noise = np.random.default_rng(self._noise_seed)
        self._creep_since = np.zeros(shape)
        self._creep_ref = np.zeros(shape)
        self._creep_residual = np.zeros(shape)  # strain (a share of the reading), recovering after a restart
        self._frozen: dict[tuple[int, int], float] = {}
        self._last_t = -math.inf

    def _crept(self, times: np.ndarray, load: np.ndarray) -> np.ndarray:
        """Load as the material reports it after creep: L·(1 + c·ln(1 + age/1 s) + old strain
        recovering). The age restarts whenever the cell's load moves a lot from its last restart."""
        out = np.empty_like(load)
        for r in range(self.rows):
            for c in range(self.cols):
                col = load[:, r, c]
                coeff = self._creep_c[r, c]
                ref, since, residual = self._creep_ref[r, c], self._creep_since[r, c], self._creep_residual[r, c]
                i = 0
                while True:
                    moved = np.abs(col[i:] - ref) > CREEP_RESTART * max(ref, 0.2)
                    hit = int(np.argmax(moved)) if moved.size else 0
                    j = i + hit
                    if not moved.size or not moved[hit]:
                        j = len(col)
                    age = np.maximum(times[i:j] - since, 0.0)
                    out[i:j, r, c] = col[i:j] * (1 + coeff * np.log1p(age) + residual * np.exp(-age / CREEP_RECOVERY_S))
                    if j >= len(col):
                        break
                    age_j = max(times[j] - since, 0.0)
                    strain = coeff * math.log1p(age_j) + residual * math.exp(-age_j / CREEP_RECOVERY_S)
                    residual, since, ref = strain, times[j], col[j]  # continuous reading
                    i = j
                self._creep_ref[r, c], self._creep_since[r, c], self._creep_residual[r, c] = ref, since, residual
        return out

    def _volts_batch(self, times: np.ndarray) -> np.ndarray:
        """Cell voltages (N, rows, cols) at ascending times; the sensor state moves on."""
        m = self.mat
        t3 = times[:, None, None]
        load = self._loads(times)
        reading = self._crept(times, load)
        period, phase, slope = self._drift
        drift = 1 + m.drift * (np.sin(2 * math.pi * t3 / period + phase) + slope * t3 / 600.0)
        reading = np.maximum(reading * self._day_gain * drift * (1 + m.noise * self._noise.standard_normal(load.shape)), 0.0)
        amp, wander_period, wander_phase = self._unloaded_wander
        unloaded = self._unloaded * (1 + amp * np.sin(2 * math.pi * t3 / wander_period + wander_phase)) * drift
        g = self._cell_gain * (unloaded + reading ** self._exponent)
        volts = SUPPLY_V * g / (g + 1)
        hum_amp, hum_phase = self._hum
        hum = np.sin(2 * math.pi * m.mains_hz * times + hum_phase) + 0.4 * np.sin(4 * math.pi * m.mains_hz * times)
        volts += hum[:, None, None] * hum_amp[None, :, None]
        volts += m.adc_noise * GAIN_FULL_SCALE_V[self.gain] / 32768 * self._noise.standard_normal(load.shape)
        for since, r, c, kind, fade_s in self.dead_cells:
            if r >= self.rows or c >= self.cols:
                continue
            dead = times >= since
            if not dead.any():
                continue
            if kind == "zero":
                volts[dead, r, c] = 0.0
            elif kind == "rail":
                volts[dead, r, c] = SUPPLY_V
            elif kind == "frozen":
                first = int(np.argmax(dead))
                value = self._frozen.setdefault((r, c), float(volts[first, r, c]))
                volts[dead, r, c] = value
            elif kind == "dying":  # fades out with dropouts, then reads nothing
                fade = np.exp(-np.maximum(times[dead] - since, 0) / max(fade_s / 3, 0.1))
                dropout = self._noise.random(fade.shape) < 0.15
                volts[dead, r, c] *= np.where(dropout, 0.0, fade)
        return np.clip(volts, 0.0, SUPPLY_V)

    def frames(self, times) -> np.ndarray:
        """ADS1115 codes (N, rows, cols) at ascending times, from the start (fresh sensor state)."""
        times = np.asarray(times, dtype=float)
        self._reset_sensor_state()
        out = np.empty((len(times), self.rows, self.cols), dtype=np.int32)
        for i in range(0, len(times), 4096):
            out[i:i + 4096] = volts_to_counts(self._volts_batch(times[i:i + 4096]), self.gain)
        self._last_t = float(times[-1]) if len(times) else -math.inf
        return out

    def volts(self, t: float) -> np.ndarray:
        """Cell voltages at time t (noise, creep, drift, hum, dead cells included)."""
        if t < self._last_t:
            self._reset_sensor_state()  # the demo looping back to the start
        self._last_t = t
        return self._volts_batch(np.array([float(t)]))[0]

    def counts(self, t: float) -> np.ndarray:
        """Ideal ADS1115 codes for the cell voltages at time t."""
        return volts_to_counts(self.volts(t), self.gain)

    def analog_input_for_row(self, row: int):
        """The analog inputs of the chip reading `row`: (channel, t) -> volts."""

        def read(channel: int, t: float) -> float:
            # One grid per 0.5 ms: a chip's four channels and the four chips share it. The grid
            # is computed ANALOG_BLOCK steps at a time (one vectorised batch, far cheaper than
            # one call per step); reads move forward in time, as a clock does.
            key = round(t * ANALOG_GRID_HZ)
            start = self._cache_t
            if start is None or not (start <= key < start + ANALOG_BLOCK):
                if start is not None and key < start:
                    self._reset_sensor_state()  # the demo looping back to the start
                self._cache_t = key
                self._cache_volts = self._volts_batch(np.arange(key, key + ANALOG_BLOCK) / ANALOG_GRID_HZ)
                start = key
            return float(self._cache_volts[key - start, row, channel]) if channel < self.cols else 0.0

        return read


#: The analog inputs' time grid (Hz) and how many of its steps are computed in one batch.
ANALOG_GRID_HZ = 2000
ANALOG_BLOCK = 256


def _crossing(times: np.ndarray, v: np.ndarray, i: int, level: float) -> float:
    """Time at which v crosses `level` between samples i-1 and i (linear interpolation)."""
    if i <= 0:
        return float(times[0])
    a, b = float(v[i - 1]), float(v[i])
    frac = 0.0 if a == b else min(max((level - a) / (b - a), 0.0), 1.0)
    return float(times[i - 1] + (times[i] - times[i - 1]) * frac)


def _int_list(text: str) -> set[int]:
    return {int(x) for x in text.split(",") if x.strip()}


def _typed(cls, key: str, value: str, line: int):
    kinds = {f.name: f.type for f in fields(cls)}
    if key not in kinds:
        raise ValueError(f"scenario line {line}: unknown {cls.__name__[:-4].lower()} setting {key!r}")
    kind = kinds[key]
    if "int" in str(kind):
        return int(value)
    if "str" in str(kind):
        return value
    return float(value)
