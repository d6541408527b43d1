"""Configuration: a TOML file, validated in one place.

The file is /etc/flatback/config.toml unless `--config` or $FLATBACK_CONFIG names another; a
missing default file means the defaults below (mat/default_config.toml lists them all). A bad
value stops the daemon with one line naming the file, the key and what is allowed. Settings the user changes
on the page (floor, tempo, sound) live in the database; [detection] only seeds them on the
first start (mat/pipeline/settings.py owns their rules).
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from hardware.grid_adc import DEFAULT_ADDRESSES
from hardware.materials import MATERIALS
from mat.pipeline.settings import DEFAULTS, SettingsError, validate_settings

DEFAULT_PATH = Path("/etc/flatback/config.toml")
ADS1115_RATES = (8, 16, 32, 64, 128, 250, 475, 860)
ADS1015_RATES = (128, 250, 490, 920, 1600, 2400, 3300)
GAINS = (2 / 3, 1, 2, 4, 8, 16)
I2C_BUS_PINS = {1: (2, 3)}  # BCM GPIOs that carry an I2C bus on the Pi header (SDA, SCL)


class ConfigError(ValueError):
    """One line: "<file>: [section] key = value: what is allowed"."""


@dataclass(frozen=True)
class GridConfig:
    rows: int = 4
    cols: int = 4
    chip: str = "ads1115"
    addresses: tuple[int, ...] = DEFAULT_ADDRESSES
    i2c_bus: int = 1
    gain: float = 1
    data_rate: int = 860
    material: str = "velostat"


@dataclass(frozen=True)
class FeedbackConfig:
    buzzer_pin: int = 18
    led_pin: int = 23
    button_pin: int | None = 24


@dataclass(frozen=True)
class PathsConfig:
    state_dir: str = "/var/lib/flatback"  # the database lives here
    socket: str = "/run/flatback/mat.sock"  # the daemon's live socket (newline-delimited JSON)

    @property
    def database_path(self) -> Path:
        """The SQLite file: flatback.db in the state directory."""
        return Path(self.state_dir) / "flatback.db"


@dataclass(frozen=True)
class WebConfig:
    host: str = "0.0.0.0"
    port: int = 8080
    threads: int = 8
    max_live_clients: int = 25


@dataclass(frozen=True)
class DetectionConfig:
    """Starting values of the user's settings: they seed the database on first start, after
    which the page owns them."""

    floor: float = DEFAULTS["floor"]
    tempo_s: float = DEFAULTS["tempo_s"]


#: A mat's id is one MQTT topic level and part of Home Assistant's ids: these characters only.
MAT_ID_PATTERN = r"[A-Za-z0-9_-]{1,64}"


@dataclass(frozen=True)
class MqttConfig:
    """Publishing to an MQTT broker (mat/daemon/mqtt.py); off unless `enabled`."""

    enabled: bool = False
    host: str = "localhost"
    port: int = 1883
    username: str = ""
    password_file: str = ""  # an absolute path; the file's first line is the password
    tls: bool = False
    ca_file: str = ""  # with tls: the CA bundle; empty: the system's CAs
    mat_id: str = ""  # empty: this machine's hostname (see effective_mat_id)
    keepalive_s: int = 15
    discovery: bool = True  # Home Assistant discovery messages
    discovery_prefix: str = "homeassistant"
    commands: bool = True  # accept the floor and calibrate from MQTT

    @property
    def effective_mat_id(self) -> str:
        """`mat_id`, or the hostname made a valid id (other characters become '-')."""
        if self.mat_id:
            return self.mat_id
        import socket

        name = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname().split(".")[0])[:64].strip("-")
        return name or "flatback"

    def password(self) -> str | None:
        """The password from `password_file` (its first line), None without one. Raises
        ConfigError when the file cannot be read."""
        if not self.password_file:
            return None
        try:
            lines = Path(self.password_file).read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise ConfigError(f"[mqtt] password_file = {self.password_file!r}: not UTF-8 text") from None
        except OSError as error:
            raise ConfigError(f"[mqtt] password_file = {self.password_file!r}: cannot be read: {error.strerror}") \
                from None
        return lines[0] if lines else ""


@dataclass(frozen=True)
class Config:
    grid: GridConfig = field(default_factory=GridConfig)
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    source: str | None = None  # the file it came from, None for built-in defaults


SECTIONS = {"grid": GridConfig, "feedback": FeedbackConfig, "paths": PathsConfig, "web": WebConfig,
            "detection": DetectionConfig, "mqtt": MqttConfig}


def load_config(path: str | os.PathLike | None = None, env=None) -> Config:
    """The configuration from `path`, else $FLATBACK_CONFIG, else /etc/flatback/config.toml.

    A missing default file means the built-in defaults; a missing file that was named is an
    error. $FLATBACK_STATE_DIR and $FLATBACK_SOCKET override [paths] (the demo points them at a
    temporary directory); $FLATBACK_MQTT=HOST:PORT turns [mqtt] on with that broker, and
    $FLATBACK_MAT_ID names the mat (`mat demo --mqtt`). `env` defaults to os.environ. Raises ConfigError (one line).
    """
    env = os.environ if env is None else env
    explicit = path or env.get("FLATBACK_CONFIG")
    file = Path(explicit) if explicit else DEFAULT_PATH
    if file.exists():
        config = _from_dict(str(file), _read_toml(file))
    elif explicit:
        raise ConfigError(f"{file}: no such configuration file")
    else:
        config = Config()
    paths = config.paths
    if env.get("FLATBACK_STATE_DIR"):
        paths = replace(paths, state_dir=os.path.abspath(env["FLATBACK_STATE_DIR"]))
    if env.get("FLATBACK_SOCKET"):
        paths = replace(paths, socket=os.path.abspath(env["FLATBACK_SOCKET"]))
    mqtt = config.mqtt
    if env.get("FLATBACK_MQTT"):  # `mat demo --mqtt HOST:PORT`: publish to that broker
        host, _, port = env["FLATBACK_MQTT"].rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ConfigError(f"FLATBACK_MQTT = {env['FLATBACK_MQTT']!r}: HOST:PORT, like localhost:1883")
        mqtt = replace(mqtt, enabled=True, host=host, port=int(port), mat_id=env.get("FLATBACK_MAT_ID") or mqtt.mat_id)
    return replace(config, paths=paths, mqtt=mqtt)


def _read_toml(file: Path) -> dict:
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError(f"{file}: cannot be read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        line = error.object[:error.start].count(b"\n") + 1
        raise ConfigError(f"{file}: line {line}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib (3.11) puts the place at the end of its message: "... (at line 3, column 7)".
        message = str(error).splitlines()[0] if str(error) else "syntax error"
        place = re.search(r"\s*\(at (line \d+, column \d+|end of document)\)$", message)
        if place:
            message = message[:place.start()]
            where = place.group(1) if place.group(1).startswith("line") else f"line {text.count(chr(10)) + 1}"
            raise ConfigError(f"{file}: {where}: not valid TOML: {message}") from None
        raise ConfigError(f"{file}: not valid TOML: {message}") from None


def _shown(name: str) -> str:
    """A section or key as written in TOML: bare if it can be, else quoted, always one line."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else repr(name)


def _from_dict(name: str, data: dict) -> Config:
    sections = {}
    for section, values in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"{name}: [{_shown(section)}]: unknown section; allowed: {', '.join(SECTIONS)}")
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: {section} = {values!r}: must be a [{section}] table")
        cls = SECTIONS[section]
        known = {f.name: f for f in fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{name}: [{section}] {_shown(key)}: unknown key; allowed: {', '.join(known)}")
            kwargs[key] = _check(name, section, key, value)
        sections[section] = cls(**kwargs)
    config = Config(**sections, source=name)
    _check_together(name, config)
    return config


def _fail(name, section, key, value, allowed) -> ConfigError:
    return ConfigError(f"{name}: [{section}] {key} = {_toml_value(value, hexadecimal=key == 'addresses')}: {allowed}")


def _toml_value(value, hexadecimal=False) -> str:
    """A value as it could be written in the file (true, 0x48, 'text', [..]), on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and hexadecimal:
        return f"0x{value:02X}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v, hexadecimal) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_shown(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _integer(name, section, key, value, low, high) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(name, section, key, value, f"a whole number from {low} to {high}")
    return value


def _check(name: str, section: str, key: str, value):
    where = (name, section, key, value)
    if section == "grid":
        if key in ("rows", "cols"):
            return _integer(*where, 1, 4)
        if key == "chip":
            if value not in ("ads1115", "ads1015"):
                raise _fail(*where, "ads1115 or ads1015")
            return value
        if key == "addresses":
            if not isinstance(value, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in value):
                raise _fail(*where, "a list of I2C addresses like [0x48, 0x49, 0x4A, 0x4B]")
            bad = [a for a in value if not 0x48 <= a <= 0x4B]
            if bad or len(set(value)) != len(value):
                raise _fail(*where, "distinct addresses from 0x48 to 0x4B (ADDR to GND, VDD, SDA, SCL)")
            return tuple(value)
        if key == "i2c_bus":
            return _integer(*where, 0, 31)
        if key == "gain":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not any(abs(value - g) < 1e-3 for g in GAINS):
                raise _fail(*where, "one of 0.6667 (2/3), 1, 2, 4, 8, 16")
            return next(g for g in GAINS if abs(value - g) < 1e-3)
        if key == "data_rate":
            if isinstance(value, bool) or value not in ADS1115_RATES + ADS1015_RATES:
                raise _fail(*where, f"one of the chip's rates: ADS1115 {', '.join(map(str, ADS1115_RATES))}; "
                                    f"ADS1015 {', '.join(map(str, ADS1015_RATES))}")
            return value
        if key == "material":
            if value not in MATERIALS:
                raise _fail(*where, " or ".join(MATERIALS))
            return value
    if section == "feedback":
        if key == "button_pin":
            if value is False:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 27:
                raise _fail(*where, "a GPIO (BCM number) from 0 to 27, or false for no button")
            return value
        return _integer(*where, 0, 27)
    if section == "paths":
        if not isinstance(value, str) or not value.startswith("/"):
            raise _fail(*where, "an absolute path")
        return value
    if section == "web":
        if key == "host":
            if not isinstance(value, str) or not value:
                raise _fail(*where, "an address to listen on, like 0.0.0.0 or 127.0.0.1")
            return value
        if key == "port":
            return _integer(*where, 1, 65535)
        if key == "threads":
            return _integer(*where, 1, 64)
        if key == "max_live_clients":
            return _integer(*where, 1, 200)
    if section == "detection":
        if key in ("floor", "tempo_s"):
            try:
                return validate_settings({key: value})[key]
            except SettingsError as error:
                raise _fail(*where, error.message.removeprefix("must be ").split(" (")[0]) from None
    if section == "mqtt":
        if key in ("enabled", "tls", "discovery", "commands"):
            if not isinstance(value, bool):
                raise _fail(*where, "true or false")
            return value
        if key == "host":
            if not isinstance(value, str) or not value or any(c.isspace() for c in value):
                raise _fail(*where, "the broker's host name or address, like \"localhost\" or \"192.168.1.10\"")
            return value
        if key == "port":
            return _integer(*where, 1, 65535)
        if key == "keepalive_s":
            return _integer(*where, 5, 600)
        if key == "username":
            if not isinstance(value, str) or len(value) > 256:
                raise _fail(*where, "a user name (text), or \"\" for none")
            return value
        if key in ("password_file", "ca_file"):
            if not isinstance(value, str) or (value and not value.startswith("/")):
                raise _fail(*where, "an absolute path, or \"\" for none")
            return value
        if key == "mat_id":
            if not isinstance(value, str) or (value and not re.fullmatch(MAT_ID_PATTERN, value)):
                raise _fail(*where, "1 to 64 letters, digits, '_' or '-', or \"\" for this machine's hostname")
            return value
        if key == "discovery_prefix":
            if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", value):
                raise _fail(*where, "an MQTT topic without wildcards, like \"homeassistant\"")
            return value
    raise AssertionError((section, key))  # pragma: no cover - keys are checked against the dataclass


def _check_together(name: str, config: Config) -> None:
    grid = config.grid
    if len(grid.addresses) != grid.rows:
        raise ConfigError(f"{name}: [grid] addresses: one address per row: {grid.rows} rows need "
                          f"{grid.rows} addresses, found {len(grid.addresses)}")
    rates = ADS1115_RATES if grid.chip == "ads1115" else ADS1015_RATES
    if grid.data_rate not in rates:
        raise ConfigError(f"{name}: [grid] data_rate = {grid.data_rate}: the {grid.chip} runs at "
                          f"{', '.join(map(str, rates))}")
    feedback = config.feedback
    bus_pins = I2C_BUS_PINS.get(grid.i2c_bus, ())
    for key in ("buzzer_pin", "led_pin", "button_pin"):
        pin = getattr(feedback, key)
        if pin in bus_pins:
            raise _fail(name, "feedback", key, pin, f"GPIO {bus_pins[0]} and {bus_pins[1]} carry I2C bus "
                                                    f"{grid.i2c_bus} (SDA, SCL); another GPIO from 0 to 27")
    mqtt = config.mqtt
    if mqtt.password_file and not mqtt.username:
        raise ConfigError(f"{name}: [mqtt] password_file: a password needs a username (set [mqtt] username)")
    if mqtt.ca_file and not mqtt.tls:
        raise ConfigError(f"{name}: [mqtt] ca_file: a CA is only used with tls = true")
    pins = [p for p in (feedback.buzzer_pin, feedback.led_pin, feedback.button_pin) if p is not None]
    if len(set(pins)) != len(pins):
        raise ConfigError(f"{name}: [feedback]: buzzer_pin, led_pin and button_pin must be different GPIOs")
