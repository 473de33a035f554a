"""Session benchmark and test driver against tools/sim.py, in simulated time.

Two roles in one file:
- client (MicroPython unix port or CPython): `bench_session.py client HOST:PORT SCALE SECONDS
  READINGS [CACHE]` (stops after READINGS readings or SECONDS real seconds) asks which module
  family answers (lib/broute/detect.py, as the stick and the PC reader do: `D <ms> <family>`),
  runs lib/session.Session with that family's driver over TCP and prints one line per state
  change or reading, stamped with simulated milliseconds: `S <ms> <state> <reason>` / `R <ms>
  <seq> <power_w> <sends>`, and `E <sends> <timeouts> <rejoins> <scans> <resets>` at the end.
- benchmark (CPython): `bench_session.py [--python micropython|python] [--scale F]` prints the
  bytes the session allocates per polling cycle (MicroPython, scripted module in virtual time),
  then starts the simulator, runs cold start, warm start and one fault at a time.
- `bench_session.py alloc` (MicroPython): just the allocation figures (scripted module in
  virtual time; the same module behind a real socket, the firmware's read path).
- `first_watts` (CPython): time to the first watts, cold (scan) and warm (cached scan), in the
  simulator's own time at its default timing (tools/simulator/sim_vlink.py: exact, no wall clock).
"""
import sys

if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
    sys.path[0] = sys.path[0].rsplit("/", 1)[0]
    import paths  # noqa: F401  (the project's folders; an importer has set them)

RBID = "00112233445566778899AABBCCDDEEFF"
PWD = "0123456789AB"


def nodelay(w):
    """TCP_NODELAY on the client's socket, as CPython's asyncio sets by itself: a UART sends each
    write at once, while Nagle's algorithm holds a short write until the last one is ACKed, and
    the simulator delays that ACK (Linux: 40 ms) when it has nothing to answer (a CRLF with the
    echo off). At 50x that was 2 s of simulated time added to a warm start (SKRESET, written
    100 ms after the reset's CRLF, reached the module 2.1 s later)."""
    s = getattr(w, "s", None)  # MicroPython's StreamWriter: its socket
    if s is not None:
        s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY (Linux numbers; the unix port has no names)


def client(argv):
    import asyncio
    from broute.compat import Clock
    from broute.session import Session
    from broute.scancache import ScanCache
    from broute import bstate
    from broute import detect

    host, port = argv[0].rsplit(":", 1)
    scale, seconds = float(argv[1]), float(argv[2])
    readings = int(argv[3])
    cache = ScanCache(argv[4]) if len(argv) > 4 else None
    clock = Clock(scale)

    async def main():
        r, w = await asyncio.open_connection(host, int(port))
        nodelay(w)
        family = await detect.probe(r, w, clock)
        print("D", clock.ticks_ms(), family)
        s = Session(r, w, RBID, PWD, cache=cache, clock=clock, poll_ms=10000,
                    driver=detect.driver(family or detect.SKSTACK))

        def listener(kind):
            t = clock.ticks_ms()
            if kind == "state":
                print("S", t, bstate.name(s.state).replace(" ", "_"), s.reason)
            else:
                print("R", t, s.reading.seq, s.reading.power_w, s.sends)
        s.listener = listener
        task = asyncio.create_task(s.run())
        t = 0
        while t < seconds and s.reading.seq < readings:
            await asyncio.sleep(0.05)
            t += 0.05
        task.cancel()
        print("E", s.sends, s.timeouts, s.rejoins, s.scans, s.resets)
    asyncio.run(main())


# --- CPython orchestration (used by host_tests/test_session_sim.py and `make bench`) -----
def start_sim(dialect="bp35a1", scale=0.02, extra=()):
    import subprocess
    p = subprocess.Popen([sys.executable, "tools/sim.py", "--dialect", dialect, "--tcp", "127.0.0.1:0",
                          "--time-scale", str(scale)] + list(extra),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if "listening on" not in line:
        p.kill()
        raise RuntimeError("simulator did not start: %r" % line)
    port = int(line.split()[3].split(":")[1])
    return p, port


def run_client(interp, port, scale, seconds, cache=None, sim=None, faults=(), readings=1000):
    """Run one client; `faults` = [(after_reading_n, "fault name")] sent to the sim's stdin.

    Returns the parsed lines: ("S", ms, state, reason) / ("R", ms, seq, power, sends) / ("E", ...)
    and ("F", ms, name) for each injected fault (ms = the client's last stamp).
    """
    import subprocess
    cmd = [interp, "tools/bench/bench_session.py", "client", "127.0.0.1:%d" % port, str(1 / scale),
           str(seconds), str(readings)] + ([cache] if cache else [])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out, pending, last = [], list(faults), 0
    try:
        for line in p.stdout:
            w = line.split()
            if not w:
                continue
            if w[0] in ("S", "R"):
                last = int(w[1])
            if w[0] == "R":
                out.append(("R", int(w[1]), int(w[2]), None if w[3] == "None" else int(w[3]), int(w[4])))
                while pending and pending[0][0] <= int(w[2]):
                    name = pending.pop(0)[1]
                    sim.stdin.write("fault %s\n" % name)
                    sim.stdin.flush()
                    out.append(("F", last, name))
            elif w[0] == "S":
                out.append(("S", int(w[1]), w[2], " ".join(w[3:])))
            elif w[0] == "E":
                out.append(("E",) + tuple(int(x) for x in w[1:]))
            elif w[0] == "D":
                out.append(("D", int(w[1]), w[2]))
        p.wait(timeout=seconds + 30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return out


def stop(sim):
    try:
        sim.stdin.write("quit\n")
        sim.stdin.flush()
        sim.wait(timeout=5)
    except Exception:
        sim.kill()
        sim.wait()


def first_reading_ms(out):
    return next(x[1] for x in out if x[0] == "R")


def recovery_ms(out):
    """Simulated ms from the fault to the first reading after it (None if none)."""
    f = next(x for x in out if x[0] == "F")
    after = [x for x in out if x[0] == "R" and x[1] > f[1]]
    return after[0][1] - f[1] if after else None


FAULTS = ("drop", "er10", "tx-fail", "tx-ns", "stale-tid", "corrupt", "garbage", "half-line",
          "foreign-node", "pana", "dup", "peer-term", "term", "term-timeout", "reauth-ok", "reauth-fail",
          "rate-limit:60", "mute:30", "restart", "meter-gone:120")


DIALECTS = ("bp35a1", "bp35c0", "rl7023-ips", "j11")


def faults_of(dialect):
    """FAULTS the simulator can show with this dialect (a J11 module has no text to mangle)."""
    if dialect != "j11":
        return FAULTS
    import sim_faults
    return tuple(f for f in FAULTS if f.split(":")[0] in sim_faults.J11)


def first_watts(dialect="bp35a1", cache=None):
    """Simulated ms from power-up to: the join's start, EVENT 25 (J11: 6028), the first reading;
    and the frames sent between the join and the first reading. Detection first, as at start."""
    import asyncio
    from broute import bstate
    from broute import detect
    import sim_vlink as vl
    from broute.session import Session
    from sim_meter import Meter
    clock = vl.VClock()
    if dialect == "j11":
        import sim_j11
        module = sim_j11.Module(Meter())
    else:
        from sim_module import Module
        module = Module(dialect, Meter())
    link = vl.Link(module, clock)
    family = asyncio.run(detect.probe(link, link, clock))
    s = Session(link, link, RBID, PWD, cache=cache, clock=clock, driver=detect.driver(family))
    marks = {}

    def mark(kind):
        if kind == "state" and s.state in (bstate.JOINING, bstate.CONNECTED):
            marks.setdefault(s.state, (clock.now, s.sends))
    s.listener = mark
    vl.run(s, clock, lambda: s.reading.seq >= 1, 600000)
    joined, sends = marks[bstate.CONNECTED]
    return marks[bstate.JOINING][0], joined, clock.now, s.sends - sends


def print_first_watts():
    from broute.scancache import MemoryCache
    print("time to first watts (simulated time, simulator at its default timing, meter reply ~1 s):")
    for dialect in DIALECTS:
        cache = MemoryCache()
        for kind in ("cold", "warm"):
            joining, joined, watts, gets = first_watts(dialect, cache)
            print("%-11s %s start: first watts at %5.2f s = to the join %5.2f s + join %4.2f s + "
                  "%4.2f s for %d Get" % (dialect, kind, watts / 1000, joining / 1000,
                                          (joined - joining) / 1000, (watts - joined) / 1000, gets))


def alloc():
    from session_fake import alloc_per_cycle
    from test_session_socket import alloc_per_cycle_socket
    for chunk in (16, 64, 256):
        per, _ = alloc_per_cycle(chunk=chunk)
        print("session allocates %d bytes per polling cycle (UART reads of %d bytes)" % (per, chunk))
    per, _ = alloc_per_cycle_socket()
    print("session allocates %d bytes per polling cycle (asyncio streams over a TCP socket)" % per)


def bench(interp, scale):
    import os
    import subprocess
    import tempfile
    print_first_watts()
    print("session benchmark (%s, time scale %gx, simulated time)" % (interp, 1 / scale))
    if "micropython" in interp:
        print(subprocess.run([interp, "tools/bench/bench_session.py", "alloc"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout, end="")
    for dialect in DIALECTS:
        sim, port = start_sim(dialect, scale)
        try:
            cache = os.path.join(tempfile.mkdtemp(), "scan.json")
            cold = run_client(interp, port, scale, 600 * scale, cache, readings=11)
            warm = run_client(interp, port, scale, 600 * scale, cache, readings=1)
        finally:
            stop(sim)
        rs = [x for x in cold if x[0] == "R"]
        per = (rs[-1][4] - rs[0][4]) / (len(rs) - 1) if len(rs) > 1 else float("nan")
        print("%-11s cold start to first reading %6.1f s, warm start %5.1f s, radio round trips per "
              "reading %.2f" % (dialect, first_reading_ms(cold) / 1000, first_reading_ms(warm) / 1000, per))
    for dialect in ("bp35a1", "j11"):
        for name in faults_of(dialect):
            sim, port = start_sim(dialect, scale)
            try:
                out = run_client(interp, port, scale, 900 * scale, None, sim, [(2, name)], readings=4)
            finally:
                stop(sim)
            rec = recovery_ms(out)
            print("%-7s fault %-14s recovered in %s" % (dialect, name, "%.1f s" % (rec / 1000)
                                                        if rec is not None else "-- (no reading)"))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "alloc":
        alloc()
    else:
        import argparse
        ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        ap.add_argument("--python", default=".venv/bin/micropython")
        ap.add_argument("--scale", type=float, default=0.02, help="real seconds per simulated second")
        a = ap.parse_args()
        bench(a.python, a.scale)
