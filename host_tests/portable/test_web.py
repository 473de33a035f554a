"""The web server's sans-I/O half (lib/broute/web.py: the head parser and the bodies) and its
I/O half (lib/broute/httpd.py) on real loopback sockets, under CPython and the MicroPython unix port
alike (host_tests/mprun.py)."""
import asyncio
import json
import socket

from broute import bstate, httpd, web
from broute.compat import ticks_ms, ticks_add
from broute.reading import Reading
from broute.version import VERSION

# broute.web's private consts (not in the module's globals on the stick: they cost heap there)
PAGE, NOW, HISTORY, METRICS = 0, 1, 2, 3  # Head.path: docs/http.md's paths in their order
LINE_MAX, HEAD_MAX = 128, 1024            # docs/http.md section 2's caps
INT, TENTHS, KWH2, KWH3, TEXT = 0, 1, 3, 4, 5  # Out.val's kinds


def _head(data, step=0):
    h = web.Head()
    if step:
        for i in range(0, len(data), step):
            if h.feed(data[i:i + step]):
                break
    else:
        h.feed(data)
    return h


def test_head_paths_and_methods():
    for path, i in ((b"/", PAGE), (b"/api/now", NOW), (b"/api/history", HISTORY),
                    (b"/metrics", METRICS), (b"/api/now?t=12", NOW)):
        h = _head(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", 1)
        assert (h.status, h.path, h.head_only) == (200, i, False), path
    h = _head(b"HEAD /metrics HTTP/1.0\n\n")  # bare line feeds are taken too
    assert (h.status, h.path, h.head_only) == (200, METRICS, True)
    assert _head(b"GET /nope HTTP/1.1\r\n\r\n").status == 404
    assert _head(b"GET /api/now/ HTTP/1.1\r\n\r\n").status == 404
    assert _head(b"POST /api/now HTTP/1.1\r\nContent-Length: 0\r\n\r\n").status == 405
    assert _head(b"DELETE / HTTP/1.1\r\n\r\n").status == 405


def test_head_waits_for_the_blank_line():
    h = web.Head()
    assert not h.feed(b"GET / HTTP/1.1\r\n")
    assert not h.feed(b"Host: a\r\n")
    assert h.status == 0
    assert h.feed(b"\r\n") and h.status == 200


def test_head_garbage_is_400_at_once():
    for line in (b"\x00\xff\x10garbage\n", b"GET\r\n", b"GET /\r\n", b"GET / HTTP/2.0\r\n",
                 b"get / HTTP/1.1\r\n", b"GET x HTTP/1.1\r\n", b" / HTTP/1.1\r\n",
                 b"GET / HTTP/1.1 x\r\n", b"GET  / HTTP/1.1\r\n", b"\r\n"):
        h = web.Head()
        assert h.feed(line) and h.status == 400, line


def test_head_caps():
    h = _head(b"GET /" + b"a" * LINE_MAX + b" HTTP/1.1\r\n\r\n")
    assert h.status == 414
    h = web.Head()
    assert not h.feed(b"GET / HTTP/1.1\r\n")
    big = b"X-Big: " + b"b" * 200 + b"\r\n"
    done = False
    for _ in range(10):
        done = h.feed(big)
        if done:
            break
    assert done and h.status == 431 and h.n == HEAD_MAX + 1
    h = _head(b"\xff" * 2000)  # no line end at all
    assert h.status == 414


def _val(v, kind):
    parts = []
    o = web.Out(bytearray(4), lambda mv: parts.append(bytes(mv)))
    o.val(v, kind)
    o.flush()
    return b"".join(parts).decode()


def test_values_as_text_and_time():
    assert _val(None, INT) == "null" and _val(None, TEXT) == "null"
    assert _val(-350, INT) == "-350" and _val(0, INT) == "0" and _val(1000, INT) == "1000"
    assert _val(25, TENTHS) == "2.5" and _val(5, TENTHS) == "0.5"
    assert _val(-5, TENTHS) == "-0.5" and _val(-10, TENTHS) == "-1.0"
    assert _val(12345.6, KWH2) == "12345.60"  # not 12345.599 on a single-precision float
    assert _val(12345, KWH2) == "12345.00"  # an int kWh (E1 of 1 kWh) is no count of hundredths
    assert _val(0.0049, KWH3) == "0.005" and _val(0.0, KWH3) == "0.000"
    assert _val(-0.25, KWH2) == "-0.25"
    assert _val("skstack 1.2.10", TEXT) == '"skstack 1.2.10"'
    assert _val('a"b\\c', TEXT) == '"abc"'  # nothing that could end the string
    src = Source()
    src.reading.time = None
    assert json.loads(_build(_now, src))["time"] is None
    # 2026-11-26 11:53:08 local, seconds since 2000-01-01
    src.reading.time = (9826 * 86400) + 11 * 3600 + 53 * 60 + 8
    assert json.loads(_build(_now, src))["time"] == "2026-11-26T11:53:08+0900"
    src.offset_min = -90
    assert json.loads(_build(_now, src))["time"] == "2026-11-26T11:53:08-0130"


class _Session:
    state = bstate.CONNECTED
    dialect = "skstack"
    version = "1.2.10"
    recoveries = [1, 2, 3]  # rejoin, rescan, reset
    timeouts = 4

    def rssi_dbm(self):
        return -61


class Source:
    """web.py's source protocol, filled by hand."""

    def __init__(self):
        self.session = _Session()
        self.reading = r = Reading()
        r.power_w, r.current_r_da, r.current_t_da = 1234, 125, 3
        r.energy_kwh, r.energy_rev_kwh, r.today_kwh = 12345.6, 7.25, 3.5
        r.today_rev_kwh, r.month_kwh, r.month_rev_kwh = None, 40.0, 0.5
        r.time = 9826 * 86400 + 11 * 3600
        r.seq = 9
        self.t = ticks_ms()
        r.ticks = ticks_add(self.t, -7500)
        self.readings = 9
        self.past = [10, 20, 30, 40]
        self.contract_a = 30
        self.warn_percent = 80
        self.offset_min = 540
        self.yen = (101, 2002)
        self.free = 55555

    def now_ms(self):
        return self.t

    def uptime_s(self):
        return 3600

    def costs(self):
        return self.yen

    def heap(self):
        return self.free

    def minute(self, age):
        return None if age == 3 else 1000 + age

    def half_hour(self, day, slot):
        return None if slot > 20 else 0.125 * (slot + 1) + day


def _now(o, src):
    web.fill(o, src, NOW, bytearray(LINE_MAX))


def _history(o, src):
    web.fill(o, src, HISTORY, bytearray(LINE_MAX))


def _metrics_body(o, src):
    web.fill(o, src, METRICS, bytearray(LINE_MAX))


def _build(f, src, size=16):
    """A body through a small buffer, so it is handed over in many pieces."""
    parts = []
    o = web.Out(bytearray(size), lambda mv: parts.append(bytes(mv)))
    f(o, src)
    o.flush()
    assert all(len(p) <= size for p in parts)
    return b"".join(parts).decode()


def test_now():
    d = json.loads(_build(_now, Source()))
    keys = ["power_w", "current_r_a", "current_t_a", "energy_kwh", "energy_rev_kwh", "today_kwh",
            "time", "today_rev_kwh", "month_kwh", "month_rev_kwh", "today_yen", "month_yen",
            "rssi_dbm", "age_s", "level", "contract_a", "link", "module", "firmware", "uptime_s"]
    assert list(d) == keys or sorted(d) == sorted(keys)  # MicroPython's dict has no order
    assert d["power_w"] == 1234 and d["current_r_a"] == 12.5 and d["current_t_a"] == 0.3
    assert d["energy_kwh"] == 12345.6 and d["energy_rev_kwh"] == 7.25 and d["today_kwh"] == 3.5
    assert d["today_rev_kwh"] is None and d["month_kwh"] == 40 and d["month_rev_kwh"] == 0.5
    assert d["time"] == "2026-11-26T11:00:00+0900"
    assert (d["today_yen"], d["month_yen"], d["rssi_dbm"], d["age_s"]) == (101, 2002, -61, 7)
    assert d["level"] == "normal" and d["contract_a"] == 30 and d["link"] == "connected"
    assert d["module"] == "skstack 1.2.10" and d["firmware"] == VERSION and d["uptime_s"] == 3600


def test_now_levels_and_nothing_yet():
    src = Source()
    r = src.reading
    r.current_r_da = 250
    assert json.loads(_build(_now, src))["level"] == "near"
    r.current_t_da = 300
    assert json.loads(_build(_now, src))["level"] == "over"
    r.current_r_da = r.current_t_da = None
    r.power_w = 2700  # no currents: from the power, 100 V per ampere
    assert json.loads(_build(_now, src))["level"] == "near"
    r.power_w = -300
    assert json.loads(_build(_now, src))["level"] == "export"
    src.reading.seq = 0  # no reading yet: every figure null, never a stale one
    src.session.version = None
    src.yen = (None, None)
    d = json.loads(_build(_now, src))
    for k in ("power_w", "current_r_a", "energy_kwh", "today_kwh", "time", "month_kwh", "age_s",
              "level", "today_yen", "module"):
        assert d[k] is None, k
    assert d["link"] == "connected" and d["rssi_dbm"] == -61
    src.session = None
    d = json.loads(_build(_now, src))
    assert d["link"] == "starting" and d["rssi_dbm"] is None
    _Session.version = "1.2.10"


def test_history():
    body = _build(_history, Source())
    assert body.startswith('{"minutes":[') and body.endswith("]}")  # one line, no line end
    d = json.loads(body)
    assert len(d["minutes"]) == 60 and len(d["today"]) == 48 and len(d["yesterday"]) == 48
    assert d["minutes"][59] == 1000 and d["minutes"][0] == 1059 and d["minutes"][56] is None
    assert d["today"][0] == 0.125 and d["today"][20] == 2.625 and d["today"][21] is None
    assert d["yesterday"][1] == 1.25


def _metrics(src):
    """{(name, labels): value} and the family names, checking HELP and TYPE come first."""
    out = {}
    fams = []
    for line in _build(_metrics_body, src, 64).split("\n"):
        if line.startswith("# HELP "):
            fams.append(line.split()[2])
        elif line.startswith("# TYPE "):
            assert line.split()[2] == fams[-1]
        elif line:
            name, v = line.rsplit(" ", 1)
            out[name] = float(v)
    return out, fams


def test_metrics():
    m, fams = _metrics(Source())
    assert len(fams) == 15
    assert m["broute_power_watts"] == 1234
    assert m['broute_current_amperes{phase="r"}'] == 12.5
    assert m["broute_energy_bought_kilowatt_hours_total"] == 12345.6
    assert m['broute_energy_today_kilowatt_hours{direction="bought"}'] == 3.5
    assert 'broute_energy_today_kilowatt_hours{direction="sold"}' not in m  # None: left out
    assert m['broute_cost_yen{period="month"}'] == 2002
    assert m["broute_link_up"] == 1 and m["broute_link_rssi_dbm"] == -61
    assert m["broute_reading_age_seconds"] == 7 and m["broute_readings_total"] == 9
    assert m['broute_recoveries_total{kind="rejoin"}'] == 11
    assert m['broute_recoveries_total{kind="timeout"}'] == 44
    assert m["broute_free_heap_bytes"] == 55555 and m["broute_uptime_seconds"] == 3600
    assert m['broute_info{firmware="%s",module="skstack 1.2.10"}' % VERSION] == 1


def test_metrics_leave_out_what_is_unknown():
    src = Source()
    src.reading = None
    src.readings = 0
    src.yen = (None, None)
    src.free = None
    src.session = None
    m, fams = _metrics(src)
    for f in ("broute_power_watts", "broute_current_amperes", "broute_cost_yen",
              "broute_free_heap_bytes", "broute_reading_age_seconds", "broute_link_rssi_dbm"):
        assert f not in fams, f
    assert m["broute_link_up"] == 0 and m["broute_readings_total"] == 0
    assert m['broute_recoveries_total{kind="reset"}'] == 30
    assert m['broute_info{firmware="%s"}' % VERSION] == 1


def test_template_lines_fit_the_buffer():
    """web.tpl is read a line at a time into the request's line buffer (LINE_MAX bytes):
    every line ends in a newline and fits, and its sections, in Head.path's order, each begin
    with an "@" line."""
    with open(web.TPL, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    assert lines[-1] == b""
    assert max(len(line) + 1 for line in lines) <= LINE_MAX
    assert [line[:8] for line in lines if line[:1] == b"@"] == [b"@now: /a", b"@history", b"@metrics"]


# --- the server on loopback ------------------------------------------------------------------
async def _ask(port, data, pause=0):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    if pause:
        for i in range(len(data)):
            w.write(data[i:i + 1])
            await w.drain()
            await asyncio.sleep(pause)
    else:
        w.write(data)
        await w.drain()
    out = b""
    while True:
        b = await r.read(1024)
        if not b:
            break
        out += b
    w.close()
    await w.wait_closed()
    return out


def _serve(script, page=None, conns=4):
    async def main():
        srv = httpd.Server(Source(), page or "no-such-page.html", conns)
        port = 18000 + ticks_ms() % 2000
        await srv.start("127.0.0.1", port)
        try:
            return await script(srv, port)
        finally:
            await srv.close()
    return asyncio.run(main())


def _split(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    return head.decode().split("\r\n"), body


def test_server_paths():
    async def script(srv, port):
        head, body = _split(await _ask(port, b"GET /api/now HTTP/1.1\r\nHost: x\r\n\r\n"))
        assert head[0] == "HTTP/1.1 200 OK" and "Content-Type: application/json" in head
        assert json.loads(body)["power_w"] == 1234
        head, body = _split(await _ask(port, b"GET /metrics HTTP/1.1\r\n\r\n"))
        assert head[0] == "HTTP/1.1 200 OK" and b"broute_power_watts 1234\n" in body
        head, body = _split(await _ask(port, b"HEAD /api/history HTTP/1.1\r\n\r\n"))
        assert head[0] == "HTTP/1.1 200 OK" and body == b""
        head, body = _split(await _ask(port, b"GET /api/history HTTP/1.1\r\n\r\n"))
        assert len(json.loads(body)["today"]) == 48
        for req, status in ((b"GET /x HTTP/1.1\r\n\r\n", "404"), (b"PUT / HTTP/1.1\r\n\r\n", "405"),
                            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", "400"),
                            (b"GET / HTTP/1.1\r\n\r\n", "404")):  # no page file here
            head, _ = _split(await _ask(port, req))
            assert head[0].split()[1] == status, req
        return srv.served
    assert _serve(script) == 8


def test_server_streams_the_page_gzip():
    name = "test_web_page.html.gz"
    data = bytes(range(256)) * 9  # > CHUNK: sent in pieces
    with open(name, "wb") as f:
        f.write(data)
    try:
        async def script(srv, port):
            head, body = _split(await _ask(port, b"GET / HTTP/1.1\r\n\r\n"))
            assert "Content-Encoding: gzip" in head and "Content-Length: %d" % len(data) in head
            assert body == data
        _serve(script, name)
    finally:
        import os
        os.remove(name)


def test_server_bounds_connections_and_slow_heads():
    async def script(srv, port):
        # two slow clients hold both places; a third is answered 503 at once
        slow = [asyncio.create_task(_ask(port, b"GET /metrics HTTP/1.1\r\n\r\n", 0.05)) for _ in range(2)]
        await asyncio.sleep(0.2)
        assert srv.busy == 2
        head, _ = _split(await _ask(port, b"GET /api/now HTTP/1.1\r\n\r\n"))
        assert head[0].startswith("HTTP/1.1 503") and srv.refused == 1
        for t in slow:
            head, _ = _split(await t)
            assert head[0] == "HTTP/1.1 200 OK"
        return srv.busy
    assert _serve(script, conns=2) == 0
