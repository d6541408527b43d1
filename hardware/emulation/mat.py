"""The whole mat in emulation: a simulated person feeding emulated ADS1115s on a fake bus,
read by the very same GridADC the Pi uses. Only the bus differs from the real thing."""
from __future__ import annotations

from hardware.clock import Clock
from hardware.emulation.ads1115 import DEFAULT_ADDRESSES, build_emulated_grid
from hardware.grid_adc import GridADC


def emulated_grid_adc(person, clock: Clock, rows: int = 4, cols: int = 4,
                      addresses=DEFAULT_ADDRESSES, gain: float = 1, data_rate: int = 860,
                      allow_missing: bool = True) -> GridADC:
    """A GridADC reading `person` (anything with `analog_input_for_row(row)`) through emulated
    chips whose conversions and bus transactions take their datasheet time on `clock`."""
    bus = build_emulated_grid(person.analog_input_for_row, clock, rows=rows, addresses=tuple(addresses)[:rows])
    return GridADC(bus, rows=rows, cols=cols, addresses=tuple(addresses)[:rows], gain=gain,
                   data_rate=data_rate, clock=clock, allow_missing=allow_missing)


class LoopingPerson:
    """Plays a simulated person's scenario over and over, so the demo never runs dry."""

    def __init__(self, person, start_s: float = 0.0) -> None:
        self.person = person
        self.start_s = start_s  # the clock's time when the scenario begins

    def analog_input_for_row(self, row: int):
        inner = self.person.analog_input_for_row(row)
        period = self.person.duration_s
        return lambda channel, t: inner(channel, (t - self.start_s) % period)
