"""How a person breathes, breath by breath, for the simulated person.

Breathing as people do it: 8-24 breaths a minute, deep and shallow, irregular; a sigh now and
then (a breath twice as deep and longer), short pauses at the end of a breath out, and
sometimes a held breath (5-15 s, after breathing in: in rests, through a descent, while
pressing). The pattern is the lung volume over time, about -1..1 × depth, with the truth
beside it: the rate each breath had, the held breaths and the pauses.
"""
from __future__ import annotations

import math

import numpy as np

#: Breathing in takes this share of a breath (the rest is breathing out): quicker in than out.
INHALE_SHARE = 0.4
#: Breath-to-breath spread of the period and the depth (σ of their logs).
PERIOD_SPREAD = 0.1
DEPTH_SPREAD = 0.2
#: A sigh: this often (per breath), this much deeper and longer.
SIGH_CHANCE, SIGH_DEPTH, SIGH_LENGTH = 1 / 30, 2.2, 1.5
#: A pause after breathing out: this often (per breath), lasting 2-4 s.
PAUSE_CHANCE = 0.04
PAUSE_S = (2.0, 4.0)


class BreathingPattern:
    """The lung volume of one recording, breath by breath.

    rate_hz(t): the breathing rate the person tends to at time t (Hz; follows rests and sets).
    holds: [(start, length_s)] breaths held, each starting at the top of the breath in that
    reaches `start`. seed: the draws.
    """

    def __init__(self, duration_s: float, rate_hz, holds=(), seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        pending = sorted(holds)
        knots_t, knots_v = [0.0], [-0.5]
        self.breaths: list[tuple[float, float]] = []  # (start, rate breaths/min)
        self.holds: list[tuple[float, float]] = []
        self.pauses: list[tuple[float, float]] = []
        t = 0.0
        while t < duration_s:
            period = float(np.exp(rng.normal(0.0, PERIOD_SPREAD))) / max(float(rate_hz(t)), 1e-3)
            depth = float(np.exp(rng.normal(0.0, DEPTH_SPREAD)))
            if rng.random() < SIGH_CHANCE:
                depth, period = depth * SIGH_DEPTH, period * SIGH_LENGTH
            self.breaths.append((t, 60.0 / period))
            top = t + INHALE_SHARE * period
            knots_t.append(top)
            knots_v.append(depth - 0.5)
            if pending and pending[0][0] <= top:
                _, length = pending.pop(0)
                self.holds.append((top, top + length))
                top += length
                knots_t.append(top)
                knots_v.append(depth - 0.5)
            t = top + (1 - INHALE_SHARE) * period
            knots_t.append(t)
            knots_v.append(-0.5)
            if rng.random() < PAUSE_CHANCE:
                pause = float(rng.uniform(*PAUSE_S))
                self.pauses.append((t, t + pause))
                t += pause
                knots_t.append(t)
                knots_v.append(-0.5)
        self._t = np.array(knots_t)
        self._v = np.array(knots_v)

    def volume(self, times: np.ndarray) -> np.ndarray:
        """Lung volume at `times` (about -0.5 breathed out .. depth - 0.5 breathed in): cosine
        easing between the knots, as a breath slows at its turns."""
        times = np.asarray(times, dtype=float)
        i = np.clip(np.searchsorted(self._t, times, side="right") - 1, 0, len(self._t) - 2)
        t0, t1 = self._t[i], self._t[i + 1]
        f = np.clip((times - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)
        v0, v1 = self._v[i], self._v[i + 1]
        return 2.0 * (v0 + (v1 - v0) * (1 - np.cos(math.pi * f)) / 2)  # ~ -1..1 for a usual breath

    def rate_bpm(self, t: float) -> float | None:
        """The rate of the breath under way at t (breaths/min); None while the breath is held."""
        if any(a <= t < b for a, b in self.holds):
            return None
        starts = [b[0] for b in self.breaths]
        k = int(np.searchsorted(starts, t, side="right")) - 1
        return round(self.breaths[max(k, 0)][1], 2)
