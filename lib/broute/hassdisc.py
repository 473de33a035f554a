"""Home Assistant's discovery texts and their builder (docs/mqtt.md sections 1-2): not resident
on the stick. broute.hass imports this module for a discovery burst and forgets it after the
burst's last message (issue 10's heap budget: the ten entities'
texts and the config message's buffer are ~3 KB the stick needs only when Home Assistant asks).
"""
from .hass import _Out
from .version import VERSION

_COUNT = 10  # as broute.hass's

# (state key, the entity's abbreviated JSON fields). HA's sensor rules (developers' docs,
# sensor entity): power W measurement, current A measurement, energy kWh total_increasing (a
# daily or monthly figure that returns to 0 starts a new cycle), monetary with no state class
# (HA allows only `total` there, which would count each reset as a negative cost), signal
# strength dBm measurement.
# One bytes constant, not 20 (each a heap object on the board): per entity its state key,
# a space, its fields, a newline (Hass.discovery finds entity i by counting lines).
_ENTITIES = (
    b'power_w "name":"Power","dev_cla":"power","stat_cla":"measurement","unit_of_meas":"W"\n'
    b'current_r_a "name":"Current R","dev_cla":"current","stat_cla":"measurement","unit_of_meas":"A"\n'
    b'current_t_a "name":"Current T","dev_cla":"current","stat_cla":"measurement","unit_of_meas":"A"\n'
    b'energy_kwh "name":"Energy bought","dev_cla":"energy","stat_cla":"total_increasing",'
    b'"unit_of_meas":"kWh"\n'
    b'energy_rev_kwh "name":"Energy sold","dev_cla":"energy","stat_cla":"total_increasing",'
    b'"unit_of_meas":"kWh"\n'
    b'today_kwh "name":"Energy today","dev_cla":"energy","stat_cla":"total_increasing",'
    b'"unit_of_meas":"kWh"\n'
    b'month_kwh "name":"Energy this month","dev_cla":"energy","stat_cla":"total_increasing",'
    b'"unit_of_meas":"kWh"\n'
    b'today_yen "name":"Cost today","dev_cla":"monetary","unit_of_meas":"JPY"\n'
    b'month_yen "name":"Cost this month","dev_cla":"monetary","unit_of_meas":"JPY"\n'
    b'rssi_dbm "name":"Link","dev_cla":"signal_strength","stat_cla":"measurement",'
    b'"unit_of_meas":"dBm","ent_cat":"diagnostic"\n'
)

def _entity(i):
    """(start of key, end of key, end of fields) of entity i in _ENTITIES."""
    e = _ENTITIES
    s = 0
    for _ in range(i):
        s = e.index(b"\n", s) + 1
    return s, e.index(b" ", s), e.index(b"\n", s)


def _jstr(s):
    """JSON string literal of `s` as bytes (quotes, backslashes, control characters escaped)."""
    out = bytearray(b'"')
    for c in s:
        o = ord(c)
        if c == '"' or c == "\\":
            out += b"\\" + c.encode()
        elif o < 0x20:
            out += ("\\u%04x" % o).encode()
        else:
            out += c.encode()
    out += b'"'
    return bytes(out)


def key(i):
    """Entity i's state key (power_w, ...), as text."""
    s, k, _ = _entity(i)
    return _ENTITIES[s:k].decode()


def config_topic(h, i):
    """Entity i's discovery topic of Hass `h` (retained); an empty message there removes it."""
    return "%s/sensor/%s/%s/config" % (h.prefix, h.node, key(i))


_C = []  # [hass, head, tail, buffer] of the burst under way: built at its first message


def _parts(h):
    """What each config message of `h` has before its key and after its fields, and a buffer
    sized for the longest message (one buffer reused for all ten, never all messages at once)."""
    base, name, model, hw, manufacturer, sw, expire_s = h.dev
    node = h.node
    dev = bytearray(b'"dev":{"ids":[' + _jstr(node) + b'],"name":' + _jstr(name))
    for k, v in ((b"mf", manufacturer), (b"mdl", model), (b"hw", hw), (b"sw", sw)):
        if v:
            dev += b',"' + k + b'":' + _jstr(v)
    dev += b'},"o":{"name":"broute-stick","sw":' + _jstr(VERSION) + b"}}"
    if expire_s:
        dev = ('"exp_aft":%d,' % expire_s).encode() + dev
    head = b'{"~":' + _jstr(base) + b',"stat_t":"~/state","avty_t":"~/status","uniq_id":' \
        + _jstr(node + "_")[:-1]
    longest = 0
    for i in range(_COUNT):
        s, k, f = _entity(i)
        longest = max(longest, f - s + k - s)
    _C[:] = [h, head, bytes(dev), _Out(len(head) + len(dev) + longest + 40)]


def discovery(h, i):
    """(topic, payload) of entity i's discovery message of Hass `h` (Hass.discovery)."""
    if not _C or _C[0] is not h:
        _parts(h)
    _, head, tail, o = _C
    s, k, f = _entity(i)
    e = memoryview(_ENTITIES)
    key, fields = e[s:k], e[k + 1:f]
    o.n = 0
    o.put(head)
    o.put(key)
    o.put(b'","val_tpl":"{{value_json.')
    o.put(key)
    o.put(b'}}",')
    o.put(fields)
    o.ch(44)  # ,
    o.put(tail)
    return config_topic(h, i), memoryview(o.buf)[:o.n]
