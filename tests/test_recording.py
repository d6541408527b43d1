"""The recording CSV of mat/README.md, "Recordings": written to the letter, read back exactly, bad lines named."""
import numpy as np
import pytest

from mat.storage.recording import RecordingError, RecordingWriter, read_recording

HEADER = "t," + ",".join(f"r{r}c{c}" for r in range(4) for c in range(4))


def test_the_written_file_matches_the_contract_to_the_letter(tmp_path):
    path = tmp_path / "r.csv"
    with RecordingWriter(path, 4, 4) as writer:
        writer.write(0.0, np.arange(16).reshape(4, 4))
        writer.write(0.010113, np.full((4, 4), -32768))
    lines = path.read_text().splitlines()
    assert lines[0] == "# flatback-recording 1"
    assert lines[1] == "# rows=4 cols=4 adc=ads1115 gain=1 material=velostat"
    assert lines[2] == HEADER
    assert lines[3] == "0.000000," + ",".join(str(i) for i in range(16))
    assert lines[4].startswith("0.010113,-32768,")


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(1)
    counts = rng.integers(-32768, 32768, size=(500, 2, 3)).astype(np.int32)
    t = np.round(np.cumsum(rng.uniform(0.005, 0.015, 500)), 6)
    path = tmp_path / "r.csv"
    with RecordingWriter(path, 2, 3, gain=2 / 3, material="fsr") as writer:
        for ti, frame in zip(t, counts):
            writer.write(ti, frame)
    recording = read_recording(path)
    assert (recording.rows, recording.cols, recording.material, recording.gain) == (2, 3, "fsr", 2 / 3)
    np.testing.assert_array_equal(recording.counts, counts)
    np.testing.assert_allclose(recording.t, t, atol=5e-7)


def _write(tmp_path, body, header="# rows=4 cols=4 adc=ads1115 gain=1 material=velostat"):
    path = tmp_path / "bad.csv"
    path.write_text(f"# flatback-recording 1\n{header}\n{HEADER}\n{body}")
    return path


ROW = ",".join(["1"] * 16)


@pytest.mark.parametrize("body, line, words", [
    (f"0.0,{ROW}\n0.01,{ROW[:-2]}\n", 5, "expected 17 fields"),
    (f"0.0,{ROW}\nabc,{ROW}\n", 5, "t is not a number"),
    (f"0.0,{ROW}\n0.01,{ROW[:-1]}x\n", 5, "not an integer"),
    (f"0.0,{ROW}\n0.01,{ROW[:-1]}40000\n", 5, "outside -32768..32767"),
    (f"0.0,{ROW}\n0.02,{ROW}\n0.01,{ROW}\n", 6, "t must increase strictly"),
    (f"0.0,{ROW}\n0.01,{ROW[:-1]}1.5\n", 5, "not an integer"),
])
def test_a_malformed_line_is_named(tmp_path, body, line, words):
    path = _write(tmp_path, body)
    with pytest.raises(RecordingError, match=rf"bad.csv:{line}: .*{words}"):
        read_recording(path)


def test_a_wrong_format_line_or_header_is_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("t,a\n")
    with pytest.raises(RecordingError, match=r"x.csv:1: expected '# flatback-recording 1'"):
        read_recording(path)
    with pytest.raises(RecordingError, match=r"bad.csv:2: material must be velostat or fsr"):
        read_recording(_write(tmp_path, "", header="# rows=4 cols=4 material=rubber"))
    path = tmp_path / "cols.csv"
    path.write_text("# flatback-recording 1\n# rows=4 cols=4\nt,r0c0\n")
    with pytest.raises(RecordingError, match=r"cols.csv:3: columns must be"):
        read_recording(path)


def test_unknown_header_keys_are_ignored(tmp_path):
    recording = read_recording(_write(tmp_path, f"0.0,{ROW}\n", header="# rows=4 cols=4 mood=happy material=fsr"))
    assert recording.material == "fsr" and recording.counts.shape == (1, 4, 4)
