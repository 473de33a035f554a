"""32-bit heap cost of issue 10's portable modules (wallclock, tariff, hass) and of building
the Home Assistant messages, under MicroPython's WebAssembly port (the ESP32's object sizes).

    python tools/bench/hass_mem32.py [--json]

The modules are compiled as for the board (tools/build/mpycompile.py, -march=xtensawin) and run
by tools/bench/mem32/mem32.mjs, one step per runPython call so that the heap is collected between
steps (that port collects only there). Per step: `live`, what the step leaves on the heap after a
collection, and `peak`, the heap in use at its end with no collection during it (an upper bound
of its high-water mark), both above the heap before the step, and the part of `live` that went
to interned names (their pools grow in chunks that double, so one row may carry a whole chunk). It measures on its own, apart from
tools/bench/mem32.py's firmware start-up (which does not import these modules yet).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
    sys.path[0] = sys.path[0].rsplit("/", 1)[0]
import paths  # noqa: F401,E402  (tools/build/, tools/bench/)
import mpycompile  # noqa: E402
import mem32  # noqa: E402  (npm_ci and the WebAssembly port's location only)

ROOT = mpycompile.ROOT
MODULES = ("compat", "version", "echonet", "meter", "reading", "wallclock", "tariff", "hass")

SCRIPT = r'''
import gc, json, micropython, sys
from array import array
sys.path.insert(0, "lib")
K = {}
TARIFF = {"base_yen": 935.25, "tiers": [{"up_to_kwh": 120, "yen_per_kwh": 29.80},
          {"up_to_kwh": 300, "yen_per_kwh": 36.40}, {"yen_per_kwh": 40.49}],
          "surcharges": [{"name": "fuel-cost adjustment", "yen_per_kwh": -1.23},
                         {"name": "renewable energy levy", "yen_per_kwh": 4.18, "own_line": True}]}

def _reading():
    from broute.reading import Reading
    r = Reading()
    r.power_w, r.current_r_da, r.current_t_da = 1234, 68, 59
    r.energy_kwh, r.energy_rev_kwh, r.today_kwh = 12345.6, 10.0, 5.4
    K["r"] = r

def _hass():
    from broute import hass
    K["h"] = hass.Hass("m5-0123abcd", model="M5StickC", hw="BP35A1 1.2.10", expire_s=300)

def _tariff():
    from broute import tariff
    K["t"] = tariff.load(TARIFF)

def _one_discovery():
    K["h"].discovery(0)

def _burst():
    h = K["h"]
    for i in range(h.count()):
        h.discovery(i)

def _state():
    from broute import tariff
    t, r = K["t"], K["r"]
    m = tariff.month_yen(t, 250500)
    d = tariff.today_yen(t, 245100, 5400)
    K["h"].state(r, 250.5, d, m, -61, 848976788)

def _days():
    from broute import wallclock
    K["days"] = d = wallclock.Days(1)
    d.feed(wallclock.day_number(2026, 11, 26))
    K["wall"] = w = wallclock.Wall()
    w.set(848976788, 0, wallclock.NTP)

STEPS = [("import broute." + n, "broute." + n) for n in %(modules)r] + [
    ("a Reading", _reading), ("Hass(...): buffers, device block", _hass),
    ("tariff.load(example)", _tariff), ("Days and Wall", _days),
    ("one discovery message built", _one_discovery),
    ("discovery burst: all %%d messages" %% 10, _burst),
    ("one state message: costs, time", _state)]
N_STEPS = len(STEPS)
_start = array("i", [0] * (N_STEPS + 1))
_high = array("i", [0] * N_STEPS)
_next = array("i", [0])

def step():
    i = _next[0]
    _next[0] = i + 1
    gc.collect()
    _start[i] = gc.mem_alloc()
    gc.disable()
    name, fn = STEPS[i]
    if isinstance(fn, str):
        __import__(fn)
    else:
        fn()
    _high[i] = gc.mem_alloc()
    micropython.qstr_info()
    gc.enable()
    gc.collect()

def report():
    gc.collect()
    _start[N_STEPS] = gc.mem_alloc()
    rows = [[STEPS[i][0], _start[i + 1] - _start[i], _high[i] - _start[i]] for i in range(N_STEPS)]
    print("hass-mem32 " + json.dumps({"rows": rows, "maxsize": sys.maxsize,
                                      "total": _start[N_STEPS] - _start[0]}))

micropython.qstr_info()
if sys.platform != "webassembly":
    for _ in range(N_STEPS):
        step()
    report()
'''


def measure():
    mem32.npm_ci()
    with tempfile.TemporaryDirectory(prefix="hass-mem32-") as folder:
        srcs = [os.path.join(ROOT, "lib", "broute", n + ".py") for n in ("__init__",) + MODULES]
        mpycompile.compile_files(srcs, os.path.join(folder, "lib"), "xtensawin",
                                 ["broute/" + os.path.basename(s)[:-3] for s in srcs])
        script = os.path.join(folder, "hass_measure.py")
        with open(script, "w") as f:
            f.write(SCRIPT % {"modules": MODULES})
        out = {}
        for port, cmd in (("wasm", ["node", os.path.join(mem32.HERE, "mem32.mjs"), folder, script]),
                          ("unix", [mem32._micropython(), "-X", "heapsize=4M", script])):
            r = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=300)
            line = [x for x in r.stdout.splitlines() if x.startswith("hass-mem32 ")]
            if r.returncode or not line:
                raise mem32.Mem32Error("%s run failed:\n%s%s" % (port, r.stdout[-2000:], r.stderr[-2000:]))
            out[port] = res = json.loads(line[0][len("hass-mem32 "):])
            qstr = [int(x.rsplit("n_total_bytes=", 1)[1]) for x in r.stdout.splitlines()
                    if x.startswith("qstr pool:")]
            for row, before, after in zip(res["rows"], qstr, qstr[1:]):
                row.append(after - before)
    if out["wasm"]["maxsize"] != 2 ** 31 - 1:
        raise mem32.Mem32Error("the WebAssembly port is not 32-bit")
    return out


def table(res):
    w, u = res["wasm"], res["unix"]
    lines = ["%-40s %9s %9s %9s %9s" % ("step", "32-bit", "of which", "32-bit", "64-bit"),
             "%-40s %9s %9s %9s %9s" % ("", "live B", "qstr B", "peak B", "live B")]
    for (name, live, peak, qstr), urow in zip(w["rows"], u["rows"]):
        lines.append("%-40s %9d %9d %9d %9d" % (name, live, qstr, peak, urow[1]))
    lines.append("%-40s %9d %9s %9d" % ("total live", w["total"], "", u["total"]))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = ap.parse_args(argv)
    try:
        res = measure()
    except (mem32.Mem32Error, mpycompile.CompileError) as e:
        print("hass_mem32: %s" % e, file=sys.stderr)
        return 2
    print(json.dumps(res, indent=1) if args.json else table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
