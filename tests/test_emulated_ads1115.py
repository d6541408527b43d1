"""The emulated ADS1115 behaves like the datasheet's chip, as seen through the unchanged driver."""
from __future__ import annotations

import errno
import math
import threading

import pytest
from adafruit_ads1x15 import ADS1115, AnalogIn, ads1x15

from hardware.clock import VirtualClock
from hardware.emulation.ads1115 import (
    POINTER_CONFIG,
    POINTER_CONVERSION,
    EmulatedADS1115,
    EmulatedI2C,
    build_emulated_grid,
)

FULL_SCALE_V = {2 / 3: 6.144, 1: 4.096, 2: 2.048, 4: 1.024, 16: 0.256}
CONVERSION_860_S = 1 / 860
CONFIG_A0_860_SINGLE = 0x4000 | 0x0200 | 0x0100 | 0x00E0 | 0x0003  # AIN0, gain 1, single-shot, 860 SPS


class Inputs:
    """Settable AIN0..3 voltages, recording the times the chip sampled them."""

    def __init__(self, *volts: float) -> None:
        self.volts = list(volts) + [0.0] * (4 - len(volts))
        self.sampled_at_s: list[float] = []

    def __call__(self, channel: int, t_s: float) -> float:
        self.sampled_at_s.append(t_s)
        return self.volts[channel]


def one_chip(inputs, clock, address=0x48, **chip_kwargs):
    bus = EmulatedI2C(clock)
    bus.attach(EmulatedADS1115(address, inputs, clock, **chip_kwargs))
    return bus


def read_config(ads) -> int:
    return ads._read_register(POINTER_CONFIG)


@pytest.mark.parametrize("gain", [2 / 3, 1, 2, 4, 16])
@pytest.mark.parametrize("fraction", [0.0, 0.1234, 0.5, 0.9876])
def test_driver_reads_known_voltages_within_one_lsb(gain, fraction):
    volts = fraction * FULL_SCALE_V[gain]
    ads = ADS1115(one_chip(Inputs(volts), VirtualClock()), gain=gain, data_rate=860)
    lsb_v = FULL_SCALE_V[gain] / 32768
    assert AnalogIn(ads, ads1x15.Pin.A0).voltage == pytest.approx(volts, abs=lsb_v)


@pytest.mark.parametrize("gain", [2 / 3, 1, 2, 4, 16])
def test_inputs_beyond_full_scale_clip(gain):
    beyond_v = FULL_SCALE_V[gain] * 1.5
    ads = ADS1115(one_chip(Inputs(beyond_v, 0.0, 0.0, beyond_v), VirtualClock()), gain=gain, data_rate=860)
    assert AnalogIn(ads, ads1x15.Pin.A0).value == 32767
    assert AnalogIn(ads, ads1x15.Pin.A2, ads1x15.Pin.A3).value == -32768


def test_differential_reads_the_difference_of_the_pair():
    ads = ADS1115(one_chip(Inputs(1.0, 2.5, 0.25, 0.75), VirtualClock()), gain=1, data_rate=860)
    lsb_v = 4.096 / 32768
    assert AnalogIn(ads, ads1x15.Pin.A0, ads1x15.Pin.A1).voltage == pytest.approx(-1.5, abs=lsb_v)
    assert AnalogIn(ads, ads1x15.Pin.A0, ads1x15.Pin.A3).voltage == pytest.approx(0.25, abs=lsb_v)
    assert AnalogIn(ads, ads1x15.Pin.A2, ads1x15.Pin.A3).voltage == pytest.approx(-0.5, abs=lsb_v)
    assert AnalogIn(ads, ads1x15.Pin.A3).voltage == pytest.approx(0.75, abs=lsb_v)


def test_registers_power_on_as_the_datasheet_says():
    bus = one_chip(Inputs(), VirtualClock())
    bus.writeto(0x48, bytes([POINTER_CONFIG]))
    answer = bytearray(2)
    bus.readfrom_into(0x48, answer)
    assert answer.hex() == "8583"
    for pointer, power_on in [(0, "0000"), (2, "8000"), (3, "7fff")]:
        bus.writeto_then_readfrom(0x48, bytes([pointer]), answer)
        assert answer.hex() == power_on


def test_threshold_registers_keep_what_the_driver_writes():
    ads = ADS1115(one_chip(Inputs(), VirtualClock()), comparator_low_threshold=-1000, comparator_high_threshold=20000)
    assert ads._read_register(2) == -1000 & 0xFFFF
    assert ads._read_register(3) == 20000


def test_conversion_register_is_read_only():
    ads = ADS1115(one_chip(Inputs(1.0), VirtualClock()), data_rate=860)
    first = AnalogIn(ads, ads1x15.Pin.A0).value
    ads._write_register(POINTER_CONVERSION, 0x1234)
    assert ads.get_last_result() == first


def test_os_reads_0_while_converting_and_1_after_one_conversion_time():
    clock = VirtualClock()
    ads = ADS1115(one_chip(Inputs(1.0), clock), gain=1, data_rate=860)
    ads._write_config(4)
    started_s = clock.monotonic()
    assert not ads._conversion_complete()
    clock.sleep(started_s + CONVERSION_860_S * 0.9 - clock.monotonic())
    assert not ads._conversion_complete()
    clock.sleep(started_s + CONVERSION_860_S - clock.monotonic())
    assert ads._conversion_complete()
    assert ads.get_last_result() == 8000  # 1.0 V at ±4.096 V


@pytest.mark.parametrize("rate_hz", [8, 128, 475, 860])
def test_conversion_time_is_one_over_the_data_rate(rate_hz):
    clock = VirtualClock()
    ads = ADS1115(one_chip(Inputs(1.0), clock), data_rate=rate_hz)
    ads._write_config(4)
    started_s = clock.monotonic()
    while not ads._conversion_complete():
        pass  # the driver's own busy-poll: each poll takes bus time on the virtual clock
    assert clock.monotonic() - started_s == pytest.approx(1 / rate_hz, abs=2e-4)


def test_conversion_time_scale_stretches_conversions():
    clock = VirtualClock()
    ads = ADS1115(one_chip(Inputs(1.0), clock, conversion_time_scale=3.0), data_rate=860)
    ads._write_config(4)
    clock.sleep(2 * CONVERSION_860_S)
    assert not ads._conversion_complete()
    clock.sleep(CONVERSION_860_S)
    assert ads._conversion_complete()


def test_reading_before_completion_returns_the_previous_result():
    clock = VirtualClock()
    inputs = Inputs(1.0)
    ads = ADS1115(one_chip(inputs, clock), gain=1, data_rate=860)
    assert AnalogIn(ads, ads1x15.Pin.A0).value == 8000
    inputs.volts[0] = 2.0
    ads._write_config(4)
    assert ads.get_last_result() == 8000
    clock.sleep(CONVERSION_860_S)
    assert ads.get_last_result() == 16000


def test_the_input_is_sampled_at_the_end_of_the_conversion():
    clock = VirtualClock()
    inputs = Inputs(1.0)
    ads = ADS1115(one_chip(inputs, clock), data_rate=860)
    ads._write_config(4)
    started_s = clock.monotonic()
    clock.sleep(CONVERSION_860_S / 2)
    inputs.volts[0] = 3.0  # changes halfway through: the result shows the new voltage
    clock.sleep(CONVERSION_860_S)
    assert ads.get_last_result() == 24000
    assert inputs.sampled_at_s == [pytest.approx(started_s + CONVERSION_860_S)]


def test_continuous_mode_converts_back_to_back():
    clock = VirtualClock()
    inputs = Inputs(0.5)
    bus = one_chip(inputs, clock)
    config = CONFIG_A0_860_SINGLE & ~0x0100  # continuous
    bus.writeto(0x48, bytes([POINTER_CONFIG, config >> 8, config & 0xFF]))
    started_s = clock.monotonic()
    answer = bytearray(2)
    bus.writeto_then_readfrom(0x48, bytes([POINTER_CONFIG]), answer)
    assert answer[0] & 0x80 == 0  # always converting
    for n in (3, 4, 10):
        inputs.volts[0] = 0.1 * n
        clock.sleep(started_s + (n + 0.5) * CONVERSION_860_S - clock.monotonic())
        bus.writeto_then_readfrom(0x48, bytes([POINTER_CONVERSION]), answer)
        assert int.from_bytes(answer, "big") == round(0.1 * n / 4.096 * 32768)
        assert inputs.sampled_at_s[-1] == pytest.approx(started_s + n * CONVERSION_860_S)
    # a plain read (pointer left on the conversion register) sees the next conversion
    inputs.volts[0] = 2.048
    clock.sleep(CONVERSION_860_S)
    bus.readfrom_into(0x48, answer)
    assert int.from_bytes(answer, "big") == 16384


def test_a_single_shot_start_during_a_conversion_is_ignored():
    clock = VirtualClock()
    inputs = Inputs(1.0, 2.0)
    ads = ADS1115(one_chip(inputs, clock), data_rate=860)
    ads._write_config(4)
    started_s = clock.monotonic()
    ads._write_config(5)  # OS=1 only starts a conversion in power-down
    clock.sleep(started_s + CONVERSION_860_S - clock.monotonic())
    assert ads._conversion_complete()
    assert ads.get_last_result() == 8000  # AIN0, latched at the start


def test_every_transaction_takes_its_bus_time_at_400_khz():
    clock = VirtualClock()
    bus = one_chip(Inputs(), clock)
    bus.writeto(0x48, bytes([1, 0x85, 0x83]))  # START + 4 bytes × 9 + STOP
    assert clock.monotonic() == pytest.approx(38 / 400_000)
    bus.writeto_then_readfrom(0x48, bytes([0]), bytearray(2))  # START + 2×9 + RESTART + 3×9 + STOP
    assert clock.monotonic() == pytest.approx((38 + 48) / 400_000)


def test_the_bus_copies_written_buffers():
    clock = VirtualClock()
    bus = one_chip(Inputs(), clock)
    buffer = bytearray([2, 0x12, 0x34])
    bus.writeto(0x48, buffer)
    buffer[1:] = b"\xff\xff"  # the driver reuses its buffer: the chip must not see this
    answer = bytearray(2)
    bus.writeto_then_readfrom(0x48, bytes([2]), answer)
    assert answer.hex() == "1234"


def test_absent_or_unplugged_chips_do_not_acknowledge():
    clock = VirtualClock()
    bus = build_emulated_grid(lambda row: Inputs(1.0), clock, rows=2)
    with pytest.raises(OSError) as absent:
        bus.writeto(0x4B, b"")
    assert absent.value.errno == errno.EREMOTEIO
    bus.unplug(0x49)
    with pytest.raises(OSError) as unplugged:
        bus.readfrom_into(0x49, bytearray(2))
    assert unplugged.value.errno == errno.EREMOTEIO
    assert clock.monotonic() > 0  # the unanswered address byte still took bus time


def test_a_replugged_chip_comes_back_with_power_on_registers():
    clock = VirtualClock()
    bus = one_chip(Inputs(1.0), clock)
    ads = ADS1115(bus, gain=16, data_rate=860)
    bus.unplug(0x48)
    with pytest.raises(OSError):
        read_config(ads)
    bus.plug(0x48)
    assert read_config(ads) == 0x8583


def test_the_driver_probe_accepts_present_chips_and_rejects_absent_ones():
    bus = build_emulated_grid(lambda row: Inputs(), VirtualClock(), rows=2)
    ADS1115(bus, address=0x49)
    with pytest.raises(ValueError, match="No I2C device at address: 0x4a"):
        ADS1115(bus, address=0x4A)


def test_scan_lists_the_attached_addresses():
    bus = build_emulated_grid(lambda row: Inputs(), VirtualClock(), addresses=(0x48, 0x4A, 0x49, 0x4B))
    assert bus.scan() == [0x48, 0x49, 0x4A, 0x4B]
    bus.unplug(0x4A)
    assert bus.scan() == [0x48, 0x49, 0x4B]


def test_a_chip_that_never_finishes_keeps_os_at_0():
    clock = VirtualClock()
    ads = ADS1115(one_chip(Inputs(1.0), clock, conversion_time_scale=math.inf), data_rate=860)
    ads._write_config(4)
    clock.sleep(10.0)
    assert not ads._conversion_complete()


def test_threads_sharing_the_bus_each_read_their_own_chip():
    clock = VirtualClock()
    bus = build_emulated_grid(lambda row: Inputs(0.5 + row), clock, rows=2)
    chips = [ADS1115(bus, address=0x48 + row, data_rate=860) for row in range(2)]
    readings: dict[int, set[int]] = {0: set(), 1: set()}

    def read(row):
        for _ in range(30):
            readings[row].add(AnalogIn(chips[row], ads1x15.Pin.A0).value)

    threads = [threading.Thread(target=read, args=(row,)) for row in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert readings == {0: {4000}, 1: {12000}}
