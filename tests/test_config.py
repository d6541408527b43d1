"""The configuration file: where it comes from, what it holds, and one clear line for each mistake."""
import dataclasses
import re
from pathlib import Path

import pytest

import mat.config as config_module
from mat.config import SECTIONS, Config, ConfigError, load_config

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "mat" / "default_config.toml"

FULL_FILE = """
[grid]
rows = 3
cols = 2
chip = "ads1015"
addresses = [0x4B, 0x4A, 0x49]
i2c_bus = 1
gain = 0.6667
data_rate = 1600
material = "fsr"

[feedback]
buzzer_pin = 12
led_pin = 16
button_pin = false

[paths]
state_dir = "/srv/flatback"
socket = "/srv/flatback/mat.sock"

[web]
host = "127.0.0.1"
port = 8443
threads = 4
max_live_clients = 10

[detection]
floor = 0.65
tempo_s = 2.5
"""


@pytest.fixture
def no_default_file(tmp_path, monkeypatch):
    """As on a fresh machine: no /etc/flatback/config.toml (even when this one has it)."""
    monkeypatch.setattr(config_module, "DEFAULT_PATH", tmp_path / "etc" / "config.toml")
    return tmp_path / "etc" / "config.toml"


def write(tmp_path, text, name="config.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path, env=None) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(path, env=env or {})
    return str(raised.value)


def test_without_a_file_the_mat_has_the_design_defaults(no_default_file):
    config = load_config(env={})
    assert config.source is None
    grid = config.grid
    assert (grid.rows, grid.cols, grid.chip, grid.i2c_bus) == (4, 4, "ads1115", 1)
    assert grid.addresses == (0x48, 0x49, 0x4A, 0x4B)
    assert (grid.gain, grid.data_rate, grid.material) == (1, 860, "velostat")
    assert (config.feedback.buzzer_pin, config.feedback.led_pin, config.feedback.button_pin) == (18, 23, 24)
    assert config.paths.state_dir == "/var/lib/flatback" and config.paths.socket == "/run/flatback/mat.sock"
    assert config.paths.database_path == Path("/var/lib/flatback/flatback.db")
    assert (config.web.host, config.web.port, config.web.threads, config.web.max_live_clients) == ("0.0.0.0", 8080, 8, 25)
    assert (config.detection.floor, config.detection.tempo_s) == (0.5, 3.0)


def test_the_default_file_is_read_when_it_exists(no_default_file):
    no_default_file.parent.mkdir()
    no_default_file.write_text("[web]\nport = 8000\n")
    config = load_config(env={})
    assert config.web.port == 8000 and config.source == str(no_default_file)


def test_a_full_file_sets_every_key(tmp_path):
    config = load_config(write(tmp_path, FULL_FILE), env={})
    assert config.grid == config_module.GridConfig(rows=3, cols=2, chip="ads1015", addresses=(0x4B, 0x4A, 0x49),
                                                   i2c_bus=1, gain=2 / 3, data_rate=1600, material="fsr")
    assert config.feedback == config_module.FeedbackConfig(buzzer_pin=12, led_pin=16, button_pin=None)
    assert config.paths.database_path == Path("/srv/flatback/flatback.db")
    assert config.web == config_module.WebConfig(host="127.0.0.1", port=8443, threads=4, max_live_clients=10)
    assert config.detection == config_module.DetectionConfig(floor=0.65, tempo_s=2.5)


def test_the_configuration_cannot_be_changed_once_loaded(no_default_file):
    config = load_config(env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.grid.rows = 2


def test_the_documented_default_file_uncommented_gives_exactly_the_defaults(no_default_file, tmp_path):
    text = DEFAULT_FILE.read_text()
    assert load_config(DEFAULT_FILE, env={}).grid == Config().grid  # as installed: all commented out
    # Every key of every section is there, commented, with its meaning after a second '#'.
    uncommented = re.sub(r"^# (\w+ = )", r"\1", text, flags=re.M)
    for section, cls in SECTIONS.items():
        for field in dataclasses.fields(cls):
            assert re.search(rf"^# {field.name} = .+#\s*\S", text, re.M), f"[{section}] {field.name} undocumented"
    config = load_config(write(tmp_path, uncommented), env={})
    assert dataclasses.replace(config, source=None) == Config()


def test_the_flag_beats_the_environment_and_the_environment_beats_the_default(tmp_path, no_default_file):
    flag = write(tmp_path, "[web]\nport = 1111\n", "flag.toml")
    env_file = write(tmp_path, "[web]\nport = 2222\n", "env.toml")
    assert load_config(flag, env={"FLATBACK_CONFIG": str(env_file)}).web.port == 1111
    assert load_config(None, env={"FLATBACK_CONFIG": str(env_file)}).web.port == 2222


def test_a_named_file_that_is_missing_is_an_error_unlike_the_default(tmp_path, no_default_file):
    assert error_of(None, env={"FLATBACK_CONFIG": str(tmp_path / "gone.toml")}) == \
        f"{tmp_path / 'gone.toml'}: no such configuration file"


def test_the_environment_moves_the_state_directory_and_socket(tmp_path, no_default_file, monkeypatch):
    path = write(tmp_path, FULL_FILE)
    config = load_config(path, env={"FLATBACK_STATE_DIR": str(tmp_path / "state"),
                                    "FLATBACK_SOCKET": str(tmp_path / "state" / "mat.sock")})
    assert config.paths.state_dir == str(tmp_path / "state")
    assert config.paths.database_path == tmp_path / "state" / "flatback.db"
    assert config.paths.socket == str(tmp_path / "state" / "mat.sock")
    assert config.web.port == 8443  # the rest of the file still applies
    monkeypatch.chdir(tmp_path)  # a relative directory is taken from where the command runs
    assert load_config(env={"FLATBACK_STATE_DIR": "demo"}).paths.state_dir == str(tmp_path / "demo")


BAD_VALUES = [
    # (file text, "[section] key = value: what is allowed" as it must appear)
    ("[grid]\nrows = 5", "[grid] rows = 5: a whole number from 1 to 4"),
    ("[grid]\nrows = 0", "[grid] rows = 0: a whole number from 1 to 4"),
    ("[grid]\nrows = \"4\"", "[grid] rows = '4': a whole number from 1 to 4"),
    ("[grid]\ncols = 2.5", "[grid] cols = 2.5: a whole number from 1 to 4"),
    ("[grid]\nchip = \"mcp3008\"", "[grid] chip = 'mcp3008': ads1115 or ads1015"),
    ("[grid]\naddresses = [0x48, 0x49, 0x4A, 0x50]", "[grid] addresses = [0x48, 0x49, 0x4A, 0x50]: distinct addresses from 0x48 to 0x4B"),
    ("[grid]\naddresses = [0x48, 0x48, 0x49, 0x4A]", "[grid] addresses = [0x48, 0x48, 0x49, 0x4A]: distinct addresses"),
    ("[grid]\naddresses = 72", "[grid] addresses = 0x48: a list of I2C addresses like [0x48, 0x49, 0x4A, 0x4B]"),
    ("[grid]\nrows = 3", "[grid] addresses: one address per row: 3 rows need 3 addresses, found 4"),
    ("[grid]\ni2c_bus = -1", "[grid] i2c_bus = -1: a whole number from 0 to 31"),
    ("[grid]\ngain = 3", "[grid] gain = 3: one of 0.6667 (2/3), 1, 2, 4, 8, 16"),
    ("[grid]\ngain = true", "[grid] gain = true: one of 0.6667 (2/3), 1, 2, 4, 8, 16"),
    ("[grid]\ndata_rate = 100", "[grid] data_rate = 100: one of the chip's rates: ADS1115 8, 16, 32, 64, 128, 250, 475, 860"),
    ("[grid]\ndata_rate = 3300", "[grid] data_rate = 3300: the ads1115 runs at 8, 16, 32, 64, 128, 250, 475, 860"),
    ("[grid]\nmaterial = \"foam\"", "[grid] material = 'foam': velostat or fsr"),
    ("[feedback]\nbuzzer_pin = 28", "[feedback] buzzer_pin = 28: a whole number from 0 to 27"),
    ("[feedback]\nled_pin = \"GPIO23\"", "[feedback] led_pin = 'GPIO23': a whole number from 0 to 27"),
    ("[feedback]\nbutton_pin = true", "[feedback] button_pin = true: a GPIO (BCM number) from 0 to 27, or false for no button"),
    ("[feedback]\nbuzzer_pin = 2", "[feedback] buzzer_pin = 2: GPIO 2 and 3 carry I2C bus 1 (SDA, SCL)"),
    ("[feedback]\nbutton_pin = 18", "[feedback]: buzzer_pin, led_pin and button_pin must be different GPIOs"),
    ("[paths]\nstate_dir = \"var/lib\"", "[paths] state_dir = 'var/lib': an absolute path"),
    ("[web]\nport = 0", "[web] port = 0: a whole number from 1 to 65535"),
    ("[web]\nport = 65536", "[web] port = 65536: a whole number from 1 to 65535"),
    ("[web]\nhost = \"\"", "[web] host = '': an address to listen on"),
    ("[web]\nthreads = 0", "[web] threads = 0: a whole number from 1 to 64"),
    ("[detection]\nfloor = 0.95", "[detection] floor = 0.95: 0.20 to 0.90 in steps of 0.05"),
    ("[detection]\nfloor = 0.52", "[detection] floor = 0.52: 0.20 to 0.90 in steps of 0.05"),
    ("[detection]\nfloor = \"half\"", "[detection] floor = 'half': 0.20 to 0.90 in steps of 0.05"),
    ("[detection]\ntempo_s = 0.5", "[detection] tempo_s = 0.5: seconds from 1.0 to 8.0"),
    ("[grid]\ncolumns = 4", "[grid] columns: unknown key; allowed: rows, cols, chip, addresses, i2c_bus, gain, data_rate, material"),
    ("[buzzer]\npin = 18", "[buzzer]: unknown section; allowed: grid, feedback, paths, web, detection"),
    ("grid = 4", "grid = 4: must be a [grid] table"),
]


@pytest.mark.parametrize("text, expected", BAD_VALUES, ids=[expected.split(":")[0] for _, expected in BAD_VALUES])
def test_a_bad_value_is_one_line_naming_the_file_the_key_and_what_is_allowed(tmp_path, text, expected):
    path = write(tmp_path, text + "\n")
    message = error_of(path)
    assert "\n" not in message
    assert message.startswith(f"{path}: {expected}"), message


def test_a_key_with_a_line_break_in_its_name_still_gives_one_line(tmp_path):
    message = error_of(write(tmp_path, '[grid]\n"col\\ns" = 4\n'))
    assert "\n" not in message and "[grid] 'col\\ns': unknown key" in message


@pytest.mark.parametrize("text, line", [
    ("[grid\nrows = 4\n", "line 1, column 6"),
    ("[grid]\nrows = 4\nrows = 3\n", "line 3, column 9"),
    ("# settings\n[web]\nport = 80 80\n", "line 3, column 11"),
    ("[web]\nport =", "line 2"),  # the file ends in the middle of a value
])
def test_a_toml_syntax_error_names_the_file_and_line(tmp_path, text, line):
    path = write(tmp_path, text)
    message = error_of(path)
    assert "\n" not in message
    assert message.startswith(f"{path}: {line}: not valid TOML: ")
    assert "(at line" not in message  # the place is said once, up front


def test_a_file_that_is_not_text_names_the_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"[grid]\n# caf\xe9\n")
    assert error_of(path) == f"{path}: line 2: not UTF-8 text"


def test_a_directory_in_place_of_the_file_cannot_be_read(tmp_path):
    message = error_of(tmp_path)
    assert message.startswith(f"{tmp_path}: cannot be read: ") and "\n" not in message
