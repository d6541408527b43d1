"""Breathing rate and held breaths, from the small ripple breathing puts on the grid.

The physics (hardware/README.md, "What the sensors see"): the chest and belly rise and fall 8-24 times a minute, so
every loaded cell's reading swells and ebbs by a few per cent: most under the lower ribs, less
under the lumbar spine and sacrum, and not always in the same direction (the ribs may press down
while the pelvis unloads). The legs' movement in a set, a cough or a shift move the same cells
by tens of per cent and swamp it.

So, per session:

- every frame's log load (log: a cell's gain cancels, the ripple is a share) is averaged into
  0.1-s bins. The bin kills mains hum (50 or 60 Hz: whole periods) and most frame noise, and
  the analysis then runs on 10 samples a second, not on every frame;
- a bin in which some loaded cell moved much more in a second than any breath moves it is
  *motion*; nothing is estimated from data older than the last motion plus a settling time
  (return null, don't guess);
- every ANALYSIS_EVERY_S the clean stretch is detrended (creep, drift), each cell is scaled by
  its own noise, and the cells are combined along the principal component of what is left:
  the combination that carries the most ripple for the noise, with each cell's sign and
  weight taken from its own ripple (the rib cells win where they carry it);
- breaths are found on that one signal by a zigzag with hysteresis (an extreme counts once the
  signal has come back from it by a share of this person's own breath size). Counting real
  breaths follows an irregular rhythm, sighs and pauses and needs no assumption of a steady
  frequency, which a spectrum would (and a 20-s spectrum resolves only 3 breaths/min). The
  rate is the breaths counted over the last RATE_SPAN_S, cut at any gap far longer than the
  usual (a held breath or a pause is not a slow breath);
- a held breath is looked for every HOLD_CHECK_EVERY_S along the cell combination that last
  showed this person's breaths (their rib cells, where the ripple is strongest), undetrended:
  the ripple collapsing from their usual breath size to a gentle line (creep) for longer than
  any turn of their breath lasts, right after a breath of their size, and not sliding toward
  the breathed-out level (that is a slow breath out). It needs no breaths counted since the
  last set: the first breath after the legs come down is enough.

Estimates are reported as `breathing` events every REPORT_EVERY_S and `breath_hold` once per
held breath (mat/README.md, "mat replay").
"""
from __future__ import annotations

import math

import numpy as np

from mat.pipeline.events import Event, make_event

#: Decimated sample rate (Hz): 10 samples a second follow a 24 /min breath (0.4 Hz) easily,
#: and a 0.1-s bin holds whole periods of 50 and 60 Hz hum.
SAMPLE_HZ = 10.0
#: How much history the analysis keeps (s): 3 breaths at 8 /min, plus room.
BUFFER_S = 40.0
#: How often the rate is analysed (s): a rate counted over 16 s changes little in a second.
ANALYSIS_EVERY_S = 1.0
#: How often a held breath is looked for (s): it must be cued within seconds, and the look
#: is cheap (one combination along the remembered cells).
HOLD_CHECK_EVERY_S = 0.5
#: A `breathing` event this often while someone lies on the mat (s), as the contract asks.
REPORT_EVERY_S = 10.0
#: The rate counts the breaths over this last stretch (s; at least MIN_BREATHS breaths): close
#: to the 15 s over which a listener would count.
RATE_SPAN_S = 16.0
#: Breathing rates a person lying down can have (breaths/min).
MIN_BPM, MAX_BPM = 6.0, 30.0
#: Motion: the sacral row (the last: it carries the legs' weight, and breathing moves it least)
#: moved more than this in MOTION_LAG_S (mean log load of its cells, smoothed over 0.5 s).
#: Lying still it moves < 0.025 (99th percentile, noisy grids included); legs moving in a set
#: move it more than this two seconds out of three and never leave it still for 2.5 s.
MOTION_SACRAL_STEP = 0.05
#: ...or any loaded cell moved more than this: a shift, a cough, arms (a deep breath: < 0.16).
MOTION_LOG_STEP = 0.25
MOTION_LAG_S = 1.0
#: After motion, readings settle (creep restarts, the body sinks back) for this long (s).
SETTLE_S = 2.0
#: A clean stretch shorter than this is not analysed (s): the breaths that show a held
#: breath may be the first few after a set.
MIN_CLEAN_S = 6.0
#: ...and it must hold at least this many whole breaths.
MIN_BREATHS = 2
#: Cells carrying less than this share of the busiest cell's load are left out of the motion
#: check: their log is dominated by noise and the unloaded conduction.
LOADED_SHARE = 0.1
#: A session starts as the body arrives; lying down takes a second or two (s).
LYING_DOWN_S = 3.0
#: Log offset: a cell's log load is taken of load + this share of the busiest cell's load (below
#: the unloaded conduction of a few per cent, so a loaded cell's ripple is not diluted), so an
#: unloaded cell cannot reach log(0).
LOG_OFFSET_SHARE = 0.01
#: The zigzag confirms an extreme once the signal came back this share of the typical breath...
ZIGZAG_SHARE = 0.3
#: ...and never less than this many noise σ of the combined, smoothed signal.
ZIGZAG_NOISE = 3.0
#: Breathing is only followed when the ripple stands this far above the noise (breath size,
#: 5th-95th percentile, over the smoothed noise σ).
MIN_SNR = 6.0
#: The autocorrelation judges the last AUTOCORR_SPAN_S (s): two breaths at 6 /min fit in it.
AUTOCORR_SPAN_S = 25.0
#: A repetition counts from this correlation; the first one at least AUTOCORR_NEAR_BEST of the
#: best is the period (the best alone may be two breaths, with a deeper breath every other one).
AUTOCORR_MIN = 0.2
AUTOCORR_NEAR_BEST = 0.7
#: Counted rate and autocorrelation period agree within this share (about the 1 breath/min a
#: rate must be right to at 15 /min), or the rate is unknown.
RATE_AGREEMENT = 0.07
#: A gap between extremes longer than this many typical half-breaths is a pause or a hold: the
#: rate is counted after it.
GAP_FACTOR = 2.2
#: Smoothing of the combined signal (samples at SAMPLE_HZ): 0.5 s keeps a 24 /min breath at 94 %.
SMOOTH_SAMPLES = 5
#: A held breath (`_check_hold`): along the remembered breath cells, the signal stays on a
#: line, within this share of the typical breath...
HOLD_FLAT_SHARE = 0.25
#: ...judged on the signal smoothed over this many samples (1 s: a breath is still 2.5 s long)...
HOLD_SMOOTH_SAMPLES = 10
#: ...and never narrower than this many noise σ of one sample (cells scaled to unit noise),
#: over the smoothing's sqrt(length).
HOLD_NOISE = 4.0
#: The line may move by less than this share of the breath size (creep, drift)...
HOLD_DRIFT_SHARE = 1.0
#: ...and, where breathing in is known to raise the signal, by less than this share toward the
#: breathed-out side: a held breath does not breathe out; a slow or shallow breath out does.
HOLD_EXHALE_SHARE = 0.35
#: For this long at least (s), and at least HOLD_HALF_CYCLES of this person's breath period: a
#: window that long always holds a turn of a breath, which no line follows (a breath out alone,
#: 0.6 of a breath, can look straight).
HOLD_FLAT_MIN_S = 3.5
HOLD_HALF_CYCLES = 0.8
#: Held breaths are only looked for in breaths this many smoothed-noise σ deep (a ripple
#: barely above the noise looks flat half the time).
HOLD_MIN_SNR = 10.0
#: The breath that led into the stop must be at least this share of the typical one: else the
#: remembered combination no longer shows this person's breathing (they moved).
KNOWN_SWING_SHARE = 0.6
#: Flat on the breathed-out side: end-expiratory pauses last 2-4 s (longer in slow breathers),
#: so only this long a stop is a held breath (s, and breath periods).
HOLD_EXPIRED_MIN_S = 5.0
HOLD_EXPIRED_CYCLES = 0.9
#: The live page's trace: the last TRACE_S of the breathing signal, every TRACE_STEP-th sample
#: (2.5 a second: five or more a breath up to 30 /min, and only 50 numbers in a live state that
#: goes out 15 times a second).
TRACE_S = 20.0
TRACE_STEP = 4
#: Breathing in is quicker than breathing out by at least this share of the longer edge, or the
#: breaths tell nothing about which side is which.
INHALE_ASYMMETRY = 0.15
#: A level this far from the breathed-out extremes toward the breathed-in ones is breathed in.
INSPIRED_POSITION = 0.4


class _Ring:
    """The last `n` rows, read oldest first as one contiguous view without copying: each row
    is written twice, at i and at i + n."""

    def __init__(self, n: int, width: int = 0, dtype=float) -> None:
        self._buf = np.zeros((2 * n, width) if width else 2 * n, dtype)
        self._n, self._i, self.size = n, 0, 0

    def append(self, row) -> None:
        self._buf[self._i] = row
        self._buf[self._i + self._n] = row
        self._i = (self._i + 1) % self._n
        self.size = min(self.size + 1, self._n)

    def last(self, k: int | None = None) -> np.ndarray:
        k = self.size if k is None else min(k, self.size)
        end = self._i + self._n
        return self._buf[end - k:end]


class BreathingEstimator:
    """Breathing rate and held breaths of the person on the mat, from conditioned frames.

    Feed every frame of a session with `update(t, load, alive)`; it returns the events that
    became due (`breathing` every REPORT_EVERY_S, `breath_hold` once per held breath). Start
    a new object per session. rate_bpm is the latest estimate (breaths/min) or None; trace the
    breathing signal the latest analysis saw (`_live_trace`), or None while it sees none (moving).
    """

    def __init__(self, t: float) -> None:
        self.start_t = t
        self.rate_bpm: float | None = None
        self.holds = 0
        self.trace: list[float] | None = None
        self._inhale_sign = 1.0  # the trace is drawn with breathing in upward, once that is known
        self._next_report_t = t + REPORT_EVERY_S
        self._next_analysis_t = t + ANALYSIS_EVERY_S
        self._next_hold_check_t = t + HOLD_CHECK_EVERY_S
        self._bin_end = t + 1.0 / SAMPLE_HZ
        self._bin_sum: np.ndarray | None = None
        self._bin_n = 0
        self._bin_alive: np.ndarray | None = None
        self._offset: np.ndarray | None = None
        self._last_motion_t = t
        self._period_s: float | None = None   # the typical breath period, last time it was known
        self._weights: np.ndarray | None = None  # last principal direction (for a steady sign)
        self._holding = False
        self._stretch: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # The cell combination (log load per cell -> breath signal, breathing in upward when
        # known) that last showed this person's breaths, and their size along it.
        self._breath_pattern: np.ndarray | None = None
        self._breath_swing = 0.0
        self._inhale_known = False

    # -- frames -----------------------------------------------------------------------------
    def update(self, t: float, load: np.ndarray, alive: np.ndarray) -> list[Event]:
        if self._offset is None:
            if t - self.start_t < LYING_DOWN_S:
                return []  # still lying down: the load is not there yet
            busiest = float(np.max(np.where(alive, load, 0.0)))
            if busiest <= 0:
                return []
            self._start_buffers(load.shape, LOG_OFFSET_SHARE * busiest)
        while t >= self._bin_end:
            self._close_bin()
        # Per frame only a sum: the log is taken of each 0.1-s bin's mean (the bin is far
        # shorter than a breath, so the ripple's share is the same), and the cells alive at the
        # bin's last frame count for it (a cell is declared dead over seconds, not in 0.1 s).
        if self._bin_n == 0:
            self._bin_sum[:] = load
        else:
            self._bin_sum += load
        self._bin_alive = alive
        self._bin_n += 1
        events: list[Event] = []
        if t >= self._next_analysis_t:
            self._next_analysis_t = t + ANALYSIS_EVERY_S
            unknown = self.rate_bpm is None
            self._analyse(t)
            if unknown and self.rate_bpm is not None:
                self._next_report_t = t  # a rate just became known: show it now, not in up to 10 s
        if t >= self._next_hold_check_t:
            self._next_hold_check_t = t + HOLD_CHECK_EVERY_S
            events += self._check_hold(t)
        if t >= self._next_report_t:
            self._next_report_t = t + REPORT_EVERY_S
            events.append(make_event(t, "breathing", rate_bpm=self.rate_bpm))
        return events

    def _start_buffers(self, shape, offset: float) -> None:
        self._shape = shape
        cells = int(np.prod(shape))
        self._offset = np.full(cells, offset)
        self._loaded_log = math.log(offset * (1 + LOADED_SHARE / LOG_OFFSET_SHARE))
        self._bin_sum = np.zeros(shape)
        self._sacral = slice(cells - shape[-1], cells)  # the last row's cells, flat
        n = int(BUFFER_S * SAMPLE_HZ)
        self._samples = _Ring(n, cells)
        self._times = _Ring(n)
        self._alive = _Ring(n, cells, bool)
        self._smooth = _Ring(int(MOTION_LAG_S * SAMPLE_HZ) + 1, cells)

    def _close_bin(self) -> None:
        end = self._bin_end
        self._bin_end += 1.0 / SAMPLE_HZ
        if self._bin_n == 0:
            return  # a gap in the frames: no sample, the analysis uses the times it has
        sample = np.log(np.maximum(self._bin_sum.ravel() / self._bin_n, 0.0) + self._offset)
        alive = self._bin_alive.ravel().copy()
        self._bin_n = 0
        self._samples.append(sample)
        self._times.append(end - 0.5 / SAMPLE_HZ)
        self._alive.append(alive)
        self._note_motion(end, alive)

    def _note_motion(self, t: float, alive: np.ndarray) -> None:
        """Motion: a loaded cell's log load moved more in MOTION_LAG_S than a breath moves it."""
        recent = self._samples.last(SMOOTH_SAMPLES)
        smooth = recent.sum(axis=0) / len(recent)
        self._smooth.append(smooth)
        if self._smooth.size < self._smooth._n:
            return
        change = smooth - self._smooth.last()[0]
        sacral = alive[self._sacral]
        n_sacral = int(sacral.sum())
        sacral_step = abs(float(change[self._sacral] @ sacral)) / n_sacral if n_sacral else 0.0
        if sacral_step > MOTION_SACRAL_STEP:
            self._last_motion_t = t
            return
        loaded = alive & (smooth > self._loaded_log)
        if float(np.abs(change, where=loaded, out=np.zeros_like(change)).max()) > MOTION_LOG_STEP:
            self._last_motion_t = t

    # -- analysis ----------------------------------------------------------------------------
    def _analyse(self, t: float) -> None:
        signal = self._clean_signal()
        if signal is None:
            self.rate_bpm = None
            self.trace = None
            return
        times, s, noise = signal
        extremes = _zigzag(times, s, noise)
        self.trace = self._live_trace(s, extremes)
        rate = self._rate(times, s, extremes, noise, t)
        # The breaths counted must agree with the signal's own repetition (autocorrelation):
        # noise that adds or hides a breath changes the count, not the period it repeats at.
        period = _autocorrelation_period(s[-int(AUTOCORR_SPAN_S * SAMPLE_HZ):])
        if rate is not None and (period is None or abs(rate * period / 60.0 - 1.0) > RATE_AGREEMENT):
            rate = None
        self.rate_bpm = rate
        if rate is not None:
            self._period_s = 60.0 / rate
            self._remember_breaths(extremes)

    @property
    def holding(self) -> bool:
        """A held breath was cued and the signal is still flat (False while nothing is seen)."""
        return self._holding and self.trace is not None

    def _live_trace(self, s: np.ndarray, extremes) -> list[float]:
        """The last TRACE_S of the combined signal for the live page, in units of the cells'
        own noise, breathing in upward when the breaths' edges tell (the principal component's
        sign is arbitrary). Oldest first, the newest sample last."""
        sign = _inhale_sign(extremes)
        if sign is not None:
            self._inhale_sign = sign
        recent = s[-int(TRACE_S * SAMPLE_HZ):][::-1][::TRACE_STEP][::-1]
        return [round(float(v) * self._inhale_sign, 1) for v in recent]

    def _remember_breaths(self, extremes) -> None:
        """The cell combination that showed these breaths (log units, breathing in upward when
        the breaths' edges tell) and their size along it."""
        x, alive, cell_noise = self._stretch
        pattern = np.zeros(alive.shape)
        pattern[alive] = self._weights / cell_noise
        sign = _inhale_sign(extremes)
        if sign is not None:
            pattern *= sign
        elif self._breath_pattern is not None and float(pattern @ self._breath_pattern) < 0:
            pattern = -pattern  # unknown this time: keep the side known before
        self._inhale_known = sign is not None or (self._inhale_known and self._breath_pattern is not None)
        self._breath_pattern = pattern
        self._breath_swing = float(np.median([abs(b[1] - a[1]) for a, b in zip(extremes, extremes[1:])]))

    def _clean_signal(self) -> tuple[np.ndarray, np.ndarray, float] | None:
        """The combined breathing signal over the clean stretch: (times, values, noise σ)."""
        if not self._times.size:
            return None
        times = self._times.last()
        start = self._last_motion_t + SETTLE_S
        first = int(np.searchsorted(times, start))
        if times[-1] - times[min(first, len(times) - 1)] < MIN_CLEAN_S or len(times) - first < 20:
            return None
        times = times[first:]
        x = self._samples.last(len(times))
        alive = self._alive.last(len(times)).all(axis=0)
        if alive.sum() < 2:
            return None
        x = x[:, alive]
        # Creep and drift: creep restarted with the last motion and climbs as ln(1 + age / 1 s)
        # (hardware/README.md); a quadratic takes the slower drift.
        u = (times - times.mean()) / max(times[-1] - times[0], 1e-9)
        creep = np.log1p(np.maximum(times - self._last_motion_t, 0.0))
        basis = np.stack([np.ones_like(u), u, u * u, creep - creep.mean()], axis=1)
        coeffs, *_ = np.linalg.lstsq(basis, x, rcond=None)
        x = x - basis @ coeffs
        # Each cell's noise from its second differences: a breath barely moves them at 10 Hz.
        d2 = np.diff(x, 2, axis=0)
        noise = 1.4826 * np.median(np.abs(d2 - np.median(d2, axis=0)), axis=0) / math.sqrt(6.0)
        noise = np.maximum(noise, 1e-6)
        z = x / noise
        cov = z.T @ z / len(z)
        _, vectors = np.linalg.eigh(cov)
        w = vectors[:, -1]
        if self._weights is not None and self._weights.shape == w.shape and float(w @ self._weights) < 0:
            w = -w  # keep the sign steady from one analysis to the next
        self._weights = w
        self._stretch = (x, alive, noise)
        s = z @ w
        s = _trailing_mean(s, SMOOTH_SAMPLES)
        # Unit weights on unit-noise cells: the smoothed signal's noise σ is 1/sqrt(kernel length).
        return times, s, 1.0 / math.sqrt(SMOOTH_SAMPLES)

    def _rate(self, times, s, extremes, noise, now) -> float | None:
        size = _breath_size(s)
        if size < MIN_SNR * noise or len(extremes) < 2 * MIN_BREATHS + 1:
            return None
        ext_t = np.array([e[0] for e in extremes])
        half = np.diff(ext_t)
        typical_half = float(np.median(half))
        # Count after the last long gap (a held breath or a pause is not a slow breath).
        gaps = np.flatnonzero(half > GAP_FACTOR * typical_half)
        if gaps.size:
            ext_t = ext_t[gaps[-1] + 1:]
        if len(ext_t) < 2 * MIN_BREATHS + 1:
            return None
        # The last RATE_SPAN_S, or the last MIN_BREATHS breaths when they take longer (slow).
        ext_t = ext_t[min(int(np.searchsorted(ext_t, now - RATE_SPAN_S)), len(ext_t) - 2 * MIN_BREATHS - 1):]
        breaths = (len(ext_t) - 1) / 2.0
        rate = 60.0 * breaths / (ext_t[-1] - ext_t[0])
        if not MIN_BPM <= rate <= MAX_BPM:
            return None
        return round(float(rate), 1)

    def _check_hold(self, now: float) -> list[Event]:
        """A held breath: along the cell combination that last showed this person's breaths,
        the ripple stops (the signal stays on a line, well inside their breath size) for
        longer than their breaths ever pause, right after a breath of about their usual size.

        Judged on the raw combination, not on the stretch detrended for the rate: a fit over a
        short stretch that ends in a plateau bends toward it, and the plateau then seems to
        move. Creep and drift are a gentle straight line over the few seconds judged here."""
        pattern, period, swing = self._breath_pattern, self._period_s, self._breath_swing
        if pattern is None or not self._times.size or swing < HOLD_MIN_SNR / math.sqrt(SMOOTH_SAMPLES):
            self._holding = False
            return []
        inspired_s = max(HOLD_FLAT_MIN_S, HOLD_HALF_CYCLES * period)
        expired_s = max(HOLD_EXPIRED_MIN_S, HOLD_EXPIRED_CYCLES * period)
        times = self._times.last(int((expired_s + period + 1.0) * SAMPLE_HZ))
        times = times[int(np.searchsorted(times, self._last_motion_t + SETTLE_S)):]
        if len(times) < 2 * HOLD_SMOOTH_SAMPLES:
            self._holding = False
            return []
        alive = self._alive.last(len(times)).all(axis=0)
        y = _trailing_mean(self._samples.last(len(times)) @ np.where(alive, pattern, 0.0), HOLD_SMOOTH_SAMPLES)
        band = max(HOLD_FLAT_SHARE * swing, HOLD_NOISE / math.sqrt(HOLD_SMOOTH_SAMPLES))
        exhale = HOLD_EXHALE_SHARE * swing if self._inhale_known else math.inf
        stop = _stopped(times, y, now - inspired_s, band, HOLD_DRIFT_SHARE * swing, exhale)
        if stop is None:
            self._holding = False
            return []
        if self._holding:
            return []  # cued already, still held
        k, level = stop
        # The breath that led into the stop: about this person's size, or the combination no
        # longer shows their breathing (they moved) and flat means nothing.
        before = y[int(np.searchsorted(times, times[k] - period)):k + 1]
        if np.ptp(before) < KNOWN_SWING_SHARE * swing:
            return []
        if not (self._inhale_known and level - before.min() >= INSPIRED_POSITION * np.ptp(before)):
            # On the breathed-out side (or unknown) the end of a breath often rests a few
            # seconds: only a longer stop is a held breath.
            stop = _stopped(times, y, now - expired_s, band, HOLD_DRIFT_SHARE * swing, exhale)
            if stop is None:
                return []
            k = stop[0]
        self._holding = True
        self.holds += 1
        return [make_event(now, "breath_hold", duration_s=round(float(now - times[k]), 1))]


def _stopped(times: np.ndarray, y: np.ndarray, since: float, band: float, max_drift: float,
             max_fall: float):
    """Has the signal stayed on one gentle line since `since`? (index of `since`, the line's
    level there) or None. Its residual must stay within `band`, and the line move less than
    `max_drift` (creep and drift, not a slow breath) and fall (breathing in upward) less than
    `max_fall`."""
    k = int(np.searchsorted(times, since))
    if k == 0 or len(times) - k < HOLD_SMOOTH_SAMPLES:
        return None  # the clean stretch is younger than the stop would be
    t, v = times[k:] - times[k], y[k:]
    slope = float(np.dot(t - t.mean(), v - v.mean()) / max(np.dot(t - t.mean(), t - t.mean()), 1e-9))
    residual = v - v.mean() - slope * (t - t.mean())
    moved = slope * float(t[-1])
    if float(np.ptp(residual)) > band or abs(moved) > max_drift or -moved > max_fall:
        return None
    return k, float(v.mean() - slope * t.mean())


def _inhale_sign(extremes: list[tuple[float, float]]) -> float | None:
    """+1 when breathing in raises the signal (its rises are the quicker edges), -1 when it
    lowers it, None when the edges are too alike to tell."""
    rises = [b[0] - a[0] for a, b in zip(extremes, extremes[1:]) if b[1] > a[1]]
    falls = [b[0] - a[0] for a, b in zip(extremes, extremes[1:]) if b[1] < a[1]]
    if not rises or not falls:
        return None
    rise, fall = float(np.median(rises)), float(np.median(falls))
    if abs(rise - fall) < INHALE_ASYMMETRY * max(rise, fall):
        return None
    return 1.0 if rise < fall else -1.0


def _autocorrelation_period(s: np.ndarray) -> float | None:
    """The period (s) the signal repeats at: the first autocorrelation peak within the
    breathing range that comes near the highest one (the highest alone may be two breaths)."""
    n = len(s)
    lo, hi = int(SAMPLE_HZ * 60.0 / MAX_BPM), int(SAMPLE_HZ * 60.0 / MIN_BPM)
    if n < 2 * lo + 2:
        return None
    x = s - s.mean()
    spectrum = np.fft.rfft(x, 2 * n)
    r = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    if r[0] <= 0:
        return None
    r = r / r[0] * n / np.maximum(n - np.arange(n), 1)  # unbiased: long lags have fewer pairs
    hi = min(hi, n // 2)
    peaks = [k for k in range(lo, hi) if r[k] >= r[k - 1] and r[k] > r[k + 1] and r[k] > AUTOCORR_MIN]
    if not peaks:
        return None
    best = max(r[k] for k in peaks)
    k = next(k for k in peaks if r[k] >= AUTOCORR_NEAR_BEST * best)
    # Parabolic interpolation between the samples around the peak.
    a, b, c = r[k - 1], r[k], r[k + 1]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c != 0 else 0.0
    return (k + shift) / SAMPLE_HZ


def _trailing_mean(x: np.ndarray, n: int) -> np.ndarray:
    """Mean of each sample and the n - 1 before it (fewer at the start): causal, so the
    latest samples, where a held breath shows first, are not pulled toward zero."""
    c = np.cumsum(np.concatenate([[0.0], x]))
    i = np.arange(1, len(x) + 1)
    lo = np.maximum(i - n, 0)
    return (c[i] - c[lo]) / (i - lo)


def _breath_size(s: np.ndarray) -> float:
    """The breath's size: the 5th to 95th percentile of the combined signal."""
    lo, hi = np.percentile(s, [5, 95])
    return float(hi - lo)


def _zigzag(times: np.ndarray, s: np.ndarray, noise: float) -> list[tuple[float, float]]:
    """Alternating extremes (time, value), each confirmed once the signal came back from it by
    the hysteresis."""
    h = max(ZIGZAG_SHARE * _breath_size(s), ZIGZAG_NOISE * noise)
    extremes: list[tuple[float, float]] = []
    hi_i = lo_i = 0
    direction = 0  # +1 following a rise (looking for a peak), -1 a fall
    for i in range(1, len(s)):
        v = s[i]
        if direction >= 0:
            if v > s[hi_i]:
                hi_i = i
            elif s[hi_i] - v > h:
                extremes.append((float(times[hi_i]), float(s[hi_i])))
                direction, lo_i = -1, i
                continue
        if direction <= 0:
            if v < s[lo_i]:
                lo_i = i
            elif v - s[lo_i] > h:
                extremes.append((float(times[lo_i]), float(s[lo_i])))
                direction, hi_i = 1, i
    # An extreme at the stretch's very start may be only where it was cut, not a breath.
    return [e for e in extremes if e[0] > times[0] + SMOOTH_SAMPLES / SAMPLE_HZ]
