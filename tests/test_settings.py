"""The settings' one owner (mat/pipeline/settings.py): the same rule for the page, the API, the
configuration file and the pipeline."""
from contextlib import ExitStack

import pytest

from mat.config import ConfigError, load_config
from mat.pipeline import Pipeline
from mat.pipeline.settings import SettingsError, floor_choice, validate_settings
from mat.storage.store import Store


@pytest.mark.parametrize("floor, expected", [(0.5, 0.5), (0.2, 0.2), (0.9, 0.9), (0.55, 0.55)])
def test_floor_accepts_its_steps(floor, expected):
    assert floor_choice(floor) == expected


@pytest.mark.parametrize("floor", [0.15, 0.93, 0.33, 0.95])
def test_floor_refuses_values_off_its_range_or_step(floor):
    with pytest.raises(ValueError, match="0.20 to 0.90"):
        floor_choice(floor)


def test_one_rule_for_the_store_the_config_file_and_the_pipeline(tmp_path):
    for bad in (0.33, 0.95, True, "0.5"):
        with pytest.raises(SettingsError):
            validate_settings({"floor": bad})
        with pytest.raises((SettingsError, ValueError)):
            Pipeline(floor=bad)
        config = tmp_path / "bad.toml"
        config.write_text(f"[detection]\nfloor = {bad!r}\n".replace("True", "true").replace("'", '"'))
        with pytest.raises(ConfigError, match=r"\[detection\] floor"):
            load_config(config)
    with pytest.raises(SettingsError):  # the API's schema lists the floors exactly
        validate_settings({"floor": 0.35000000000000003})
    assert Store(tmp_path / "a.db").update_settings(floor=0.35)["floor"] == 0.35


def test_the_config_files_detection_section_seeds_the_settings_once(tmp_path):
    """[detection] gives the starting floor and tempo on a new database; after that the page
    owns them, and the daemon runs with what the page set."""
    from hardware.clock import VirtualClock
    from mat.daemon.wiring import build_loop

    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[paths]\nstate_dir = "{tmp_path}"\n[detection]\nfloor = 0.65\ntempo_s = 4.0\n')
    config = load_config(config_file, env={})

    def started_floor_and_tempo():
        with ExitStack() as parts:
            loop = build_loop(config, parts, emulated=True, clock=VirtualClock(), live_path=str(tmp_path / "mat.sock"))
            return loop.pipeline.floor, loop.pipeline.tempo_s

    assert started_floor_and_tempo() == (0.65, 4.0)
    Store(config.paths.database_path).update_settings(floor=0.4)
    assert started_floor_and_tempo() == (0.4, 4.0)
