"""The tests' broker and recorder live in mat/tools/mosquitto.py (`mat bench --mqtt` uses them too)."""
from mat.tools.mosquitto import Broker, Recorder, free_port, mosquitto_path, retained  # noqa: F401
