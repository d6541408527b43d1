"""The `mat` command: run, web, demo, replay, bench, doctor, pin.

Each subcommand is a thin shell over a module that does the work, so tests call the modules.
`mat web` hands its process over to the web package (`python -m web`): nothing under mat/
imports the web.
"""
from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger("mat")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mat", description="Flatback smart exercise mat")
    parser.add_argument("--config", help="TOML configuration file (default /etc/flatback/config.toml, "
                        "or $FLATBACK_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="the realtime daemon (owns the hardware)")
    run.add_argument("--emulated", action="store_true",
                     help="emulated chips and pins with a simulated person (no Pi needed)")
    run.add_argument("--scenario", help="with --emulated: a scenario file or suite name to play")
    run.add_argument("--record", metavar="FILE", help="also write every frame to a recording CSV")

    web = sub.add_parser("web", help="the web server (production WSGI server)")
    web.add_argument("--host")
    web.add_argument("--port", type=int)

    demo = sub.add_parser("demo", help="daemon and web server on emulated hardware, with a simulated person")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--mqtt", metavar="HOST:PORT", help="also publish the demo mat to this MQTT broker")

    replay = sub.add_parser("replay", help="run the pipeline over a recording")
    replay.add_argument("file")
    replay.add_argument("--floor", type=float)
    replay.add_argument("--material", choices=["velostat", "fsr"], help="the grid's material when the recording does not say")
    replay.add_argument("--json", action="store_true", help="one JSON event per line")

    bench = sub.add_parser("bench", help="measure the README's figures (frame rate, latency, detection) on this machine")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true", help="fewer scenarios and shorter runs")
    bench.add_argument("--recordings", metavar="DIR",
                       help="labelled recordings (NAME.csv + NAME.labels.json) for the second detection suite "
                       "(default ../shared/recordings/external beside the project, skipped when absent)")
    bench.add_argument("--floors", metavar="F", type=float, nargs="+", default=[0.5, 0.7],
                       help="floors to judge detection at (default 0.5 0.7)")
    bench.add_argument("--jobs", type=int, help="processes replaying recordings (default: one per CPU)")
    bench.add_argument("--load", action="store_true", help="also measure latency while browsers watch")
    bench.add_argument("--mqtt", action="store_true", help="only the MQTT figures, on a Mosquitto started here: "
                       "latency mat → hub, alert latency with the broker up/down/flapping, loss across a restart")
    bench.add_argument("--profiles", action="store_true", help="only recognition: how often the mat suggests the "
                       "right profile, a wrong one or none, on simulated families and strangers")
    bench.add_argument("--seed", type=int, default=15, help="with --profiles: the families' seed")
    bench.add_argument("--coach", action="store_true", help="only the coaching figures on simulated people: the "
                       "floor finder's angle error and the stop-here cue")
    bench.add_argument("--people", type=int, default=8, help="with --coach: how many simulated people")
    bench.add_argument("--equal-priority", action="store_true",
                       help="with --load: run the web server at the loop's priority, not below it as the "
                       "systemd units do (the worst case)")

    doctor = sub.add_parser("doctor", help="check the mat's hardware, database and services")
    doctor.add_argument("--emulated", action="store_true", help="check emulated chips instead of the Pi's bus")

    mqtt = sub.add_parser("mqtt", help="the mat on the MQTT broker of [mqtt]: `forget` removes it (Home Assistant "
                          "device, retained topics), as uninstalling does")
    mqtt.add_argument("action", choices=["forget"])

    hub = sub.add_parser("hub", help="a page showing every mat on the MQTT broker of [mqtt], side by side")
    hub.add_argument("--host")
    hub.add_argument("--port", type=int, help="default 8090")
    hub.add_argument("--broker", metavar="HOST:PORT", help="the broker, instead of [mqtt] host and port")

    finder = sub.add_parser("floor-finder", help="run the floor finder (the double-leg-lowering test) on the "
                            "running mat, following its beat, and print the result")
    finder.add_argument("--wait", type=float, default=60.0, metavar="S", help="give up after S seconds (default 60)")

    pin = sub.add_parser("pin", help="set, remove or show the PIN that guards settings and history on the page")
    pin.add_argument("action", choices=["set", "remove", "status"])
    pin.add_argument("--stdin", action="store_true", help="read the new PIN from standard input (for scripts)")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130


def _dispatch(args) -> int:
    if args.command == "replay":
        from mat.storage.recording import RecordingError
        from mat.tools.replay import print_replay

        try:
            print_replay(args.file, floor=args.floor, material=args.material, as_json=args.json)
        except (RecordingError, OSError, ValueError) as error:
            print(f"mat replay: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "bench":
        from mat.tools.bench import print_bench

        if args.profiles:
            from mat.tools.profilebench import main as print_profile_bench

            return print_profile_bench(as_json=args.json, quick=args.quick, seed=args.seed)
        if args.coach:
            from mat.tools.coachbench import main as coach_bench

            return coach_bench(["--people", str(args.people), "--jobs", str(args.jobs or 2)]
                               + (["--json"] if args.json else []))
        if args.mqtt:
            from mat.tools.mqttbench import print_mqtt_bench

            return print_mqtt_bench(as_json=args.json, quick=args.quick)

        if any(not 0.0 < floor < 1.0 for floor in args.floors) or (args.jobs is not None and args.jobs < 1):
            print("mat bench: --floors must lie between 0 and 1, --jobs must be at least 1", file=sys.stderr)
            return 2
        return print_bench(as_json=args.json, quick=args.quick, with_load=args.load,
                           deployment_priorities=not args.equal_priority, recordings=args.recordings,
                           floors=args.floors, jobs=args.jobs)

    from mat.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as error:
        if args.command == "doctor":  # the doctor reports a bad config as one of its checks
            from mat.tools.doctor import run_doctor

            return run_doctor(error, emulated=args.emulated)
        print(f"mat: {error}", file=sys.stderr)
        return 2
    if args.command == "run":
        from mat.daemon.wiring import run_daemon

        return run_daemon(config, emulated=args.emulated, scenario=args.scenario, record=args.record)
    if args.command == "web":
        return _exec_web(config, host=args.host, port=args.port)
    if args.command == "demo":
        from mat.tools.demo import run_demo

        if args.mqtt and not _host_port(args.mqtt):
            print("mat demo: --mqtt HOST:PORT, like localhost:1883", file=sys.stderr)
            return 2
        return run_demo(config, host=args.host, port=args.port, mqtt=args.mqtt)
    if args.command == "doctor":
        from mat.tools.doctor import run_doctor

        return run_doctor(config, emulated=args.emulated)
    if args.command == "pin":
        return _pin(config, args.action, from_stdin=args.stdin)
    if args.command == "floor-finder":
        return _floor_finder(config, args.wait)
    if args.command == "mqtt":
        return _mqtt_forget(config)
    if args.command == "hub":
        return _exec_web(config, host=args.host, port=args.port, module="web.hub",
                         extra=["--broker", args.broker] if args.broker else [])
    raise AssertionError(args.command)


def _floor_finder(config, wait_s: float) -> int:
    """Start the floor finder on the running daemon and follow it: its beats, then the result."""
    import time

    from mat.daemon.live_socket import FLOOR_FINDER, LiveClient

    client = LiveClient(config.paths.socket)
    if not client._connect() or not client.send_command({"cmd": FLOOR_FINDER}):
        print("mat floor-finder: the mat's daemon is not running (start flatback-mat.service, or `mat demo`)",
              file=sys.stderr)
        return 1
    deadline = time.monotonic() + wait_s
    try:
        for message in client.messages(timeout_s=5.0, stop=lambda: time.monotonic() > deadline):
            event = message.get("event") if message.get("type") == "event" else None
            kind = event["type"] if event else None
            if kind == "floor_finder_start":
                print(f"legs up: {event['count_in']} beats to raise them, then lower them over {event['beats']} beats")
            elif kind == "floor_finder_beat":
                print("go: lower slowly" if event["beat"] == 0 else
                      f"  {'count-in' if event['beat'] < 0 else 'beat'} {abs(event['beat'])}", flush=True)
            elif kind == "floor_finder_result":
                if event["reached_floor"]:
                    print("you reached the floor without your back giving way (0°)")
                else:
                    print(f"stop: your back began to give way after {event['beats']:.1f} of 10 beats, "
                          f"about {event['angle_deg']:.0f}° above the floor (assuming you followed the beat)")
                return 0
            elif kind == "floor_finder_problem":
                print(f"mat floor-finder: {event['reason']}", file=sys.stderr)
                return 1
    finally:
        client.close()
    print("mat floor-finder: no result in time", file=sys.stderr)
    return 1


def _host_port(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit() and 1 <= int(port) <= 65535


def _mqtt_forget(config) -> int:
    from mat.config import ConfigError
    from mat.daemon.mqtt import forget

    try:
        problem = forget(config.mqtt)
    except ConfigError as error:
        print(f"mat mqtt: {error}", file=sys.stderr)
        return 2
    if problem:
        print(f"mat mqtt forget: {problem}", file=sys.stderr)
        return 1
    print(f"mat {config.mqtt.effective_mat_id} removed from {config.mqtt.host}:{config.mqtt.port} "
          "(Home Assistant device and retained topics)")
    return 0


def _exec_web(config, host: str | None, port: int | None, module: str = "web", extra: list[str] = ()) -> int:
    """Become `python -m web` (or `module`; same process, so systemd keeps watching the same PID)."""
    import os

    argv = [sys.executable, "-m", module]
    if config.source:
        argv += ["--config", str(config.source)]
    if host:
        argv += ["--host", host]
    if port:
        argv += ["--port", str(port)]
    argv += list(extra)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    raise AssertionError("unreachable: execv returns only by raising")


def _pin(config, action: str, from_stdin: bool) -> int:
    """`mat pin set|remove|status` on the database the web page uses: whoever can run this
    on the Pi may change the PIN without knowing the old one (that is how a forgotten PIN is reset)."""
    import getpass

    from mat.storage.pin import PinError, PinLock
    from mat.storage.store import Store

    path = config.paths.database_path
    try:
        store = Store(path)
    except Exception as error:  # noqa: BLE001 — sqlite3 and OS errors: say which file
        print(f"mat pin: {path}: {error}", file=sys.stderr)
        return 2
    lock = PinLock(store)
    if action == "status":
        print("a PIN is set" if lock.is_set else "no PIN: anyone on the network can change settings")
        return 0
    if action == "remove":
        lock.clear()
        print("PIN removed")
        return 0
    if from_stdin:
        new_pin = sys.stdin.readline().strip()
    else:
        new_pin = getpass.getpass("New PIN (4 to 12 digits): ")
        if getpass.getpass("Again: ") != new_pin:
            print("mat pin: the two PINs differ; nothing changed", file=sys.stderr)
            return 2
    try:
        lock.set(new_pin, field="PIN")
    except PinError as error:
        print(f"mat pin: the PIN {error.message}; nothing changed", file=sys.stderr)
        return 2
    print("PIN set: the page asks for it before changing settings or deleting sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
