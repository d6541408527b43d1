"""Reps, sets and descent tempo, from the pelvis tilting with every rep.

The physics (hardware/README.md, "What the sensors see"): legs in the air put their weight through the
pelvis. Lowering them, their growing lever tilts the pelvis forward: the lumbar cells lose load
and the sacral cells gain; raising them brings it back. So each rep is one slow cycle of the
*tilt*: the sacral row's load against the lumbar rows' load.

Real grids make that hard to read in absolute terms: cell gains differ several times between
strips (rows), the response is a power law with a per-cell exponent, readings creep by tens of
per cent, people lie centimetres off and weigh 45-120 kg. So nothing here compares one cell or
row with another in load units, and no threshold is in load units:

- each row is compared with itself: the log ratio of its load now to its load in the
  calibration map. A gain, whatever it is, cancels; a power-law response only scales the log.
- the tilt is the sacral row's log ratio minus the lumbar rows' mean: creep and a heavier or
  lighter body move all rows alike and cancel too.
- swings are judged against the person's own swing: the median of their recent reps'
  amplitudes (an arch inflating one rep cannot raise the bar for the next).

A set looks like this in the tilt: resting flat; the legs leave the floor nearly horizontal (the
largest lever: a peak, which is not a rep); they rise to vertical (a trough: the first top);
then a peak (bottom) and a trough (top) per rep; after the last bottom the legs go down onto the
floor and the tilt falls back to rest. A rep is counted once the tilt has come back from its
bottom by half its swing: on the way up to the next top, or onto the floor for the last rep.
People press the back flat just before they lift, shift or lift their hips: the lift is
judged against the resting level of the seconds before it, never against such a dip.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum

import numpy as np

from mat.pipeline.events import Event, make_event

#: Smoothing of the tilt (time constant, s): reps take seconds, noise and hum milliseconds.
SMOOTHING_S = 0.25
#: Log ratios are clipped to this range: an arch empties the lumbar cells (log → -inf); a rep
#: moves a row by at most about ±0.8.
LOG_CLIP = (-1.2, 1.5)
#: The zigzag over the tilt confirms an extreme once the tilt has moved back from it by this
#: share of the person's typical swing...
ZIGZAG_SHARE = 0.3
#: ...but never less than this (log ratio): breathing and noise wobble the tilt by a few hundredths.
MIN_ZIGZAG = 0.05
#: Before any swing is known: the legs' lift must rise at least this from the resting level and
#: fall back as much to the first top (log ratio)...
FIRST_LIFT = 0.08
#: ...and the first reps must swing this share of that rise, but never more than FIRST_SWING:
#: the lift (legs nearly horizontal, the largest lever) is the person's own scale. A heavy body
#: lying low has the pelvis half off the grid's last row, and bent-knee or single-leg reps
#: swing its tilt by under a tenth.
FIRST_SWING = 0.12
#: A rep's swing must be at least this share of the typical swing: a shallow rep swings about
#: half a deep one, and a rep on the side whose cells read the legs' weight weakly less still
#: (in one set in ten, on the external recordings, the smallest rep swings under 0.44 of the
#: set's median; on our drawn people under 0.2).
MIN_SWING_SHARE = 0.33
#: The typical swing: median over this many recent reps.
SWING_MEMORY = 7
#: A rep is complete when the tilt has come back this share of its swing from the bottom...
RETURN_SHARE = 0.5
#: ...or when a new swing of at least this share of it starts from a trough in between.
RESTART_SHARE = 0.5
#: Before a set has begun, no descent is quicker than this (s): a quicker peak is the legs
#: settling at their first top, a cough or a jolt...
MIN_DESCENT_S = 0.5
#: ...but within a set a tired person drops the legs in 0.5 s and less, and an arch at the
#: bottom makes the peak come sooner still.
MIN_DESCENT_IN_SET_S = 0.3
#: At the first top the sacral row must have gained at least this (log ratio) over its level
#: before the legs rose; at later tops it must not fall back by this share of that gain (after
#: an arched rep: must not fall back to within this share of that gain over its level before).
LEGS_UP_MIN_GAIN = 0.04
LEGS_DOWN_SHARE = 0.5
#: From the first top to its bottom the sacral row gains what the legs' growing lever adds: at
#: most a few times what the legs' weight added at that top (measured: up to 3.5 times). More
#: than this says the legs were still on the floor at that "top" (a press let go just before
#: the lift), and the peak is where they left it.
FIRST_BOTTOM_GAIN = 4.0
#: The legs' resting level (of the tilt and of the sacral row): the median from REST_WINDOW_S[0]
#: to [1] seconds before the lift, sampled every REST_SAMPLE_S (kept a little longer: the lift's
#: peak is confirmed up to a second or two after it).
REST_WINDOW_S = (8.0, 1.0)
REST_SAMPLE_S = 0.1
#: From the lift to the first top the tilt falls back at least this share of its rise.
LIFT_FALL_SHARE = 0.3
#: The legs left the floor but no rep came for this long: that was no lift (s).
LIFT_EXPIRES_S = 12.0
#: Tops and bottoms are timed where the tilt leaves or reaches this share of the typical swing
#: around its extreme, so a pause at the top or at the bottom does not count as descent.
TOP_BAND = 0.12
#: The tilt creeps up to its bottom (the lever grows fastest near horizontal): a narrow band.
BOTTOM_BAND = 0.02
#: No rep and no top for this long, and no rep under way, ends the set (s): a slow rep with a
#: hold at the bottom takes up to about 10 s from its top to its bottom.
REST_AFTER_S = 12.0
#: A rep in which lumbar contact fell below this (an arch or a near miss) does not teach the
#: typical swing: emptying the lumbar cells swings the tilt far more than the legs do.
TEACHING_CONTACT = 0.75
#: A descent shorter than this share of the tempo target earns the "too fast" double chirp.
FAST_SHARE = 0.8
#: A lift-off that starts this long before a rep's top still belongs to that rep (s).
LIFTOFF_LEAD_S = 0.2


@dataclass
class Rep:
    top_t: float
    bottom_t: float
    end_t: float
    set_no: int
    rep_no: int
    perfect: bool
    balance: float

    @property
    def descent_s(self) -> float:
        return self.bottom_t - self.top_t


@dataclass
class _Extreme:
    t: float        # when the tilt was at it
    x: float        # the tilt there
    u: float        # the sacral row's log ratio there (legs up put their weight on it)
    timed_t: float  # the top's or bottom's time for descent (edge of the pause around it)


class Phase(Enum):
    """Where the legs are in a set, as the tilt's turning points tell it."""
    RESTING = "legs resting"    # on the floor: a peak a swing above the trough before it is a lift
    LIFTED = "legs lifted"      # they left the floor: the next trough is the first top, if the pelvis took their weight
    UP = "legs up"              # between reps: the next trough is a top, unless the legs went down
    AT_TOP = "at a top"         # the next peak a swing below it is a rep's bottom
    DESCENDED = "descended"     # a rep's top and bottom: it is counted once the tilt comes back up


@dataclass
class _Lift:
    """What the legs leaving the floor left behind, for judging the tops after it."""
    t: float                   # when (the lift's peak)
    x: float                   # the tilt at the lift...
    rise: float                # ...and how far it rose to it from the resting level
    rest_u: float              # the sacral row's level before the legs rose (_lifted)
    legs_gain: float = 0.0     # the first top's gain over rest_u
    top_u: float | None = None  # the sacral row at the last top (None before the first)


class _Zigzag:
    """The tilt's turning points. A peak (a bottom: legs lowest) or a trough (a top) is confirmed
    once the tilt has come back from it by `h`, and timed at the edge of the pause around it."""

    def __init__(self, t: float, x: float, u: float) -> None:
        self.rising = False  # following a trough first: the first rise confirms it (the legs rest)
        self.trough: _Extreme | None = None  # the last trough confirmed (every peak has one before it)
        self._ext_t, self._ext_x, self._ext_u = t, x, u  # the extreme being followed
        self._phase: deque[tuple[float, float]] = deque([(t, x)], maxlen=4000)  # (t, x) since the last extreme

    def step(self, t: float, x: float, u: float, h: float, swing: float) -> tuple[bool, _Extreme] | None:
        """(is it a peak, the extreme) when one is confirmed at this sample. `swing`: the
        person's typical swing, for timing the extreme."""
        self._phase.append((t, x))
        if self.rising:
            if x > self._ext_x:
                self._ext_t, self._ext_x, self._ext_u = t, x, u
                return None
            if x >= self._ext_x - h:
                return None
        else:
            if x < self._ext_x:
                self._ext_t, self._ext_x, self._ext_u = t, x, u
                return None
            if x <= self._ext_x + h:
                return None
        peak = self.rising
        extreme = self._timed(peak, swing)
        if not peak:
            self.trough = extreme
        self.rising = not self.rising
        self._new_phase(t, x, u)
        return peak, extreme

    def _timed(self, peak: bool, swing: float) -> _Extreme:
        """A bottom is timed when the tilt first got (nearly) as far as it went, a top the last
        moment it sat there."""
        if peak:
            level = self._ext_x - BOTTOM_BAND * swing
            timed = next((pt for pt, px in self._phase if px >= level), self._ext_t)
        else:
            level = self._ext_x + TOP_BAND * swing
            timed = next((pt for pt, px in reversed(self._phase) if px <= level and pt <= self._ext_t), self._ext_t)
        return _Extreme(self._ext_t, self._ext_x, self._ext_u, timed)

    def _new_phase(self, t: float, x: float, u: float) -> None:
        """Follow the next extreme; keep the samples since the one just confirmed (the next one
        is timed on them)."""
        since = self._ext_t
        while self._phase and self._phase[0][0] < since:
            self._phase.popleft()
        self._ext_t, self._ext_x, self._ext_u = t, x, u


class _Swings:
    """The person's typical swing: the median of their recent clean reps' swings."""

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=SWING_MEMORY)
        self.typical: float | None = None

    def learn(self, swing: float) -> None:
        self._recent.append(swing)
        self.typical = float(np.median(self._recent))

    def for_lift(self) -> float:
        """The least rise that is the legs' lift (and fall back to the first top)."""
        return FIRST_LIFT if self.typical is None else MIN_SWING_SHARE * self.typical

    def for_rep(self, lift_rise: float) -> float:
        """The least swing that is a rep, in a set whose lift rose `lift_rise`."""
        if self.typical is not None:
            return MIN_SWING_SHARE * self.typical
        return max(MIN_ZIGZAG, min(FIRST_SWING, MIN_SWING_SHARE * lift_rise))

    def zigzag(self) -> float:
        """How far the tilt must come back to confirm a turning point."""
        return MIN_ZIGZAG if self.typical is None else max(MIN_ZIGZAG, ZIGZAG_SHARE * self.typical)

    def for_timing(self) -> float:
        return FIRST_SWING if self.typical is None else self.typical


class _Balance:
    """The lateral centre of pressure, averaged over a rep (from its top to its end)."""

    def __init__(self) -> None:
        self._sum, self._n = 0.0, 0

    def add(self, lateral: float) -> None:
        self._sum += lateral
        self._n += 1

    def take(self, default: float) -> float:
        """The rep's mean (default when none was seen); starts the next rep's."""
        mean = self._sum / self._n if self._n else default
        self._sum, self._n = 0.0, 0
        return mean


class _LiftOffSpans:
    """The lift-offs noted by the detector, until the reps they fall in are counted."""

    def __init__(self) -> None:
        self._spans: list[tuple[float, float]] = []

    def note(self, start_t: float, end_t: float | None) -> None:
        end = end_t if end_t is not None else np.inf
        if self._spans and self._spans[-1][0] == start_t:
            self._spans[-1] = (start_t, end)
        else:
            self._spans.append((start_t, end))

    def take_any(self, start: float, now: float) -> bool:
        """Did a lift-off overlap [start, now]? Forgets the ones over by now."""
        hit = any(b >= start and a <= now for a, b in self._spans)
        self._spans = [(a, b) for a, b in self._spans if b > now]
        return hit


class RepCounter:
    """Counts reps and sets from load maps; marks a rep imperfect if a lift-off started in it.

    Each frame: the tilt is smoothed, its turning points found (_Zigzag), and each turning point
    moves the phase (Phase): a peak from rest is the legs' lift; the trough after it the first
    top; a peak a swing below a top the rep's bottom; the tilt back up by half the swing counts
    the rep. The set ends when a top finds the legs down, or after a while without reps."""

    def __init__(self, rows: int, cols: int, tempo_s: float = 3.0, lateral_centre: float | None = None,
                 legs_down_load: np.ndarray | None = None) -> None:
        """tempo_s: the target descent (s). lateral_centre: the calibrated column coordinate of
        the centre of pressure. legs_down_load: the load map at calibration, legs on the floor."""
        self.tempo_s = tempo_s
        self._rows, self._cols = rows, cols
        self.lateral_centre = (cols - 1) / 2 if lateral_centre is None else lateral_centre
        # The rows compared: the lumbar rows (upper half) against the sacral row (last).
        self._lumbar_rows = max(rows // 2, 1)
        self._ref = None if legs_down_load is None else np.maximum(np.array(legs_down_load, dtype=float), 0.0)
        self._row_ref_cache: list[float] | None = None
        self._row_ref_key: bytes | None = None
        self._failed: np.ndarray | None = None  # cells that failed at some point: out of the tilt
        # The signals, smoothed.
        self._last_t: float | None = None
        self._x: float | None = None       # the tilt
        self._u = 0.0                      # the sacral row's log ratio
        self._history: deque[tuple[float, float, float]] = deque()  # (t, x, u) every REST_SAMPLE_S: _lifted()
        self._lat: float | None = None     # the lateral centre of pressure
        self._zigzag: _Zigzag | None = None
        # Where the legs are.
        self.phase = Phase.RESTING
        self._lift: _Lift | None = None     # since the legs last left the floor
        self._top: _Extreme | None = None   # AT_TOP and DESCENDED: the rep's top
        self._bottom: _Extreme | None = None  # DESCENDED: its bottom
        # What the reps teach and collect.
        self._swings = _Swings()
        self._balance = _Balance()
        self._liftoffs = _LiftOffSpans()
        self._lowest_contact = 1.0  # lumbar contact's lowest since the last rep ended
        self._arched = False        # the last rep's lumbar contact dipped (an arch or a near miss)
        self._last_rep_t = -np.inf
        # Reps and sets.
        self.reps: list[Rep] = []
        self.set_no = 0
        self.in_set = False
        self._set_reps = 0
        self._set_perfect = 0

    # -- public state ---------------------------------------------------------------------
    @property
    def in_swing(self) -> bool:
        """Legs are moving through a rep right now."""
        return self.phase is Phase.DESCENDED or (self.phase is Phase.AT_TOP and self.in_set)

    # -- for coaching (mat/pipeline/coach.py reads these; it changes nothing here) ----------
    raw_tilt: float | None = None

    @property
    def tilt(self) -> float | None:
        """The smoothed tilt now (log ratio; grows as the legs go down), None before any."""
        return self._x

    @property
    def lift_tilt(self) -> tuple[float, float] | None:
        """(when, tilt) where the legs last left the floor: nearly horizontal, the full lever.
        None before any lift was seen."""
        return None if self._lift is None else (self._lift.t, self._lift.x)

    @property
    def sacral_log_ratio(self) -> float:
        """The sacral row's smoothed log ratio to itself at calibration: legs up load it."""
        return self._u

    @property
    def lateral(self) -> float | None:
        """The smoothed lateral centre of pressure now, from the calibrated centre as a share of
        the half-width (a rep's balance's units; − left, + right), None before any."""
        return None if self._lat is None else self._off_centre(self._lat)

    def _off_centre(self, lateral: float) -> float:
        """A lateral centre of pressure (column coordinate) as a share of the half-width from
        the calibrated centre (− left, + right)."""
        return (lateral - self.lateral_centre) / max((self._cols - 1) / 2, 1e-9)

    @property
    def typical_swing(self) -> float | None:
        """The median swing of the person's recent clean reps (log ratio), None before any."""
        return self._swings.typical

    # -- inputs ---------------------------------------------------------------------------
    def note_liftoff(self, start_t: float, end_t: float | None) -> None:
        """A lift-off (end None while it lasts): the rep it starts in is not perfect."""
        self._liftoffs.note(start_t, end_t)

    def update(self, t: float, load: np.ndarray, alive: np.ndarray | None = None,
               contact: float | None = None) -> list[Event]:
        """One frame's load map; `alive` marks the cells to trust (dead ones read 0); `contact`:
        lumbar contact now, when known."""
        if contact is not None and not math.isnan(contact):
            self._lowest_contact = min(self._lowest_contact, contact)
        if alive is not None and not alive.all():
            # A cell that failed once stays out of the tilt: a dying cell drops out and comes
            # back, and each switch of the cells compared would step the tilt.
            cells = ~alive & alive.any(axis=1, keepdims=True)  # not a whole chip offline
            self._failed = cells if self._failed is None else (self._failed | cells)
        if self._failed is not None:
            alive = (np.ones_like(self._failed) if alive is None else alive) & ~self._failed
        if alive is not None and not alive.all():
            load = np.where(alive, load, 0.0)
        row_load = load.sum(axis=1).tolist()
        col_load = load.sum(axis=0).tolist()
        total = sum(row_load)
        if total <= 0:
            return []
        row_ref = self._row_ref(load, alive)
        tilt, u = self._tilt(row_load, row_ref)
        lat = sum(c * w for c, w in enumerate(col_load)) / total
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        if tilt is None:
            return self._check_set_end(t)
        self.raw_tilt = tilt  # for coaching (mat/pipeline/coach.py): rebounds are quicker than the smoothing
        if self._x is None:
            self._x, self._lat, self._u = tilt, lat, u
            self._zigzag = _Zigzag(t, tilt, u)
            return []
        k = min(dt / SMOOTHING_S, 1.0)
        self._x += (tilt - self._x) * k
        self._u += (u - self._u) * k
        if not self._history or t - self._history[-1][0] >= REST_SAMPLE_S:
            self._history.append((t, self._x, self._u))
            while t - self._history[0][0] > REST_WINDOW_S[0] + 2.0:
                self._history.popleft()
        self._lat += (lat - self._lat) * k
        if self.phase in (Phase.AT_TOP, Phase.DESCENDED):
            self._balance.add(self._lat)
        return self._track(t)

    def _row_ref(self, load: np.ndarray, alive: np.ndarray | None) -> list[float]:
        """Each row's load at calibration over the cells alive now (recomputed when they change)."""
        if self._ref is None:
            self._ref = np.maximum(np.array(load, dtype=float), 0.0)
        key = None if alive is None or alive.all() else alive.tobytes()
        if self._row_ref_cache is None or key != self._row_ref_key:
            ref = self._ref if key is None else np.where(alive, self._ref, 0.0)
            self._row_ref_cache, self._row_ref_key = ref.sum(axis=1).tolist(), key
        return self._row_ref_cache

    def _tilt(self, row_load: list[float], row_ref: list[float]) -> tuple[float | None, float]:
        """The sacral row's log ratio to itself at calibration minus the lumbar rows' mean, and
        the sacral row's log ratio."""
        low, high = LOG_CLIP

        def log_ratio(r: int) -> float | None:
            if row_ref[r] <= 1e-9 or row_load[r] <= 0:
                return None
            return min(max(math.log(row_load[r] / row_ref[r]), low), high)

        sacral = log_ratio(len(row_load) - 1)
        lumbar = [v for v in (log_ratio(r) for r in range(self._lumbar_rows)) if v is not None]
        if sacral is None or not lumbar:
            return None, 0.0
        return sacral - sum(lumbar) / len(lumbar), sacral

    # -- the phases -----------------------------------------------------------------------------
    def _track(self, t: float) -> list[Event]:
        events: list[Event] = []
        legs_down = False
        turn = self._zigzag.step(t, self._x, self._u, self._swings.zigzag(), self._swings.for_timing())
        if turn is not None:
            peak, extreme = turn
            if peak:
                events += self._at_peak(t, self._zigzag.trough, extreme)
            else:
                legs_down = self._at_trough(extreme)
        if self.phase is Phase.DESCENDED and self._back_up():
            events += self._complete(t)
        events += self._check_set_end(t, legs_down)
        return events

    def _at_peak(self, t: float, trough: _Extreme, peak: _Extreme) -> list[Event]:
        """A peak of the tilt: the legs at their lowest (a bottom), or leaving the floor."""
        if self.phase is Phase.DESCENDED:
            return self._peak_in_descent(t, trough, peak)
        if self.phase is not Phase.RESTING and not self.in_set and peak.t - self._lift.t > LIFT_EXPIRES_S:
            self._rest()  # no rep followed: that was no lift
        if self.phase is Phase.RESTING:
            # A peak standing a swing above the trough before it is the legs leaving the floor
            # (nearly horizontal: the largest lever). It is no rep; the trough after it is the
            # first top.
            if peak.x - trough.x >= self._swings.for_lift():
                self.phase = Phase.LIFTED
                self._lift = self._lifted(trough, peak)
        elif self.phase is Phase.AT_TOP:
            top, self._top = self._top, None
            self.phase = Phase.UP
            if not self.in_set and peak.u - top.u > FIRST_BOTTOM_GAIN * self._lift.legs_gain:
                # The legs were still on the floor at that "first top" (a press let go): this
                # peak is where they left it.
                self.phase = Phase.LIFTED
                self._lift = self._lifted(trough, peak)
            elif peak.x - top.x >= self._needed() and peak.timed_t - top.timed_t >= self._min_descent():
                self._descended(top, peak)
        return []

    def _peak_in_descent(self, t: float, trough: _Extreme, peak: _Extreme) -> list[Event]:
        """A peak before the rep came back up: a deeper bottom of the same rep, or a new swing."""
        rise = peak.x - trough.x
        if rise >= max(self._needed(), RESTART_SHARE * (self._bottom.x - self._top.x)):
            # A whole new swing although the tilt never came back by half the last one (it
            # started from too low a trough, a press): that rep ended at the trough.
            events = self._complete(t)
            if peak.timed_t - trough.timed_t >= self._min_descent():
                self._descended(trough, peak)
                self._lift.top_u = trough.u
            return events
        if peak.x > self._bottom.x:  # still the same rep (a dip on the way down, or an arch)
            self._bottom = peak
        return []

    def _min_descent(self) -> float:
        """The quickest descent that is a rep here."""
        return MIN_DESCENT_IN_SET_S if self.in_set else MIN_DESCENT_S

    def _needed(self) -> float:
        """The least swing that is a rep of this set."""
        return self._swings.for_rep(self._lift.rise)

    def _lifted(self, trough: _Extreme, peak: _Extreme) -> _Lift:
        """The legs left the floor at `peak`. What they rose from is the resting level: the
        median of the seconds before, so that a press, a shift or a hip lift just before (each a
        dip of both the tilt and the sacral row) does not stand for the rest."""
        newest, oldest = peak.t - REST_WINDOW_S[1], peak.t - REST_WINDOW_S[0]
        rest = [(x, u) for t, x, u in self._history if oldest <= t <= newest]
        rest_x, rest_u = np.median(rest, axis=0).tolist() if rest else (trough.x, trough.u)
        return _Lift(t=peak.t, x=peak.x, rise=peak.x - max(trough.x, rest_x), rest_u=rest_u)

    def _at_trough(self, trough: _Extreme) -> bool:
        """A trough of the tilt: the legs up at a top, or down on the floor. True when the
        legs were seen put down."""
        if self.phase in (Phase.RESTING, Phase.DESCENDED):
            return False  # resting, or not back by half the swing yet (a dip within the rep)
        self._top = None
        # Legs up put their weight on the pelvis: at every top the sacral row must stay well
        # above its level with the legs on the floor.
        lift = self._lift
        if self.phase is Phase.LIFTED:
            # The legs rise from nearly horizontal to the first top: the tilt falls back most of
            # the way it rose (a press let go, or settling, rises and stays).
            lift.legs_gain = trough.u - lift.rest_u
            fall = lift.x - trough.x
            if lift.legs_gain < LEGS_UP_MIN_GAIN or fall < max(self._swings.for_lift(), LIFT_FALL_SHARE * lift.rise):
                self._rest()  # the pelvis took no weight: that was no lift
                return False
        elif self._sacral_says_legs_down(trough.u):
            self._rest()  # the legs are down on the floor: no rep until they rise again
            return True
        lift.top_u = trough.u
        self._top = trough
        self.phase = Phase.AT_TOP
        return False

    def _sacral_says_legs_down(self, u: float) -> bool:
        """The sacral row has lost the legs' weight: it fell back from the last top by a share
        of the first top's gain. An arch or a near miss moves so much load that the sacral
        cells' creep restarts, and their reading sags below the last top with the legs still
        up: after one, only a fall back to near the level before the legs rose counts."""
        lift = self._lift
        if u >= lift.top_u - LEGS_DOWN_SHARE * lift.legs_gain:
            return False
        return not self._arched or u < lift.rest_u + LEGS_DOWN_SHARE * lift.legs_gain

    def _descended(self, top: _Extreme, bottom: _Extreme) -> None:
        self._top, self._bottom = top, bottom
        self.phase = Phase.DESCENDED

    def _back_up(self) -> bool:
        """The tilt came back from the bottom by half the rep's swing."""
        top, bottom = self._top, self._bottom
        return self._x <= bottom.x - RETURN_SHARE * (bottom.x - top.x)

    def _rest(self) -> None:
        self.phase = Phase.RESTING
        self._top = self._bottom = None

    # -- reps and sets ----------------------------------------------------------------------------
    def _complete(self, now: float) -> list[Event]:
        """Count the rep of DESCENDED; the legs are up, heading for the next top."""
        top, bottom = self._top, self._bottom
        self._top = self._bottom = None
        self.phase = Phase.UP
        events: list[Event] = []
        if not self.in_set:
            self.in_set = True
            self.set_no += 1
            self._set_reps = self._set_perfect = 0
        start = max(top.timed_t - LIFTOFF_LEAD_S, self._last_rep_t)
        self._last_rep_t = now
        perfect = not self._liftoffs.take_any(start, now)
        self._arched = not perfect or self._lowest_contact < TEACHING_CONTACT
        if not self._arched:
            self._swings.learn(bottom.x - top.x)
        self._lowest_contact = 1.0
        lateral = self._balance.take(self.lateral_centre)
        balance = self._off_centre(lateral)
        self._set_reps += 1
        self._set_perfect += perfect
        rep = Rep(top.timed_t, bottom.timed_t, now, self.set_no, self._set_reps, perfect, round(balance, 3))
        self.reps.append(rep)
        events.append(
            make_event(
                now, "rep", perfect=perfect, descent_s=round(rep.descent_s, 3), set=self.set_no,
                rep=self._set_reps, balance=rep.balance, top_t=round(top.timed_t, 6),
                bottom_t=round(bottom.timed_t, 6), end_t=round(now, 6),
            )
        )
        if rep.descent_s < FAST_SHARE * self.tempo_s:
            events.append(make_event(now, "fast_descent", descent_s=round(rep.descent_s, 3), tempo_s=self.tempo_s))
        return events

    def _check_set_end(self, t: float, legs_down: bool = False) -> list[Event]:
        """The set ends when the legs are seen down on the floor, or when no rep came for a
        while and none is under way."""
        if not self.in_set or self.phase is Phase.DESCENDED:
            return []
        last = max(self._last_rep_t, self._top.t if self.phase is Phase.AT_TOP else -np.inf)
        if legs_down or t - last > REST_AFTER_S:
            return self._end_set(t)
        return []

    def _end_set(self, t: float) -> list[Event]:
        self.in_set = False
        self._rest()
        return [make_event(t, "set_end", set=self.set_no, reps=self._set_reps, perfect_reps=self._set_perfect)]

    def finish(self, t: float) -> list[Event]:
        """The session ends: close the set in progress."""
        return self._end_set(t) if self.in_set else []
