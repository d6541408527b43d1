"""`mat doctor` on the real emulated bus: a simulated person lying relaxed on emulated ADS1115s,
read by GridADC on a VirtualClock, with faults put in by unplugging chips or forcing one cell's
voltage."""
import io
import os
import re
from dataclasses import replace

import numpy as np
import pytest

from hardware.clock import VirtualClock
from hardware.emulation.ads1115 import EmulatedADS1115
from hardware.emulation.person import Scenario, SimulatedPerson
from mat.config import Config, GridConfig, PathsConfig
from mat.tools.doctor import FAIL, OK, RELAXED_PERSON, WARN, check_i2c_device, Checklist, emulated_bus, run_doctor
from hardware.emulation.mat import LoopingPerson
from mat.storage.store import Store, StoreWriter


class ForcedCell:
    """The person on the mat, except that cell (row, col) reads `volts(t)`: a wiring fault."""

    def __init__(self, person, row: int, col: int, volts) -> None:
        self.person, self.row, self.col, self.volts = person, row, col, volts

    def analog_input_for_row(self, row: int):
        inner = self.person.analog_input_for_row(row)
        if row != self.row:
            return inner
        return lambda channel, t: self.volts(t) if channel == self.col else inner(channel, t)


def lying_person(scenario: str = RELAXED_PERSON):
    return LoopingPerson(SimulatedPerson(Scenario.parse(scenario)), start_s=-5.0)  # lying for 5 s already


@pytest.fixture
def config(tmp_path):
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    return Config(paths=PathsConfig(state_dir=str(state_dir), socket=str(tmp_path / "mat.sock")))


def no_systemd(args):
    return None


def doctor(config, person=None, *, bus=None, systemctl=no_systemd):
    """Runs the doctor on an emulated mat; returns (exit code, output lines, bus)."""
    clock = VirtualClock()
    bus = bus or emulated_bus(config, clock, person or lying_person())
    out = io.StringIO()
    code = run_doctor(config, bus=bus, clock=clock, out=out, systemctl=systemctl)
    return code, out.getvalue().splitlines(), bus


def failures(lines):
    return [line for line in lines if line.startswith(FAIL)]


def test_a_well_built_mat_with_someone_lying_on_it_passes_every_check(config):
    code, lines, _ = doctor(config, systemctl=lambda args: (0, "active\nactive\n"))

    assert code == 0
    assert failures(lines) == []
    warnings = [line for line in lines if line.startswith(WARN)]
    assert warnings == ["! I2C bus: emulated bus (/dev/i2c-1 not checked)",
                        "! buzzer GPIO 18, LED GPIO 23, button GPIO 24: gpiozero's mock pins (not a Raspberry Pi): "
                        "nothing will sound"]
    assert all(line.startswith((OK, WARN)) for line in lines)
    assert "✓ all 4 chips answer: 0x48 (row 0), 0x49 (row 1), 0x4A (row 2), 0x4B (row 3)" in lines
    rates = [int(m.group(1)) for line in lines if (m := re.search(r"reads: (\d+) frames/s, no errors", line))]
    assert len(rates) == 4 and all(rate >= 100 for rate in rates)  # chips converting in parallel
    assert any(line.startswith("✓ all 16 cells read plausibly (someone lying on the mat") for line in lines)
    assert any("writable (no database yet" in line for line in lines)
    assert lines[-2:] == ["✓ flatback-mat is running", "✓ flatback-web is running"]


def test_an_existing_database_is_checked_for_integrity(config):
    writer = StoreWriter(Store(os.path.join(config.paths.state_dir, "flatback.db")))
    writer.open_session({"rows": 4, "cols": 4})
    writer.close()

    code, lines, _ = doctor(config)

    assert code == 0
    assert any(line.startswith("✓ database ") and "passes integrity_check" in line for line in lines)


def test_a_database_that_is_not_sqlite_fails_with_what_to_do(config):
    with open(os.path.join(config.paths.state_dir, "flatback.db"), "wb") as file:
        file.write(b"this is not a database" * 100)

    code, lines, _ = doctor(config)

    assert code == 1
    [line] = failures(lines)
    assert "flatback.db cannot be opened" in line and "move" in line


def test_an_unplugged_chip_names_its_row_address_and_wiring(config):
    clock = VirtualClock()
    bus = emulated_bus(config, clock, lying_person())
    bus.unplug(0x4A)

    code, lines, _ = doctor(config, bus=bus)

    assert code == 1
    assert failures(lines) == ["✗ chip for row 2 at 0x4A does not answer — check its VDD/GND/SDA/SCL "
                               "and that ADDR is wired to SDA"]
    assert "✓ answering: 0x48 (row 0), 0x49 (row 1), 0x4B (row 3)" in lines
    assert sum(bool(re.match(r"✓ row [013] chip 0x4[89B] reads: \d+ frames/s, no errors", line)) for line in lines) == 3
    assert "! row 2 cells not checked: its chip does not answer" in lines
    assert any(line.startswith("✓ all 12 cells read plausibly") for line in lines)


def test_a_chip_that_drops_out_while_being_read_is_a_loose_connection(config):
    class UnplugHalfWay(VirtualClock):
        """Pulls row 1's cable half a second into the reading."""

        pulled = False

        def sleep(self, seconds):
            super().sleep(seconds)
            if self.monotonic() >= 0.5 and not self.pulled:
                self.pulled = True
                bus.unplug(0x49)

    clock = UnplugHalfWay()
    bus = emulated_bus(config, clock, lying_person())
    out = io.StringIO()

    code = run_doctor(config, bus=bus, clock=clock, out=out, systemctl=no_systemd)

    lines = out.getvalue().splitlines()
    assert code == 1
    [line] = failures(lines)
    assert re.match(r"✗ row 1 chip 0x49: \d+ of \d+ reads failed \(\[Errno 121\] No ACK from I2C address 0x49\) "
                    r"— a loose connection", line)
    assert any(line.startswith("✓ all 16 cells read plausibly") for line in lines)  # judged on its good half


def test_a_chip_at_an_unexpected_address_is_listed(config):
    clock = VirtualClock()
    bus = emulated_bus(config, clock, lying_person())
    bus.attach(EmulatedADS1115(0x4C, lambda channel, t: 0.0, clock))

    code, lines, _ = doctor(config, bus=bus)

    assert code == 0
    assert "! unexpected device(s) on the bus: 0x4C — not in [grid] addresses (a chip with its ADDR pin " \
           "wired to the wrong pin?)" in lines


def test_a_shorted_cell_reads_the_rail_and_is_named(config):
    code, lines, _ = doctor(config, ForcedCell(lying_person(), 1, 2, lambda t: 3.3))

    assert code == 1
    [line] = failures(lines)
    assert line.startswith("✗ cell r1c2 (chip 0x49 A2) reads the supply rail")
    assert "26400" in line
    assert line.endswith("— a shorted sensor or a missing divider resistor")
    assert any(line.startswith("✓ the other 15 cells read plausibly") for line in lines)


def test_a_cell_at_zero_volts_under_a_body_is_an_open_sensor_or_broken_wire(config):
    code, lines, _ = doctor(config, ForcedCell(lying_person(), 3, 0, lambda t: 0.0))

    assert code == 1
    [line] = failures(lines)
    assert line.startswith("✗ cell r3c0 (chip 0x4B A0) reads 0 V")
    assert "an open sensor or a broken wire to the cell" in line


def test_a_shorted_and_an_open_cell_are_both_reported(config):
    person = ForcedCell(ForcedCell(lying_person(), 0, 0, lambda t: 3.3), 2, 3, lambda t: 0.0)

    code, lines, _ = doctor(config, person)

    assert code == 1
    found = failures(lines)
    assert len(found) == 2
    assert "r0c0" in found[0] and "shorted sensor" in found[0]
    assert "r2c3" in found[1] and "reads 0 V" in found[1]


def test_a_floating_input_jumps_wildly_and_is_named(config):
    rng = np.random.default_rng(3)

    code, lines, _ = doctor(config, ForcedCell(lying_person(), 2, 1, lambda t: rng.uniform(0.0, 3.3)))

    assert code == 1
    [line] = failures(lines)
    assert line.startswith("✗ cell r2c1 (chip 0x4A A1) jumps wildly")
    assert "a floating input" in line


def test_a_frozen_cell_reading_the_same_code_every_frame_is_named(config):
    code, lines, _ = doctor(config, ForcedCell(lying_person(), 0, 3, lambda t: 1.5))

    assert code == 1
    [line] = failures(lines)
    assert line.startswith("✗ cell r0c3 (chip 0x48 A3) is frozen at 12000 counts")


def test_fsr_cells_at_zero_on_an_empty_mat_are_only_a_warning(tmp_path):
    config = Config(grid=GridConfig(material="fsr"), paths=PathsConfig(state_dir=str(tmp_path)))
    empty_fsr_mat = lying_person("person material=fsr seed=2\nempty 3600\n")

    code, lines, _ = doctor(config, ForcedCell(empty_fsr_mat, 1, 1, lambda t: 0.0))

    assert code == 0
    assert any(line.startswith("! 1 cell(s) read 0 V with nobody on the mat (r1c1)") for line in lines)
    assert any(line.startswith("✓ the other 15 cells read plausibly (nobody on the mat") for line in lines)


def test_an_unwritable_state_directory_fails_with_the_chown_fix(config, tmp_path):
    if os.geteuid() == 0:
        state_dir = "/sys"  # root writes anywhere chmod allows; nobody may create files in /sys
    else:
        state_dir = str(tmp_path / "locked")
        os.mkdir(state_dir, 0o555)
    config = replace(config, paths=replace(config.paths, state_dir=state_dir))

    code, lines, _ = doctor(config)

    assert code == 1
    [line] = failures(lines)
    assert line.startswith(f"✗ database: cannot write in {state_dir} (")
    assert line.endswith(f"— `sudo chown flatback: {state_dir}`")


def test_a_missing_state_directory_fails_with_how_to_make_it(config, tmp_path):
    missing = str(tmp_path / "nowhere")
    config = replace(config, paths=replace(config.paths, state_dir=missing))

    code, lines, _ = doctor(config)

    assert code == 1
    assert failures(lines) == [f"✗ database: the state directory {missing} does not exist — "
                               f"`sudo install -d -o flatback -g flatback {missing}`"]


def test_a_bad_config_file_shows_its_one_line_error_and_the_rest_is_still_checked(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text(f'[grid]\nrows = 9\n[paths]\nstate_dir = "{tmp_path}"\n')
    clock = VirtualClock()
    out = io.StringIO()

    code = run_doctor(str(bad), bus=emulated_bus(Config(), clock, lying_person()), clock=clock, out=out,
                      systemctl=no_systemd)

    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[0] == (f"✗ configuration: {bad}: [grid] rows = 9: a whole number from 1 to 4 — "
                        "correct the file (the checks below use the built-in defaults)")
    assert "✓ all 16 cells read plausibly" in "\n".join(lines)


def test_a_good_config_file_is_named(tmp_path):
    good = tmp_path / "config.toml"
    good.write_text(f'[paths]\nstate_dir = "{tmp_path}"\n')

    code, lines, _ = doctor(str(good), bus=emulated_bus(Config(), VirtualClock(), lying_person()))

    assert code == 0
    assert lines[0] == f"✓ configuration {good} is valid"


def test_services_failed_is_a_failure_and_stopped_is_a_warning(config):
    asked = []

    def systemctl(args):
        asked.append(list(args))
        return 3, "failed\ninactive\n"

    code, lines, _ = doctor(config, systemctl=systemctl)

    assert asked == [["is-active", "flatback-mat", "flatback-web"]]
    assert code == 1
    assert failures(lines) == ["✗ flatback-mat has failed — see `journalctl -u flatback-mat -e`, "
                               "then `sudo systemctl restart flatback-mat`"]
    assert lines[-1] == "! flatback-web is inactive — start it with `sudo systemctl enable --now flatback-web`"


def test_without_systemd_the_services_are_a_warning_not_a_failure(config):
    code, lines, _ = doctor(config)

    assert code == 0
    assert lines[-1] == "! services not checked: not a systemd machine"


def test_a_pi_without_i2c_enabled_is_told_how_to_enable_it(tmp_path):
    checks = Checklist(io.StringIO())

    assert check_i2c_device(checks, 1, dev_dir=str(tmp_path)) is None

    assert checks.failed
    assert checks.lines == [f"✗ I2C bus 1: {tmp_path}/i2c-1 does not exist — enable I2C with "
                            "`sudo raspi-config nonint do_i2c 0`, add `dtparam=i2c_arm_baudrate=400000` to "
                            "/boot/firmware/config.txt and reboot"]


def test_emulated_doctor_builds_its_own_mat_with_someone_lying_on_it(config):
    out = io.StringIO()

    code = run_doctor(config, emulated=True, clock=VirtualClock(), out=out, systemctl=no_systemd)

    assert code == 0
    assert "✓ all 16 cells read plausibly (someone lying on the mat" in out.getvalue()
