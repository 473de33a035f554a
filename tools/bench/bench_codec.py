"""Codec benchmark for the MicroPython unix port: frames per second and bytes allocated per decode.

Run: micropython -X heapsize=110k tools/bench/bench_codec.py  (also runs on CPython, without the allocation figure)
"""
import gc
import sys
import time

if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
    sys.path[0] = sys.path[0].rsplit("/", 1)[0]
import paths  # noqa: F401,E402  (the project's folders)
from broute import echonet  # noqa: E402
from broute import meter  # noqa: E402

# A Get_Res to the polling request (E7 + E8 + E0), as the firmware sees it every cycle.
REPLY = bytes.fromhex("1081100202880105FF017203E7040000029CE80400280028E0040000FE73")
N = 20000


def _ticks_us():
    return time.ticks_us() if hasattr(time, "ticks_us") else int(time.perf_counter() * 1e6)


def _decode(f):
    f.parse(REPLY)
    meter.power_w(f.edt(f.find(0xE7)))
    edt = f.edt(f.find(0xE8))
    meter.current_da(edt, 0)
    meter.current_da(edt, 1)
    meter.cumulative(f.edt(f.find(0xE0)))


def _build(b, tids):
    b.get(tids.next(), echonet.METER, b"\xe7\xe8")


def _measure(name, fn):
    fn()
    start = _ticks_us()
    for _ in range(N):
        fn()
    us = (_ticks_us() - start) / N
    line = "%-28s %9.0f per s  %6.1f us" % (name, 1e6 / us, us)
    if hasattr(gc, "mem_alloc"):
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(100):
            fn()
        line += "  %5.1f bytes allocated each" % ((gc.mem_alloc() - before) / 100)
        gc.enable()
    print(line)


def main():
    print("codec benchmark on", sys.implementation.name, ".".join(str(v) for v in sys.implementation.version[:3]))
    f = echonet.Frame()
    b = echonet.Builder()
    tids = echonet.Tids()
    _measure("decode Get_Res E7+E8+E0", lambda: _decode(f))
    _measure("build Get E7+E8", lambda: _build(b, tids))


main()
