"""`tools/broute.py serve --http` against the simulator on a pty (host_tests/simpty.py): /api/now,
/api/history and /metrics (read with prometheus_client's parser) match the simulated meter, with
and without --mqtt (a real Mosquitto, host_tests/broker.py); bad flag values refused by name."""
import json
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from broker import Broker, Subscriber, free_port
from sim_meter import METER, Meter, scenario
from test_serve import FAST, PWD, RBID, ROOT, START, Serve, env_for, expected, sim

from broute.version import VERSION

READ_KEYS = ["power_w", "current_r_a", "current_t_a", "energy_kwh", "energy_rev_kwh", "today_kwh", "time"]
NOW_KEYS = READ_KEYS + ["today_rev_kwh", "month_kwh", "month_rev_kwh", "today_yen", "month_yen", "rssi_dbm",
                        "age_s", "level", "contract_a", "link", "module", "firmware", "uptime_s"]
TARIFF = {"base_yen": 935.25, "tiers": [{"up_to_kwh": 120, "yen_per_kwh": 29.8}, {"yen_per_kwh": 36.4}],
          "surcharges": []}


def get(url, timeout=5):
    """(status, headers, body bytes) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_or_none(url):
    """The body of a GET, None when nothing answers."""
    try:
        return get(url, timeout=2)[2]
    except OSError:
        return None


def half_hours(name="normal"):
    """The simulated meter's kWh bought per half hour at START: (yesterday's 48, today's 48, None
    where not yet), from its E2 counters of days 1 and 0 (0.1 kWh a count) and E0 for the half
    hour going on."""
    m = Meter(scenario(name, clock_start=START, clock_speed=1e-6))
    counts = []
    for day in (1, 0):
        m.e5 = day
        raw = struct.unpack(">H48I", m.value(METER, 0xE2, m.start))[1:]
        counts += [None if c == 0xFFFFFFFE else c for c in raw]
    now = struct.unpack(">I", m.value(METER, 0xE0, m.start))[0]
    nxt = counts[1:] + [None]
    nxt[counts.index(None) - 1] = now  # the last half hour begun: up to the counter now
    kwh = [None if a is None or b is None else round((b - a) / 10, 3) for a, b in zip(counts, nxt)]
    return kwh[:48], kwh[48:]


class WebServe(Serve):
    """`broute.py serve --http 127.0.0.1:<free port>` (and the given flags) as a child process,
    once it serves (test_serve's Serve, started otherwise). A port taken between free_port() and
    serve's bind (other tests run servers too) is a race, not a finding: another port is tried."""

    def __init__(self, tmp_path, pty, *flags, fast=FAST):
        self.err_path = tmp_path / "serve.log"
        for _ in range(3):
            self.url = "http://127.0.0.1:%d" % free_port()
            self.err = open(self.err_path, "w")
            self.p = subprocess.Popen([sys.executable, "tools/broute.py", "serve", "--port", pty,
                                       "--http", self.url[7:]] + list(fast) + list(flags), cwd=ROOT,
                                      env=env_for(tmp_path), stdout=subprocess.DEVNULL, stderr=self.err)
            end = time.monotonic() + 30
            while self.p.poll() is None and get_or_none(self.url + "/api/now") is None and time.monotonic() < end:
                time.sleep(0.1)
            if self.p.poll() is None or "cannot listen there" not in self.log():
                return
            self.err.close()

    def now(self, pred, timeout=30):
        """/api/now once pred(it) holds."""
        end = time.monotonic() + timeout
        while True:
            assert self.p.poll() is None, "serve ended (%s):\n%s" % (self.p.returncode, self.log())
            try:
                d = json.loads(get(self.url + "/api/now")[2])
                if pred(d):
                    return d
            except OSError:
                d = None  # not listening yet
            assert time.monotonic() < end, "no such /api/now: %r\n%s" % (d, self.log())
            time.sleep(0.2)


def check_metrics(text, want, tariff):
    """/metrics in the Prometheus text format with the simulated meter's values."""
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    for line in text.splitlines():  # HELP and TYPE for every family, before its samples
        if not line.startswith("#"):
            name = line.split("{")[0].split()[0]
            assert "# TYPE %s " % name in text and "# HELP %s " % name in text, name
    one = {s.name + json.dumps(s.labels, sort_keys=True): s.value for f in fams.values() for s in f.samples}
    assert one["broute_power_watts{}"] == want["power_w"]
    assert one['broute_current_amperes{"phase": "r"}'] == want["current_r_a"]
    assert one['broute_current_amperes{"phase": "t"}'] == want["current_t_a"]
    assert one["broute_energy_bought_kilowatt_hours_total{}"] == want["energy_kwh"]
    assert fams["broute_energy_bought_kilowatt_hours"].type == "counter"
    assert one["broute_energy_sold_kilowatt_hours_total{}"] == 0
    assert one["broute_link_up{}"] == 1 and one["broute_link_rssi_dbm{}"] < 0
    assert one["broute_readings_total{}"] >= 1 and one["broute_uptime_seconds{}"] >= 0
    assert 0 <= one["broute_reading_age_seconds{}"] < 60
    assert {s.labels["kind"] for s in fams["broute_recoveries"].samples} == {"rejoin", "rescan", "reset", "timeout"}
    info = fams["broute_info"].samples[0]
    assert info.value == 1 and info.labels["firmware"] == VERSION and info.labels["module"]
    assert "broute_free_heap_bytes" not in fams  # the stick's figure: nothing to say on a PC
    assert ("broute_cost_yen" in fams) == tariff


def check_history(url, timeout=30):
    """/api/history: the minutes hold the (frozen) meter's watts; the half hours are its E2's."""
    yesterday, today = half_hours()
    end = time.monotonic() + timeout
    while True:
        h = json.loads(get(url + "/api/history")[2])
        if h["yesterday"] == yesterday and h["today"] == today or time.monotonic() > end:
            break
        time.sleep(0.3)
    assert len(h["minutes"]) == 60 and len(h["today"]) == len(h["yesterday"]) == 48
    assert h["yesterday"] == yesterday
    assert h["today"] == today
    w = expected()["power_w"]
    # this minute's, or the last one's when a minute has just begun with no reading in it yet
    assert w in h["minutes"][-2:] and set(h["minutes"]) <= {None, w}


@pytest.mark.parametrize("dialect, mqtt", [("bp35a1", False), ("j11", True)])
def test_web_serves_the_simulated_meter(tmp_path, dialect, mqtt):
    want = expected()
    cfg = {"broute_id": RBID, "broute_password": PWD, "tariff": TARIFF if mqtt else None}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with Broker() as b, Subscriber(b.port) as sub, sim(tmp_path, dialect) as pty:
        flags = ["--config", str(tmp_path / "config.json")]
        if mqtt:
            flags += ["--mqtt", "127.0.0.1:%d" % b.port, "--client-id", "pc1"]
        with WebServe(tmp_path, pty, *flags) as s:
            now = s.now(lambda d: None not in (d["power_w"], d["today_kwh"], d["month_kwh"]))
            assert list(now) == NOW_KEYS  # broute read --json's keys first, in its order
            assert {k: now[k] for k in want} == want
            assert now["energy_rev_kwh"] == 0 and now["today_kwh"] > 0 and now["month_kwh"] >= now["today_kwh"]
            assert now["time"].startswith(START[:15]) and now["time"].endswith("+0900")
            assert now["link"] == "connected" and now["level"] == "normal" and now["contract_a"] == 30
            assert now["module"].split()[0] == ("j11" if dialect == "j11" else "single")
            assert now["firmware"] == VERSION and isinstance(now["rssi_dbm"], int) and now["age_s"] >= 0
            assert (now["month_yen"] is not None and now["month_yen"] >= 935) == mqtt  # the tariff's base
            status, headers, metrics = get(s.url + "/metrics")
            assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
            check_metrics(metrics.decode(), want, tariff=mqtt)
            check_history(s.url)
            status, headers, page = get(s.url + "/")
            with open(ROOT + "/lib/broute/page.html", "rb") as f:
                assert status == 200 and page == f.read() and headers["Content-Type"].startswith("text/html")
            assert get(s.url + "/api/nothing")[0] == 404
            if mqtt:  # the broker gets the same reading
                state = json.loads(sub.wait("broute/pc1/state", timeout=30))
                assert state["power_w"] == want["power_w"]
            else:
                time.sleep(0.5)
                assert sub.topics_seen() == []
            assert s.stop() == 0, s.log()
            log = s.log()
    assert "web page on %s/" % s.url in log and "Traceback" not in log
    assert RBID not in log and PWD not in log
    for body in (json.dumps(now), metrics.decode()):
        assert RBID not in body and PWD not in body


def test_no_reading_yet_is_null(tmp_path):
    """A meter that is not there: the link state, and every figure null (never a made-up one)."""
    with sim(tmp_path, "bp35a1", "--scenario", "no-meter") as pty, WebServe(tmp_path, pty) as s:
        now = s.now(lambda d: d["link"] in ("scanning", "error"))
        assert all(now[k] is None for k in READ_KEYS + ["month_kwh", "age_s", "level"])
        metrics = get(s.url + "/metrics")[2].decode()
        fams = {f.name for f in text_string_to_metric_families(metrics)}
        assert "broute_power_watts" not in fams and "broute_reading_age_seconds" not in fams
        assert "broute_link_up 0" in metrics
        h = json.loads(get(s.url + "/api/history")[2])
        assert set(h["minutes"]) == set(h["today"]) == set(h["yesterday"]) == {None}


@pytest.mark.parametrize("argv, says", [
    (["--http", "8080"], "--http"),
    (["--http", "localhost:0"], "--http"),
    (["--http", "localhost:99999"], "--http"),
    (["--http", ":8080"], "--http"),
    (["--http", "localhost:http"], "--http"),
    ([], "nothing to serve"),
])
def test_bad_http_flags_are_refused_by_name(tmp_path, argv, says):
    r = subprocess.run([sys.executable, "tools/broute.py", "serve", "--port", "/dev/null"] + argv, cwd=ROOT,
                       env=env_for(tmp_path), capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("config, says", [
    ({"contract_amperes": 200}, "contract_amperes"),
    ({"warn_ratio": "high"}, "warn_ratio"),
])
def test_bad_page_settings_are_refused_by_name(tmp_path, config, says):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(config, broute_id=RBID, broute_password=PWD)))
    r = subprocess.run([sys.executable, "tools/broute.py", "serve", "--port", "/dev/null", "--http",
                        "127.0.0.1:%d" % free_port(), "--config", str(path)], cwd=ROOT,
                       env=env_for(tmp_path), capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and says in r.stderr, r.stderr


def test_a_taken_http_port_is_refused_at_once(tmp_path):
    """Another program on the port: exit 2 (restarting cannot help), before the meter is asked."""
    import socket
    with socket.socket() as taken, sim(tmp_path) as pty:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        addr = "127.0.0.1:%d" % taken.getsockname()[1]
        r = subprocess.run([sys.executable, "tools/broute.py", "serve", "--port", pty, "--http", addr] + FAST,
                           cwd=ROOT, env=env_for(tmp_path), capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--http %s: cannot listen there" % addr in r.stderr, r.stderr
    assert "Wi-SUN module" not in r.stderr  # it never got to the dongle
