"""The firmware's heap at start-up on a StickC, step by step, in the firmware's own order, under
any MicroPython port.

tools/bench/mem32.py runs this in a folder laid out like the board (lib/*.mpy, fonts/,
config.json, and plan.json: the start-up's steps in the order app.main(), App.run and
startup.setup take them, each with the modules it imports first, dependencies first) under the
32-bit WebAssembly port and the 64-bit unix port. Each module gets a row at the step where the
firmware imports it, then the step's own row (what it builds, calling the firmware's own code).

Per row: `live`, what it leaves on the heap after a collection, and `peak`, an upper bound of
the heap in use at its end: the heap collected before the step, plus everything the step's rows
so far allocated (garbage included: the rows are collected between them only to measure `live`,
and what each allocates does not depend on that). So a step's transients all count at once, on
top of what the firmware holds then (config's code while startup still holds it, say); the
collection before each step stands for the one the GC makes when the heap runs short (the
firmware's own, board_init's before the display's buffers, only lowers a step's real peak).
After each row (and once before them)
micropython.qstr_info() prints the qstr pools' size: mem32.py takes the interned names' share
of each row from those lines. The wasm port collects only between two runPython calls, so
mem32.mjs calls step() once per row and then report(); other ports run them all below. What the
steps build is kept where the firmware keeps it (the App, asyncio's queue) or in K (globals are
the roots). Prints one line: "mem32-result " + JSON.
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

with open("plan.json") as _f:
    PLAN = json.load(_f)
ORDER = [m for _, mods in PLAN for m in mods]
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
    ID = b"\x24\x0a\xc4\x01\x23\xab"

    def unique_id(self):
        return self.ID


class _Stream:
    """asyncio's streams over the UART and the broker's socket (the wasm port has no sockets):
    nothing to read, and a write the socket takes whole (lwIP copies nothing on the board)."""
    out_buf = None  # mqtt.Publisher._put: nothing left to drain

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


def _drive(coro):
    """Run a coroutine that must not wait (its socket takes every write at once) to its end."""
    try:
        coro.send(None)
    except StopIteration:
        return
    raise RuntimeError("a measured coroutine waited")


def _app():
    """app.main(): the App and its Device."""
    import app
    K["app"] = app.App(app.Device(), "config.json", _quiet)


def _config():
    """startup.setup's first call: config.json read and checked (mqtt's topics by broute.hass,
    the tariff by broute.tariffcfg), config and tariffcfg dropped from sys.modules."""
    import startup
    a = K["app"]
    a.cfg, K["kind"], _ = startup.read_config(a.path, a.log)


def _board():
    """startup.setup: the board (board_init wires it; the display's buffers)."""
    a = K["app"]
    cfg = a.cfg
    a.board = a.platform.board(K["kind"], cfg.uart_rx, cfg.uart_tx, cfg.buzzer)
    a.board.hat = cfg.hat


def _model():
    import model
    a = K["app"]
    cfg = a.cfg
    a.model = model.Model(cfg.contract_amperes, int(cfg.warn_ratio * 100 + 0.5))


def _ui():
    from ui import Ui
    a = K["app"]
    cfg = a.cfg
    a.ui = Ui(a.board, a.model, (cfg.brightness * 8 + 99) // 100, cfg.rotation)


def _setup_end():
    """The rest of startup.setup: the tariff parsed (tariffcfg imported again and dropped), the
    info rows, broute.version dropped; then App._setup drops startup (and with it config)."""
    import app
    from broute.version import VERSION
    a = K["app"]
    cfg = a.cfg
    if cfg.tariff:
        from broute.tariffcfg import load
        a.tariff = load(cfg.tariff)
        app.drop("broute.tariffcfg")
    a._info = (("Firmware", VERSION),)
    app.drop("broute.version")
    a._info += (("Contract", "%d A, poll %d s" % (cfg.contract_amperes, cfg.poll_seconds)),)
    a.model.info = a._info
    sys.modules.pop("startup", None)


def _first_frame():
    a = K["app"]
    a.ui.update(a.clock.ticks_ms())


class _Task:
    """asyncio.create_task here: the coroutine kept as a Task would keep it, not run (the wasm
    port's asyncio would run it on Node's loop between two steps)."""

    def __init__(self, coro):
        self.coro = coro
        K["queue"].append(self)

    def done(self):
        return False

    def cancel(self):
        pass


def _pause(ms):
    """asyncio.sleep_ms for a coroutine driven here to its first wait, where it stays."""
    yield


def _tasks():
    """App.run's tasks (kept as asyncio's queue would hold them; the loop is not run here)."""
    import asyncio
    from buttons import Button
    K["queue"] = []
    asyncio.create_task = _Task
    a = K["app"]
    ui = a.ui
    asyncio.create_task(a._draw())
    asyncio.create_task(Button(a.board.pin_a, ui.next_page, ui.step_brightness).run())
    asyncio.create_task(Button(a.board.pin_b, ui.flip).run())
    K["link"] = asyncio.create_task(a._link())
    K["feed"] = a._feed()


def _net():
    """App._net when config.json has wifi, mqtt and http: Net, Publisher, Hass, websrc.Source
    and their tasks."""
    a = K["app"]
    a._net(a.cfg)
    if a.web:
        K["web"] = K["queue"][-1]  # websrc.run's task, the last App._net makes


def _first_wait(task, what):
    """Run `task`'s coroutine to its first wait, as the loop's first turn does (its sleeps
    stop at once: _pause), and leave it there, holding what its frame holds."""
    import asyncio
    sleep = asyncio.sleep_ms
    asyncio.sleep_ms = _pause
    try:
        if task.coro.send(None) is not None:
            raise RuntimeError("%s did not stop at its first wait" % what)
    finally:
        asyncio.sleep_ms = sleep


def _link():
    """App._link as it runs, to its first wait: broute.detect (its on_board answering at once with
    the family's driver: the UART is not probed here), dropped; then the Session over the UART's
    streams, with the scan cache, and its task. The coroutine stays where the loop would keep it,
    holding what its frame holds."""
    from broute import detect
    family = detect.J11 if "broute.j11driver" in ORDER else detect.SKSTACK

    async def on_board(board, module, clock, log, silent=None):
        return _Stream(), _Stream(), detect.driver(family)
    detect.on_board = on_board
    _first_wait(K["link"], "App._link")


async def _connack(n, ms=0):
    return b"\x20\x02\x00\x00"


def _connect():
    """mqtt.Publisher's connection: its CONNECT (user and password too), CONNACK and SUBSCRIBE
    through the Publisher's own code, over a socket that takes every write."""
    import net
    p = K["app"].pub
    p.r, p.w = _Stream(), _Stream()
    p._read = _connack  # the broker's CONNACK (the one thing read here)
    _drive(net.once("connect", p))
    del p._read


def _burst():
    """Publisher's announce: the ten discovery messages, as the Publisher sends them once the
    session is connected (its join steps dropped)."""
    _drive(K["app"].pub._announce())


def _reading():
    """A reading: the session's listener (model, costs), then its state message published."""
    a = K["app"]
    r = a.session.reading
    r.power_w, r.current_r_da, r.current_t_da, r.ticks = 1234, 68, 59, 1000
    r.today_kwh, r.energy_kwh, r.energy_rev_kwh, r.month_kwh = 5.4, 12345.6, 310.2, 80.4
    a._on_session("reading")
    p = a.pub
    if p:
        p._put(0x30, p.state(), p.st)


def _web():
    """websrc.run as it runs, to its first wait (WiFi not joined yet): the web server (issue 11,
    broute.httpd.Server with its one buffer) as the firmware builds it."""
    _first_wait(K["web"], "websrc.run")


class _Client:
    """A client's streams (the wasm port has no sockets): one request, then the end."""

    def __init__(self, request):
        self.request = request

    async def read(self, n):
        r, self.request = self.request, b""
        return r

    def write(self, data):
        pass

    async def drain(self):
        pass

    def close(self):
        pass

    async def wait_closed(self):
        pass


async def _at_once(coro, ms):
    return await coro


def _http():
    """One request, /metrics (the longest body), through the server's connection handler
    (Server._conn: broute.web imported, the head parsed, the body built through the buffer,
    broute.web dropped when the connection ends), its streams answering at once."""
    from broute import httpd
    srv = K["app"].web.srv
    wait = httpd.wait_ms
    httpd.wait_ms = _at_once  # the streams never wait: no timeout task
    try:
        _drive(srv._conn(_Client(b"GET /metrics HTTP/1.1\r\nHost: 192.168.1.23\r\n"
                                 b"User-Agent: Prometheus/2.53.0\r\nAccept: text/plain\r\n\r\n"),
                         _Client(b"")))
    finally:
        httpd.wait_ms = wait
    if srv.served != 1:
        raise RuntimeError("the request was not served")


def _join():
    """The session joining: the join step with the most code (mem32.py's JOIN_SET: their rows
    above) loaded, as Session.run imports a step's modules when the step starts."""


def _connected():
    """The session connected: it drops the join steps (session.drop_join)."""
    from broute import session
    session.drop_join()


def _screens():
    """One frame of each screen with a reading, and an error screen (advice, loaded and dropped)."""
    import app
    import model
    from broute.session import AUTH_FAILED
    from ui import HISTORY
    a = K["app"]
    ui, m = a.ui, a.model
    m.status, m.rssi_dbm, m.wifi = model.CONNECTED, -61, True
    for i in range(60):
        m.add_power(400 + 37 * i, i * 60000)
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


# plan.json's step keys: (row label, function)
STEPS = {
    "app": ("app.main(): App and Device", _app),
    "startup": ("startup.read_config: config.json checked", _config),
    "board": ("board: StickC, ST77xx band and strip, AXP192", _board),
    "model": ("Model", _model),
    "ui": ("Ui: theme, fonts, writers", _ui),
    "setup_end": ("end of setup: tariff; tariffcfg, startup dropped", _setup_end),
    "first_frame": ("first frame pushed (waiting screen)", _first_frame),
    "tasks": ("App.run: buttons and the app's tasks", _tasks),
    "net": ("App._net: Net, Publisher, Hass, web source, tasks", _net),
    "link": ("App._link: detect (dropped), Session, its task", _link),
    "web": ("web server: websrc.run to its first wait", _web),
    "join": ("session joining: join steps loaded", _join),
    "connect": ("MQTT connect: CONNECT, CONNACK, SUBSCRIBE", _connect),
    "burst": ("discovery burst, once connected: 10 messages", _burst),
    "connected": ("session connected: join code dropped", _connected),
    "reading": ("a reading: model, costs, state message", _reading),
    "http": ("HTTP server, one /metrics request", _http),
    "screens": ("one frame of each screen, an error screen", _screens),
}
# One row per module, then one per step; a row's first entry says whether it opens a step
ROWS = []
for _key, _mods in PLAN:
    for _i, _m in enumerate(_mods):
        ROWS.append((_i == 0, _m, None))
    _label, _fn = STEPS[_key]
    ROWS.append((not _mods, _label, _fn))
N_STEPS = len(ROWS)
_start = array("i", [0] * (N_STEPS + 1))  # heap in use before each row, after a collection
_high = array("i", [0] * N_STEPS)         # heap in use at the end of each row, before one
_next = array("i", [0])


def step():
    """Run the next row. The heap must have been collected just before (see the docstring)."""
    i = _next[0]
    _next[0] = i + 1
    gc.collect()
    _start[i] = gc.mem_alloc()
    gc.disable()
    _, name, fn = ROWS[i]
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
    rows = []
    top = 0
    for i in range(N_STEPS):
        opens, name, _ = ROWS[i]
        if opens:
            top = _start[i]  # collected before the step: what the firmware holds then
        top += _high[i] - _start[i]
        rows.append([name, _start[i + 1] - _start[i], top - base])
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
