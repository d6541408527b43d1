"""`mat bench --load`: alert latency and frame rate with and without browsers watching.

As on the Pi, the daemon loop and the web server are separate processes: the loop runs here in
real time on emulated chips; `mat web` runs as a child process; a third process (this module's
`main`) opens 20 live streams and keeps requesting pages. Latency is measured from the
simulator's true floor crossing to the buzzer pin turning on, on the system clock.

One session runs for the whole measurement and the conditions take turns on it: idle, load,
idle, load (`PHASES`), each for the same number of arches, so a machine that drifts (another
job, thermal throttling) biases neither side. The web server runs throughout, connected to the
loop as on the Pi, so "idle" is the mat with nobody watching; for each load phase the load
generator is started, and the phase begins only once all 20 streams are open; it is stopped
when the phase ends. Arches that fall while it starts or stops are not counted. By default the
web server runs niced below the loop, as the systemd units rank them (`--equal-priority` not).

The simulated person is stationary (no creep, no drift: `steady_arches`), so every arch has the
same latency through the pipeline (smoothing and debounce, about 20 ms) and the spread between
arches is the frame phase plus whatever the machine adds, which is what is being compared.
The reps are fast (one arch every 1.8 s) only to collect arches quickly.
"""
from __future__ import annotations

import gc
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from bisect import bisect_left
from pathlib import Path

import numpy as np

SSE_CLIENTS = 20
PAGE_WORKERS = 2
#: Pages the load generator cycles through; once a session exists, its page and JSON are added.
PAGES = ("/", "/history", "/settings", "/api/sessions", "/api/settings")
#: The conditions, in the order they run.
PHASES = ("idle", "load", "idle", "load")
#: Arches per phase: two phases per condition.
ARCHES_PER_PHASE = 20
ARCHES_PER_PHASE_QUICK = 8
#: After the load is up (or down), wait this long before a phase starts (s).
SETTLE_S = 0.5
#: A phase ends this long after its last arch's floor crossing: the alert is in by then (s).
AFTER_LAST_ARCH_S = 0.4
#: Other processes using more than this many cores during a phase get a note: they disturb it.
OTHER_CPU_NOTE_CORES = 0.25
#: The load generator reports ready once every stream is open, or after this long (s).
READY_TIMEOUT_S = 15.0
#: With deployment_priorities: the web server's niceness relative to the loop (the units give
#: the daemon Nice=-10 and the web server Nice=5), and the load generator's (it stands in for
#: phones, which are not on the Pi at all, so it gets the least).
WEB_NICE = 15
LOAD_NICE = 19
FLOOR = 0.5


def steady_arches(reps: int) -> str:
    """A session of `reps` fast leg lifts, every one with a sharp 0.3-deep arch (one arch
    per 1.8 s), from a person whose cells neither creep nor drift."""
    from hardware.emulation.scenarios import session_text

    arches = ",".join(str(i) for i in range(1, reps + 1))
    return session_text("mass_kg=75 seed=34 creep=0 drift=0",
                    f"set reps={reps} descent_s=0.7 ascent_s=0.4 top_pause_s=0.1 arch_s=0.4 tempo_jitter=0 arch_reps={arches}\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Conductor(threading.Thread):
    """Runs the phases on the system clock while the loop runs on the main thread: starts and
    stops the web server and the load generator, and notes each phase's window and arches."""

    def __init__(self, start: float, crossings: list[float], arches_per_phase: int, state_dir: Path,
                 sock_path: Path, live, deployment_priorities: bool = True) -> None:
        super().__init__(name="bench-phases", daemon=True)
        self.start_t = start
        self.crossings = crossings  # on the system clock
        self.arches_per_phase = arches_per_phase
        self.state_dir = state_dir
        self.sock_path = sock_path
        self.live = live
        self.deployment_priorities = deployment_priorities
        self.phases: list[dict] = []
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._web: subprocess.Popen | None = None
        self._load: subprocess.Popen | None = None
        self._web_log = None
        self._port = 0

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:  # handed to the main thread, which re-raises it
            self.error = error
        finally:
            try:
                self.stop_load()
                self.stop_web()
            except BaseException as error:
                self.error = self.error or error
            self.done.set()

    def _run(self) -> None:
        # The web server runs throughout, as on the Pi: idle is the mat with nobody watching.
        self._start_web()
        k = self.arches_per_phase
        for n, kind in enumerate(PHASES):
            ready_streams = None
            if kind == "load":
                ready_streams = self._start_load()
            t0 = time.monotonic() + SETTLE_S
            if n == 0:  # the first phase starts just before the first arch, after calibration
                t0 = max(t0, self.crossings[0] - 1.0)
            i = bisect_left(self.crossings, t0)
            if i + k > len(self.crossings):
                raise RuntimeError("the bench scenario ran out of arches")
            t1 = self.crossings[i + k - 1] + AFTER_LAST_ARCH_S
            _sleep_until(t0)
            cpu_before = self._cpu()
            daemon_clients = [self.live.client_count]
            while time.monotonic() < t1:
                _sleep_until(min(t1, time.monotonic() + 1.0))
                daemon_clients.append(self.live.client_count)
            cpu = {name: round((used - cpu_before[name]) / (time.monotonic() - t0), 2)
                   for name, used in self._cpu().items()}
            cpu["other"] = round(max(cpu.pop("machine") - sum(cpu.values()), 0.0), 2)
            phase = {"phase": kind, "t0": t0, "t1": t1, "crossings": self.crossings[i:i + k],
                     "daemon_clients_min": min(daemon_clients), "daemon_clients_max": max(daemon_clients),
                     "cpu_cores": cpu}
            if kind == "load":
                phase.update(self.stop_load(), streams_at_start=ready_streams)
            self.phases.append(phase)

    def _cpu(self) -> dict:
        """CPU seconds so far: this process (the loop), the web server, the load generator,
        the whole machine."""
        return {"loop_process": _cpu_s(), "web": _cpu_s(self._web.pid) if self._web else 0.0,
                "load_generator": _cpu_s(self._load.pid) if self._load else 0.0, "machine": _machine_busy_s()}

    def _start_web(self) -> None:
        from mat.tools.demo import wait_for_port

        self._port = _free_port()
        env = dict(os.environ, FLATBACK_STATE_DIR=str(self.state_dir), FLATBACK_SOCKET=str(self.sock_path))
        self._web_log = open(self.state_dir / "web.log", "ab")
        self._web = subprocess.Popen(self._nice(WEB_NICE) + [sys.executable, "-m", "mat.cli", "web", "--host",
                                                             "127.0.0.1", "--port", str(self._port)],
                                     env=env, stdout=self._web_log, stderr=self._web_log)
        if not wait_for_port("127.0.0.1", self._port, timeout_s=20.0, processes=(self._web,)):
            why = "did not start" if self._web.poll() is None else f"exited with status {self._web.returncode}"
            raise RuntimeError(f"the web server {why}: {self._web_log_tail()}")

    def _start_load(self) -> int:
        """Start the browsers and the page load; the number of streams open when ready."""
        self._load = subprocess.Popen(self._nice(LOAD_NICE) + [sys.executable, "-m", "mat.tools.loadbench",
                                                               f"http://127.0.0.1:{self._port}", "600"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._load.stdout.readline().split()
        if not line or line[0] != "ready":
            raise RuntimeError("the load generator did not start")
        return int(line[1])

    def _nice(self, niceness: int) -> list[str]:
        """The command prefix that starts a child at `niceness` above this process (every thread
        of it: a niceness set after the start would miss threads already running)."""
        if not self.deployment_priorities:
            return []
        return ["nice", "-n", str(niceness)]

    def stop_load(self) -> dict:
        """Stop the load generator; its figures are returned."""
        stats: dict = {}
        if self._load is not None:
            load, self._load = self._load, None
            try:
                load.stdin.close()  # end of input: the generator stops and reports
                out = load.stdout.read()
                load.wait(timeout=10)
                lines = out.strip().splitlines()
                stats = json.loads(lines[-1]) if lines else {}
            finally:
                if load.poll() is None:
                    load.kill()
                    load.wait()
                load.stdout.close()
        return stats

    def stop_web(self) -> None:
        if self._web is not None:
            web, self._web = self._web, None
            web.terminate()
            try:
                web.wait(timeout=10)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()
        if self._web_log is not None:
            self._web_log.close()
            self._web_log = None

    def _web_log_tail(self) -> str:
        try:
            return (self.state_dir / "web.log").read_text(errors="replace").strip()[-600:]
        except OSError:
            return ""


_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int | str = "self") -> float:
    """CPU seconds (user + system, all threads) a process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def _machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) * _TICK_S  # all but idle and iowait


def _sleep_until(t: float) -> None:
    wait = t - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def run_interleaved(arches_per_phase: int, deployment_priorities: bool = True) -> dict:
    """One realtime session, phases as in `PHASES`; per phase its arches' latencies (s), its
    frame rate and the load generator's figures."""
    from hardware.clock import SystemClock
    from hardware.emulation.mat import emulated_grid_adc
    from hardware.feedback import LIFTED_HZ, Feedback
    from hardware.emulation.person import Scenario, SimulatedPerson

    from mat.daemon.loop import MatLoop
    from mat.daemon.live_socket import LiveServer
    from mat.pipeline.pipeline import Pipeline
    from hardware.emulation.mat import LoopingPerson
    from mat.storage.store import Store, StoreWriter

    # Enough reps for every phase plus the arches lost while the load starts and stops.
    person = SimulatedPerson(Scenario.parse(steady_arches(len(PHASES) * arches_per_phase + 40)))
    state_dir = Path(tempfile.mkdtemp(prefix="flatback-bench-"))
    sock_path = state_dir / "mat.sock"
    clock = SystemClock()
    live = LiveServer(sock_path)
    store = Store(state_dir / "flatback.db")
    writer = StoreWriter(store)
    feedback = Feedback(clock=clock)
    conductor = None
    frame_times: list[float] = []
    gc.freeze()  # as MatLoop.run does
    try:
        start = clock.monotonic()
        grid = emulated_grid_adc(LoopingPerson(person, start), clock)
        loop = MatLoop(grid, Pipeline(floor=FLOOR), feedback, clock, store=store, store_writer=writer, live=live)
        crossings = [start + a for a, _end in person.liftoffs(FLOOR)]
        conductor = _Conductor(start, crossings, arches_per_phase, state_dir, sock_path, live,
                               deployment_priorities)
        conductor.start()
        done = conductor.done
        while not done.is_set():
            loop.step()
            frame_times.append(clock.monotonic())
        conductor.join()
        if conductor.error is not None:
            raise conductor.error
        on_times = sorted(t for t, f in feedback.tone_log if f == LIFTED_HZ)
        phases = []
        for phase in conductor.phases:
            latencies, missed = [], 0
            for crossing in phase["crossings"]:
                after = on_times[bisect_left(on_times, crossing - 0.3):]
                if after and after[0] - crossing <= 1.0:
                    latencies.append(max(after[0] - crossing, 0.0))
                else:
                    missed += 1
            t0, t1 = phase["t0"], phase["t1"]
            frames = np.asarray(frame_times[bisect_left(frame_times, t0):bisect_left(frame_times, t1)])
            gaps = np.diff(frames) if len(frames) > 1 else np.zeros(1)
            phases.append(dict(
                {k: v for k, v in phase.items() if k not in ("t0", "t1", "crossings")},
                latencies=latencies, missed=missed, seconds=t1 - t0, frames=len(frames),
                frame_gap_max_s=float(gaps.max())))
        return {"phases": phases}
    finally:
        if conductor is not None and conductor.is_alive():
            conductor.done.set()
            conductor.stop_load()
            conductor.stop_web()
        gc.unfreeze()
        writer.close()
        live.close()
        feedback.close()
        shutil.rmtree(state_dir, ignore_errors=True)


def measure_latency_under_load(quick: bool = False, deployment_priorities: bool = True) -> dict:
    """The figures for `mat bench --load`. deployment_priorities: run the web server and the load
    generator niced below the loop, as the systemd units rank the services (False: all at the
    same priority, the harsher case: `mat bench --load --equal-priority`)."""
    run = run_interleaved(ARCHES_PER_PHASE_QUICK if quick else ARCHES_PER_PHASE, deployment_priorities)
    phases = run["phases"]

    def ms(value):
        return None if value is None else round(value * 1000, 1)

    def p50(values):
        return statistics.median(values) if values else None

    def p95(values):
        return float(np.percentile(values, 95)) if values else None

    result: dict = {"notes": []}
    figures = {}
    for kind in ("idle", "load"):
        mine = [p for p in phases if p["phase"] == kind]
        latencies = [x for p in mine for x in p["latencies"]]
        seconds = sum(p["seconds"] for p in mine)
        figures[kind] = {"p95": p95(latencies), "rate": sum(p["frames"] for p in mine) / seconds}
        result.update({
            f"latency_{kind}_p50_ms": ms(p50(latencies)),
            f"latency_{kind}_p95_ms": ms(p95(latencies)),
            f"latency_{kind}_max_ms": ms(max(latencies) if latencies else None),
            f"latency_{kind}_arches": len(latencies),
            f"latency_{kind}_missed": sum(p["missed"] for p in mine),
            f"frame_rate_{kind}_hz": round(figures[kind]["rate"], 1),
            f"frame_gap_{kind}_max_ms": ms(max(p["frame_gap_max_s"] for p in mine)),
            # cores busy during the condition: the loop's process, web server, load generator,
            # and everything else on the machine (other jobs disturb the figures)
            f"cpu_{kind}_cores": {name: round(sum(p["cpu_cores"][name] * p["seconds"] for p in mine) / seconds, 2)
                                  for name in mine[0]["cpu_cores"]},
        })
    busy = [f"{p['phase']} phase {n}: {p['cpu_cores']['other']:.2f}" for n, p in enumerate(phases, 1)
            if p["cpu_cores"]["other"] > OTHER_CPU_NOTE_CORES]
    if busy:
        result["notes"].append("other processes kept cores busy during the load bench (cores: "
                               + ", ".join(busy) + "): its figures are disturbed")
    streams = min((p.get("streams_min", 0) for p in phases if p["phase"] == "load"), default=0)
    if streams < SSE_CLIENTS:
        result["notes"].append(f"only {streams} of {SSE_CLIENTS} live streams were open at some point under load")
    idle_p95, load_p95 = figures["idle"]["p95"], figures["load"]["p95"]
    idle_all = [x for p in phases if p["phase"] == "idle" for x in p["latencies"]]
    load_all = [x for p in phases if p["phase"] == "load" for x in p["latencies"]]
    loads = [p for p in phases if p["phase"] == "load"]
    result.update({
        "latency_load_minus_idle_p95_ms": None if idle_p95 is None or load_p95 is None
        else round((load_p95 - idle_p95) * 1000, 1),
        # how far chance alone moves that difference: 90 % bootstrap interval
        "latency_load_minus_idle_p95_ci90_ms": _bootstrap_p95_difference_ms(idle_all, load_all),
        "latency_load_minus_idle_p50_ms": None if not idle_all or not load_all
        else round((statistics.median(load_all) - statistics.median(idle_all)) * 1000, 1),
        "frame_rate_load_minus_idle_hz": round(figures["load"]["rate"] - figures["idle"]["rate"], 1),
        "load_sse_clients": SSE_CLIENTS,
        # the fewest streams open at any moment of any load phase: SSE_CLIENTS when all were held
        "load_sse_streams_held": streams,
        "load_sse_stream_drops": sum(p.get("stream_drops", 0) for p in loads),
        "load_sse_messages": sum(p.get("sse_messages", 0) for p in loads),
        "load_page_requests": sum(p.get("page_requests", 0) for p in loads),
        "load_failed_requests": sum(p.get("failed_requests", 0) for p in loads),
        "load_daemon_socket_clients": min((p["daemon_clients_min"] for p in loads), default=0),
        "load_seconds": round(sum(p["seconds"] for p in loads), 1),
        "load_deployment_priorities": deployment_priorities,
        "load_phases": [{
            "phase": p["phase"], "arches": len(p["latencies"]), "seconds": round(p["seconds"], 1),
            "latency_p50_ms": ms(p50(p["latencies"])), "latency_p95_ms": ms(p95(p["latencies"])),
            "frame_rate_hz": round(p["frames"] / p["seconds"], 1),
            "latencies_ms": [ms(x) for x in p["latencies"]],
            **{k: p[k] for k in ("page_requests", "failed_requests", "failures", "pages", "streams_min",
                                 "streams_max", "streams_at_start", "stream_drops", "sse_messages",
                                 "daemon_clients_min", "daemon_clients_max", "cpu_cores") if k in p},
        } for p in phases],
    })
    return result


def _bootstrap_p95_difference_ms(idle: list[float], load: list[float], rounds: int = 2000) -> list[float] | None:
    """The 5th and 95th percentiles of p95(load) - p95(idle) over resampled arches (ms)."""
    if len(idle) < 2 or len(load) < 2:
        return None
    rng = np.random.default_rng(0)
    a, b = np.asarray(idle), np.asarray(load)
    diffs = (np.percentile(rng.choice(b, (rounds, len(b))), 95, axis=1)
             - np.percentile(rng.choice(a, (rounds, len(a))), 95, axis=1))
    return [round(float(x) * 1000, 1) for x in np.percentile(diffs, [5, 95])]


# -- the load generator process ----------------------------------------------------------------
class _Load:
    """What the generator's threads share."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.measuring = False  # set once every stream is open (or the wait timed out)
        self.open = 0
        self.streams_min = 0
        self.streams_max = 0
        self.drops = 0
        self.messages = 0
        self.requests = 0
        self.failed = 0
        self.failures: dict[str, int] = {}
        self.pages: dict[str, int] = {}
        self.session_pages: tuple[str, ...] = ()

    def stream_opened(self) -> None:
        with self.lock:
            self.open += 1
            self.streams_max = max(self.streams_max, self.open)

    def stream_closed(self) -> None:
        with self.lock:
            self.open -= 1
            if self.measuring and not self.stop.is_set():
                self.drops += 1
                self.streams_min = min(self.streams_min, self.open)

    def start_measuring(self) -> int:
        with self.lock:
            self.measuring = True
            self.streams_min = self.streams_max = self.open
            return self.open

    def page_done(self, path: str, failure: str | None) -> None:
        with self.lock:
            if not self.measuring or self.stop.is_set():
                return
            key = path if not path.startswith("/sessions/") and not path.startswith("/api/sessions/") \
                else path.rsplit("/", 1)[0] + "/ID" + (".json" if path.endswith(".json") else "")
            if failure is None:
                self.requests += 1
                self.pages[key] = self.pages.get(key, 0) + 1
            else:
                self.failed += 1
                self.failures[f"{key} {failure}"] = self.failures.get(f"{key} {failure}", 0) + 1

    def report(self) -> dict:
        with self.lock:
            return {"streams_min": self.streams_min, "streams_max": self.streams_max,
                    "stream_drops": self.drops, "sse_messages": self.messages,
                    "page_requests": self.requests, "failed_requests": self.failed,
                    "failures": self.failures, "pages": self.pages}


def _watch(base: str, load: _Load) -> None:
    while not load.stop.is_set():
        opened = False
        try:
            with urllib.request.urlopen(base + "/api/live", timeout=5) as stream:
                while not load.stop.is_set():
                    line = stream.readline()
                    if not line:
                        break
                    if not opened:
                        opened = True
                        load.stream_opened()
                    if line.startswith(b"data:") and load.measuring:
                        with load.lock:
                            load.messages += 1
        except (OSError, ValueError):
            pass
        if opened:
            load.stream_closed()
        if not load.stop.is_set():
            time.sleep(0.2)


def _browse(base: str, load: _Load, worker: int) -> None:
    i = worker
    while not load.stop.is_set():
        pages = PAGES + load.session_pages
        path = pages[i % len(pages)]
        i += 1
        try:
            with urllib.request.urlopen(base + path, timeout=5) as page:
                body = page.read()
            if path == "/api/sessions" and not load.session_pages:
                sessions = json.loads(body)
                if sessions:
                    sid = sessions[0]["id"]
                    load.session_pages = (f"/sessions/{sid}", f"/api/sessions/{sid}")
            load.page_done(path, None)
        except urllib.error.HTTPError as error:
            load.page_done(path, f"HTTP {error.code}")
        except (OSError, ValueError) as error:
            load.page_done(path, type(error).__name__)
            time.sleep(0.05)


def main(argv: list[str]) -> int:
    """python -m mat.tools.loadbench BASE_URL MAX_SECONDS: prints `ready N` (N streams open) once
    all the streams are open, then runs until its input ends (or MAX_SECONDS) and prints its
    figures as one JSON line."""
    base, seconds = argv[0], float(argv[1])
    load = _Load()
    threads = [threading.Thread(target=_watch, args=(base, load), daemon=True) for _ in range(SSE_CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while load.open < SSE_CLIENTS and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = [threading.Thread(target=_browse, args=(base, load, n), daemon=True) for n in range(PAGE_WORKERS)]
    for thread in workers:
        thread.start()
    print(f"ready {load.start_measuring()}", flush=True)
    ended = threading.Event()

    def _wait_for_eof():
        try:
            sys.stdin.read()
        except (OSError, ValueError):
            pass
        ended.set()

    threading.Thread(target=_wait_for_eof, daemon=True).start()
    try:
        ended.wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        load.stop.set()
        print(json.dumps(load.report()), flush=True)
    return 0


if __name__ == "__main__":
    import signal

    def _stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    sys.exit(main(sys.argv[1:]))
