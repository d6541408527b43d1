"""`mat doctor`: a checklist for the person assembling the mat.

One line per check, in the order you would fix things: "✓ …" passed, "✗ … — how to fix it"
failed, "! …" worth knowing (a warning, or a check skipped and why). Exit code 0 when nothing
failed, 1 otherwise.

1. configuration: the TOML file loads (a bad one shows its one-line error; the remaining checks
   then use the defaults);
2. I2C bus: /dev/i2c-N exists and this user may read and write it (emulated: skipped);
3. chips: which configured addresses answer a bus scan, and which unexpected ones do;
4. chip reads: ~1 s of frames through GridADC, frames/s and any I2C errors per chip;
5. cells: from those frames, each cell stuck at 0 V, at the supply rail, frozen or floating;
6. buzzer, LED and button pins can be claimed through gpiozero (mock pins off a Pi: warning);
7. database: the state directory exists and is writable, the database passes integrity_check;
8. services: `systemctl is-active flatback-mat flatback-web` (not a systemd machine: warning).

On a real Pi the daemon owns the chips and pins while it runs: the chip, cell and pin checks are
then skipped (with a warning saying how to stop it), because two programs starting conversions
on the same chips would both read garbage.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from hardware.materials import SUPPLY_V, rail_counts

from mat.pipeline.conditioning import MAX_PLAUSIBLE_TARE_COUNTS, RAIL_FRACTION, ZERO_COUNTS

OK, FAIL, WARN = "✓", "✗", "!"
SERVICES = ("flatback-mat", "flatback-web")
#: How long the chips are read for the chip and cell checks (clock seconds).
READ_FOR_S = 1.0
#: A working cell moves a little between frames; an unconnected input jumps around wildly.
#: RMS of frame-to-frame differences above this (counts) is a floating input.
FLOATING_JUMP_COUNTS = 2000
#: Fewer good frames than this for a row, and its cells are not judged.
MIN_FRAMES = 10
#: README, "Figures": at least this many frames per second with four ADS1115 at 860 SPS.
TARGET_FRAME_RATE_HZ = 100
#: What the ADDR pin is tied to for each ADS1115 address (datasheet table 4).
ADDR_PIN = {0x48: "GND", 0x49: "VDD", 0x4A: "SDA", 0x4B: "SCL"}
#: The emulated mat's person: lying relaxed, so every cell reads as it does under a body.
RELAXED_PERSON = """\
person mass_kg=75 seed=1
lie_down 0.5
relax 3600
"""

#: `systemctl(args) -> (returncode, stdout)`, or None on a machine without systemd.
SystemctlRunner = Callable[[Sequence[str]], "tuple[int, str] | None"]


def default_systemctl(args: Sequence[str]) -> tuple[int, str] | None:
    """Runs systemctl, or returns None when this machine is not running systemd."""
    if shutil.which("systemctl") is None or not Path("/run/systemd/system").exists():
        return None
    done = subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=15)
    return done.returncode, done.stdout


class Checklist:
    """Prints one line per check as it is made and remembers whether any failed."""

    def __init__(self, out) -> None:
        self.out = out
        self.failed = False
        self.lines: list[str] = []

    def ok(self, text: str) -> None:
        self._say(f"{OK} {text}")

    def warn(self, text: str) -> None:
        self._say(f"{WARN} {text}")

    def fail(self, text: str, fix: str | None = None) -> None:
        self.failed = True
        self._say(f"{FAIL} {text}" + (f" — {fix}" if fix else ""))

    def _say(self, line: str) -> None:
        self.lines.append(line)
        print(line, file=self.out, flush=True)


@dataclass
class Hardware:
    """The bus to check and what kind it is."""

    bus: object | None
    emulated: bool


def run_doctor(config=None, *, emulated: bool = False, bus=None, clock=None, out=sys.stdout,
               systemctl: SystemctlRunner = default_systemctl, person=None) -> int:
    """Run every check, print the checklist to `out`, return 0 if nothing failed, else 1.

    config: a loaded `Config`, a `ConfigError`, or a config file path (None: the default file or
    $FLATBACK_CONFIG), so a bad file shows up as a failed check rather than a crash.
    emulated: emulated chips with a simulated person lying relaxed, instead of the Pi's bus.
    bus: an already built busio.I2C-like bus to check (tests: an `EmulatedI2C`); implies emulated
    for the /dev check. clock: time for reading frames (default the system clock).
    systemctl: runs systemctl (see `default_systemctl`); tests inject a fake.
    person: with `emulated`, what lies on the mat (anything with `analog_input_for_row`).
    """
    from hardware.clock import SystemClock

    checks = Checklist(out)
    clock = clock or SystemClock()
    config = check_config(checks, config)
    services = _service_states(systemctl)
    if bus is not None:
        hardware = Hardware(bus, emulated=True)
    elif emulated:
        hardware = Hardware(emulated_bus(config, clock, person), emulated=True)
    else:
        hardware = Hardware(None, emulated=False)
    daemon_owns_hardware = not hardware.emulated and services is not None and services.get("flatback-mat") == "active"
    try:
        if hardware.emulated:
            checks.warn(f"I2C bus: emulated bus (/dev/i2c-{config.grid.i2c_bus} not checked)")
        else:
            hardware.bus = check_i2c_device(checks, config.grid.i2c_bus)
        if hardware.bus is not None:
            present_rows = check_addresses(checks, hardware.bus, config.grid.addresses)
            if daemon_owns_hardware:
                checks.warn("chip reads and cells not checked: flatback-mat is running and reading the chips — "
                            "`sudo systemctl stop flatback-mat`, run `mat doctor`, then start it again")
            elif present_rows:
                frames = check_chip_reads(checks, hardware.bus, config, present_rows, clock)
                if frames is not None:
                    check_cells(checks, config, present_rows, frames)
        else:
            checks.warn("chips and cells not checked: no I2C bus")
    finally:
        if not hardware.emulated and hardware.bus is not None:
            hardware.bus.deinit()
    if daemon_owns_hardware:
        checks.warn("buzzer, LED and button pins not checked: flatback-mat holds them while it runs")
    else:
        check_pins(checks, config, clock)
    check_database(checks, config)
    check_services(checks, services)
    return 1 if checks.failed else 0


# -- 1. configuration ------------------------------------------------------------------------
def check_config(checks: Checklist, config):
    """The configuration to check the rest with; a bad one fails here and the defaults stand in."""
    from mat.config import Config, ConfigError, DEFAULT_PATH, load_config

    if not isinstance(config, (Config, ConfigError)):
        try:
            config = load_config(config)
        except ConfigError as error:
            config = error
    if isinstance(config, ConfigError):
        checks.fail(f"configuration: {config}", "correct the file (the checks below use the built-in defaults)")
        return Config()
    if config.source:
        checks.ok(f"configuration {config.source} is valid")
    else:
        checks.ok(f"configuration: built-in defaults ({DEFAULT_PATH} does not exist)")
    return config


# -- 2. the I2C bus ---------------------------------------------------------------------------
def check_i2c_device(checks: Checklist, bus_number: int, dev_dir: str = "/dev"):
    """Checks /dev/i2c-N and opens the Pi's bus (`board.I2C()`); None when it can't be used."""
    device = Path(dev_dir) / f"i2c-{bus_number}"
    if not device.exists():
        checks.fail(f"I2C bus {bus_number}: {device} does not exist",
                    "enable I2C with `sudo raspi-config nonint do_i2c 0`, add "
                    "`dtparam=i2c_arm_baudrate=400000` to /boot/firmware/config.txt and reboot")
        return None
    if not os.access(device, os.R_OK | os.W_OK):
        user = _user_name()
        checks.fail(f"I2C bus {bus_number}: {device} exists but {user} may not read and write it",
                    f"add the user to the i2c group: `sudo usermod -aG i2c {user}`, then log in again")
        return None
    checks.ok(f"I2C bus {bus_number}: {device} is present and usable")
    if bus_number != 1:
        checks.warn(f"I2C bus {bus_number} configured, but the Pi's board.I2C() is bus 1: the chips are read there")
    os.environ.setdefault("BLINKA_SKIP_DEPENDENCY_CHECK", "1")  # no pip offers on a terminal
    try:
        import board

        return board.I2C()
    except Exception as error:  # noqa: BLE001 - anything Blinka raises means no bus
        checks.fail(f"I2C bus {bus_number}: cannot be opened ({error})",
                    "is this a Raspberry Pi with I2C enabled? (`sudo raspi-config nonint do_i2c 0`)")
        return None


def _user_name() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return "this user"


# -- 3. which chips answer --------------------------------------------------------------------
def check_addresses(checks: Checklist, bus, addresses: Sequence[int]) -> list[int]:
    """Scans the bus; returns the rows whose chip answers its configured address."""
    try:
        found = set(_scan(bus))
    except OSError as error:
        checks.fail(f"scanning the I2C bus failed ({error})",
                    "SDA and SCL shorted together or to GND, or the pull-up resistors missing?")
        return []
    present = [row for row, address in enumerate(addresses) if address in found]
    for row, address in enumerate(addresses):
        if address not in found:
            checks.fail(f"chip for row {row} at 0x{address:02X} does not answer",
                        f"check its VDD/GND/SDA/SCL and that ADDR is wired to {ADDR_PIN.get(address, '?')}")
    if len(present) == len(addresses):
        checks.ok(f"all {len(addresses)} chips answer: " +
                  ", ".join(f"0x{a:02X} (row {r})" for r, a in enumerate(addresses)))
    elif present:
        checks.ok("answering: " + ", ".join(f"0x{addresses[r]:02X} (row {r})" for r in present))
    unexpected = sorted(found - set(addresses))
    if unexpected:
        checks.warn("unexpected device(s) on the bus: " + ", ".join(f"0x{a:02X}" for a in unexpected) +
                    " — not in [grid] addresses (a chip with its ADDR pin wired to the wrong pin?)")
    return present


def _scan(bus) -> list[int]:
    import time

    for _ in range(1000):  # busio wants the bus locked for a scan
        if bus.try_lock():
            break
        time.sleep(0.001)
    else:
        raise OSError("the I2C bus stays locked by another user")
    try:
        return list(bus.scan())
    finally:
        bus.unlock()


# -- 4. reading the chips ---------------------------------------------------------------------
@dataclass
class Readings:
    """~1 s of frames from the answering chips. counts: (n, rows, cols) int32 for the whole grid
    (0 where a row was not read); ok: (n, rows) whether that row's chip answered that frame."""

    counts: np.ndarray
    ok: np.ndarray
    duration_s: float


def check_chip_reads(checks: Checklist, bus, config, present_rows: list[int], clock) -> Readings | None:
    """Reads frames for READ_FOR_S through GridADC; one line per chip, plus the frame rate."""
    from hardware.grid_adc import GridADC

    grid_config = config.grid
    addresses = [grid_config.addresses[r] for r in present_rows]
    try:
        # Only the answering chips: GridADC refuses to start with one that does not answer.
        grid = GridADC(bus, rows=len(present_rows), cols=grid_config.cols, addresses=addresses,
                       gain=grid_config.gain, data_rate=grid_config.data_rate, clock=clock, chip=grid_config.chip)
    except (OSError, ValueError) as error:
        checks.fail(f"the chips answer but cannot be set up ({error})", "check the SDA/SCL wiring and the pull-ups")
        return None
    counts, ok, errors = [], [], {row: [] for row in present_rows}
    began_s = clock.monotonic()
    while clock.monotonic() - began_s < READ_FOR_S and len(counts) < 10_000:
        frame = grid.read_frame()
        full = np.zeros((grid_config.rows, grid_config.cols), dtype=np.int32)
        answered = np.zeros(grid_config.rows, dtype=bool)
        for i, row in enumerate(present_rows):
            if i in frame.errors:
                errors[row].append(frame.errors[i])
            else:
                full[row] = frame.counts[i]
                answered[row] = True
        counts.append(full)
        ok.append(answered)
    duration_s = clock.monotonic() - began_s
    rate_hz = len(counts) / duration_s if duration_s > 0 else 0.0
    for row in present_rows:
        address = grid_config.addresses[row]
        failures = errors[row]
        if not failures:
            checks.ok(f"row {row} chip 0x{address:02X} reads: {rate_hz:.0f} frames/s, no errors")
        else:
            checks.fail(f"row {row} chip 0x{address:02X}: {len(failures)} of {len(counts)} reads failed "
                        f"({failures[0]})", "a loose connection: check its SDA/SCL/VDD/GND wires and solder joints")
    if rate_hz < TARGET_FRAME_RATE_HZ:
        checks.warn(f"{rate_hz:.0f} frames/s is below the {TARGET_FRAME_RATE_HZ} frames/s target — set "
                    "`dtparam=i2c_arm_baudrate=400000` in /boot/firmware/config.txt and data_rate = 860")
    return Readings(np.array(counts), np.array(ok), duration_s)


# -- 5. the cells -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CellFault:
    row: int
    col: int
    kind: str  # "zero", "rail", "frozen", "floating"
    counts: float  # the typical reading (median counts)
    jump_counts: float = 0.0  # RMS frame-to-frame change (counts)


def find_cell_faults(counts: np.ndarray, rail: int) -> list[CellFault]:
    """Faulty cells from one cell's-worth of readings each: `counts` (n, rows, cols) int, all
    frames good. Judged in this order: at the rail, at 0 V, floating, frozen."""
    faults = []
    n, rows, cols = counts.shape
    jumps = np.sqrt(np.mean(np.diff(counts.astype(float), axis=0) ** 2, axis=0)) if n > 1 else np.zeros((rows, cols))
    medians = np.median(counts, axis=0)
    for row in range(rows):
        for col in range(cols):
            cell = counts[:, row, col]
            kind = None
            if medians[row, col] >= RAIL_FRACTION * rail:
                kind = "rail"
            elif np.max(np.abs(cell)) <= ZERO_COUNTS:
                kind = "zero"
            elif jumps[row, col] > FLOATING_JUMP_COUNTS:
                kind = "floating"
            elif n > 1 and np.all(cell == cell[0]):
                kind = "frozen"
            if kind:
                faults.append(CellFault(row, col, kind, float(medians[row, col]), float(jumps[row, col])))
    return faults


def check_cells(checks: Checklist, config, present_rows: list[int], readings: Readings) -> None:
    """Each cell of each answering row judged from the frames its chip answered."""
    grid_config = config.grid
    rail = rail_counts(grid_config.gain)
    judged, faults = [], []
    for row in present_rows:
        good = readings.ok[:, row]
        if good.sum() < MIN_FRAMES:
            checks.warn(f"row {row} cells not checked: only {int(good.sum())} good readings from its chip")
            continue
        judged.append(row)
        row_counts = readings.counts[good][:, row:row + 1, :]
        faults += [CellFault(row, f.col, f.kind, f.counts, f.jump_counts) for f in find_cell_faults(row_counts, rail)]
    for row in sorted(set(range(grid_config.rows)) - set(present_rows)):
        checks.warn(f"row {row} cells not checked: its chip does not answer")
    if not judged:
        return
    typical = np.median(readings.counts[:, judged, :], axis=0)  # (len(judged), cols)
    faulty = {(f.row, f.col) for f in faults}
    working = [typical[i, c] for i, r in enumerate(judged) for c in range(grid_config.cols) if (r, c) not in faulty]
    someone_on_mat = sum(v > MAX_PLAUSIBLE_TARE_COUNTS for v in working) >= 2
    unsure_zero = []
    for fault in faults:
        where = f"cell r{fault.row}c{fault.col} (chip 0x{grid_config.addresses[fault.row]:02X} A{fault.col})"
        if fault.kind == "rail":
            checks.fail(f"{where} reads the supply rail (~{fault.counts:.0f} counts ≈ {SUPPLY_V} V, rail {rail})",
                        "a shorted sensor or a missing divider resistor")
        elif fault.kind == "zero":
            # An unloaded FSR is nearly open and reads ~0 V; unloaded Velostat always conducts a bit.
            if grid_config.material == "fsr" and not someone_on_mat:
                unsure_zero.append(f"r{fault.row}c{fault.col}")
            else:
                checks.fail(f"{where} reads 0 V ({fault.counts:.0f} counts)",
                            "an open sensor or a broken wire to the cell (between the sensor and 3.3 V)")
        elif fault.kind == "floating":
            checks.fail(f"{where} jumps wildly (±{fault.jump_counts:.0f} counts from frame to frame)",
                        f"a floating input: a broken wire between the cell's divider and A{fault.col}")
        else:
            checks.fail(f"{where} is frozen at {fault.counts:.0f} counts (identical in every frame)",
                        "no working sensor is that still: check the cell's wiring and the chip's input")
    if unsure_zero:
        checks.warn(f"{len(unsure_zero)} cell(s) read 0 V with nobody on the mat ({', '.join(unsure_zero)}): "
                    "normal for FSRs; lie on the mat and run `mat doctor` again to test them")
    total = len(judged) * grid_config.cols
    good_cells = total - len(faults)
    if good_cells:
        who = "someone lying on the mat" if someone_on_mat else "nobody on the mat"
        low, high = (min(working), max(working)) if working else (0, 0)
        if faults:
            checks.ok(f"the other {good_cells} cells read plausibly ({who}: {low:.0f}–{high:.0f} counts)")
        else:
            checks.ok(f"all {total} cells read plausibly ({who}: {low:.0f}–{high:.0f} counts)")


# -- 6. buzzer, LED, button -------------------------------------------------------------------
def check_pins(checks: Checklist, config, clock) -> None:
    """Claims the feedback pins through gpiozero (and chirps once on a real Pi)."""
    fb = config.feedback
    pins = f"buzzer GPIO {fb.buzzer_pin}, LED GPIO {fb.led_pin}" + (
        f", button GPIO {fb.button_pin}" if fb.button_pin is not None else "")
    try:
        from gpiozero.pins.mock import MockFactory

        from hardware.feedback import Feedback

        feedback = Feedback(buzzer_pin=fb.buzzer_pin, led_pin=fb.led_pin, button_pin=fb.button_pin,
                            clock=clock, threaded=False)
    except Exception as error:  # noqa: BLE001 - gpiozero and lgpio raise many kinds
        checks.fail(f"cannot claim {pins} ({error})",
                    "another program holds them (is flatback-mat running? `sudo systemctl stop flatback-mat`), "
                    "or add the user to the gpio group: `sudo usermod -aG gpio $USER`")
        return
    try:
        if isinstance(feedback.buzzer.pin_factory, MockFactory):
            checks.warn(f"{pins}: gpiozero's mock pins (not a Raspberry Pi): nothing will sound")
            return
        feedback.chirp()
        for _ in range(10):  # the chirp is 60 ms: let it play
            feedback.update()
            clock.sleep(0.02)
        checks.ok(f"{pins} claimed (the buzzer just chirped)")
    finally:
        feedback.close()


# -- 7. database ------------------------------------------------------------------------------
def check_database(checks: Checklist, config) -> None:
    """The state directory is writable, and the database (if there is one yet) is sound."""
    import sqlite3

    from mat.storage.store import Store

    state_dir = Path(config.paths.state_dir)
    if not state_dir.is_dir():
        checks.fail(f"database: the state directory {state_dir} does not exist",
                    f"`sudo install -d -o flatback -g flatback {state_dir}`")
        return
    try:
        with tempfile.NamedTemporaryFile(dir=state_dir, prefix=".doctor-"):
            pass
    except OSError as error:
        checks.fail(f"database: cannot write in {state_dir} ({error.strerror})",
                    f"`sudo chown flatback: {state_dir}`")
        return
    path = config.paths.database_path
    if not path.exists():
        # Not created here: a database made by whoever runs the doctor (often root) would lock
        # the daemon's user out of it.
        checks.ok(f"database: {state_dir} is writable (no database yet: `mat run` creates {path.name})")
        return
    try:
        store = Store(path)
        try:
            sound = store.integrity_ok()
            version = store.schema_version
        finally:
            store.close()
    except sqlite3.Error as error:
        checks.fail(f"database {path} cannot be opened ({error})",
                    f"stop the mat, move {path} aside (a new one is made at the next start)")
        return
    if not sound:
        checks.fail(f"database {path} fails PRAGMA integrity_check",
                    f"stop the mat, move {path} aside (a new one is made at the next start)")
        return
    checks.ok(f"database {path} is writable and passes integrity_check (schema version {version})")


# -- 8. services ------------------------------------------------------------------------------
def _service_states(systemctl: SystemctlRunner) -> dict[str, str] | None:
    """Unit → `systemctl is-active` answer (active, inactive, failed, …); None without systemd."""
    try:
        result = systemctl(["is-active", *SERVICES])
    except (OSError, subprocess.SubprocessError):
        return None
    if result is None:
        return None
    _, stdout = result
    answers = stdout.split()
    return {unit: answers[i] if i < len(answers) else "unknown" for i, unit in enumerate(SERVICES)}


def check_services(checks: Checklist, states: dict[str, str] | None) -> None:
    if states is None:
        checks.warn("services not checked: not a systemd machine")
        return
    for unit, state in states.items():
        if state == "active":
            checks.ok(f"{unit} is running")
        elif state == "failed":
            checks.fail(f"{unit} has failed", f"see `journalctl -u {unit} -e`, then `sudo systemctl restart {unit}`")
        else:
            checks.warn(f"{unit} is {state} — start it with `sudo systemctl enable --now {unit}`")


# -- the emulated mat -------------------------------------------------------------------------
def emulated_bus(config, clock, person=None):
    """Emulated chips for the configured grid, with `person` (default: someone lying relaxed,
    who has been there a few seconds already) on the mat."""
    from hardware.emulation.ads1115 import build_emulated_grid

    if person is None:
        from hardware.emulation.person import Scenario, SimulatedPerson

        from hardware.emulation.mat import LoopingPerson

        person = LoopingPerson(SimulatedPerson(Scenario.parse(RELAXED_PERSON), rows=config.grid.rows,
                                               cols=config.grid.cols, gain=config.grid.gain),
                               start_s=clock.monotonic() - 5.0)
    return build_emulated_grid(person.analog_input_for_row, clock, rows=config.grid.rows,
                               addresses=tuple(config.grid.addresses))
