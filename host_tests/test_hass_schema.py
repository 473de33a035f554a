"""The discovery payloads against Home Assistant's own rules, as far as they can be checked without
the `homeassistant` package (far too heavy to install for this).

The tables below are HA's, transcribed (subsets for the classes used here):
- abbreviations: homeassistant/components/mqtt/abbreviations.py (ABBREVIATIONS,
  DEVICE_ABBREVIATIONS, ORIGIN_ABBREVIATIONS);
- units per device class and state classes per device class: homeassistant/components/sensor/const.py
  (DEVICE_CLASS_UNITS, DEVICE_CLASS_STATE_CLASSES), documented at
  https://developers.home-assistant.io/docs/core/entity/sensor/ (available device classes);
- the discovery topic: homeassistant/components/mqtt/discovery.py (its topic pattern) and
  https://www.home-assistant.io/integrations/mqtt/#discovery-topic.
"""
import inspect
import json
import re

from broute import hass

ABBREVIATIONS = {  # the keys used here, abbreviated -> full
    "~": "~", "name": "name", "uniq_id": "unique_id", "stat_t": "state_topic",
    "avty_t": "availability_topic", "val_tpl": "value_template", "dev_cla": "device_class",
    "stat_cla": "state_class", "unit_of_meas": "unit_of_measurement", "ent_cat": "entity_category",
    "exp_aft": "expire_after", "dev": "device", "o": "origin",
}
DEVICE_ABBREVIATIONS = {"ids": "identifiers", "name": "name", "mf": "manufacturer", "mdl": "model",
                        "mdl_id": "model_id", "hw": "hw_version", "sw": "sw_version",
                        "sn": "serial_number", "cu": "configuration_url", "sa": "suggested_area",
                        "cns": "connections"}
ORIGIN_ABBREVIATIONS = {"name": "name", "sw": "sw_version", "url": "support_url"}

UNITS = {
    "power": {"mW", "W", "kW", "MW", "GW", "TW", "BTU/h"},
    "current": {"A", "mA"},
    "energy": {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal",
               "Mcal", "Gcal"},
    "signal_strength": {"dB", "dBm"},
    "monetary": None,  # any ISO 4217 currency code
}
STATE_CLASSES = {
    "power": {"measurement"},
    "current": {"measurement"},
    "energy": {"total", "total_increasing"},
    "signal_strength": {"measurement"},
    "monetary": {"total"},
}
SENSOR_ENTITY_CATEGORIES = {"diagnostic"}  # "config" is refused for sensors
DISCOVERY_TOPIC = re.compile(r"^homeassistant/(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?"
                             r"(?P<object_id>[a-zA-Z0-9_-]+)/config$")


def _messages(**kw):
    h = hass.Hass("m5-0123abcd", model="M5StickC", hw="BP35A1 1.2.10", expire_s=300, **kw)
    return h, [(t, json.loads(bytes(v))) for t, v in (h.discovery(i) for i in range(h.count()))]


def _expand(m):
    full = {ABBREVIATIONS[k]: v for k, v in m.items()}
    full["device"] = {DEVICE_ABBREVIATIONS[k]: v for k, v in m["dev"].items()}
    full["origin"] = {ORIGIN_ABBREVIATIONS[k]: v for k, v in m["o"].items()}
    base = full.pop("~")
    for k, v in full.items():  # HA replaces ~ at the start or end of a topic with the base
        if k.endswith("_topic") and isinstance(v, str):
            full[k] = base + v[1:] if v.startswith("~") else v
    return full


def test_every_key_is_one_home_assistant_knows():
    _, msgs = _messages()
    for _, m in msgs:
        for k in m:
            assert k in ABBREVIATIONS, k
        for k in m["dev"]:
            assert k in DEVICE_ABBREVIATIONS, k
        for k in m["o"]:
            assert k in ORIGIN_ABBREVIATIONS, k


def test_classes_units_and_state_classes_are_allowed_together():
    _, msgs = _messages()
    for topic, m in msgs:
        e = _expand(m)
        dc = e["device_class"]
        units = UNITS[dc]
        if units is None:
            assert re.fullmatch(r"[A-Z]{3}", e["unit_of_measurement"]), topic
        else:
            assert e["unit_of_measurement"] in units, topic
        if "state_class" in e:
            assert e["state_class"] in STATE_CLASSES[dc], topic
        if "entity_category" in e:
            assert e["entity_category"] in SENSOR_ENTITY_CATEGORIES, topic


def test_discovery_topics_and_required_fields():
    h, msgs = _messages()
    for topic, m in msgs:
        got = DISCOVERY_TOPIC.match(topic)
        assert got and got["component"] == "sensor" and got["node_id"] == h.node, topic
        e = _expand(m)
        assert e["state_topic"] == h.state_topic
        assert e["availability_topic"] == h.status_topic
        assert e["unique_id"] and e["device"]["identifiers"] and e["origin"]["name"]
        assert isinstance(e["expire_after"], int)


def test_energy_dashboard_sensors():
    """Grid consumption and return: kWh, total_increasing, one sensor each (E0 and E3)."""
    _, msgs = _messages()
    by_key = {t.split("/")[3]: _expand(m) for t, m in msgs}
    for key in ("energy_kwh", "energy_rev_kwh"):
        e = by_key[key]
        assert (e["device_class"], e["state_class"], e["unit_of_measurement"]) == \
            ("energy", "total_increasing", "kWh")


def test_no_builder_can_take_a_secret():
    words = ("pass", "secret", "user", "broute_id", "rbid", "key")
    for fn in (hass.Hass.__init__, hass.Hass.state, hass.Hass.discovery):
        for name in inspect.signature(fn).parameters:
            assert not any(w in name.lower() for w in words), (fn.__name__, name)


def test_the_device_message_would_be_far_larger():
    """The figure docs/mqtt.md gives for choosing one message per entity: the device-based form
    (every entity in one `cmps` map, each without the device block) against the largest single one."""
    _, msgs = _messages()
    first = msgs[0][1]
    cmps = {}
    for t, m in msgs:
        c = {k: v for k, v in m.items() if k not in ("dev", "o", "~")}
        c["p"] = "sensor"
        cmps[t.split("/")[3]] = c
    device = {"~": first["~"], "dev": first["dev"], "o": first["o"], "cmps": cmps}
    size = len(json.dumps(device, separators=(",", ":"), ensure_ascii=False).encode())
    largest = max(len(json.dumps(m, separators=(",", ":")).encode()) for _, m in msgs)
    assert 2300 < size < 3000 and largest < 500, (size, largest)
