"""GridADC reads the whole grid through the real driver, with all chips converting in parallel."""
from __future__ import annotations

import errno
import math
import os
import sys
import types

import numpy as np
import pytest
from adafruit_ads1x15 import ADS1115, AnalogIn, ads1x15

from hardware.clock import VirtualClock
from hardware.emulation.ads1115 import EmulatedADS1115, EmulatedI2C, build_emulated_grid
from hardware.grid_adc import Frame, GridADC

CONVERSION_860_S = 1 / 860


def cell_volts(row: int, col: int) -> float:
    return 0.1 * row + 0.02 * col + 0.5


def known_map(row):
    return lambda channel, t_s: cell_volts(row, channel)


def expected_counts(rows=4, cols=4, full_scale_v=4.096) -> np.ndarray:
    return np.array(
        [[round(cell_volts(r, c) / full_scale_v * 32768) for c in range(cols)] for r in range(rows)], dtype=np.int32
    )


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def bus(clock):
    return build_emulated_grid(known_map, clock)


def test_each_cell_reads_its_own_row_and_column(bus, clock):
    frame = GridADC(bus, clock=clock).read_frame()
    assert isinstance(frame, Frame)
    assert frame.counts.dtype == np.int32
    np.testing.assert_array_equal(frame.counts, expected_counts())
    assert frame.offline_rows == () and frame.errors == {}
    assert frame.t == clock.monotonic()


def test_gain_and_a_smaller_grid_are_respected(clock):
    bus = build_emulated_grid(known_map, clock, rows=3)
    frame = GridADC(bus, rows=3, cols=2, gain=2, clock=clock).read_frame()
    np.testing.assert_array_equal(frame.counts, expected_counts(rows=3, cols=2, full_scale_v=2.048))


def test_the_input_is_read_when_each_conversion_ends(clock):
    bus = build_emulated_grid(lambda row: (lambda channel, t_s: t_s), clock)  # volts = seconds
    frame = GridADC(bus, clock=clock).read_frame()
    # later columns are converted later in the frame, but all within it
    assert (np.diff(frame.counts, axis=1) > 0).all()
    assert frame.counts.max() <= round(frame.t / 4.096 * 32768)


def test_a_frame_at_860_sps_takes_under_10_ms_of_emulated_time(bus, clock):
    grid = GridADC(bus, clock=clock)
    for _ in range(20):
        grid.read_frame()
    # physics: four conversions one after another per chip, at least
    assert 4 * CONVERSION_860_S < grid.last_frame_duration_s < 0.010
    assert grid.frame_rate_hz >= 100


def test_parallel_chips_are_much_faster_than_the_drivers_channel_by_channel_loop(bus, clock):
    grid = GridADC(bus, clock=clock)
    began_s = clock.monotonic()
    grid.read_frame()
    parallel_s = clock.monotonic() - began_s

    chips = grid.chips
    began_s = clock.monotonic()
    naive = [[AnalogIn(chips[row], col).value for col in range(4)] for row in range(4)]
    naive_s = clock.monotonic() - began_s

    np.testing.assert_array_equal(naive, expected_counts())
    assert naive_s > 2.5 * parallel_s
    assert 1 / naive_s < 60  # what the notes report for the driver's loop: ~25–45 frames/s


def test_frame_rate_is_zero_until_two_frames_are_read(bus, clock):
    grid = GridADC(bus, clock=clock)
    assert grid.frame_rate_hz == 0.0 and grid.last_frame_duration_s is None
    first = grid.read_frame()
    assert grid.frame_rate_hz == 0.0
    second = grid.read_frame()
    assert grid.frame_rate_hz == pytest.approx(1 / (second.t - first.t))


def test_an_unplugged_chip_takes_only_its_row_offline_until_it_is_plugged_back(bus, clock):
    grid = GridADC(bus, clock=clock)
    grid.read_frame()
    bus.unplug(0x4A)
    frame = grid.read_frame()
    assert frame.offline_rows == (2,)
    assert frame.errors[2].errno == errno.EREMOTEIO
    assert (frame.counts[2] == 0).all()
    np.testing.assert_array_equal(frame.counts[[0, 1, 3]], expected_counts()[[0, 1, 3]])

    bus.plug(0x4A)  # it comes back with its power-on config (±2.048 V): GridADC rewrites it
    frame = grid.read_frame()
    assert frame.offline_rows == () and frame.errors == {}
    np.testing.assert_array_equal(frame.counts, expected_counts())


def test_a_chip_lost_mid_frame_marks_its_row_offline_and_the_rest_still_read(clock):
    bus: EmulatedI2C

    def row_1_falls_off_after_column_1(row):
        def volts(channel, t_s):
            if row == 1 and channel == 1:
                bus.unplug(0x49)
            return cell_volts(row, channel)

        return volts

    bus = build_emulated_grid(row_1_falls_off_after_column_1, clock)
    frame = GridADC(bus, clock=clock).read_frame()
    assert frame.offline_rows == (1,)
    assert (frame.counts[1] == 0).all()
    np.testing.assert_array_equal(frame.counts[[0, 2, 3]], expected_counts()[[0, 2, 3]])


def test_a_chip_that_never_finishes_times_out_instead_of_hanging(clock):
    bus = EmulatedI2C(clock)
    for row in range(4):
        scale = math.inf if row == 3 else 1.0
        bus.attach(EmulatedADS1115(0x48 + row, known_map(row), clock, conversion_time_scale=scale))
    grid = GridADC(bus, clock=clock)
    frame = grid.read_frame()
    assert frame.offline_rows == (3,)
    assert frame.errors[3].errno == errno.ETIMEDOUT
    np.testing.assert_array_equal(frame.counts[:3], expected_counts()[:3])
    assert grid.last_frame_duration_s < 10 * CONVERSION_860_S


def test_a_slow_chip_within_the_timeout_is_waited_for(clock):
    bus = EmulatedI2C(clock)
    for row in range(4):
        bus.attach(EmulatedADS1115(0x48 + row, known_map(row), clock, conversion_time_scale=1.1 if row == 0 else 1.0))
    frame = GridADC(bus, clock=clock).read_frame()
    assert frame.offline_rows == ()
    np.testing.assert_array_equal(frame.counts, expected_counts())


def test_a_missing_chip_at_start_up_is_the_drivers_error(clock):
    bus = build_emulated_grid(known_map, clock, rows=3)
    with pytest.raises(ValueError, match="No I2C device at address: 0x4b"):
        GridADC(bus, clock=clock)


def test_more_columns_than_channels_is_refused(bus, clock):
    with pytest.raises(ValueError, match="4 single-ended channels"):
        GridADC(bus, cols=5, clock=clock)


def test_the_chips_are_the_drivers_own_objects(bus, clock):
    grid = GridADC(bus, clock=clock)
    assert [type(chip) for chip in grid.chips] == [ADS1115] * 4
    assert [chip.data_rate for chip in grid.chips] == [860] * 4
    assert AnalogIn(grid.chips[1], ads1x15.Pin.A3).value == expected_counts()[1, 3]


def test_scan_lists_the_grids_chips(bus):
    assert bus.scan() == [0x48, 0x49, 0x4A, 0x4B]


def test_for_raspberry_pi_uses_the_boards_i2c_bus(monkeypatch, bus, clock):
    monkeypatch.setenv("BLINKA_SKIP_DEPENDENCY_CHECK", "")  # so that the variable is restored after
    monkeypatch.delenv("BLINKA_SKIP_DEPENDENCY_CHECK")
    monkeypatch.setitem(sys.modules, "board", types.SimpleNamespace(I2C=lambda: bus))
    grid = GridADC.for_raspberry_pi(clock=clock)
    assert grid.i2c is bus
    assert os.environ["BLINKA_SKIP_DEPENDENCY_CHECK"] == "1"
    np.testing.assert_array_equal(grid.read_frame().counts, expected_counts())
    grid.close()
    with pytest.raises(RuntimeError):
        bus.scan()
