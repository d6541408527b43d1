"""The pure pipeline: frames and their timestamps in, events and live state out (see
mat/README.md). No I2C, GPIO, SQLite or sockets, so the daemon, `mat replay`, the bench and
the tests run the same code."""
from mat.pipeline.pipeline import Pipeline

__all__ = ["Pipeline"]
