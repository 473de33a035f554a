"""Home Assistant's discovery texts and their builder (docs/mqtt.md sections 1-2): not resident
on the stick. A discovery burst imports this module and forgets it after the burst's last
message (issue 10's heap budget: the ten entities' texts and the config message's buffer are
~3 KB the stick needs only when Home Assistant asks). Each message, topic included, is built in
one buffer reused for all: what a message leaves behind is a few views (~160 B on the board).
"""
from .hass import _Out, COUNT as _COUNT, VERSION, HassError, topic_problem, _TOPIC_CHARS
# (VERSION is hass's: broute.version is dropped at start-up)

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

def node_id(client_id):
    """The client id as HA's discovery node id: [a-zA-Z0-9_-] only, others become _."""
    out = ""
    for c in client_id[:64]:  # hass._MAX_TOPIC
        out += c if c in _TOPIC_CHARS and c not in "/." else "_"
    return out or "broute"


def setup(h, client_id, base, prefix, dev):
    """Hass h's node id and topics (Hass.__init__, once: this module is dropped after);
    HassError when the base topic or the discovery prefix cannot be used. `dev` is (name, model,
    hw, manufacturer, sw, expire_s), the device block's."""
    h.node = node = node_id(client_id)
    base = base or "broute/" + node
    for what, t in (("base topic", base), ("discovery prefix", prefix)):
        why = topic_problem(t)
        if why:
            raise HassError("%s %s" % (what, why))
    h.prefix = prefix
    h.state_topic = base + "/state"
    h.status_topic = base + "/status"      # availability: retained OFFLINE will, ONLINE
    h.ha_status_topic = prefix + "/status"  # HA says "online" here: publish discovery again
    h.dev = (base,) + dev


def _entity(i):
    """(start of key, end of key, end of fields) of entity i in _ENTITIES."""
    e = _ENTITIES
    s = 0
    for _ in range(i):
        s = e.index(b"\n", s) + 1
    return s, e.index(b" ", s), e.index(b"\n", s)


def _jstr(b, s, close=True):
    """Append `s` to bytearray b as a JSON string literal (quotes, backslashes and control
    characters escaped), without its closing quote when not `close`."""
    b.append(34)
    for c in s.encode():
        if c == 34 or c == 92:
            b.append(92)
            b.append(c)
        elif c < 32:
            b.extend(b"\\u00")
            b.append(_HEX[c >> 4])
            b.append(_HEX[c & 15])
        else:
            b.append(c)
    if close:
        b.append(34)


_HEX = b"0123456789abcdef"


def key(i):
    """Entity i's state key (power_w, ...), as text."""
    s, k, _ = _entity(i)
    return _ENTITIES[s:k].decode()


def config_topic(h, i):
    """Entity i's discovery topic of Hass `h` (retained); an empty message there removes it."""
    return "%s/sensor/%s/%s/config" % (h.prefix, h.node, key(i))


def _parts(h):
    """[h, the topic's head, the payload's head, its tail, the buffer, views of the entities'
    texts and of the buffer]: what every
    config message of `h` has before its key (topic and payload) and after its fields, built
    once per burst (a bytearray grown in place leaves no garbage), and the one buffer every
    message is built in, sized for the longest."""
    base, name, model, hw, manufacturer, sw, expire_s = h.dev
    b = bytearray(h.prefix.encode())
    b.extend(b"/sensor/")
    b.extend(h.node.encode())
    b.append(47)  # /
    t = len(b)
    b.extend(b'{"~":')
    _jstr(b, base)
    b.extend(b',"stat_t":"~/state","avty_t":"~/status","uniq_id":')
    _jstr(b, h.node, False)
    b.append(95)  # _
    p = len(b)
    if expire_s:
        b.extend(('"exp_aft":%d,' % expire_s).encode())
    b.extend(b'"dev":{"ids":[')
    _jstr(b, h.node)
    b.extend(b'],"name":')
    _jstr(b, name)
    for k, v in ((b"mf", manufacturer), (b"mdl", model), (b"hw", hw), (b"sw", sw)):
        if v:
            b.extend(b',"')
            b.extend(k)
            b.extend(b'":')
            _jstr(b, v)
    b.extend(b'},"o":{"name":"broute-stick","sw":')
    _jstr(b, VERSION)
    b.extend(b"}}")
    longest = 0
    for i in range(_COUNT):
        s, k, f = _entity(i)
        longest = max(longest, 3 * (k - s) + f - k)
    o = _Out(len(b) + longest + 48)
    v = memoryview(b)
    return [h, v[:t], v[t:p], v[p:], o, memoryview(_ENTITIES), memoryview(o.buf)]


_B = []  # _parts() of the burst under way


def message(h, i):
    """(topic, payload) of entity i's discovery message of Hass `h`, both views into one buffer
    reused for every entity, valid until the next call: nothing is allocated per message but
    four views (16 B each on the board) and _entity's tuple."""
    if not _B or _B[0] is not h:
        _B[:] = _parts(h)
    _, topic, head, tail, o, e, m = _B
    s, k, f = _entity(i)
    key = e[s:k]
    o.n = 0
    o.put(head)
    o.put(key)
    o.put(b'","val_tpl":"{{value_json.')
    o.put(key)
    o.put(b'}}",')
    o.put(e[k + 1:f])
    o.ch(44)  # ,
    o.put(tail)
    n = o.n
    o.put(topic)  # the topic after the payload
    o.put(key)
    o.put(b"/config")
    return m[n:o.n], m[:n]
