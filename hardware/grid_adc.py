"""The pressure grid reader: one ADS1x15 per row, all chips converting in parallel.

Chip r (address `addresses[r]`) reads row r; its channel c (single-ended AINc vs GND, MUX 4 + c)
reads column c. A frame is read channel by channel, pipelined across the chips: every chip starts
a conversion of column 0; then for each column, each chip in turn is waited for (until its
conversion time 1/DR has passed), checked, read, and at once started on the next column. Each
chip converts while the bus serves the others, so at 860 SPS and 400 kHz a 4 × 4 frame takes
about four conversion times plus bus time (~150–175 frames/s), where one channel at a time would
take sixteen (~45 frames/s).

Why the Adafruit driver, and why its underscore helpers:
- The driver (`adafruit_ads1x15.ADS1115`) keeps the config bit packing (gain, data rate, mode,
  comparator), the constants and the device probe (absent chip → its `ValueError`), so none of
  that is duplicated here; on the Pi it runs over Blinka's `board.I2C()`, in tests and the demo
  over `hardware.emulation.ads1115.EmulatedI2C`.
- Its public read API (`AnalogIn.value`, `ads.read`) converts one channel of one chip at a time
  and then busy-polls OS with no sleep and no timeout: a chip that never finishes hangs the
  caller, and chips can't overlap. Continuous mode is broken in 3.0.5 (a config write ignores
  the requested pin, and the pointer stays on the config register). So we use the driver's
  register helpers directly: `_write_config(4 + c)` starts a single-ended single-shot conversion
  with the driver's own gain/DR/mode bits, `_read_register(POINTER_CONFIG)` is what
  `_conversion_complete()` reads (we keep the whole word to also check the MUX), and
  `get_last_result()` + `_conversion_value()` give the signed code.

Faults: a chip that does not acknowledge (`OSError`, EREMOTEIO on Linux) or never finishes a
conversion (`OSError(ETIMEDOUT)` after 5 conversion times of polling) marks its row offline for
that frame — counts 0, the error in `Frame.errors` — and the other rows are read as usual. Every
conversion start rewrites the chip's whole config, so a chip that comes back (even reset to its
power-on config) is read normally from the next frame on; the driver object needs no re-creating,
as it holds only settings. A chip whose MUX no longer says the channel we started (it was reset
mid-frame) is an `OSError(EIO)` for that frame rather than a wrong reading.
"""
from __future__ import annotations

import errno
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from adafruit_ads1x15 import ADS1015, ADS1115
from adafruit_ads1x15.ads1x15 import _ADS1X15_CONFIG_MUX_OFFSET, _ADS1X15_POINTER_CONFIG

from hardware.clock import Clock, SystemClock

DEFAULT_ADDRESSES = (0x48, 0x49, 0x4A, 0x4B)
CHIPS = {"ads1115": ADS1115, "ads1015": ADS1015}
_SINGLE_ENDED_MUX = 4  # MUX code of AIN0 vs GND; AINc is 4 + c
_OS_IDLE = 0x8000
#: Give up on a conversion after this many conversion times (the datasheet allows ±10 %).
_TIMEOUT_CONVERSIONS = 5
#: Between OS polls of an unfinished conversion, wait this fraction of a conversion time.
_POLL_FRACTION = 0.1
_RATE_WINDOW_FRAMES = 50
#: A chip absent at start is probed again this often (s).
_PROBE_INTERVAL_S = 1.0


@dataclass(frozen=True, eq=False)
class Frame:
    """One reading of the whole grid.

    t: monotonic seconds (the GridADC's clock) when the frame completed.
    counts: int32 (rows, cols) ADC codes; 0 for offline rows.
    offline_rows: rows whose chip did not answer during this frame.
    errors: row → the OSError that took it offline.
    """

    t: float
    counts: np.ndarray
    offline_rows: tuple[int, ...] = ()
    errors: dict[int, OSError] = field(default_factory=dict)


class GridADC:
    """Reads a rows × cols pressure grid from one ADS1x15 per row, all chips in parallel.

    i2c: a busio.I2C-like bus (Blinka's on a Pi, `EmulatedI2C` otherwise).
    addresses: chip address per row (at least `rows` of them).
    gain: driver gain (1 = ±4.096 V full scale). data_rate: samples/s (ADS1015: pass e.g. 3300).
    clock: where waiting and frame times come from.
    Raises the driver's ValueError at construction if a chip does not answer its address.
    """

    def __init__(
        self,
        i2c,
        rows: int = 4,
        cols: int = 4,
        addresses: Sequence[int] = DEFAULT_ADDRESSES,
        gain: float = 1,
        data_rate: int = 860,
        clock: Clock | None = None,
        chip: str = "ads1115",
        allow_missing: bool = False,
    ) -> None:
        """allow_missing: a chip absent at start is read as offline (and probed again about once
        a second) instead of raising the driver's ValueError, so the daemon starts anyway."""
        if not 1 <= cols <= 4:
            raise ValueError(f"an ADS1x15 has 4 single-ended channels; cols={cols}")
        if len(addresses) < rows:
            raise ValueError(f"{rows} rows need {rows} chip addresses, got {len(addresses)}")
        if chip not in CHIPS:
            raise ValueError(f"unknown chip {chip!r}; allowed: {', '.join(CHIPS)}")
        self.i2c = i2c
        self.rows, self.cols = rows, cols
        self.addresses = tuple(addresses[:rows])
        self.gain, self.data_rate = gain, data_rate
        self.clock = clock or SystemClock()
        self._chip_class = CHIPS[chip]
        self._next_probe_s = [0.0] * rows
        self.chips = []
        for address in self.addresses:
            try:
                self.chips.append(self._make_chip(address))
            except ValueError:
                if not allow_missing:
                    raise
                self.chips.append(None)
        self.conversion_time_s = 1.0 / data_rate
        self.last_frame_duration_s: float | None = None
        self._frame_ends_s: deque[float] = deque(maxlen=_RATE_WINDOW_FRAMES)
        self._started_s = [0.0] * rows
        self._owns_bus = False

    @classmethod
    def for_raspberry_pi(cls, **kwargs) -> "GridADC":
        """A GridADC on the Pi's I2C bus 1 (`board.I2C()`), with the system clock.

        Blinka 10's `import board` offers to pip-install missing Pi packages on a terminal;
        BLINKA_SKIP_DEPENDENCY_CHECK=1 (set here unless already set, and in the systemd unit)
        turns that off. The bus runs at the speed set in config.txt
        (`dtparam=i2c_arm_baudrate=400000`).
        """
        os.environ.setdefault("BLINKA_SKIP_DEPENDENCY_CHECK", "1")
        import board  # only on a Pi: importing it elsewhere needs no board at all, but I2C() does

        kwargs.setdefault("clock", SystemClock())
        grid = cls(board.I2C(), **kwargs)
        grid._owns_bus = True
        return grid

    @property
    def frame_rate_hz(self) -> float:
        """Frames per second over the last (up to 50) frames; 0.0 before two frames."""
        if len(self._frame_ends_s) < 2:
            return 0.0
        span_s = self._frame_ends_s[-1] - self._frame_ends_s[0]
        return (len(self._frame_ends_s) - 1) / span_s if span_s > 0 else 0.0

    def read_frame(self) -> Frame:
        """Read every cell once, all chips converting in parallel; never blocks on a dead chip."""
        began_s = self.clock.monotonic()
        counts = np.zeros((self.rows, self.cols), dtype=np.int32)
        errors: dict[int, OSError] = {}
        for row in range(self.rows):
            if self.chips[row] is None and not self._probe(row, began_s):
                errors[row] = OSError(errno.ENODEV, f"no ADC answers at 0x{self.addresses[row]:02x}")
                continue
            self._guarded(row, errors, self._start, row, 0)
        for col in range(self.cols):
            for row in range(self.rows):
                if row not in errors:
                    self._guarded(row, errors, self._collect_and_continue, row, col, counts)
        for row in errors:
            counts[row] = 0
        t_s = self.clock.monotonic()
        self.last_frame_duration_s = t_s - began_s
        self._frame_ends_s.append(t_s)
        return Frame(t=t_s, counts=counts, offline_rows=tuple(sorted(errors)), errors=errors)

    def close(self) -> None:
        """Release the bus if this GridADC opened it (`for_raspberry_pi`)."""
        if self._owns_bus:
            self.i2c.deinit()

    # -- one chip ------------------------------------------------------------------------------
    def _make_chip(self, address: int):
        return self._chip_class(self.i2c, address=address, gain=self.gain, data_rate=self.data_rate)

    def _probe(self, row: int, now_s: float) -> bool:
        """Try again (about once a second) to reach a chip that was absent at start."""
        if now_s < self._next_probe_s[row]:
            return False
        self._next_probe_s[row] = now_s + _PROBE_INTERVAL_S
        try:
            self.chips[row] = self._make_chip(self.addresses[row])
        except (ValueError, OSError):
            return False
        return True

    @staticmethod
    def _guarded(row: int, errors: dict[int, OSError], step, *args) -> None:
        try:
            step(*args)
        except OSError as error:
            errors[row] = error

    def _start(self, row: int, col: int) -> None:
        """Start a single-shot conversion of AIN`col` with the driver's gain and data rate."""
        self.chips[row]._write_config(_SINGLE_ENDED_MUX + col)
        self._started_s[row] = self.clock.monotonic()

    def _collect_and_continue(self, row: int, col: int, counts: np.ndarray) -> None:
        self._wait_until_converted(row, col)
        chip = self.chips[row]
        counts[row, col] = chip._conversion_value(chip.get_last_result())
        if col + 1 < self.cols:
            self._start(row, col + 1)

    def _wait_until_converted(self, row: int, col: int) -> None:
        """Sleep until the conversion is due, then poll OS (bounded) → OSError if it never ends."""
        chip, started_s = self.chips[row], self._started_s[row]
        self._sleep_until(started_s + self.conversion_time_s)
        deadline_s = started_s + _TIMEOUT_CONVERSIONS * self.conversion_time_s
        while True:
            config = chip._read_register(_ADS1X15_POINTER_CONFIG)
            if (config >> _ADS1X15_CONFIG_MUX_OFFSET) & 0x7 != _SINGLE_ENDED_MUX + col:
                raise OSError(errno.EIO, f"ADC 0x{self.addresses[row]:02x} lost its configuration (reset?)")
            if config & _OS_IDLE:
                return
            if self.clock.monotonic() >= deadline_s:
                raise OSError(errno.ETIMEDOUT, f"ADC 0x{self.addresses[row]:02x} did not finish a conversion")
            self.clock.sleep(_POLL_FRACTION * self.conversion_time_s)

    def _sleep_until(self, t_s: float) -> None:
        wait_s = t_s - self.clock.monotonic()
        if wait_s > 0:
            self.clock.sleep(wait_s)
