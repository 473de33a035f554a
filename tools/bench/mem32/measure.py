"""The firmware's heap at start-up on a StickC, step by step, under any MicroPython port.

tools/mem32.py runs this in a folder laid out like the board (lib/*.mpy, fonts/,
config.json, and order.txt: the modules app.main() loads, dependencies first) under the
32-bit WebAssembly port and the 64-bit unix port. One step per module import, then the
objects app.main() builds, in its order. Per step: `live`, what it leaves on the heap
after a collection, and `peak`, the heap in use at its end with no collection during it
(an upper bound of its peak), above the baseline. After each step (and once before
them) micropython.qstr_info() prints the qstr pools' size: tools/mem32.py takes the
interned names' share of each row from those lines. The wasm port collects only between
two runPython calls, so mem32.mjs calls step() once per step and then report(); other
ports run them all below. What the steps build is kept in K (globals are the roots
there). Prints one line: "mem32-result " + JSON.
"""
import gc
import json
import micropython
import os
import sys
from array import array

sys.path.insert(0, "lib")
if "" not in sys.path:
    sys.path.append("")  # the working folder holds fonts/ and config.json, as "/" on the board

with open("order.txt") as _f:
    ORDER = _f.read().split()
FIRMWARE = [n[:-4] for n in os.listdir("lib") if n.endswith(".mpy")] + \
    ["broute." + n[:-4] for n in os.listdir("lib/broute") if n.endswith(".mpy") and n[0] != "_"]


class _Pin:
    def __init__(self):
        self.level = 1

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v

    __call__ = value


class _Pins:
    """machine.Pin: the ESP32 returns static objects from flash, so these are made in advance."""
    IN = 1
    OUT = 3

    def __init__(self):
        self._all = [_Pin() for _ in range(40)]

    def __call__(self, n, mode=None, value=None):
        p = self._all[n]
        if value is not None:
            p.level = value
        return p


class _Bus:
    """machine.SPI and machine.I2C (static objects on the ESP32); an AXP192 answers."""

    def __call__(self, *args, **kw):
        return self

    def write(self, data):
        pass

    def scan(self):
        return [0x34]

    def readfrom_mem_into(self, addr, reg, buf):
        for i in range(len(buf)):
            buf[i] = 0

    def writeto_mem(self, addr, reg, buf):
        pass


class _Rtc:
    mem = b""

    def __call__(self):
        return self

    def memory(self, data=None):
        if data is None:
            return self.mem
        self.mem = bytes(data)


class _Machine:
    Pin = _Pins()
    SPI = I2C = _Bus()
    RTC = _Rtc()


class _Stream:
    """asyncio.StreamReader/StreamWriter over the UART (the wasm port has neither)."""

    async def readinto(self, buf):
        return 0

    def write(self, data):
        pass

    async def drain(self):
        pass


class _Socket:
    """socket and network: the wasm port has neither; net.py and mqtt.py only import them here
    (the steps build objects, nothing connects). On the ESP32 both are built in (no heap)."""
    AF_INET = 2
    SOCK_DGRAM = 2
    STA_IF = 0


sys.modules["machine"] = _Machine()
sys.modules["socket"] = sys.modules["network"] = _Socket()
K = {}


def _quiet(line):
    pass


def _config():
    import app
    K["cfg"], K["kind"], _ = app.read_config("config.json", _quiet)


def _board():
    import app
    cfg = K["cfg"]
    K["dev"] = dev = app.Device()
    K["board"] = board = dev.board(K["kind"], cfg.uart_rx)
    board.display.set_rotation(cfg.rotation)


def _model():
    import model
    K["m"] = model.Model(K["cfg"].contract_amperes)


def _ui():
    from ui import Ui
    cfg, m = K["cfg"], K["m"]
    K["ui"] = ui = Ui(K["board"], m)
    ui.set_brightness((cfg.brightness * 8 + 50) // 100)
    m.info = (("Contract", "%d A" % cfg.contract_amperes), ("Poll", "%d s" % cfg.poll_seconds))


def _first_frame():
    K["ui"].update(0)


def _screens():
    import app
    import model
    from broute.session import AUTH_FAILED
    from ui import HISTORY
    ui, m = K["ui"], K["m"]
    m.status, m.rssi_dbm, m.wifi = model.CONNECTED, -61, True
    m.set_energy(5.4, 12345.6, 10.0)
    for i in range(60):
        m.add_power(400 + 37 * i, i * 60000)
    m.set_reading(1234, 68, 59, 3600000)
    now = 3601000
    ui.update(now)
    while ui.page != HISTORY:
        ui.next_page()
    for _ in range(3):  # history, totals, info
        ui.update(now)
        ui.next_page()
    title, advice = app._help(AUTH_FAILED)
    m.set_error(title, advice)
    ui.update(now)
    m.set_error(None, "")
    ui.update(now)


def _tasks():
    import app
    from buttons import Button
    board, ui = K["board"], K["ui"]
    K["app"] = a = app.App(K["dev"], "config.json")
    a.cfg, a.board, a.model, a.ui = K["cfg"], board, K["m"], ui
    K["tasks"] = [a._draw(), Button(board.pin_a, ui.next_page, ui.step_brightness).run(),
                  Button(board.pin_b, ui.flip).run(), a._link(), a._feed()]


def _net():
    """What App.run adds when config.json has wifi and mqtt (App._net): Net, Publisher, Hass;
    the tasks' coroutines are made, not run (asyncio's queue is not run here)."""
    a = K["app"]
    a.platform.chip_id = lambda: "m5-0123abcd"  # machine.unique_id() on the board
    import net
    net.setup(a, K["cfg"])
    K["tasks"] += [a.net.run(), a.pub.run()]


def _burst():
    """A discovery burst: each entity's message built and its topic encoded, as Publisher
    sends them (the socket's write copies nothing on the board: lwIP takes the buffer)."""
    h = K["app"].pub.hass
    for i in range(h.count()):
        topic, msg = h.discovery(i)
        topic.encode()


def _state():
    """One reading's state message (costs and time included when known)."""
    a = K["app"]
    r = a.session.reading
    r.power_w, r.current_r_da, r.current_t_da, r.ticks = 1234, 68, 59, 1000
    r.today_kwh, r.energy_kwh, r.energy_rev_kwh = 5.4, 12345.6, 310.2
    a._on_session("reading")
    a.pub.state()


def _session():
    import app
    from broute import scancache
    from broute.compat import Clock
    from broute.session import Session
    cfg, a = K["cfg"], K["app"]
    cache = scancache.ScanCache(app.SCAN_CACHE) if cfg.scan_cache else scancache.MemoryCache()
    app.drop("broute.detect")  # as app._link does once the module has answered
    drv = None  # SKSTACK's, unless tools/mem32.py built a HAT-C1 (J11) stick
    if "broute.j11driver" in ORDER:
        from broute.j11driver import J11Driver as drv
    a.session = s = Session(_Stream(), _Stream(), cfg.broute_id, cfg.broute_password, cache,
                            Clock(), print, poll_ms=cfg.poll_seconds * 1000, driver=drv)
    s.listener = a._on_session
    K["tasks"].append(s.run())


STEPS = [(name, None) for name in ORDER] + [
    ("app.read_config (config.example.json)", _config),
    ("board: StickC, ST77xx band and strip, AXP192", _board),
    ("Model", _model),
    ("Ui: theme, fonts, writers", _ui),
    ("first frame pushed (waiting screen)", _first_frame),
    ("one frame of each screen, with a reading", _screens),
    ("buttons and the app's task coroutines", _tasks),
    ("Session over the UART streams, scan cache", _session),
] + ([  # when config.json has wifi, mqtt and a tariff (tools/bench/mem32.py builds both)
    ("WiFi and MQTT: Net, Publisher, Hass (their tasks)", _net),
    ("discovery burst: 10 messages and topics", _burst),
    ("a reading: model, costs, state message", _state),
] if "net" in ORDER else [])
N_STEPS = len(STEPS)
_start = array("i", [0] * (N_STEPS + 1))  # heap in use before each step, after a collection
_high = array("i", [0] * N_STEPS)         # heap in use at the end of each step, before one
_next = array("i", [0])


def step():
    """Run the next step. The heap must have been collected just before (see the docstring)."""
    i = _next[0]
    _next[0] = i + 1
    gc.collect()
    _start[i] = gc.mem_alloc()
    gc.disable()
    name, fn = STEPS[i]
    if fn is None:
        __import__(name)
    else:
        fn()
    _high[i] = gc.mem_alloc()
    micropython.qstr_info()
    gc.enable()
    gc.collect()


def report():
    gc.collect()
    _start[N_STEPS] = gc.mem_alloc()
    base = _start[0]
    rows = [[STEPS[i][0], _start[i + 1] - _start[i], _high[i] - base] for i in range(N_STEPS)]
    print("mem32-result " + json.dumps({
        "machine": sys.implementation._machine, "maxsize": sys.maxsize,
        "version": ".".join(str(v) for v in sys.implementation.version[:3]),
        "rows": rows, "total": _start[N_STEPS] - base, "peak": max(r[2] for r in rows),
        "late_imports": [n for n in FIRMWARE if n in sys.modules and n not in ORDER],
        "dropped": [n for n in ORDER if n not in sys.modules]}))


micropython.qstr_info()
if sys.platform != "webassembly":
    for _ in range(N_STEPS):
        step()
    report()
gc.collect()
