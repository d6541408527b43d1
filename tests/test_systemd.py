"""The systemd units pass `systemd-analyze verify` and rate 2.0 or below for exposure; the
installer does what it says without touching the machine in --dry-run."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mat.config import load_config

SYSTEMD = Path(__file__).resolve().parent.parent / "systemd"
UNITS = ["flatback-mat.service", "flatback-web.service"]
analyze = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed (apt-get install systemd)")


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_rates_an_exposure_of_2_or_below(unit):
    result = subprocess.run([analyze, "security", "--offline=yes", str(SYSTEMD / unit)],
                            capture_output=True, text=True, timeout=60)
    score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout).group(1))
    assert score <= 2.0, result.stdout[-2000:]


@needs_analyze
def test_the_units_verify(tmp_path):
    # verify insists that ExecStart exists; on this machine /opt/flatback is not installed, so
    # check copies whose ExecStart points at a binary that does.
    for unit in UNITS:
        text = (SYSTEMD / unit).read_text().replace("/opt/flatback/venv/bin/mat", shutil.which("true"))
        (tmp_path / unit).write_text(text)
    result = subprocess.run([analyze, "verify", *(str(tmp_path / u) for u in UNITS)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_daemon_unit_is_notify_with_a_watchdog_and_outranks_the_web_unit():
    mat, web = ((SYSTEMD / u).read_text() for u in UNITS)
    assert "Type=notify" in mat and "WatchdogSec=" in mat and "Restart=on-failure" in mat
    assert "SupplementaryGroups=i2c gpio" in mat and "User=flatback" in web
    nice = {u: int(re.search(r"^Nice=(-?\d+)", t, re.M).group(1)) for u, t in zip(UNITS, (mat, web))}
    assert nice["flatback-mat.service"] < nice["flatback-web.service"]


def test_the_installer_dry_run_lists_its_steps_and_changes_nothing():
    result = subprocess.run(["bash", str(SYSTEMD / "install.sh"), "--dry-run"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "python3 -m venv /opt/flatback/venv" in out or "-m pip install" in out
    assert "systemctl enable flatback-mat.service flatback-web.service" in out
    assert "dtparam=i2c_arm_baudrate=400000" in out
    uninstall = subprocess.run(["bash", str(SYSTEMD / "install.sh"), "--dry-run", "--uninstall"],
                               capture_output=True, text=True, timeout=60).stdout
    assert "rm -rf /opt/flatback" in uninstall and "/var/lib/flatback" not in uninstall.split("Flatback removed")[0]


def test_the_default_config_file_loads_as_the_defaults(tmp_path):
    config = load_config(SYSTEMD.parent / "mat" / "default_config.toml", env={})
    assert config.grid.addresses == (0x48, 0x49, 0x4A, 0x4B) and config.feedback.buzzer_pin == 18
