"""The systemd units and the installer.

The units are checked the way they will run: the installer stages them into a temporary root
(DESTDIR), a stand-in for /opt/flatback/venv/bin/mat goes where the venv would be, and
`systemd-analyze verify --root=` checks them there, ExecStart included. Each unit must also rate
2.0 or below in `systemd-analyze security --offline=yes`. The installer itself only ever runs
here with --dry-run or DESTDIR, so the machine running the tests is never touched.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mat.config import load_config

REPO = Path(__file__).resolve().parent.parent
SYSTEMD = REPO / "systemd"
INSTALL = SYSTEMD / "install.sh"
UNITS = ["flatback-mat.service", "flatback-web.service"]
SYSTEM_UNITS = Path("/usr/lib/systemd/system")  # the stock targets verify resolves dependencies against
analyze = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed (apt-get install systemd)")


def install(*args, destdir=None, check=True):
    """Runs the installer, never on the real system: with --dry-run or into `destdir`."""
    assert "--dry-run" in args or destdir is not None
    env = dict(os.environ, DESTDIR=str(destdir) if destdir else "")
    result = subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, env=env, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def unit(name):
    """A unit file as {key: [values]} (keys repeat, e.g. DeviceAllow)."""
    directives = {}
    for line in (SYSTEMD / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            directives.setdefault(key, []).append(value)
    return directives


def exposure(unit_path) -> float:
    result = subprocess.run([analyze, "security", "--offline=yes", str(unit_path)], capture_output=True,
                            text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout[-2000:] + result.stderr
    return float(found.group(1))


@needs_analyze
@pytest.mark.parametrize("name", UNITS)
def test_each_unit_rates_an_exposure_of_2_or_below(name):
    assert exposure(SYSTEMD / name) <= 2.0


@needs_analyze
@pytest.mark.parametrize("name", UNITS)
def test_the_security_threshold_passes_at_2(name):
    # --threshold makes the command itself fail above 2.0 (its scale is tenths: 20), as a CI gate would.
    result = subprocess.run([analyze, "security", "--offline=yes", "--threshold=20", str(SYSTEMD / name)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-2000:]


@needs_analyze
@pytest.mark.skipif(not SYSTEM_UNITS.is_dir(), reason=f"{SYSTEM_UNITS} is missing: no stock targets to verify against")
def test_the_installed_units_verify_in_a_staged_root(tmp_path):
    install(destdir=tmp_path)
    shutil.copytree(SYSTEM_UNITS, tmp_path / "usr/lib/systemd/system", symlinks=True)
    mat = tmp_path / "opt/flatback/venv/bin/mat"
    mat.parent.mkdir(parents=True)
    mat.write_text("#!/bin/sh\n")
    mat.chmod(0o755)
    result = subprocess.run([analyze, "verify", f"--root={tmp_path}", *UNITS], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # an unknown or misspelt directive only warns: none allowed

    mat.unlink()  # and the check is real: without the program, verify refuses the unit
    missing = subprocess.run([analyze, "verify", f"--root={tmp_path}", UNITS[0]], capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode != 0 and "/opt/flatback/venv/bin/mat is not executable" in missing.stderr


def test_the_daemon_is_notify_with_a_watchdog_and_outranks_the_web_server():
    mat, web = unit(UNITS[0]), unit(UNITS[1])
    assert mat["Type"] == ["notify"] and mat["WatchdogSec"] == ["5"] and mat["Restart"] == ["on-failure"]
    assert mat["ExecStart"] == ["/opt/flatback/venv/bin/mat run"]
    assert web["ExecStart"] == ["/opt/flatback/venv/bin/mat web"]
    assert int(mat["Nice"][0]) < int(web["Nice"][0]) and int(mat["CPUWeight"][0]) > int(web["CPUWeight"][0])
    assert mat["RestartPreventExitStatus"] == ["2"]  # a bad config: restarting cannot help


def test_both_run_as_flatback_and_only_the_daemon_reaches_the_bus_and_pins():
    mat, web = unit(UNITS[0]), unit(UNITS[1])
    assert mat["User"] == web["User"] == ["flatback"]
    assert mat["SupplementaryGroups"] == ["i2c gpio"] and "SupplementaryGroups" not in web
    assert mat["DevicePolicy"] == ["closed"] and set(mat["DeviceAllow"]) == {"/dev/i2c-1 rw", "char-gpiochip rw"}
    assert web["PrivateDevices"] == ["yes"]
    assert mat["PrivateNetwork"] == ["yes"] and mat["RestrictAddressFamilies"] == ["AF_UNIX"]
    assert web["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    # Blinka and gpiozero read /proc/cpuinfo and /proc/device-tree to know the Pi.
    assert "ProcSubset" not in mat


def test_both_share_the_runtime_directory_and_neither_deletes_it_under_the_other():
    for name in UNITS:
        directives = unit(name)
        assert directives["RuntimeDirectory"] == ["flatback"] and directives["RuntimeDirectoryPreserve"] == ["yes"]
        assert directives["StateDirectory"] == ["flatback"] and directives["UMask"] == ["0027"]
    config = load_config(REPO / "mat" / "default_config.toml", env={})
    assert config.paths.socket.startswith("/run/flatback/") and config.paths.state_dir == "/var/lib/flatback"
    # lgpio's FIFOs need a writable directory; the runtime directory is one.
    assert "LG_WD=/run/flatback" in unit(UNITS[0])["Environment"]


def test_the_installer_is_clean_shell():
    assert subprocess.run(["bash", "-n", str(INSTALL)], capture_output=True).returncode == 0
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run([shellcheck, str(INSTALL)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_a_dry_run_lists_every_step_in_order_and_changes_nothing():
    out = install("--dry-run").stdout
    steps = [line.removeprefix("would run: ") for line in out.splitlines() if line.startswith("would run: ")]
    assert any(s.startswith("useradd --system --user-group --groups i2c\\,gpio") for s in steps) or \
        any(s.startswith("usermod --append --groups i2c\\,gpio flatback") for s in steps)
    expected_order = [
        "python3 -m venv --system-site-packages /opt/flatback/venv",
        f"/opt/flatback/venv/bin/python -m pip install --quiet --upgrade {REPO}",
        f"install -m 0644 {REPO}/mat/default_config.toml /etc/flatback/config.toml",
        f"install -m 0644 {REPO}/systemd/flatback-mat.service /etc/systemd/system/flatback-mat.service",
        "systemctl daemon-reload",
        "systemctl enable flatback-mat.service flatback-web.service",
        "systemctl restart flatback-mat.service flatback-web.service",
    ]
    positions = [steps.index(step) for step in expected_order if step in steps]
    assert positions == sorted(positions) and len(positions) >= 6, steps  # the venv exists already on a rerun
    assert "raspi-config nonint do_i2c 0" in out and "dtparam=i2c_arm_baudrate=400000" in out
    assert "http://" in out and ":8080/" in out


def test_install_into_a_staged_root_keeps_an_edited_config_on_the_second_run(tmp_path):
    first = install(destdir=tmp_path).stdout
    config = tmp_path / "etc/flatback/config.toml"
    assert config.read_text() == (REPO / "mat/default_config.toml").read_text()
    for name in UNITS:
        assert (tmp_path / "etc/systemd/system" / name).read_text() == (SYSTEMD / name).read_text()
    assert (tmp_path / "opt/flatback/doc/hardware.md").exists()
    # Nothing on the running system happens under DESTDIR: those steps are only printed.
    assert "would run: systemctl enable flatback-mat.service flatback-web.service" in first
    assert "+ systemctl" not in first and "+ useradd" not in first

    config.write_text("[web]\nport = 9090\n")
    second = install(destdir=tmp_path).stdout
    assert config.read_text() == "[web]\nport = 9090\n"
    assert "kept: /etc/flatback/config.toml" in second
    assert ":9090/" in second  # the URL printed is the configured port


def test_uninstall_keeps_sessions_and_config_unless_purged(tmp_path):
    install(destdir=tmp_path)
    sessions = tmp_path / "var/lib/flatback/flatback.db"
    sessions.parent.mkdir(parents=True)
    sessions.write_bytes(b"SQLite format 3\0")
    (tmp_path / "opt/flatback/venv/bin").mkdir(parents=True)

    out = install("--uninstall", destdir=tmp_path).stdout
    assert "would run: systemctl disable --now flatback-mat.service flatback-web.service" in out
    assert not (tmp_path / "opt/flatback").exists()
    assert not any((tmp_path / "etc/systemd/system").iterdir())
    assert sessions.exists() and (tmp_path / "etc/flatback/config.toml").exists()

    install("--uninstall", "--purge", destdir=tmp_path)
    assert not sessions.exists() and not (tmp_path / "etc/flatback").exists()


@pytest.mark.parametrize("args, message", [
    (["--dry-run", "--purge"], "--purge goes with --uninstall"),
    (["--dry-run", "--from", "/nonexistent/flatback.whl"], "no such wheel or directory"),
    (["--dry-run", "--colour"], "unknown option --colour"),
])
def test_the_installer_refuses_bad_options_with_one_line(args, message):
    result = install(*args, check=False)
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1


def test_a_wheel_can_be_installed_instead_of_the_checkout(tmp_path):
    wheel = tmp_path / "flatback-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    out = install("--dry-run", "--from", str(wheel)).stdout
    assert f"/opt/flatback/venv/bin/python -m pip install --quiet --upgrade {wheel}" in out
