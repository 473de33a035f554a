"""`tools/broute.py serve` against a real Mosquitto (host_tests/broker.py) and the simulator on a pty,
both module families: discovery, states checked against the simulated meter, availability, the broker
restarted, Home Assistant restarting, the process killed, a broker away or refusing the password."""
import json
import os
import signal
import struct
import subprocess
import sys
import time

import pytest

import simpty
from broker import Broker, Subscriber, free_port
from sim_meter import METER, Meter, scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RBID = "00112233445566778899AABBCCDDEEFF"
PWD = "0123456789AB"
MQTT_PW = "s3cret-Mqtt-pw"
FAST = ["--time-scale", "0.02"]
# the meter's clock all but stopped: its power and counters stay those of START (its 10 s tick)
START = "2026-11-26T11:53:00"
FROZEN = ["--clock-start", START, "--clock-speed", "1e-6"]
KEYS = ("power_w", "current_r_a", "current_t_a", "energy_kwh", "energy_rev_kwh", "today_kwh", "month_kwh",
        "today_yen", "month_yen", "rssi_dbm")


def expected(name="normal"):
    """What the simulated meter reports at START: E7 (W), E8 (0.1 A), E0 (kWh)."""
    m = Meter(scenario(name, clock_start=START, clock_speed=1e-6))
    w = m.start
    power = struct.unpack(">i", m.value(METER, 0xE7, w))[0]
    r, t = struct.unpack(">hh", m.value(METER, 0xE8, w))
    return {"power_w": power, "current_r_a": r / 10, "current_t_a": t / 10, "energy_kwh": m.cfg.import_kwh}


def sim(tmp_path, dialect="bp35a1", *extra):
    return simpty.sim(tmp_path / "dongle", ["--dialect", dialect] + FAST + FROZEN + list(extra))


def env_for(tmp_path, **more):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROUTE_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), BROUTE_ID=RBID, BROUTE_PASSWORD=PWD)
    env.update(more)
    return env


class Serve:
    """`broute.py serve` as a child process, its stderr collected in a file."""

    def __init__(self, tmp_path, pty, mqtt, *extra, env=None):
        self.err_path = tmp_path / ("serve-%d.log" % time.monotonic_ns())
        self.err = open(self.err_path, "w")
        self.p = subprocess.Popen([sys.executable, "tools/broute.py", "serve", "--port", pty, "--mqtt", mqtt,
                                   "--client-id", "pc1"] + FAST + list(extra), cwd=ROOT,
                                  env=env or env_for(tmp_path), stdout=subprocess.DEVNULL, stderr=self.err)

    def log(self):
        return self.err_path.read_text()

    def wait_log(self, text, timeout=20, start=0):
        """Wait until `text` is in the log (past its first `start` characters)."""
        end = time.monotonic() + timeout
        while text not in self.log()[start:]:
            assert self.p.poll() is None, "serve ended (%s):\n%s" % (self.p.returncode, self.log())
            assert time.monotonic() < end, "no %r in the log:\n%s" % (text, self.log())
            time.sleep(0.1)

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(15)
        finally:
            self.err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
        self.stop()


def state_ok(want):
    def pred(payload):
        d = json.loads(payload)
        return all(d[k] == v for k, v in want.items())
    return pred


def check_discovery(sub, node="pc1", prefix="homeassistant", base="broute/pc1"):
    for key in KEYS:
        c = json.loads(sub.wait("%s/sensor/%s/%s/config" % (prefix, node, key)))
        assert c["~"] == base and c["stat_t"] == "~/state" and c["avty_t"] == "~/status"
        assert c["uniq_id"] == "%s_%s" % (node, key) and c["val_tpl"] == "{{value_json.%s}}" % key
        assert c["dev"]["ids"] == [node] and c["dev"]["mdl"] == "PC reader"


def check_retained(port, node="pc1", prefix="homeassistant", base="broute/pc1", **auth):
    """A subscriber that comes later gets discovery and online from the broker (retained), no state."""
    with Subscriber(port, client_id="late", **auth) as late:
        for key in KEYS:
            late.wait("%s/sensor/%s/%s/config" % (prefix, node, key))
        assert late.wait(base + "/status") == "online"
        for t in late.topics_seen(prefix) + [base + "/status"]:
            assert late.retained[t][0], t  # the first one came from the broker's store
        time.sleep(0.3)
        assert not any(late.retained.get(base + "/state", ()))  # live ones only


@pytest.mark.parametrize("dialect", ["bp35a1", "j11"])
def test_serve_publishes_the_meter_and_its_availability(tmp_path, dialect, monkeypatch):
    want = expected()
    with Broker() as b, Subscriber(b.port) as sub, sim(tmp_path, dialect) as pty:
        with Serve(tmp_path, pty, "127.0.0.1:%d" % b.port) as s:
            state = json.loads(sub.wait("broute/pc1/state", state_ok(want), timeout=30))
            assert set(state) == set(KEYS) | {"time"}
            assert isinstance(state["rssi_dbm"], int) and state["time"][-5:] == "+0900"
            check_discovery(sub)
            hw = json.loads(sub.wait("homeassistant/sensor/pc1/power_w/config", lambda p: "hw" in p))["dev"]["hw"]
            assert hw.split()[0] == ("j11" if dialect == "j11" else "single")  # the module, once known
            assert sub.wait("broute/pc1/status") == "online"
            check_retained(b.port)
            # Home Assistant restarted: every discovery message again
            sub.clear()
            sub.publish("homeassistant/status", "online")
            check_discovery(sub)
            # stopped by the service manager: offline first, exit 0
            assert s.stop() == 0, s.log()
            assert sub.wait("broute/pc1/status", lambda p: p == "offline")
            log = s.log()
    assert "Traceback" not in log and "meter connected" in log and "Home Assistant is online" in log
    assert RBID not in log and PWD not in log
    import broute_read
    monkeypatch.setenv("XDG_CACHE_HOME", env_for(tmp_path)["XDG_CACHE_HOME"])
    assert os.path.isfile(broute_read.cache_path(pty))  # read's scan cache, where read keeps it


def test_settings_defaults_and_precedence(tmp_path):
    import broute_serve
    args = broute_serve.parse(["--port", "/dev/serial/by-id/usb-ROHM_BP35C2-if00", "--mqtt", "[::1]:1884"])
    st = broute_serve.settings(args, {"mqtt": {"host": "ignored", "port": 1, "user": "u", "password": "p"}})
    assert (st["host"], st["port"], st["user"], st["password"]) == ("::1", 1884, "u", "p")
    assert st["client_id"] == "broute-usb-ROHM_BP35C2-if00" and st["prefix"] == "homeassistant"
    assert st["topic"] is None and st["reading_day"] == 1 and st["offset"] == 540 and st["tariff"] is None
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    args = broute_serve.parse(["--port", "/dev/ttyUSB0", "--mqtt-password-file", str(pw), "--topic", "x/y"])
    st = broute_serve.settings(args, {"mqtt": {"host": "h", "user": "u", "password": "p", "client_id": "c"}})
    assert (st["host"], st["port"], st["password"], st["client_id"], st["topic"]) == \
        ("h", 1883, "from-file", "c", "x/y")
    for bad, says in (({"reading_day": 29}, "reading_day"), ({"utc_offset_minutes": "9"}, "utc_offset"),
                      ({"tariff": {"base_yen": 1}}, "tariff"), ({"mqtt": {"host": "h", "port": 0}}, "mqtt.port")):
        with pytest.raises(broute_serve.rd.UserError, match=says):
            broute_serve.settings(broute_serve.parse(["--port", "p"]), dict({"mqtt": {"host": "h"}}, **bad))


def test_broker_restarted_then_process_killed(tmp_path):
    """The broker goes away mid-run (retained messages lost with it): reconnected, discovery and
    online published again, states again; killed with SIGKILL: the broker's last will says offline."""
    with Broker() as b, Subscriber(b.port) as sub, sim(tmp_path) as pty:
        with Serve(tmp_path, pty, "127.0.0.1:%d" % b.port) as s:
            sub.wait("broute/pc1/state", timeout=30)
            b.restart(down=1.5)
            sub.clear()
            check_discovery(sub)
            check_retained(b.port)  # the broker kept nothing (no persistence): all published again
            sub.wait("broute/pc1/state", state_ok(expected()), timeout=20)
            s.wait_log("connected again")
            assert "connection lost" in s.log()
            sub.clear()
            s.p.kill()
            assert sub.wait("broute/pc1/status", timeout=10) == "offline"  # the will, from the broker
            assert s.stop() == -signal.SIGKILL


def test_nothing_published_while_the_meter_is_silent(tmp_path):
    """No fresh reading, no state (never a stale value with a new time); the meter back: states again."""
    with Broker() as b, Subscriber(b.port) as sub, sim(tmp_path) as pty:
        with Serve(tmp_path, pty, "127.0.0.1:%d" % b.port) as s:
            sub.wait("broute/pc1/state", timeout=30)
            pty.control("fault meter-gone")
            s.wait_log("meter link:", timeout=30, start=len(s.log()))  # the session saw it go
            time.sleep(0.5)
            sub.clear()
            time.sleep(3)  # 150 s of meter time: 15 polls
            assert sub.messages("broute/pc1/state") == []
            assert sub.messages("broute/pc1/status") == []  # still online: the reader is alive
            pty.control("fault meter-back")
            sub.wait("broute/pc1/state", state_ok(expected()), timeout=60)
            assert s.stop() == 0


def test_broker_unreachable_then_up(tmp_path):
    """No broker at start: the log says why, the meter link goes on; the broker appears: states flow."""
    port = free_port()
    with sim(tmp_path) as pty, Serve(tmp_path, pty, "127.0.0.1:%d" % port) as s:
        s.wait_log("meter connected", timeout=30)
        s.wait_log("cannot connect")
        assert "Connection refused" in s.log() and "the meter link goes on" in s.log()
        time.sleep(1)
        assert s.p.poll() is None
        with Broker(port=port) as b, Subscriber(b.port) as sub:
            sub.wait("broute/pc1/state", state_ok(expected()), timeout=40)  # the retry waits up to 16 s here
            check_discovery(sub)
            assert s.stop() == 0
        assert s.log().count("cannot connect") == 1  # a warning once, not per try


def test_password_refused_then_from_a_file(tmp_path):
    """A wrong MQTT password: the log says the broker refused it and never shows it; the meter link
    goes on. The right one from --mqtt-password-file (not the command line): states flow."""
    with Broker(users={"ha": MQTT_PW}) as b, Subscriber(b.port, user="ha", password=MQTT_PW) as sub, \
            sim(tmp_path) as pty:
        addr = "127.0.0.1:%d" % b.port
        wrong = env_for(tmp_path, BROUTE_MQTT_PASSWORD="not-" + MQTT_PW)
        with Serve(tmp_path, pty, addr, "--mqtt-user", "ha", env=wrong) as s:
            s.wait_log("refused the connection", timeout=30)
            s.wait_log("meter connected", timeout=30)
            assert s.p.poll() is None
            assert s.stop() == 0
            log = s.log()
        assert "not authori" in log.lower() or "bad user name or password" in log.lower()
        assert MQTT_PW not in log and "broute/pc1/state" not in sub.topics_seen()
        pwfile = tmp_path / "mqtt-password"
        pwfile.write_text(MQTT_PW + "\n")
        with Serve(tmp_path, pty, addr, "--mqtt-user", "ha", "--mqtt-password-file", str(pwfile)) as s:
            sub.wait("broute/pc1/state", timeout=30)
            assert MQTT_PW not in " ".join(s.p.args)
            assert s.stop() == 0
            assert MQTT_PW not in s.log()
        for t in sub.topics_seen():
            assert not any(MQTT_PW in m or RBID in m or PWD in m for m in sub.messages(t))


def test_settings_from_the_stick_config(tmp_path):
    """--config takes the stick's config.json shape: credentials, the mqtt object, the tariff."""
    with Broker(users={"ha": MQTT_PW}) as b, Subscriber(b.port, user="ha", password=MQTT_PW) as sub, \
            sim(tmp_path) as pty:
        cfg = {"broute_id": RBID, "broute_password": PWD, "reading_day": 15, "utc_offset_minutes": 540,
               "mqtt": {"host": "127.0.0.1", "port": b.port, "user": "ha", "password": MQTT_PW,
                        "prefix": "ha-test", "topic": "home/meter", "client_id": "from-config"},
               "tariff": {"base_yen": 935.25, "tiers": [{"up_to_kwh": 120, "yen_per_kwh": 29.8},
                                                        {"yen_per_kwh": 36.4}], "surcharges": []}}
        path = tmp_path / "config.json"
        path.write_text(json.dumps(cfg))
        env = {k: v for k, v in env_for(tmp_path).items() if k not in ("BROUTE_ID", "BROUTE_PASSWORD")}
        p = subprocess.Popen([sys.executable, "tools/broute.py", "serve", "--port", pty, "--config", str(path)]
                             + FAST, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        try:
            state = json.loads(sub.wait("home/meter/state", state_ok(expected()), timeout=30))
            check_discovery(sub, node="from-config", prefix="ha-test", base="home/meter")
            check_retained(b.port, node="from-config", prefix="ha-test", base="home/meter", user="ha",
                           password=MQTT_PW)
            assert sub.wait("home/meter/status") == "online"
        finally:
            p.terminate()
            _, err = p.communicate(timeout=15)
        assert p.returncode == 0, err
        assert MQTT_PW not in err and PWD not in err and RBID not in err
    from broute import tariff
    if hasattr(tariff, "costs") and state["month_kwh"] is not None:  # a month costs its base charge at least
        assert state["month_yen"] >= 935


@pytest.mark.parametrize("argv, env, code, says", [
    (["--port", "/dev/null"], {}, 2, "no broker"),
    (["--port", "/dev/null", "--mqtt", "h", "--topic", "a b"], {}, 2, "base topic"),
    (["--port", "/dev/null", "--mqtt", "h:99999"], {}, 2, "HOST:PORT"),
    (["--port", "/dev/null", "--mqtt", "h"], {"BROUTE_MQTT_PASSWORD": MQTT_PW}, 2, "no user"),
    (["--port", "/no/such/port", "--mqtt", "127.0.0.1"], {}, 5, "no such serial port"),
])
def test_usage_errors_exit_for_a_service_manager(tmp_path, argv, env, code, says):
    r = subprocess.run([sys.executable, "tools/broute.py", "serve"] + argv, cwd=ROOT, env=env_for(tmp_path, **env),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == code, r.stderr
    assert says in r.stderr and MQTT_PW not in r.stderr and "Traceback" not in r.stderr


def test_meter_refusing_the_password_exits_3(tmp_path):
    with Broker() as b, sim(tmp_path, "bp35a1", "--password", "ZZZZZZZZZZZZ") as pty:
        with Serve(tmp_path, pty, "127.0.0.1:%d" % b.port) as s:
            assert s.p.wait(60) == 3, s.log()
            assert PWD not in s.log()


def test_the_documented_unit_runs_serve_as_documented():
    """docs/systemd/broute.service: its command line parses, and the exit statuses it does not restart
    on are serve's configuration and refused-credentials ones (docs/service.md)."""
    import configparser
    import broute_serve
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(os.path.join(ROOT, "docs", "systemd", "broute.service"))
    svc = unit["Service"]
    argv = svc["ExecStart"].split()
    assert argv[0].endswith("/broute") and argv[1] == "serve"
    args = broute_serve.parse(argv[2:])
    assert args.config and args.port
    assert sorted(int(x) for x in svc["RestartPreventExitStatus"].split()) == \
        sorted([broute_serve.EXIT_USAGE, broute_serve.EXIT_AUTH])
    assert svc["Restart"] == "on-failure" and "dialout" in svc["SupplementaryGroups"]
    assert svc["Environment"] == "XDG_CACHE_HOME=/var/cache" and svc["CacheDirectory"] == "broute"
