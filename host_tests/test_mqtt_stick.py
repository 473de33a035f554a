"""The real firmware on the emulated board (MicroPython unix port; its WLAN stand-in,
tools/emulation/network.py, is joined and its sockets are real) publishing to a real Mosquitto
(host_tests/broker.py): discovery and states checked against the simulated meter, a broker
restarted mid-run, Home Assistant's status `online`, the firmware killed (the will), a broker
out of reach or refusing the password (the meter link and the screen go on and say why).
"""
import json
import time

import pytest

import emustick
import run_host
from broker import Broker, Subscriber, free_port

CLIENT = "m5-test"
BASE = "broute/" + CLIENT
KEYS = ("power_w", "current_r_a", "current_t_a", "energy_kwh", "energy_rev_kwh", "today_kwh",
        "month_kwh", "today_yen", "month_yen", "rssi_dbm")
SIM_KWH = 12345.6  # the simulated meter's E0 at its start (tools/simulator/sim_meter.py)


def Stick(tmp, port, seconds=60, user=None, password=None, extra=()):
    """The emulated stick publishing to the broker on `port`, with the example tariff."""
    flags = ["--mqtt", "127.0.0.1:%d" % port, "--client-id", CLIENT, "--tariff"] + list(extra)
    if user:
        flags += ["--mqtt-user", user, "--mqtt-password", password]
    return emustick.Stick(tmp, flags, seconds)


def _state_ok(p):
    d = json.loads(p)
    return d["power_w"] is not None and d["energy_kwh"] is not None


def _config(sub, key, timeout=30):
    return json.loads(sub.wait("homeassistant/sensor/%s/%s/config" % (CLIENT, key), timeout=timeout))


def test_discovery_states_restart_ha_status_and_will(tmp_path):
    with Broker(users={"stick": "broker-secret-1"}) as b, \
            Subscriber(b.port, user="stick", password="broker-secret-1") as sub:
        st = Stick(tmp_path, b.port, 120, "stick", "broker-secret-1")
        try:
            assert sub.wait(BASE + "/status", lambda p: p == "online", 30) == "online"
            for key in KEYS:  # one discovery message per entity (docs/mqtt.md section 2)
                c = _config(sub, key)
                assert c["uniq_id"] == "%s_%s" % (CLIENT, key)
                assert c["~"] == BASE and c["stat_t"] == "~/state" and c["avty_t"] == "~/status"
                assert c["dev"]["ids"] == [CLIENT] and c["dev"]["mdl"] == "M5StickC"
                # the Wi-SUN module and its version (discovery waits for the connected meter link)
                assert c["dev"]["hw"].split()[0] == "single" and len(c["dev"]["hw"].split()) == 2
            # retained: a client subscribing later (Home Assistant starting) gets them all
            with Subscriber(b.port, user="stick", password="broker-secret-1") as late:
                late.wait(BASE + "/status", lambda p: p == "online", 5)
                _config(late, "rssi_dbm", 5)
                assert late.retained[BASE + "/status"] == [True]
                assert len(late.topics_seen("homeassistant/sensor/")) == len(KEYS)
                assert all(late.retained[t] == [True] for t in late.topics_seen("homeassistant/"))
            s = json.loads(sub.wait(BASE + "/state", _state_ok, 60))
            assert set(KEYS) <= set(s)
            # the simulated meter's figures: E0 from 12345.6 kWh, a house's load, the RSSI it reports
            assert SIM_KWH <= s["energy_kwh"] < SIM_KWH + 1
            assert s["energy_rev_kwh"] == 0
            assert 50 <= s["power_w"] <= 6000
            assert s["current_r_a"] is not None and s["rssi_dbm"] == -55
            assert s["today_kwh"] is not None and s["today_kwh"] >= 0
            n = len(sub.messages(BASE + "/state"))
            sub.wait(BASE + "/state", lambda p: len(sub.msgs[BASE + "/state"]) >= n + 2, 30)

            # the broker restarted: reconnect, announce again (it lost the retained messages)
            sub.clear()
            b.restart()
            assert sub.wait(BASE + "/status", lambda p: p == "online", 40) == "online"
            _config(sub, "power_w", 10)
            sub.wait(BASE + "/state", _state_ok, 30)

            # Home Assistant restarted: discovery again
            sub.clear()
            sub.publish("homeassistant/status", "online")
            for key in KEYS:
                _config(sub, key, 15)

            # the firmware killed: the broker publishes its retained last will
            sub.clear()
            st.kill()
            assert sub.wait(BASE + "/status", lambda p: p == "offline", 15) == "offline"
            log = st.log()
            assert "mqtt: connected" in log
            for secret in ("broker-secret-1", run_host.SIM_PASSWORD, "emulated-wifi"):
                assert secret not in log  # no secret in the serial log
                for topic in sub.topics_seen():
                    assert all(secret not in p for p in sub.messages(topic))
        finally:
            st.close()


def test_no_state_without_a_fresh_reading(tmp_path):
    """The meter silent (no module answers): online, but no state message, and no discovery
    either: it waits for the connected link, whose module and version the device block names."""
    with Broker() as b, Subscriber(b.port) as sub:
        st = Stick(tmp_path, b.port, 12, extra=["--fault", "mute:100000@0"])
        try:
            res = st.stats()
            sub.wait(BASE + "/status", lambda p: p == "online", 5)
            assert res["readings"] == 0 and res["mqtt"] is True
            assert sub.messages(BASE + "/state") == []
            assert sub.topics_seen("homeassistant/") == []
        finally:
            st.close()


@pytest.mark.parametrize("case", ["unreachable", "password"])
def test_broker_trouble_does_not_stop_the_meter(tmp_path, case):
    if case == "unreachable":
        b = None
        port = free_port()  # nobody listens
    else:
        b = Broker(users={"stick": "right-password"}).start()
        port = b.port
    try:
        st = Stick(tmp_path, port, 14, "stick", "wrong-password")
        try:
            res = st.stats()
        finally:
            st.close()
    finally:
        if b:
            b.stop()
    assert res["readings"] >= 3 and res["power_w"] is not None  # the meter link went on
    assert res["mqtt"] is False and res["wdt_max_gap_ms"] < 5000
    if case == "unreachable":
        assert res["net_why"] == "refused", res["net_why"]
    else:
        assert res["net_why"] in ("bad user or password", "not authorised"), res["net_why"]
    assert "wrong-password" not in st.log()
