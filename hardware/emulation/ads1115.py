"""An ADS1115 emulated at the register level, on an emulated I2C bus.

The unchanged Adafruit driver (`adafruit_ads1x15.ADS1115`, `AnalogIn`) talks to these classes as
it would to Blinka's `busio.I2C` and a real chip, so the demo and the tests run the very code that
runs on the Pi. What is modelled, from the datasheet (TI SBAS444):

- a pointer register per chip (written as the first byte of every write; reads return the
  register it points at, big-endian, repeating for longer reads);
- conversion (read-only, keeps the last result), config, lo/hi threshold registers; power-on
  config 0x8583, thresholds 0x8000 / 0x7FFF;
- MUX (4..7 single-ended AINx vs GND; 0..3 the differential pairs), PGA full scale per gain with
  clipping at ±full scale, DR → conversion time 1/DR (× `conversion_time_scale`);
- MODE single-shot (writing OS = 1 in power-down starts one conversion; OS reads 0 while it
  converts, 1 when idle) and continuous (back-to-back conversions, OS reads 0);
- the input voltage is sampled at the end of each conversion;
- every bus transaction takes its real time at the bus frequency; an absent or unplugged chip
  does not acknowledge its address → `OSError(errno.EREMOTEIO)`, as Linux's i2c-dev reports it.

Time comes from an injected clock. With a `VirtualClock` each transaction advances it exactly. With
a real clock the bus does not sleep per transaction (sub-millisecond sleeps cost more CPU than
they save): it keeps the bus's own time, runs ahead of the real clock, and sleeps only once it is
more than ~0.5 ms ahead.
"""
from __future__ import annotations

import errno
import math
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

from hardware.clock import Clock, VirtualClock
from hardware.grid_adc import DEFAULT_ADDRESSES

#: `analog_input(channel, t_s) -> volts`: the voltage on AIN`channel` (0..3) vs GND at time t_s.
AnalogInput = Callable[[int, float], float]

POINTER_CONVERSION, POINTER_CONFIG, POINTER_LO_THRESH, POINTER_HI_THRESH = 0, 1, 2, 3
POWER_ON_CONFIG = 0x8583
_OS = 0x8000
_MODE_SINGLE_SHOT = 0x0100
#: PGA code (config bits 11:9) → full-scale volts; codes 6 and 7 are also ±0.256 V.
FULL_SCALE_V_BY_PGA = (6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256)
#: DR code (config bits 7:5) → samples per second.
DATA_RATE_HZ_BY_DR = (8, 16, 32, 64, 128, 250, 475, 860)
#: MUX code (config bits 14:12) → (positive input, negative input or None for GND).
MUX_INPUTS = {0: (0, 1), 1: (0, 3), 2: (1, 3), 3: (2, 3), 4: (0, None), 5: (1, None), 6: (2, None), 7: (3, None)}


@dataclass
class _Conversion:
    """A conversion in progress, with the settings latched when it started."""

    start_s: float
    period_s: float
    mux: int
    full_scale_v: float
    continuous: bool
    completed: int = 0  # continuous mode: conversions already stored in the result register


class EmulatedADS1115:
    """One ADS1115 at `address` whose AIN0..3 read `analog_input(channel, t_s) -> volts`.

    conversion_time_scale: multiplies the datasheet's conversion time 1/DR (1.0 = real time;
    `math.inf` makes a chip that never finishes a conversion).
    The bus calls `write(data, t_s)` and `read(nbytes, t_s)`; `t_s` is when the bytes reach the
    chip on the bus's clock (defaults to `clock.monotonic()`).
    """

    def __init__(self, address: int, analog_input: AnalogInput, clock: Clock, conversion_time_scale: float = 1.0) -> None:
        self.address = address
        self.analog_input = analog_input
        self.clock = clock
        self.conversion_time_scale = conversion_time_scale
        self._lock = threading.Lock()
        self.power_on()

    def power_on(self) -> None:
        """Reset every register to its power-on value (as after being unplugged and plugged in)."""
        self._pointer = POINTER_CONVERSION
        self._config = POWER_ON_CONFIG & ~_OS  # OS is not stored: reads derive it from the state
        self._result = 0  # conversion register, unsigned 16-bit
        self._thresholds = {POINTER_LO_THRESH: 0x8000, POINTER_HI_THRESH: 0x7FFF}
        self._running: _Conversion | None = None

    # -- bus side ------------------------------------------------------------------------------
    def write(self, data: bytes, t_s: float | None = None) -> None:
        """A write transaction: pointer byte, then optionally a 16-bit register value (MSB first)."""
        t_s = self.clock.monotonic() if t_s is None else t_s
        with self._lock:
            if not data:
                return  # a bare address probe
            self._pointer = data[0] & 0x03
            if len(data) >= 3:  # a 2-byte write carries only half a register: the chip ignores it
                self._write_register(self._pointer, data[1] << 8 | data[2], t_s)

    def read(self, nbytes: int, t_s: float | None = None) -> bytes:
        """A read transaction: the register under the pointer, big-endian, repeated to `nbytes`."""
        t_s = self.clock.monotonic() if t_s is None else t_s
        with self._lock:
            value = self._read_register(self._pointer, t_s)
        return bytes((value >> 8, value & 0xFF) * (nbytes // 2 + 1))[:nbytes]

    # -- registers -----------------------------------------------------------------------------
    def _read_register(self, pointer: int, t_s: float) -> int:
        self._catch_up(t_s)
        if pointer == POINTER_CONVERSION:
            return self._result
        if pointer == POINTER_CONFIG:
            return self._config | (0 if self._running else _OS)
        return self._thresholds[pointer]

    def _write_register(self, pointer: int, value: int, t_s: float) -> None:
        self._catch_up(t_s)
        if pointer == POINTER_CONVERSION:
            return  # read-only
        if pointer != POINTER_CONFIG:
            self._thresholds[pointer] = value
            return
        self._config = value & ~_OS
        if not value & _MODE_SINGLE_SHOT:
            self._running = self._new_conversion(t_s, continuous=True)  # (re)start back-to-back
        elif self._running is None:
            if value & _OS:  # a start request only acts in power-down
                self._running = self._new_conversion(t_s, continuous=False)
        elif self._running.continuous:
            # Leaving continuous mode: the conversion under way finishes, then power-down.
            run = self._running
            run.start_s += run.completed * run.period_s
            run.completed = 0
            run.continuous = False

    def _new_conversion(self, t_s: float, continuous: bool) -> _Conversion:
        config = self._config
        rate_hz = DATA_RATE_HZ_BY_DR[(config >> 5) & 0x7]
        return _Conversion(
            start_s=t_s,
            period_s=self.conversion_time_scale / rate_hz,
            mux=(config >> 12) & 0x7,
            full_scale_v=FULL_SCALE_V_BY_PGA[(config >> 9) & 0x7],
            continuous=continuous,
        )

    def _catch_up(self, t_s: float) -> None:
        """Store the result of every conversion that has ended by t_s (only the last one counts)."""
        run = self._running
        if run is None or t_s < run.start_s + run.period_s:
            return
        if not run.continuous:
            self._result = self._convert(run, run.start_s + run.period_s)
            self._running = None
            return
        done = math.floor((t_s - run.start_s) / run.period_s)
        if done > run.completed:
            run.completed = done
            self._result = self._convert(run, run.start_s + done * run.period_s)

    def _convert(self, run: _Conversion, t_s: float) -> int:
        """The 16-bit code for the inputs sampled at t_s (the end of the conversion)."""
        positive, negative = MUX_INPUTS[run.mux]
        volts = self.analog_input(positive, t_s)
        if negative is not None:
            volts -= self.analog_input(negative, t_s)
        code = min(max(round(volts / run.full_scale_v * 32768), -32768), 32767)
        return code & 0xFFFF


# I2C framing, in bit times: START, 9 bits per byte (8 + ACK), repeated START, STOP.
_START_BITS = _STOP_BITS = _RESTART_BITS = 1
_BITS_PER_BYTE = 9
_SCAN_ADDRESSES = range(0x08, 0x78)


class EmulatedI2C:
    """A `busio.I2C` lookalike holding emulated chips by address.

    frequency_hz: bus clock; every transaction takes (1 + nbytes) × 9 bits plus START/STOP.
    max_owed_s: how far the bus may run ahead of a real clock before it sleeps (default 0.5 ms;
    0 for a `VirtualClock`, whose time each transaction advances exactly).
    Thread-safe: transactions are serialised, as on a real bus.
    """

    def __init__(self, clock: Clock, frequency_hz: int = 400_000, *, max_owed_s: float | None = None) -> None:
        self.clock = clock
        self.frequency_hz = frequency_hz
        if max_owed_s is None:
            max_owed_s = 0.0 if isinstance(clock, VirtualClock) else 0.0005
        self.max_owed_s = max_owed_s
        self._chips: dict[int, EmulatedADS1115] = {}
        self._unplugged: set[int] = set()
        self._user_lock = threading.Lock()  # try_lock/unlock, as busio
        self._bus_lock = threading.Lock()  # one transaction at a time
        self._busy_until_s = clock.monotonic()
        self._closed = False

    # -- wiring --------------------------------------------------------------------------------
    def attach(self, chip: EmulatedADS1115) -> EmulatedADS1115:
        if chip.address in self._chips:
            raise ValueError(f"I2C address 0x{chip.address:02x} is already taken")
        self._chips[chip.address] = chip
        return chip

    def chip(self, address: int) -> EmulatedADS1115:
        return self._chips[address]

    def unplug(self, address: int) -> None:
        """Disconnect the chip at `address`: it stops acknowledging (and loses power)."""
        self._chips[address]  # KeyError for an address that was never attached
        self._unplugged.add(address)

    def plug(self, address: int) -> None:
        """Reconnect the chip at `address`; it comes back with its power-on registers."""
        with self._bus_lock:
            if address in self._unplugged:
                self._unplugged.discard(address)
                self._chips[address].power_on()

    # -- busio.I2C API -------------------------------------------------------------------------
    def try_lock(self) -> bool:
        return self._user_lock.acquire(blocking=False)

    def unlock(self) -> None:
        if self._user_lock.locked():
            self._user_lock.release()

    def deinit(self) -> None:
        self._closed = True

    def __enter__(self) -> "EmulatedI2C":
        return self

    def __exit__(self, *exc) -> None:
        self.deinit()

    def scan(self) -> list[int]:
        """Addresses that acknowledge, probed one by one with empty writes (each takes bus time)."""
        found = []
        for address in _SCAN_ADDRESSES:
            try:
                self.writeto(address, b"")
            except OSError:
                continue
            found.append(address)
        return found

    def writeto(self, address: int, buffer, *, start: int = 0, end: int | None = None) -> None:
        data = bytes(buffer[start:end])  # a copy: the driver reuses its buffer
        with self._bus_lock:
            t_s = self._begin()
            chip = self._answering(address, t_s)
            if chip is not None:
                # the chip acts on the write at the STOP (a conversion starts then)
                t_s += (_START_BITS + _BITS_PER_BYTE * (1 + len(data)) + _STOP_BITS) / self.frequency_hz
                chip.write(data, t_s)
                self._busy_until_s = t_s
        self._settle()
        self._raise_if_no_ack(chip, address)

    def readfrom_into(self, address: int, buffer, *, start: int = 0, end: int | None = None) -> None:
        end = len(buffer) if end is None else end
        with self._bus_lock:
            t_s = self._begin()
            chip = self._answering(address, t_s)
            if chip is not None:
                t_s += (_START_BITS + _BITS_PER_BYTE) / self.frequency_hz
                buffer[start:end] = chip.read(end - start, t_s)
                self._busy_until_s = t_s + (_BITS_PER_BYTE * (end - start) + _STOP_BITS) / self.frequency_hz
        self._settle()
        self._raise_if_no_ack(chip, address)

    def writeto_then_readfrom(
        self, address: int, out, in_, *, out_start: int = 0, out_end: int | None = None, in_start: int = 0, in_end: int | None = None
    ) -> None:
        data = bytes(out[out_start:out_end])
        in_end = len(in_) if in_end is None else in_end
        with self._bus_lock:
            t_s = self._begin()
            chip = self._answering(address, t_s)
            if chip is not None:
                t_s += (_START_BITS + _BITS_PER_BYTE * (1 + len(data))) / self.frequency_hz
                chip.write(data, t_s)
                t_s += (_RESTART_BITS + _BITS_PER_BYTE) / self.frequency_hz
                in_[in_start:in_end] = chip.read(in_end - in_start, t_s)
                self._busy_until_s = t_s + (_BITS_PER_BYTE * (in_end - in_start) + _STOP_BITS) / self.frequency_hz
        self._settle()
        self._raise_if_no_ack(chip, address)

    # -- timing --------------------------------------------------------------------------------
    def _begin(self) -> float:
        """Bus time at which a new transaction starts (now, or when the previous one ends)."""
        if self._closed:
            raise RuntimeError("I2C bus has been deinitialised")
        self._busy_until_s = max(self._busy_until_s, self.clock.monotonic())
        return self._busy_until_s

    def _answering(self, address: int, t_s: float) -> EmulatedADS1115 | None:
        """The chip that acknowledges `address`, or None after the unacknowledged address byte."""
        chip = self._chips.get(address)
        if chip is None or address in self._unplugged:
            self._busy_until_s = t_s + (_START_BITS + _BITS_PER_BYTE + _STOP_BITS) / self.frequency_hz
            return None
        return chip

    @staticmethod
    def _raise_if_no_ack(chip: EmulatedADS1115 | None, address: int) -> None:
        if chip is None:
            raise OSError(errno.EREMOTEIO, f"No ACK from I2C address 0x{address:02x}")

    def _settle(self) -> None:
        """Let the clock catch up with the bus once the bus is far enough ahead of it."""
        owed_s = self._busy_until_s - self.clock.monotonic()
        if owed_s > self.max_owed_s:
            self.clock.sleep(owed_s)


def build_emulated_grid(
    analog_input_for_row: Callable[[int], AnalogInput],
    clock: Clock,
    rows: int = 4,
    addresses: Sequence[int] = DEFAULT_ADDRESSES,
    *,
    frequency_hz: int = 400_000,
    conversion_time_scale: float = 1.0,
) -> EmulatedI2C:
    """A bus with one emulated ADS1115 per row: chip `r` at `addresses[r]` reads row r's cells."""
    if len(addresses) < rows:
        raise ValueError(f"{rows} rows need {rows} chip addresses, got {len(addresses)}")
    bus = EmulatedI2C(clock, frequency_hz)
    for row in range(rows):
        bus.attach(EmulatedADS1115(addresses[row], analog_input_for_row(row), clock, conversion_time_scale))
    return bus
