"""The coach: how far down the legs are, the stop-here cue, the plan's sets and rest, bouncing.

Pure, like the rest of the pipeline; it reads what the rep counter (reps.py) exposes and
changes nothing there.

- **Depth.** The legs' lever tilts the pelvis (reps.py): the tilt is least with the legs
  vertical and greatest nearly horizontal. So depth = where the tilt stands between the
  descent's top (its least since the last rep) and the person's full lowering: the deepest of
  their recent clean descents (top to bottom), or where the legs left the floor (nearly
  horizontal) when that was deeper. 0 = vertical, 1 = as far down as this person goes.
- **Stop here.** The depth at which the back begins to give way is consistent for a person (it
  is their strength against the legs' lever). Learnt from the session's own lift-offs (the depth
  where the contact began to fall) or taken from the floor finder, a soft cue sounds as a
  descent comes within STOP_MARGIN of it: before the back lifts, which no cushion can do.
- **Sets by the plan.** Only perfect reps count toward the plan's target; `set_done` when a set
  reaches it (`last` after the plan's last set). The rest timer runs from the set's end.
- **Bouncing.** Legs swung down rebound off the bottom: the tilt falls back from its bottom
  faster than any controlled turn. Momentum, not muscle: its own fault.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from mat.pipeline.events import Event, make_event
from mat.pipeline.reps import RepCounter

#: The span from vertical to the floor must be at least this (log ratio) to give a depth:
#: a smaller one is noise, not legs.
MIN_SPAN = 0.05
#: The back began to give way where lumbar contact began to fall faster than this (fraction per
#: s, over FALL_WINDOW_S): an arch takes it down by several tenths a second; lowering the legs with
#: good form by about a twentieth.
FALL_RATE = 0.3
FALL_WINDOW_S = 0.1
#: The stop-here depth is the median of this many recent give-way depths...
GIVE_WAY_MEMORY = 5
#: ...once there are at least this many (one lift-off may have been anything)...
GIVE_WAY_MIN = 2
#: ...and the cue sounds this much depth before it (a tenth of the lowering: about 9°, a third
#: of a second at a 3-s descent): early enough to stop, late enough to leave the reps their range.
STOP_MARGIN = 0.10
#: A descent is under way once it is this deep (the cue never sounds at the top).
DESCENT_STARTED = 0.15
#: A bounce: the tilt falls back from the bottom by this share of the descent's swing...
BOUNCE_SHARE = 0.2
#: ...within this long of reaching it (s). A controlled turn takes longer: even a 1-s ascent
#: from a standstill covers under 15 % of its swing in its first quarter second.
BOUNCE_S = 0.25
#: The coach follows the tilt smoothed this lightly (s): a rebound lasts a few tenths.
FOLLOW_SMOOTHING_S = 0.04
#: A rebound is confirmed when, this long after the bottom, the legs are still up: the tilt
#: still this share of the swing above the top (s, share).
BOUNCE_HOLD_S = 0.5
BOUNCE_HELD_SHARE = 0.4
#: Only a real descent can bounce (depth).
BOUNCE_MIN_DEPTH = 0.3
#: The full lowering is the deepest of this many recent clean swings.
FULL_MEMORY = 10
#: The contact fell below this in a descent: an arch or a near miss, whose recovery moves the
#: tilt fast too (not a rebound), and whose swing is no clean lowering (fraction).
DIP_CONTACT = 0.6
#: History kept for looking back to a rep's top and bottom (s).
HISTORY_S = 20.0


@dataclass
class Plan:
    """Sets of perfect reps with a rest between them (settings.py owns the limits)."""

    sets: int = 3
    reps: int = 10
    rest_s: float = 60.0


class Coach:
    """Depth, the stop-here cue, sets by the plan, the rest timer and bouncing, frame by frame.

    plan: the plan. stop_depth: the stop-here depth from the floor finder (None: learnt from
    the session's lift-offs)."""

    def __init__(self, plan: Plan | None = None, stop_depth: float | None = None) -> None:
        self.plan = plan or Plan()
        self.floor_finder_depth = stop_depth
        self.depth: float | None = None        # now, while a set's span is known
        self.sets_done = 0                     # sets that reached the plan's target
        self.set_perfect = 0                   # perfect reps in the set under way
        self.rest_until_t: float | None = None # the rest timer's end, after a set
        self.give_way: deque[float] = deque(maxlen=GIVE_WAY_MEMORY)
        self.stop_cues = 0
        self._set_no = 0
        self._history: deque[tuple[float, float, float | None]] = deque()  # (t, tilt, contact)
        self._lift: tuple[float, float] | None = None
        self._lift_span: float | None = None   # the set's top below where the legs left the floor
        self._clean_swings: deque[float] = deque(maxlen=FULL_MEMORY)
        self._top_x: float | None = None       # least tilt since the last rep: this descent's top
        self._cued = False                     # the stop cue sounded in this descent
        self._fast_x: float | None = None      # lightly smoothed raw tilt, for rebounds
        self._fast_t: float | None = None
        self._peak: tuple[float, float] | None = None  # (t, tilt) the highest since the top
        self._bounced = False
        # (peak t, depth, rebound share, confirmed, swing, top) of a rebound in this descent
        self._candidate: tuple | None = None
        self._dipped = False                   # contact dipped in this descent (an arch moves the tilt)
        self._active = False                   # the legs are up: a set is under way

    # -- what it knows --------------------------------------------------------------------
    @property
    def stop_depth(self) -> float | None:
        """Where the cue aims: the median of the session's give-way depths once it has two,
        before that the floor finder's."""
        if len(self.give_way) >= GIVE_WAY_MIN:
            ordered = sorted(self.give_way)
            n = len(ordered)
            return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
        return self.floor_finder_depth

    def rest_remaining_s(self, t: float) -> float | None:
        if self.rest_until_t is None:
            return None
        return max(self.rest_until_t - t, 0.0)

    @property
    def finished(self) -> bool:
        return self.sets_done >= self.plan.sets

    def set_aside(self) -> None:
        """The floor finder runs its own descent: no cue until the legs leave the floor again."""
        self._active = False
        self._new_descent(self._top_x if self._top_x is not None else 0.0)

    # -- frames ---------------------------------------------------------------------------
    def update(self, t: float, reps: RepCounter, contact: float | None, events: list[Event]) -> list[Event]:
        """After the rep counter and the lift-off detector have seen the frame: adds `depth`
        to this frame's `rep` and `liftoff` events (and `bounce` to reps), and returns the
        coach's own events."""
        out: list[Event] = []
        x = self._follow(t, reps.raw_tilt) if reps.tilt is not None else None
        if x is None:  # no tilt yet: no depth, but every rep and lift-off says so
            for event in events:
                if event["type"] in ("rep", "liftoff"):
                    event["depth"] = None
                    if event["type"] == "rep":
                        event["bounce"] = False
            return out
        self._history.append((t, x, contact))
        while self._history and self._history[0][0] < t - HISTORY_S:
            self._history.popleft()
        lift = reps.lift_tilt
        if lift is not None and lift != self._lift:
            self._lift, self._lift_span = lift, None
            self._new_descent(x)
            self._active = True
            self.rest_until_t = None
        if self._top_x is None or x < self._top_x:
            self._top_x = x
            self._peak = None  # still rising to the top: no bottom yet
        self.depth = self._depth(x, reps)
        if self._lift is not None and self._active and self._lift[1] - self._top_x >= MIN_SPAN:
            # the set's first top lies below the lift: the largest gap is the legs' whole range
            self._lift_span = max(self._lift_span or 0.0, self._lift[1] - self._top_x)
        if contact is not None and contact < DIP_CONTACT:
            self._dipped = True
        out += self._watch_stop(t)
        self._watch_bounce(t, reps)
        for event in events:
            kind = event["type"]
            if kind == "liftoff":
                depth = self._give_way_depth(event, reps)
                event["depth"] = None if depth is None else round(depth, 3)
                if depth is not None and self._active:
                    self.give_way.append(depth)
                self._cued = True  # too late for this descent
            elif kind == "rep":
                out += self._on_rep(event, reps)
            elif kind == "set_end":
                self._active = False
                if not self.finished:
                    self.rest_until_t = t + self.plan.rest_s
        return out

    # -- depth ----------------------------------------------------------------------------
    def _span(self) -> float | None:
        spans = list(self._clean_swings) + ([self._lift_span] if self._lift_span is not None else [])
        span = max(spans, default=None)
        return span if span is not None and span >= MIN_SPAN else None

    def _depth(self, x: float, reps: RepCounter, top_x: float | None = None) -> float | None:
        top_x = self._top_x if top_x is None else top_x
        if top_x is None:
            return None
        span = self._span()
        return None if span is None else min(max((x - top_x) / span, 0.0), 1.5)

    def _tilt_at(self, t: float) -> float | None:
        best = None
        for ht, hx, _ in self._history:
            if best is None or abs(ht - t) < abs(best[0] - t):
                best = (ht, hx)
        return None if best is None else best[1]

    def _give_way_depth(self, liftoff: Event, reps: RepCounter) -> float | None:
        """The depth where the contact began to fall: walking back from the lift-off, the
        last moment it was not yet falling steeply. (Later the arch itself empties the lumbar
        cells and swings the tilt far beyond where the legs are.)"""
        samples = list(self._history)
        i = len(samples) - 1
        while i > 0:
            t, _, c = samples[i]
            j = i
            while j > 0 and samples[j][0] > t - FALL_WINDOW_S:
                j -= 1
            earlier = samples[j][2]
            if c is None or earlier is None or earlier - c < FALL_RATE * (t - samples[j][0]):
                break
            i = j
        return self._depth(samples[i][1], reps) if samples else None

    # -- reps and sets --------------------------------------------------------------------
    def _on_rep(self, rep: Event, reps: RepCounter) -> list[Event]:
        top_x, bottom_x = self._tilt_at(rep["top_t"]), self._tilt_at(rep["bottom_t"])
        if rep["perfect"] and not self._dipped and top_x is not None and bottom_x is not None:
            self._clean_swings.append(bottom_x - top_x)
        depth = None if top_x is None or bottom_x is None else self._depth(bottom_x, reps, top_x)
        rep["depth"] = None if depth is None else round(depth, 3)
        out: list[Event] = []
        # A rebound counts when it was at this rep's bottom (legs put down on the floor after a
        # set's last rep fall fast too, but make no rep).
        candidate, self._candidate = self._candidate, None
        rep["bounce"] = (candidate is not None and candidate[3]
                         and abs(candidate[0] - rep["bottom_t"]) <= 2 * BOUNCE_S)
        if rep["bounce"]:
            out.append(make_event(rep["t"], "bounce", depth=candidate[1], rebound=candidate[2]))
        if rep["set"] != self._set_no:
            self._set_no, self.set_perfect = rep["set"], 0
        if rep["perfect"] and not self.finished:
            self.set_perfect += 1
            if self.set_perfect == self.plan.reps:
                self.sets_done += 1
                out.append(make_event(rep["t"], "set_done", set=self.sets_done, perfect_reps=self.set_perfect,
                                      sets_planned=self.plan.sets, last=self.finished))
        self._new_descent(self._history[-1][1])
        return out

    def _new_descent(self, x: float) -> None:
        self._top_x = x
        self._cued = self._bounced = self._dipped = False
        self._peak = self._candidate = None

    # -- the stop-here cue ----------------------------------------------------------------
    def _watch_stop(self, t: float) -> list[Event]:
        target = self.stop_depth
        if (not self._active or self._cued or target is None or self.depth is None
                or self.depth < DESCENT_STARTED):
            return []
        if self.depth >= target - STOP_MARGIN:
            self._cued = True
            self.stop_cues += 1
            return [make_event(t, "stop_cue", depth=round(self.depth, 3), stop_depth=round(target, 3))]
        return []

    # -- bouncing -------------------------------------------------------------------------
    def _follow(self, t: float, raw: float | None) -> float | None:
        """The raw tilt, lightly smoothed: the rep counter's smoothing lags a descent by a
        quarter second, too late for a cue and too slow for a rebound."""
        if raw is None:
            return self._fast_x
        if self._fast_x is None:
            self._fast_x, self._fast_t = raw, t
        else:
            k = min(max(t - self._fast_t, 0.0) / FOLLOW_SMOOTHING_S, 1.0)
            self._fast_x += (raw - self._fast_x) * k
            self._fast_t = t
        return self._fast_x

    def _watch_bounce(self, t: float, reps: RepCounter) -> None:
        if not self._active or self._top_x is None:
            return
        x = self._fast_x
        if self._candidate is not None and not self._candidate[3]:
            peak_t, depth, rebound, _, swing, top_x = self._candidate
            if t - peak_t >= BOUNCE_HOLD_S:
                # Legs that rebound stay up; legs put down on the floor after a set's last rep
                # fall all the way (the pelvis loses their weight): no bounce.
                held = x >= top_x + BOUNCE_HELD_SHARE * swing
                self._candidate = (peak_t, depth, rebound, True, swing, top_x) if held else None
            return
        if self._bounced:
            return
        if self._peak is None or x > self._peak[1]:
            self._peak = (t, x)
            return
        peak_t, peak_x = self._peak
        swing = peak_x - self._top_x
        depth = self._depth(peak_x, reps)
        if (t - peak_t <= BOUNCE_S and not self._dipped and depth is not None and depth >= BOUNCE_MIN_DEPTH
                and peak_x - x >= BOUNCE_SHARE * swing):
            self._bounced = True
            self._candidate = (peak_t, round(depth, 3), round((peak_x - x) / swing, 3), False, swing, self._top_x)
