"""Load and check the JSON configuration file before anything uses it.

Every problem names the key and says what is wrong in plain words, so the
screen and the serial log can tell the user what to fix. The B-route ID and
password never appear in a message, a repr or a summary.
"""
import json
from broute.session import POLL_MIN_MS
from broute.credcheck import id_problem, password_problem

PATH = "config.json"
MAX_BYTES = 8192   # twice a filled-in example (its notes, wifi, mqtt, a tariff); a bigger file is a mistake, and its text
MAX_DEPTH = 8      # and a deep nesting would exhaust the ESP32's heap before any screen exists
_BOM = b"\xef\xbb\xbf"  # some Windows editors start UTF-8 files with it

BOARDS = ("auto", "m5stickc", "m5stickc-plus", "m5stickc-plus2")
_REQUIRED = ("broute_id", "broute_password")
_WIFI_KEYS = ("ssid", "password")
_TX_PINS = (0, 25, 26, 32, 33)


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists (key, text) pairs.

    `key` is the first offending key, or None for the file as a whole.
    """

    def __init__(self, problems, missing=False):
        self.problems = problems
        self.missing = missing  # no file at all (rather than a wrong one)
        self.key = problems[0][0]
        super().__init__(_line(problems[0]))

    def lines(self):
        return [_line(p) for p in self.problems]


def _line(problem):
    key, text = problem
    return text if key is None else "%s: %s" % (key, text)


# A check returns None when the value is good, or a short text saying what a
# good value looks like.
def _int_in(lo, hi):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int):
            return "must be a whole number from %d to %d" % (lo, hi)
        if not lo <= v <= hi:
            return "must be from %d to %d (got %d)" % (lo, hi, v)
    return check


def _number_in(lo, hi):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return "must be a number from %s to %s" % (lo, hi)
        if not lo <= v <= hi:
            return "must be from %s to %s (got %s)" % (lo, hi, v)
    return check


def _one_of(choices):
    def check(v):
        if v not in choices:
            return "must be one of %s" % ", ".join(repr(c) for c in choices)
    return check


def _bool(v):
    if not isinstance(v, bool):
        return "must be true or false"


def _tx_pin(v):
    # The pins free on the HAT connector and the Grove port; the others hold the Plus2's power
    # (G4), the flash (G6-G11, G16, G17), the LCD, I2C, LED or buzzer (docs/hardware.md sections 1-3).
    if type(v) is not int or v not in _TX_PINS:  # type(): a JSON true is no pin
        return "must be a pin free on the HAT connector or Grove port: 0, 25, 26, 32 or 33"


def _rotation(v):
    # The screens are laid out for landscape only (docs/hardware.md section 2); portrait
    # would need a frame buffer of another shape (firmware/st77xx.py).
    if v not in (1, 3) or isinstance(v, bool):
        return "must be 1 or 3 (landscape); portrait (0, 2) is not supported"


def _wifi(v):
    if v is None:
        return None
    if not isinstance(v, dict):
        return 'must be {"ssid": "...", "password": "..."} or null'
    for k in v:
        if k not in _WIFI_KEYS:
            return "unknown key %r inside wifi (only ssid and password)" % k
    ssid = v.get("ssid")
    if not isinstance(ssid, str) or not 1 <= len(ssid) <= 32:
        return "ssid must be text of 1 to 32 characters"
    pw = v.get("password", "")
    if not isinstance(pw, str) or not (pw == "" or 8 <= len(pw) <= 64):
        return "password must be text of 8 to 64 characters (or empty for an open network)"


_MQTT_KEYS = ("host", "port", "user", "password", "prefix", "topic", "client_id")


def _text(v, lo, hi):
    return isinstance(v, str) and lo <= len(v) <= hi and all(" " < c <= "~" for c in v)


def _mqtt(v):
    """docs/mqtt.md section 1; the topic rules are broute.hass's, loaded only for this check
    (config is dropped after start-up, and hass is needed anyway when mqtt is set)."""
    if v is None:
        return None
    if not isinstance(v, dict):
        return 'must be {"host": "192.168.1.10", ...} or null'
    for k in v:
        if k not in _MQTT_KEYS:
            return "unknown key %r inside mqtt (only %s)" % (k, ", ".join(_MQTT_KEYS))
    if not _text(v.get("host"), 1, 64):
        return "host must be the broker's name or address (no spaces)"
    port = v.get("port", 1883)
    if type(port) is not int or not 1 <= port <= 65535:
        return "port must be a whole number from 1 to 65535 (usually 1883)"
    for k in ("user", "password"):
        if k in v and v[k] is not None and not (isinstance(v[k], str) and len(v[k]) <= 64):
            return "%s must be text of at most 64 characters" % k
    if "client_id" in v and not _text(v["client_id"], 1, 23):
        return "client_id must be 1 to 23 letters, digits or signs (no spaces)"
    from broute.hass import topic_problem
    for k in ("prefix", "topic"):
        why = k in v and topic_problem(v[k])
        if why:
            return k + " " + why


def _http(v):
    """docs/http.md section 3: the web server, on the WiFi address."""
    if v is None:
        return None
    if not isinstance(v, dict):
        return 'must be {"port": 80} or null'
    for k in v:
        if k != "port":
            return "unknown key %r inside http (only port)" % k
    port = v.get("port", 80)
    if type(port) is not int or not 1 <= port <= 65535:
        return "port must be a whole number from 1 to 65535 (usually 80)"


def _tariff(v):
    if v is None:
        return None
    from broute.tariffcfg import problem
    return problem(v)


# (key, default, check), in the order problems are reported.
OPTIONS = (
    ("broute_id", None, id_problem),
    ("broute_password", None, password_problem),
    ("board", "auto", _one_of(BOARDS)),
    ("uart_rx", 26, _one_of((26, 36))),
    ("uart_tx", 0, _tx_pin),
    ("module", "auto", _one_of(("auto", "skstack", "j11"))),  # the family (lib/broute/detect.py)
    ("hat", "auto", _one_of(("auto", "bp35a1", "c1"))),  # its pins (docs/hardware.md section 1)
    ("contract_amperes", 30, _int_in(5, 120)),
    ("warn_ratio", 0.8, _number_in(0.1, 1.0)),
    ("poll_seconds", 10, _int_in(POLL_MIN_MS // 1000, 300)),
    ("rotation", 1, _rotation),
    ("brightness", 80, _int_in(0, 100)),
    ("buzzer", True, _bool),
    ("scan_cache", True, _bool),
    ("wifi", None, _wifi),
    ("mqtt", None, _mqtt),
    ("http", None, _http),
    ("tariff", None, _tariff),
    ("reading_day", 1, _int_in(1, 28)),            # the meter-reading day; 1: calendar months
    ("utc_offset_minutes", 540, _int_in(-720, 840)),  # Japan: UTC+9, no daylight saving
)
KEYS = tuple(o[0] for o in OPTIONS)


class Config:
    """Validated settings as attributes. No methods: an instance keeps nothing else of this
    module alive, so the app can drop the module after start-up (its code is ~6 KB of
    the ESP32's heap). The default repr shows no values, so no secrets."""


def summary(cfg):
    """One log line; no secrets."""
    return "board=%s hat=%s module=%s rx=G%d contract=%dA warn=%d%% poll=%ds rotation=%d wifi=%s mqtt=%s http=%s" % (
        cfg.board, cfg.hat, cfg.module, cfg.uart_rx, cfg.contract_amperes, int(cfg.warn_ratio * 100 + 0.5),
        cfg.poll_seconds, cfg.rotation, "on" if cfg.wifi else "off",
        "%s:%d" % (cfg.mqtt["host"], cfg.mqtt.get("port", 1883)) if cfg.mqtt else "off",
        cfg.http.get("port", 80) if cfg.http is not None else "off")


def validate(data):
    """Check a decoded JSON object; return a Config or raise ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError([(None, "the file must hold one JSON object: { ... }")])
    problems = []
    for k in data:
        if k.startswith("_"):
            continue  # "_comment" style keys are notes for people
        if k not in KEYS:
            problems.append((k, "unknown key (check the spelling against config.example.json)"))
    values = {}
    for k, default, check in OPTIONS:
        if k not in data:
            if k in _REQUIRED:
                problems.append((k, "missing: it is required"))
            values[k] = default
            continue
        err = check(data[k])
        if err:
            problems.append((k, err))
        values[k] = data[k]
    tx, rx = values["uart_tx"], values["uart_rx"]
    if (tx == rx or tx == 25 and rx == 36) and not _tx_pin(tx):  # G25 and G36: one pad (docs/hardware.md section 1)
        problems.append(("uart_tx", "must be another pin than uart_rx (on the Plus G25 is G36): "
                                    "the module's TX and RX are two wires"))
    # The HAT-C1 carries a J11 module and the BP35A1 HAT a SKSTACK one; the HAT-C1 receives on
    # G36 and G26 is its module's reset line (docs/hardware.md section 1).
    hat = values["hat"]
    if hat == "c1" and values["module"] == "skstack" or hat == "bp35a1" and values["module"] == "j11":
        problems.append(("module", "the %s carries a %s module: leave module out (auto)"
                                   % (("HAT-C1", "J11") if hat == "c1" else ("BP35A1 HAT", "SKSTACK"))))
    if hat == "c1" or values["module"] == "j11":
        if data.get("uart_rx", 36) != 36:
            problems.append(("uart_rx", "the HAT-C1 receives on G36 (G26 is its module's reset "
                                        "line): leave uart_rx out"))
        if tx == 26:
            problems.append(("uart_tx", "G26 is the HAT-C1 module's reset line: use 0"))
    if values["mqtt"] and not values["wifi"]:
        problems.append(("mqtt", "needs wifi: the stick reaches the broker over WiFi"))
    if values["http"] is not None and not values["wifi"]:
        problems.append(("http", "needs wifi: the stick serves its page on its WiFi address"))
    if problems:
        raise ConfigError(problems)
    values["warn_ratio"] = float(values["warn_ratio"])
    values["broute_id"] = values["broute_id"].upper()  # the module wants it as printed: upper case
    cfg = Config()
    for k in values:
        setattr(cfg, k, values[k])
    return cfg


def parse(text):
    """Decode and validate config text (str or bytes)."""
    _check_size(len(text))  # as load() does, so the PC's check (tools/build/deploy.py) agrees
    if isinstance(text, (bytes, bytearray)):
        if text[:3] == _BOM:
            text = text[3:]
        try:
            text = text.decode()
        except UnicodeError:
            raise ConfigError([(None, "the file is not UTF-8 text")])
    elif text[:1] == "\ufeff":
        text = text[1:]
    # MicroPython's json accepts missing and trailing commas that CPython
    # refuses: check first so the board and the deploy tool agree.
    problem = _syntax_problem(text)
    if problem is None:
        try:
            data = json.loads(text)
        except ValueError:
            problem = "check the commas, quotes and braces"
    if problem:
        raise ConfigError([(None, "not valid JSON: " + problem)])
    return validate(data)


def _read(path):
    """The file's bytes, or ConfigError when it is larger than MAX_BYTES (not read then:
    a huge file must not exhaust the heap, and a small one allocates only its size)."""
    import os
    size = os.stat(path)[6]
    _check_size(size)
    with open(path, "rb") as f:
        return f.read(size)


def _check_size(n):
    if n > MAX_BYTES:
        raise ConfigError([(None, "the file is larger than %d bytes: shorten the notes in it"
                                  % MAX_BYTES)])


def load(path=PATH):
    """Read, decode and validate the config file at `path`."""
    try:
        text = _read(path)
    except OSError:
        raise ConfigError([(None, "no config.json on the stick. On the PC: copy "
                                  "config.example.json to my-config.json, fill in your B-route "
                                  "ID and password, then run make deploy PORT=/dev/ttyUSB0 "
                                  "CONFIG=my-config.json")], missing=True)
    return parse(text)


def peek_board(path=PATH):
    """The board named in a config that failed validation, so its error shows on the right panel."""
    try:
        text = _read(path)
        text = text[3:].decode() if text[:3] == _BOM else text.decode()
        if _syntax_problem(text) is not None:
            return "auto"  # also what keeps a deep nesting away from json.loads
        kind = json.loads(text).get("board")
    except Exception:  # missing, too big, not JSON, not an object: any of it means "auto"
        return "auto"
    return kind if kind in BOARDS else "auto"


def _syntax_problem(text):
    """Point at the first usual hand-editing mistake, since json gives no position."""
    line = 1
    depth = 0
    in_str = esc = False
    last = ""  # last significant character outside strings
    for c in text:
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
            elif c == "\n":
                return "line %d: a text value is missing its closing quote" % line
            continue
        if c == "\n":
            line += 1
        elif c == "'":
            return "line %d: use double quotes \" not single quotes '" % line
        elif c in "}]" and last == ",":
            return "line %d: remove the comma before %s" % (line, c)
        elif c in '"{[' and last and last in '"}]0123456789el':
            return "line %d: a comma is missing before this" % line
        elif c not in " \t\r":
            if c in "{[":
                depth += 1
                if depth > MAX_DEPTH:  # json.loads recurses: checked before it runs
                    return "line %d: nested more than %d levels deep" % (line, MAX_DEPTH)
            elif c in "}]":
                depth -= 1
            last = c
            in_str = c == '"'
    if in_str:
        return "a text value is missing its closing quote"
    return None
