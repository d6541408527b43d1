"""Recordings: raw frames in the CSV format of mat/README.md, "Recordings", so any detector can replay them.

    # flatback-recording 1
    # rows=4 cols=4 adc=ads1115 gain=1 material=velostat
    t,r0c0,r0c1,...,r3c3
    0.000000,3,2,4,1,...

A malformed file raises `RecordingError` naming the file and the line.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from hardware.materials import MATERIALS

FORMAT_LINE = "# flatback-recording 1"
COUNT_MIN, COUNT_MAX = -32768, 32767


class RecordingError(ValueError):
    """A recording that does not follow the format; the message is "FILE:LINE: what is wrong"."""


def column_names(rows: int, cols: int) -> list[str]:
    return [f"r{r}c{c}" for r in range(rows) for c in range(cols)]


class RecordingWriter:
    """Writes frames as they come. `path_or_file`: a path (created) or an open text file."""

    def __init__(self, path_or_file, rows: int, cols: int, adc: str = "ads1115", gain: float = 1,
                 material: str = "velostat", extra_header: dict | None = None, flush_every: int = 100) -> None:
        if material not in MATERIALS:
            raise ValueError(f"material must be one of {', '.join(MATERIALS)}, not {material!r}")
        self._owns = not hasattr(path_or_file, "write")
        self._file: IO[str] = open(path_or_file, "w", newline="") if self._owns else path_or_file
        self.rows, self.cols = rows, cols
        header = {"rows": rows, "cols": cols, "adc": adc, "gain": _gain_text(gain), "material": material}
        header.update(extra_header or {})
        self._file.write(FORMAT_LINE + "\n")
        self._file.write("# " + " ".join(f"{k}={v}" for k, v in header.items()) + "\n")
        self._file.write(",".join(["t"] + column_names(rows, cols)) + "\n")
        self._last_t: float | None = None
        self._flush_every = flush_every
        self._pending = 0

    def write(self, t_s: float, counts) -> None:
        values = np.asarray(counts).reshape(-1)
        if values.size != self.rows * self.cols:
            raise ValueError(f"a frame has {self.rows * self.cols} cells, got {values.size}")
        t_text = f"{t_s:.6f}"
        if self._last_t is not None and float(t_text) <= self._last_t:
            raise ValueError(f"t must increase strictly: {t_text} after {self._last_t:.6f}")
        self._last_t = float(t_text)
        self._file.write(t_text + "," + ",".join(str(int(v)) for v in values) + "\n")
        self._pending += 1
        if self._pending >= self._flush_every:
            self._file.flush()
            self._pending = 0

    def close(self) -> None:
        self._file.flush()
        if self._owns:
            self._file.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _gain_text(gain: float) -> str:
    if abs(gain - 2 / 3) < 1e-9:
        return "2/3"
    return str(int(gain)) if float(gain).is_integer() else str(gain)


def parse_gain(text: str) -> float:
    """The gain as written in a header ("2/3", "1", "16")."""
    if text == "2/3":
        return 2 / 3
    value = float(text)
    return int(value) if value.is_integer() else value


@dataclass
class Recording:
    """A whole recording in memory. t: (n,) float64 seconds; counts: (n, rows, cols) int32."""

    header: dict
    rows: int
    cols: int
    t: np.ndarray
    counts: np.ndarray

    @property
    def material(self) -> str:
        return self.header.get("material", "velostat")

    @property
    def gain(self) -> float:
        return parse_gain(self.header.get("gain", "1"))


def read_recording(path) -> Recording:
    """Load a recording; RecordingError names the first bad line."""
    name = str(path)
    text = Path(path).read_text() if not hasattr(path, "read") else path.read()
    lines = text.splitlines()
    header, rows, cols, first_data = _parse_header(name, lines)
    body = lines[first_data:]
    n_cols = 1 + rows * cols
    try:  # fast path: numpy parses a clean file in one go
        data = np.loadtxt(io.StringIO("\n".join(body)), delimiter=",", dtype=np.float64, ndmin=2)
        if body and data.shape[1] != n_cols:
            raise ValueError
    except ValueError:
        data = None
    if data is None or not _values_ok(data):
        _find_bad_line(name, body, first_data, n_cols)  # raises with the line number
        raise RecordingError(f"{name}: malformed data")  # pragma: no cover - _find_bad_line raises
    if not body:
        data = np.zeros((0, n_cols))
    t = data[:, 0].copy()
    steps = np.diff(t)
    if np.any(steps <= 0):
        bad = int(np.argmax(steps <= 0)) + 1
        raise RecordingError(f"{name}:{first_data + bad + 1}: t must increase strictly "
                             f"({t[bad]:.6f} after {t[bad - 1]:.6f})")
    counts = data[:, 1:].astype(np.int32).reshape(-1, rows, cols)
    return Recording(header, rows, cols, t, counts)


def iter_recording(path) -> Iterator[tuple[float, np.ndarray]]:
    recording = read_recording(path)
    for t, counts in zip(recording.t.tolist(), recording.counts):
        yield t, counts


def _parse_header(name: str, lines: list[str]) -> tuple[dict, int, int, int]:
    if not lines:
        raise RecordingError(f"{name}:1: empty file, expected '{FORMAT_LINE}'")
    if lines[0].strip() != FORMAT_LINE:
        raise RecordingError(f"{name}:1: expected '{FORMAT_LINE}', found {lines[0][:60]!r}")
    header: dict[str, str] = {}
    index = 1
    while index < len(lines) and lines[index].startswith("#"):
        for pair in lines[index][1:].split():
            key, sep, value = pair.partition("=")
            if not sep or not key or not value:
                raise RecordingError(f"{name}:{index + 1}: header entries are key=value, found {pair!r}")
            header[key] = value
        index += 1
    for key in ("rows", "cols"):
        if key not in header:
            raise RecordingError(f"{name}:2: header lacks {key}=")
        if not header[key].isdigit() or not 1 <= int(header[key]) <= 64:
            raise RecordingError(f"{name}:2: {key} must be a whole number 1..64, not {header[key]!r}")
    if header.get("material", "velostat") not in MATERIALS:
        raise RecordingError(f"{name}:2: material must be velostat or fsr, not {header['material']!r}")
    if "gain" in header:
        try:
            parse_gain(header["gain"])
        except ValueError:
            raise RecordingError(f"{name}:2: gain must be a number or 2/3, not {header['gain']!r}") from None
    rows, cols = int(header["rows"]), int(header["cols"])
    if index >= len(lines):
        raise RecordingError(f"{name}:{index + 1}: missing the column line 't,r0c0,...'")
    expected = ",".join(["t"] + column_names(rows, cols))
    if lines[index].strip() != expected:
        raise RecordingError(f"{name}:{index + 1}: columns must be '{expected[:40]}...' for a "
                             f"{rows}x{cols} grid, found {lines[index][:60]!r}")
    return header, rows, cols, index + 1


def _values_ok(data: np.ndarray) -> bool:
    counts = data[:, 1:]
    return bool(np.all(np.isfinite(data)) and np.all(counts == np.round(counts))
                and counts.min(initial=0) >= COUNT_MIN and counts.max(initial=0) <= COUNT_MAX)


def _find_bad_line(name: str, body: list[str], offset: int, n_cols: int) -> None:
    for i, line in enumerate(body):
        number = offset + i + 1
        fields = line.split(",")
        if len(fields) != n_cols:
            raise RecordingError(f"{name}:{number}: expected {n_cols} fields, found {len(fields)}")
        try:
            t = float(fields[0])
        except ValueError:
            raise RecordingError(f"{name}:{number}: t is not a number: {fields[0]!r}") from None
        if not np.isfinite(t):
            raise RecordingError(f"{name}:{number}: t is not finite")
        for column, field in enumerate(fields[1:]):
            try:
                value = int(field)
            except ValueError:
                raise RecordingError(f"{name}:{number}: column {column + 2} is not an integer count: "
                                     f"{field!r}") from None
            if not COUNT_MIN <= value <= COUNT_MAX:
                raise RecordingError(f"{name}:{number}: count {value} outside {COUNT_MIN}..{COUNT_MAX}")
    raise RecordingError(f"{name}:{offset + 1}: malformed data")
