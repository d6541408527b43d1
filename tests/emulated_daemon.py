"""Starting the real daemon on emulated hardware in its own process, for end-to-end tests."""
import os
import subprocess
import sys
import time


def start_emulated_daemon(workdir, scenario_text: str, timeout_s: float = 30.0):
    """`mat run --emulated` playing `scenario_text` in its own process, state in `workdir`.

    Returns the process once its live socket exists (the loop starts right after)."""
    scenario = workdir / "scenario.txt"
    scenario.write_text(scenario_text)
    (workdir / "none.toml").write_text("")
    sock = workdir / "mat.sock"
    if sock.exists():
        sock.unlink()
    env = dict(os.environ, FLATBACK_STATE_DIR=str(workdir), FLATBACK_SOCKET=str(sock),
               GPIOZERO_PIN_FACTORY="mock", GPIOZERO_MOCK_PIN_CLASS="mockpwmpin")
    process = subprocess.Popen([sys.executable, "-m", "mat.cli", "--config", str(workdir / "none.toml"), "run",
                                "--emulated", "--scenario", str(scenario)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while not sock.exists():
        assert process.poll() is None, "the daemon died on start"
        assert time.monotonic() < deadline, "the daemon did not start"
        time.sleep(0.01)
    return process
