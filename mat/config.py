"""Configuration: a TOML file, validated in one place.

The file is /etc/flatback/config.toml unless `--config` or $FLATBACK_CONFIG names another; a
missing default file means the defaults below (DESIGN.md section 5). A bad value stops the
daemon with one line naming the file, the key and what is allowed. Settings the user changes
on the page (floor, tempo, sound) live in the database, not here.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

DEFAULT_PATH = Path("/etc/flatback/config.toml")
ADS1115_RATES = (8, 16, 32, 64, 128, 250, 475, 860)
ADS1015_RATES = (128, 250, 490, 920, 1600, 2400, 3300)
GAINS = (2 / 3, 1, 2, 4, 8, 16)


class ConfigError(ValueError):
    """One line: "<file>: [section] key = value: what is allowed"."""


@dataclass(frozen=True)
class GridConfig:
    rows: int = 4
    cols: int = 4
    chip: str = "ads1115"
    addresses: tuple[int, ...] = (0x48, 0x49, 0x4A, 0x4B)
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
    state_dir: str = "/var/lib/flatback"
    socket: str = "/run/flatback/mat.sock"


@dataclass(frozen=True)
class WebConfig:
    host: str = "0.0.0.0"
    port: int = 8080
    threads: int = 8
    max_live_clients: int = 25


@dataclass(frozen=True)
class DetectionConfig:
    floor: float = 0.5
    tempo_s: float = 3.0


@dataclass(frozen=True)
class Config:
    grid: GridConfig = field(default_factory=GridConfig)
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    source: str | None = None  # the file it came from, None for built-in defaults


SECTIONS = {"grid": GridConfig, "feedback": FeedbackConfig, "paths": PathsConfig, "web": WebConfig,
            "detection": DetectionConfig}


def load_config(path: str | os.PathLike | None = None, env=None) -> Config:
    env = os.environ if env is None else env
    explicit = path or env.get("FLATBACK_CONFIG")
    file = Path(explicit) if explicit else DEFAULT_PATH
    if file.exists():
        try:
            data = tomllib.loads(file.read_text())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{file}: not valid TOML: {error}") from None
        except OSError as error:
            raise ConfigError(f"{file}: cannot be read: {error.strerror}") from None
        config = _from_dict(str(file), data)
    elif explicit:
        raise ConfigError(f"{file}: no such configuration file")
    else:
        config = Config()
    paths = config.paths
    if env.get("FLATBACK_STATE_DIR"):
        paths = replace(paths, state_dir=env["FLATBACK_STATE_DIR"])
    if env.get("FLATBACK_SOCKET"):
        paths = replace(paths, socket=env["FLATBACK_SOCKET"])
    return replace(config, paths=paths)


def _from_dict(name: str, data: dict) -> Config:
    sections = {}
    for section, values in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"{name}: [{section}]: unknown section; allowed: {', '.join(SECTIONS)}")
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: {section} = {values!r}: must be a [{section}] table")
        cls = SECTIONS[section]
        known = {f.name: f for f in fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{name}: [{section}] {key}: unknown key; allowed: {', '.join(known)}")
            kwargs[key] = _check(name, section, key, value)
        sections[section] = cls(**kwargs)
    config = Config(**sections, source=name)
    _check_together(name, config)
    return config


def _fail(name, section, key, value, allowed) -> ConfigError:
    shown = hex(value) if key == "addresses" and isinstance(value, int) else repr(value)
    return ConfigError(f"{name}: [{section}] {key} = {shown}: {allowed}")


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
            if value not in ("velostat", "fsr"):
                raise _fail(*where, "velostat or fsr")
            return value
    if section == "feedback":
        if key == "button_pin" and value is False:
            return None
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
        if key == "floor":
            from .pipeline import validate_floor

            try:
                return validate_floor(value) if not isinstance(value, bool) and isinstance(value, (int, float)) else validate_floor("x")
            except ValueError:
                raise _fail(*where, "0.20 to 0.90 in steps of 0.05") from None
        if key == "tempo_s":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1.0 <= value <= 8.0:
                raise _fail(*where, "seconds from 1.0 to 8.0")
            return float(value)
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
    pins = [p for p in (config.feedback.buzzer_pin, config.feedback.led_pin, config.feedback.button_pin) if p is not None]
    if len(set(pins)) != len(pins):
        raise ConfigError(f"{name}: [feedback]: buzzer_pin, led_pin and button_pin must be different GPIOs")
