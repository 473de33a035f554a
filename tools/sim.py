#!/usr/bin/env python3
"""Simulated Wi-SUN module (SKSTACK IP, or ROHM's binary J11 with --dialect j11) with a smart
meter behind it.

Serves the module's UART over TCP (for the MicroPython unix port) or a
pseudo-terminal (for serial clients such as pyserial). Prints one line
when ready. Control commands on stdin, one per line:
  fault NAME[:ARG]   make a fault happen now (or arm it)
  stats              print a JSON line: WOPT writes, session, faults fired, ...
  quit               stop
"""
import argparse
import json
import os
import signal
import sys

import paths  # noqa: F401  (tools/simulator/)
import sim_faults  # noqa: E402
import sim_j11  # noqa: E402
from sim_dialect import DIALECTS  # noqa: E402
from sim_meter import DEFAULT_ID, DEFAULT_PASSWORD, SCENARIOS, Meter, scenario  # noqa: E402
from sim_module import Module  # noqa: E402
from sim_transport import Server  # noqa: E402


def _args(argv):
    faults = "\n".join("  %-13s %s" % kv for kv in sorted(sim_faults.NAMES.items()))
    j11 = "\n".join("  %-13s %s" % kv for kv in sorted(sim_faults.J11.items()))
    j11 += "".join("\n  %-13s refused: %s" % kv for kv in sorted(sim_faults.J11_REFUSED.items()))
    p = argparse.ArgumentParser(
        prog="sim.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="default credentials: --id %s --password %s\n\nfaults (NAME[:ARG][@T]):\n%s"
               "\n\nthe same faults with --dialect j11:\n%s"
               % (DEFAULT_ID, DEFAULT_PASSWORD, faults, j11))
    p.add_argument("--dialect", choices=sorted(DIALECTS) + ["j11"], default="bp35a1")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", metavar="HOST:PORT", help="listen here; port 0 picks a free one")
    where.add_argument("--pty", metavar="PATH", help="make PATH a symlink to a raw pty slave")
    p.add_argument("--time-scale", type=float, default=1.0, metavar="F",
                   help="real seconds per simulated second (0.01: 100x faster)")
    p.add_argument("--clock-speed", type=float, default=1.0, metavar="F",
                   help="meter clock seconds per simulated second")
    p.add_argument("--clock-start", metavar="YYYY-MM-DDThh:mm:ss", help="meter clock at start")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="normal")
    p.add_argument("--id", default=DEFAULT_ID, help="B-route ID the meter accepts (32 chars)")
    p.add_argument("--password", default=DEFAULT_PASSWORD, help="password it accepts (12 chars)")
    p.add_argument("--scan-min", type=int, metavar="D", help="smallest scan duration finding the meter")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fault", action="append", default=[], metavar="NAME[:ARG][@T]",
                   help="inject a fault (at simulated second T); repeatable")
    p.add_argument("--random-faults", type=float, default=0.0, metavar="RATE",
                   help="chance per SKSENDTO of a random fault (seeded by --seed)")
    p.add_argument("--verbose", action="store_true", help="log UART traffic (credentials masked)")
    return p.parse_args(argv)


def build(args):
    over = {"rbid": args.id, "password": args.password, "seed": args.seed,
            "clock_speed": args.clock_speed}
    if args.clock_start:
        over["clock_start"] = args.clock_start
    if args.scan_min is not None:
        over["scan_min"] = args.scan_min
    if args.dialect == "j11":
        faults = sim_faults.Faults(args.fault, args.random_faults, args.seed, family="j11")
        return sim_j11.Module(Meter(scenario(args.scenario, **over)), faults)
    faults = sim_faults.Faults(args.fault, args.random_faults, args.seed)
    return Module(args.dialect, Meter(scenario(args.scenario, **over)), faults)


def _control(server, line):
    word, _, rest = line.strip().partition(" ")
    m = server.module
    if word == "fault":
        try:
            server.inject(rest.strip())
        except sim_faults.FaultError as e:
            print("sim: %s" % e, flush=True)
    elif word == "stats":
        with server.lock:
            stats = {"t": round(server.clock.now(), 3), "wopt": m.wopt, "wopt_writes": m.wopt_writes,
                     "session": m.session is not None, "restarts": m.restarts,
                     "meter_present": m.meter.present, "requests": len(m.meter.requests),
                     "infc_sent": len(m.meter.infc_sent), "infc_acked": len(m.meter.infc_acked),
                     "faults_fired": [name for _, name in m.faults.fired]}
            if getattr(m, "family", None) == "j11":
                stats["flash_writes"] = m.flash_writes
                stats["refused"] = ["%04X:%02X" % (code, r) for _, code, r in m.refused]
        print(json.dumps(stats), flush=True)
    elif word == "quit":
        server.request_stop()
    elif word:
        print("sim: unknown control %r (fault NAME, stats, quit)" % word, flush=True)


def main(argv=None):
    args = _args(argv)
    try:
        module = build(args)
    except ValueError as e:
        sys.exit("sim: %s" % e)
    log = (lambda msg: print("sim: " + msg, file=sys.stderr, flush=True)) if args.verbose else None
    server = Server(module, args.time_scale, log)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        host, port = server.open_tcp(host or "127.0.0.1", int(port))
        print("sim: listening on %s:%d (%s, %s)" % (host, port, args.dialect, args.scenario), flush=True)
    else:
        name = server.open_pty(args.pty)
        print("sim: pty %s -> %s (%s, %s)" % (args.pty, name, args.dialect, args.scenario), flush=True)

    pending = bytearray()

    def on_stdin(fd):
        data = os.read(fd, 4096)
        if not data:
            del server.controls[fd]  # stdin closed: keep serving
            return
        pending.extend(data)
        while b"\n" in pending:
            i = pending.index(b"\n")
            _control(server, pending[:i].decode(errors="replace"))
            del pending[:i + 1]

    server.controls[sys.stdin.fileno()] = on_stdin
    signal.signal(signal.SIGTERM, lambda *a: server.request_stop())
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
