"""The stick's web server (docs/http.md): the real firmware on the emulated board (MicroPython unix
port; its WLAN stand-in, tools/emulation/network.py, reports 127.0.0.1 and its sockets are real)
serving on loopback, started as run_host.py --http starts it; /api/now, /metrics (parsed by
prometheus-client) and /api/history checked against the simulated meter (tools/simulator's own
model, seeded as the simulator is); errors; hostile clients while the meter is being read.
"""
import calendar
import json
import os
import socket
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

import config
import emustick
import run_host
from broker import free_port
from sim_meter import Meter, MeterConfig

TIME_SCALE = 0.1  # ten simulated seconds a second: a 10 s poll is a reading a second


def Stick(tmp, seconds=600):
    """The emulated stick serving on a free port (`st.port`)."""
    port = free_port()
    st = emustick.Stick(tmp, ["--http", str(port)], seconds, TIME_SCALE)
    st.port = port
    return st


def request(port, data, timeout=10.0):
    """Send `data`, read to the end: (status or None, headers dict, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer (431) and close before a big head is all sent
        out = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except OSError:
            pass
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1."):
        return None, {}, body
    hdrs = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), hdrs, body


def get(port, path, tries=20):
    """GET `path`; retried while the server says 503 (busy) or is not up yet."""
    for _ in range(tries):
        try:
            st, h, body = request(port, b"GET %s HTTP/1.1\r\nHost: stick\r\n\r\n" % path.encode())
            if st == 200:
                return h, body
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("no 200 for %s" % path)


def now(port):
    return json.loads(get(port, "/api/now")[1])


def metrics(port):
    out = {}
    for fam in text_string_to_metric_families(get(port, "/metrics")[1].decode()):
        for s in fam.samples:
            out[(s.name,) + tuple(sorted(s.labels.items()))] = s.value
    return out


def wait_reading(port, after=None, timeout=60):
    """/api/now once it has a reading (newer than `after`'s time)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        d = now(port)
        if d["power_w"] is not None and d["time"] and (after is None or d["time"] != after["time"]):
            return d
        time.sleep(0.3)
    raise AssertionError("no reading in %d s" % timeout)


def meter_time(text):
    """The reading's local time text as the simulated meter's clock (its wall, in UTC terms)."""
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))


@pytest.fixture(scope="module")
def stick(tmp_path_factory):
    st = Stick(tmp_path_factory.mktemp("http"))
    try:
        wait_reading(st.port, timeout=90)
        yield st
    finally:
        st.close()


# --- what is served -------------------------------------------------------------------------
def test_api_now_is_the_meter(stick):
    d = wait_reading(stick.port)
    m = Meter(MeterConfig())
    w = meter_time(d["time"])
    # E7 as the meter answered it, within the last poll before the reading's time
    window = range(int(w) - 40, int(w) + 11)
    assert d["power_w"] in {round(m.load.power(t)) for t in window}
    assert d["current_r_a"] in {round(m.load.phases(x)[0] * 10 / 100) / 10 for x in window}
    assert d["current_t_a"] in {round(m.load.phases(x)[1] * 10 / 100) / 10 for x in window}
    e0 = [int.from_bytes(m.value(None, 0xE0, x), "big") / 10 for x in (w - 120, w + 10)]
    assert e0[0] <= d["energy_kwh"] <= e0[1]
    assert d["energy_rev_kwh"] == 0 and d["today_rev_kwh"] in (0, None)  # None until E4 came
    # today: E0 now less its 00:00 value (E2 of day 0, the first counter)
    assert d["today_kwh"] == pytest.approx(d["energy_kwh"] - int.from_bytes(
        m.value(None, 0xE2, w)[2:6], "big") / 10, abs=0.01)
    assert d["month_kwh"] >= d["today_kwh"]  # 2024-06-01: the month began today
    assert d["time"].endswith("+0900") and d["rssi_dbm"] == -55
    assert d["link"] == "connected" and d["level"] == "normal" and d["contract_a"] == 30
    assert d["module"].endswith(" 1.2.10") and d["firmware"] == "0.2.0"
    assert 0 <= d["age_s"] <= 30 and d["uptime_s"] > 0
    assert d["today_yen"] is None and d["month_yen"] is None  # no tariff in this config


def test_metrics_parse_and_match_api_now(stick):
    for _ in range(20):  # the same reading on both sides of the scrape
        a = now(stick.port)
        m = metrics(stick.port)
        b = now(stick.port)
        if a["time"] == b["time"]:
            break
    else:
        raise AssertionError("never a scrape between two readings")
    assert m[("broute_power_watts",)] == a["power_w"]
    assert m[("broute_current_amperes", ("phase", "r"))] == a["current_r_a"]
    assert m[("broute_current_amperes", ("phase", "t"))] == a["current_t_a"]
    assert m[("broute_energy_bought_kilowatt_hours_total",)] == a["energy_kwh"]
    assert m[("broute_energy_sold_kilowatt_hours_total",)] == 0
    assert m[("broute_energy_today_kilowatt_hours", ("direction", "bought"))] == a["today_kwh"]
    assert m[("broute_energy_month_kilowatt_hours", ("direction", "bought"))] == a["month_kwh"]
    assert m[("broute_link_rssi_dbm",)] == -55 and m[("broute_link_up",)] == 1
    assert 0 <= m[("broute_reading_age_seconds",)] <= 30
    assert m[("broute_readings_total",)] >= 1
    for kind in ("rejoin", "rescan", "reset", "timeout"):
        assert m[("broute_recoveries_total", ("kind", kind))] >= 0
    assert 0 < m[("broute_free_heap_bytes",)] < 1 << 20
    assert m[("broute_uptime_seconds",)] > 0
    assert m[("broute_info", ("firmware", "0.2.0"), ("module", a["module"]))] == 1
    assert not any(k[0] == "broute_cost_yen" for k in m)  # no tariff: left out, not zero


def test_history_is_the_meters_half_hours(stick):
    for _ in range(60):  # yesterday's E2 is asked after today's baselines, a poll or two in
        d = wait_reading(stick.port)
        h = json.loads(get(stick.port, "/api/history")[1])
        if h["yesterday"][0] is not None:
            break
        time.sleep(0.5)
    assert len(h["minutes"]) == 60 and len(h["today"]) == 48 and len(h["yesterday"]) == 48
    assert h["minutes"][-1] is not None or h["minutes"][-2] is not None  # this minute or the last
    assert all(v is None or 50 <= v <= 6000 for v in h["minutes"])
    m = Meter(MeterConfig())
    w = meter_time(d["time"])

    def counters(day):
        m.e5 = day
        edt = m.value(None, 0xE2, w)
        return [int.from_bytes(edt[2 + 4 * i:6 + 4 * i], "big") for i in range(48)]
    yesterday, today = counters(1), counters(0)
    ends = yesterday[1:] + [today[0]]
    assert h["yesterday"] == [round((b - a) / 10, 3) for a, b in zip(yesterday, ends)]
    slot = int(w % 86400 // 1800)
    for i in range(slot):  # the half hours that have ended, from E2 (and EA since)
        assert h["today"][i] == round((today[i + 1] - today[i]) / 10, 3), i
    assert h["today"][slot] is not None and h["today"][slot] >= 0  # going on: E0 now
    assert all(v is None for v in h["today"][slot + 1:])


def test_page_and_errors(stick):
    st, hd, body = request(stick.port, b"GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n")
    assert st == 200 and hd["Content-Encoding"] == "gzip" and hd["Content-Type"].startswith("text/html")
    import gzip
    with open(os.path.join(run_host.ROOT, "lib", "broute", "page.html"), "rb") as f:
        assert gzip.decompress(body) == f.read() and int(hd["Content-Length"]) == len(body)
    st, hd, body = request(stick.port, b"HEAD / HTTP/1.1\r\n\r\n")
    assert st == 200 and body == b""
    assert request(stick.port, b"GET /secret HTTP/1.1\r\n\r\n")[0] == 404
    assert request(stick.port, b"POST /api/now HTTP/1.1\r\nContent-Length: 0\r\n\r\n")[0] == 405
    assert request(stick.port, b"\x00\x01\x02 garbage\r\n\r\n")[0] == 400
    assert request(stick.port, b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n\r\n")[0] == 414
    for secret in (run_host.SIM_PASSWORD, run_host.SIM_ID, "emulated-wifi"):
        for path in ("/api/now", "/metrics", "/api/history"):
            assert secret.encode() not in get(stick.port, path)[1]
        assert secret not in stick.log()


# --- hostile clients ------------------------------------------------------------------------
def _slowloris(port, stop, results):
    """A head sent a byte a second: the server gives up (408) after its head deadline."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                t0 = time.monotonic()
                out = b""
                for c in b"GET /api/now HTTP/1.1\r\nX-Slow: " + b"z" * 60:
                    s.send(bytes([c]))
                    r = _ready(s, 1.0)
                    if r is not None:
                        out = r
                        break
                results.append((out[:12], time.monotonic() - t0))
        except OSError:
            results.append((b"reset", 0))


def _ready(s, wait):
    """What the server sent within `wait` s (b"" on close), or None."""
    s.settimeout(wait)
    try:
        b = s.recv(4096)
        return b
    except socket.timeout:
        return None
    except OSError:
        return b""


def _big_header(port, stop, results):
    while not stop.is_set():
        results.append(request(port, b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 100000 + b"\r\n\r\n")[0])
        time.sleep(0.2)


def _garbage(port, stop, results):
    while not stop.is_set():
        results.append(request(port, os.urandom(4096))[0])
        time.sleep(0.2)


def _crowd(port, stop, results):
    """20 connections at once, each asking for /metrics."""
    while not stop.is_set():
        out = []
        ts = [threading.Thread(target=lambda: out.append(request(
            port, b"GET /metrics HTTP/1.1\r\n\r\n")[0])) for _ in range(20)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        results.extend(out)
        time.sleep(0.5)


def _never_reads(port, stop, results):
    """Asks for the page and /metrics, never reads, holds the sockets a while."""
    while not stop.is_set():
        held = []
        for path in (b"/", b"/metrics"):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.sendall(b"GET %s HTTP/1.1\r\n\r\n" % path)
            held.append(s)
        stop.wait(8)
        for s in held:
            s.close()
        results.append(len(held))


def _readings(port):
    return metrics(port)[("broute_readings_total",)]


def _rate(port, seconds):
    """Readings per real minute over `seconds`, from the stick's own counter."""
    n0, t0 = _readings(port), time.monotonic()
    time.sleep(seconds)
    n1, t1 = _readings(port), time.monotonic()
    return (n1 - n0) * 60 / (t1 - t0)


def test_hostile_clients_do_not_stop_the_meter(stick):
    port = stick.port
    # the bound: four connections held (sending nothing), a fifth is refused at once
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
    time.sleep(0.5)
    st, hd, _ = request(port, b"GET /api/now HTTP/1.1\r\n\r\n")
    assert st == 503 and hd["Retry-After"] == "5"
    for s in held:  # each is dropped by the head deadline: 408
        assert _ready(s, 15).startswith(b"HTTP/1.1 408")
        s.close()

    quiet = _rate(port, 10)
    stop = threading.Event()
    results = {f.__name__: [] for f in (_slowloris, _big_header, _garbage, _crowd, _never_reads)}
    threads = [threading.Thread(target=f, args=(port, stop, results[f.__name__]), daemon=True)
               for f in (_slowloris, _slowloris, _big_header, _garbage, _crowd, _never_reads)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        n0 = _readings(port)
        loaded = _rate(port, 15)
        during = _readings(port) - n0
    finally:
        stop.set()
        for t in threads:
            t.join(40)
    after = _rate(port, 5)
    print("\nreadings per real minute at --time-scale %s (poll 10 s): quiet %.1f, under load %.1f, "
          "after %.1f" % (TIME_SCALE, quiet, loaded, after))
    print("hostile results: " + json.dumps({k: _summary(v) for k, v in results.items()}))
    assert stick.proc.poll() is None, stick.log()[-2000:]
    assert during >= 3  # the meter was read while the server was hammered
    assert after > 0
    assert "WATCHDOG" not in stick.log() and "app crashed" not in stick.log()
    slow = results["_slowloris"]
    assert slow and all(r[0].startswith(b"HTTP/1.1 408") or r[0].startswith(b"HTTP/1.1 503")
                        or r[0] == b"" for r in slow)
    assert set(results["_big_header"]) <= {431, 503, None} and 431 in results["_big_header"]
    assert set(results["_garbage"]) <= {400, 414, 431, 503, None} and results["_garbage"]
    assert set(results["_crowd"]) <= {200, 503} and 200 in results["_crowd"] and 503 in results["_crowd"]
    assert results["_never_reads"]
    d = wait_reading(port)  # and afterwards it is all still there
    assert d["link"] == "connected"


def _summary(v):
    out = {}
    for x in v:
        k = str(x[0] if isinstance(x, tuple) else x)
        out[k] = out.get(k, 0) + 1
    return out


# --- the config key -------------------------------------------------------------------------
BASE = {"broute_id": run_host.SIM_ID, "broute_password": run_host.SIM_PASSWORD,
        "wifi": {"ssid": "home", "password": "wifi-password"}}


@pytest.mark.parametrize("http,port", [({"port": 8080}, 8080), ({}, 80), ({"port": 1}, 1),
                                       ({"port": 65535}, 65535)])
def test_config_http_accepted(http, port):
    c = config.validate(dict(BASE, http=http))
    assert c.http.get("port", 80) == port and "http=%d" % port in config.summary(c)
    assert config.validate(dict(BASE, http=None)).http is None
    assert "http=off" in config.summary(config.validate(dict(BASE)))


@pytest.mark.parametrize("http,why", [
    ({"port": 0}, "port must be a whole number from 1 to 65535"),
    ({"port": 65536}, "port must be"), ({"port": "80"}, "port must be"), ({"port": True}, "port must be"),
    ({"port": 80, "host": "0.0.0.0"}, "unknown key 'host' inside http"),
    (80, 'must be {"port": 80} or null'), ("on", 'must be {"port": 80} or null')])
def test_config_http_refused_by_name(http, why):
    with pytest.raises(config.ConfigError) as e:
        config.validate(dict(BASE, http=http))
    assert e.value.key == "http" and why in str(e.value)


def test_config_http_needs_wifi():
    with pytest.raises(config.ConfigError) as e:
        config.validate({"broute_id": run_host.SIM_ID, "broute_password": run_host.SIM_PASSWORD,
                         "http": {"port": 80}})
    assert e.value.key == "http" and "needs wifi" in str(e.value)


# --- a new WiFi address, a new server ---------------------------------------------------------
_FOLLOW = r"""
import asyncio, sys
sys.path[0:0] = ["lib", "firmware"]
from broute.compat import Clock
from model import Model
import websrc

class App:
    def __init__(self):
        self.clock = Clock()
        self.model = Model()
        self.model.wifi, self.model.ip = True, "127.0.0.1"
        self.readings = 0
        self.session = None
    def log(self, s):
        print(s)

async def main(app, src, steps):
    asyncio.create_task(websrc.run(app, src, PORT))
    for ip, up in steps:
        app.model.ip, app.model.wifi = ip, up
        print("STEP", ip, up)
        await asyncio.sleep(STEP_S)
    raise ValueError("crash")  # as an app crash ends its loop, its listener left open

app = App()
src = websrc.Source(app, 540)
try:
    asyncio.run(main(app, src, (("127.0.0.1", True), ("127.0.0.2", True), ("127.0.0.2", False),
                                ("127.0.0.1", True))))
except ValueError:
    pass
asyncio.new_event_loop()  # app.main() retries the app in a new loop
try:
    asyncio.run(main(app, src, (("127.0.0.1", True),)))
except ValueError:
    pass
print("DONE")
"""


def test_the_server_follows_the_wifi_address(tmp_path):
    """firmware/websrc.py: bound to the WiFi address, moved when it changes, closed while WiFi is
    down, and listening again after an app crash (whose loop left the old listener open)."""
    port = free_port()
    script = tmp_path / "follow.py"
    script.write_text(_FOLLOW.replace("PORT", str(port)).replace("STEP_S", "7"))
    import subprocess
    proc = subprocess.Popen([run_host.MICROPYTHON, str(script)], cwd=run_host.ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def at(ip):
            try:
                with socket.create_connection((ip, port), timeout=2) as s:
                    s.sendall(b"GET /api/now HTTP/1.1\r\n\r\n")
                    return s.recv(64).split(b" ")[1] == b"200"
            except OSError:
                return False
        seen, out = [], []
        for step in range(5):
            line = proc.stdout.readline()
            while not line.startswith("STEP"):
                assert line, "the script ended early"
                out.append(line)
                line = proc.stdout.readline()
            time.sleep(5.5)  # websrc looks every 5 s
            seen.append((at("127.0.0.1"), at("127.0.0.2")))
        assert seen == [(True, False), (False, True), (False, False), (True, False), (True, False)]
    finally:
        proc.kill()
        out = "".join(out) + proc.communicate()[0]
    assert "http: serving http://127.0.0.1:%d/" % port in out
    assert "http: serving http://127.0.0.2:%d/" % port in out
