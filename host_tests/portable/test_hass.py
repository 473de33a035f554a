"""Home Assistant discovery and state payloads: valid JSON, the right topics and keys, null for
unknown values, numbers written without floats, one reused buffer per builder."""
import json
import sys

from broute import hass
from broute.meter import day_number
from broute.reading import Reading


def _hass(**kw):
    return hass.Hass("m5-0123abcd", model="M5StickC", hw="BP35A1 1.2.10", **kw)


def _all(h):
    out = []
    for i in range(h.count()):
        topic, view = h.discovery(i)
        out.append((topic, json.loads(bytes(view))))
    return out


def _reading():
    r = Reading()
    r.power_w, r.current_r_da, r.current_t_da = -509, 28, -3
    r.energy_kwh, r.energy_rev_kwh, r.today_kwh = 12345.6, 0.0, 4.9
    return r


def test_topics():
    h = _hass()
    assert h.state_topic == "broute/m5-0123abcd/state"
    assert h.status_topic == "broute/m5-0123abcd/status"
    assert h.ha_status_topic == "homeassistant/status"
    assert h.config_topic(0) == "homeassistant/sensor/m5-0123abcd/power_w/config"
    h = hass.Hass("dongle /dev/ttyUSB0", base="home/meter", prefix="ha")
    assert h.node == "dongle__dev_ttyUSB0"
    assert h.state_topic == "home/meter/state" and h.ha_status_topic == "ha/status"
    assert h.discovery(1)[0] == "ha/sensor/dongle__dev_ttyUSB0/current_r_a/config"


def test_each_discovery_message_names_one_entity_of_one_device():
    msgs = _all(_hass())
    assert len(msgs) == 10
    keys = [t.split("/")[3] for t, _ in msgs]
    assert keys == ["power_w", "current_r_a", "current_t_a", "energy_kwh", "energy_rev_kwh",
                    "today_kwh", "month_kwh", "today_yen", "month_yen", "rssi_dbm"]
    ids = set()
    for (topic, m), key in zip(msgs, keys):
        assert m["~"] == "broute/m5-0123abcd"
        assert m["stat_t"] == "~/state" and m["avty_t"] == "~/status"
        assert m["uniq_id"] == "m5-0123abcd_" + key
        assert m["val_tpl"] == "{{value_json.%s}}" % key
        assert m["dev"] == {"ids": ["m5-0123abcd"], "name": "B-route meter", "mf": "broute-stick",
                            "mdl": "M5StickC", "hw": "BP35A1 1.2.10", "sw": hass.VERSION}
        assert m["o"]["name"] == "broute-stick"
        ids.add(m["uniq_id"])
    assert len(ids) == 10
    power = msgs[0][1]
    assert (power["dev_cla"], power["stat_cla"], power["unit_of_meas"]) == ("power", "measurement", "W")
    cost = msgs[8][1]
    assert cost["dev_cla"] == "monetary" and cost["unit_of_meas"] == "JPY" and "stat_cla" not in cost
    assert msgs[9][1]["ent_cat"] == "diagnostic"
    assert "exp_aft" not in power


def test_optional_fields():
    h = hass.Hass("x", expire_s=300)
    m = json.loads(bytes(h.discovery(0)[1]))
    assert m["exp_aft"] == 300
    assert m["dev"] == {"ids": ["x"], "name": "B-route meter", "mf": "broute-stick", "sw": hass.VERSION}


def test_user_text_is_escaped():
    h = hass.Hass("a", name='My "meter" \\ 家\n')
    m = json.loads(bytes(h.discovery(0)[1]))
    assert m["dev"]["name"] == 'My "meter" \\ 家\n'


def test_state_of_a_reading():
    h = _hass()
    now = day_number(2026, 11, 26) * 86400 + 11 * 3600 + 53 * 60 + 8  # local seconds since 2000
    view = h.state(_reading(), month_kwh=123.45, today_yen=150, month_yen=4321, rssi_dbm=-60, now=now)
    text = bytes(view).decode()
    assert text == ('{"power_w":-509,"current_r_a":2.8,"current_t_a":-0.3,"energy_kwh":12345.6,'
                    '"energy_rev_kwh":0,"today_kwh":4.9,"month_kwh":123.45,"today_yen":150,'
                    '"month_yen":4321,"rssi_dbm":-60,"time":"2026-11-26T11:53:08+0900"}')
    assert json.loads(text)["current_t_a"] == -0.3


def test_unknown_values_are_null_never_stale():
    h = _hass()
    h.state(_reading(), 1.0, 2, 3, -50, 0)
    state = json.loads(bytes(h.state(Reading())))
    assert len(state) == 11
    for k in state:
        assert state[k] is None, k


def test_the_state_keys_are_the_discovery_templates():
    h = _hass()
    state = json.loads(bytes(h.state(_reading())))
    for _, m in _all(h):
        key = m["val_tpl"][len("{{value_json."):-2]
        assert key in state, key


def test_numbers():
    h = _hass(kwh_dp=1)
    r = Reading()
    r.current_r_da, r.current_t_da = 0, -10
    r.energy_kwh, r.energy_rev_kwh, r.today_kwh = 4.96, 7, 0.04
    s = json.loads(bytes(h.state(r, month_kwh=99999.9)))
    assert (s["current_r_a"], s["current_t_a"]) == (0, -1)
    assert (s["energy_kwh"], s["energy_rev_kwh"], s["today_kwh"], s["month_kwh"]) == (5, 7, 0, 99999.9)
    h = _hass(kwh_dp=3)
    r.today_kwh = 0.005
    assert b'"today_kwh":0.005,' in bytes(h.state(r))
    h = _hass(offset_min=-330)
    assert b'"time":"2000-01-01T00:00:00-0530"' in bytes(h.state(r, now=0))


def test_one_buffer_per_builder():
    h = _hass()
    _, a = h.discovery(0)
    first = bytes(a)
    _, b = h.discovery(9)
    assert bytes(a) != first and bytes(a) == bytes(b)[:len(a)]  # valid until the next call: it shows 9
    s = h._s.buf
    h.state(_reading())
    assert h._s.buf is s


def test_discovery_texts_are_loaded_only_for_a_burst():
    """broute.hassdisc (the ten entities' texts) is forgotten after the Hass's checks and after
    a burst's last message, and loaded again for the next burst: the same messages."""
    import broute
    h = _hass()
    assert "broute.hassdisc" not in sys.modules and not hasattr(broute, "hassdisc")
    first = [(t, bytes(m)) for t, m in (h.discovery(i) for i in range(h.count() - 1))]
    assert "broute.hassdisc" in sys.modules  # the burst is under way
    last = h.discovery(h.count() - 1)
    assert "broute.hassdisc" not in sys.modules and not hasattr(broute, "hassdisc")
    assert json.loads(bytes(last[1]))["name"] == "Link"  # the view outlives the module
    assert [(t, bytes(m)) for t, m in (h.discovery(i) for i in range(h.count() - 1))] == first


def test_bad_topics_are_refused_with_a_reason():
    assert hass.topic_problem("homeassistant") is None
    assert hass.topic_problem("home/meter-1.a_b") is None
    for bad in ("", "a b", "a/+/b", "a/#", "/a", "a/", "a//b", "x" * 65, None, "家"):
        assert hass.topic_problem(bad), bad
    try:
        hass.Hass("x", prefix="home assistant")
        assert False, "a prefix with a space is refused"
    except hass.HassError as e:
        assert "discovery prefix" in str(e)
