"""Configuration: defaults, a full file, and one clear line for every bad value."""
import pytest

from mat.config import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_file_means_the_design_defaults(tmp_path):
    config = load_config(None, env={})  # /etc/flatback/config.toml does not exist here
    assert (config.grid.rows, config.grid.cols, config.grid.gain, config.grid.data_rate) == (4, 4, 1, 860)
    assert config.grid.addresses == (0x48, 0x49, 0x4A, 0x4B)
    assert (config.feedback.buzzer_pin, config.feedback.led_pin, config.feedback.button_pin) == (18, 23, 24)


def test_a_full_file_and_the_environment_overrides(tmp_path):
    path = write(tmp_path, """
[grid]
rows = 2
cols = 3
addresses = [0x4A, 0x4B]
gain = 2
material = "fsr"
[feedback]
button_pin = false
[web]
port = 9000
""")
    config = load_config(path, env={"FLATBACK_STATE_DIR": "/tmp/x", "FLATBACK_SOCKET": "/tmp/x/s"})
    assert (config.grid.rows, config.grid.addresses, config.grid.material) == (2, (0x4A, 0x4B), "fsr")
    assert config.feedback.button_pin is None and config.web.port == 9000
    assert (config.paths.state_dir, config.paths.socket) == ("/tmp/x", "/tmp/x/s")


@pytest.mark.parametrize("text, expected", [
    ("[grid]\ngain = 3\n", "[grid] gain = 3: one of 0.6667 (2/3), 1, 2, 4, 8, 16"),
    ("[grid]\nrows = 5\n", "[grid] rows = 5: a whole number from 1 to 4"),
    ("[grid]\ndata_rate = 900\n", "[grid] data_rate = 900: one of the chip's rates"),
    ("[grid]\naddresses = [0x48, 0x48, 0x49, 0x4A]\n", "[grid] addresses = "),
    ("[grid]\nrows = 2\n", "[grid] addresses: one address per row: 2 rows need 2 addresses, found 4"),
    ("[grid]\nmaterial = \"rubber\"\n", "[grid] material = 'rubber': velostat or fsr"),
    ("[grid]\ncolour = 1\n", "[grid] colour: unknown key; allowed: rows, cols"),
    ("[sound]\nvolume = 3\n", "[sound]: unknown section"),
    ("[feedback]\nled_pin = 18\n", "[feedback]: buzzer_pin, led_pin and button_pin must be different GPIOs"),
    ("[web]\nport = 70000\n", "[web] port = 70000: a whole number from 1 to 65535"),
    ("[detection]\nfloor = 0.33\n", "[detection] floor = 0.33: 0.20 to 0.90 in steps of 0.05"),
    ("[grid\nrows = 4\n", "not valid TOML"),
])
def test_a_bad_value_gives_one_line_naming_file_key_and_what_is_allowed(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.toml", env={})


def test_the_daemon_refuses_to_start_on_a_bad_config_with_one_line(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, "[grid]\ngain = 3\n")
    result = subprocess.run([sys.executable, "-m", "mat.cli", "--config", str(path), "run", "--emulated"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"mat: {path}: [grid] gain = 3: one of 0.6667 (2/3), 1, 2, 4, 8, 16\n"
