"""B-route command line for a PC or Raspberry Pi, on the same lib/broute code as the firmware.

`broute` once installed (`pip install .`, pyproject.toml), `tools/broute.py` in a checkout:

  broute.py decode <hex frame | whole ERXUDP line>   print one JSON object describing the frame
  broute.py read --port DEV [--count N] [--json]     read a meter through a USB Wi-SUN dongle
  broute.py serve --port DEV --mqtt HOST[:PORT]      publish it to MQTT for Home Assistant (a service)
  broute.py serve --port DEV --http HOST:PORT        serve its web page, JSON and Prometheus metrics
  broute.py --version                                the firmware version this lib/ code belongs to
"""
import argparse
import json
import os
import re
import sys

from broute import echonet
import eldecode
from broute import meter, meterfacts
from broute.echonet import EchonetError
from broute.version import VERSION

EXIT_INPUT = 2  # decode: the input is neither a frame nor an ERXUDP line it can read
DECODE_EPILOG = "exit status: 0 decoded; 2 the input (or an option) was refused, said in {\"error\": ...} on stdout"

_SENTINELS = (meter.NO_DATA, meter.OVERFLOW, meter.UNDERFLOW)


class InputError(ValueError):
    """The command line text is neither a hex frame nor an ERXUDP line."""


def split_input(text):
    """Returns (frame bytes, ERXUDP envelope dict or None); accepts both module dialects."""
    tokens = text.split()
    if not tokens:
        raise InputError("nothing to decode")
    if tokens[0] != "ERXUDP":
        try:
            return bytes.fromhex("".join(tokens)), None
        except ValueError:
            raise InputError("not hex and not an ERXUDP line")
    # ERXUDP SENDER DEST RPORT LPORT SENDERLLA [RSSI] SECURED [SIDE] DATALEN DATA: single-stack has
    # SECURED alone, dual-stack SECURED SIDE, and SKSREG SA2 1 puts the RSSI before SECURED.
    if not 9 <= len(tokens) <= 11:
        raise InputError("ERXUDP line has %d fields; expected 9 (single-stack), 10 (dual-stack, or with RSSI) "
                         "or 11 (dual-stack with RSSI)" % len(tokens))
    flags = tokens[6:-2]
    rssi = flags.pop(0) if len(flags) == 3 or (len(flags) == 2 and len(flags[0]) > 1) else None
    dialect = "dual-stack" if len(flags) == 2 else "single-stack"
    for name, flag in zip(("SECURED", "SIDE"), flags):
        if flag not in ("0", "1"):
            raise InputError("ERXUDP %s field %r is not 0 or 1" % (name, flag))
    if not re.fullmatch("[0-9A-Fa-f]{4}", tokens[-2]):
        raise InputError("ERXUDP DATALEN %r is not 4 hex digits" % tokens[-2])
    length = int(tokens[-2], 16)
    try:
        frame = bytes.fromhex(tokens[-1])
    except ValueError:
        raise InputError("ERXUDP data is not hex ASCII (a binary payload cannot be pasted)")
    if len(frame) != length:
        raise InputError("ERXUDP DATALEN says %d bytes, data holds %d" % (length, len(frame)))
    envelope = {"sender": tokens[1], "dest": tokens[2], "rport": tokens[3], "lport": tokens[4],
                "sender_mac": tokens[5], "secured": flags[0] == "1", "dialect": dialect}
    if dialect == "dual-stack":
        envelope["side"] = int(flags[1])
    if rssi is not None:
        envelope["rssi"] = rssi
    return frame, envelope


def _plain(v):
    """Sentinels become None (reported separately in 'status')."""
    return None if v in _SENTINELS else v


def _status(values):
    names = [repr(v) for v in values if v in _SENTINELS]
    return {"status": names[0] if len(set(names)) == 1 else names} if names else {}


def _iso(t):
    return "%04d-%02d-%02dT%02d:%02d:%02d" % tuple(t)


def _energy(raw, scale):
    if raw is meter.NO_DATA or scale is None:
        return _plain(raw)
    return round(meter.kwh(raw, scale[0], scale[1]), 6)


def natural(eoj, epc, edt, scale):
    """Value in natural units (W, A, kWh, ISO date-time) plus unit and status fields."""
    v = eldecode.decode(eoj, epc, edt)
    energy_unit = "kWh" if scale else "count"
    if eoj >> 8 == echonet.NODE_PROFILE >> 8:
        return {"value": ["%06X" % e for e in v]}
    if epc == 0xE7:
        return dict({"value": _plain(v), "unit": "W"}, **_status([v]))
    if epc == 0xE8:
        amps = {"r": None if v[0] in _SENTINELS else v[0] / 10, "t": None if v[1] in _SENTINELS else v[1] / 10}
        return dict({"value": amps, "unit": "A"}, **_status(v))
    if epc in (0xE0, 0xE3):
        return dict({"value": _energy(v, scale), "unit": energy_unit, "counter": _plain(v)}, **_status([v]))
    if epc in (0xEA, 0xEB):
        return dict({"value": {"time": _iso(v[:6]), "energy": _energy(v[6], scale)}, "unit": energy_unit},
                    **_status([v[6]]))
    if epc in (0xE2, 0xE4):
        return {"value": {"day": v[0], "energy": [_energy(x, scale) for x in v[1]]}, "unit": energy_unit}
    if epc == 0xEC:
        slots = [{"normal": _energy(n, scale), "reverse": _energy(r, scale)} for n, r in v[5]]
        return {"value": {"time": _iso(list(v[:5]) + [0]), "slots": slots}, "unit": energy_unit}
    if epc == 0xED:
        return {"value": {"time": _iso(list(v[:5]) + [0]), "count": v[5]}}
    if epc in (0x9D, 0x9E, 0x9F):
        return {"value": ["%02X" % e for e in v]}
    if epc == 0xE1:
        return {"value": v, "unit": "kWh per count"}
    return {"value": v}


def _scale(f, coefficient, unit_code):
    """Coefficient and unit for kWh: from the frame itself, else from the command line."""
    i = f.find(0xD3)
    if i >= 0 and f.pdc(i):
        coefficient = meterfacts.coefficient(f.edt(i))
    i = f.find(0xE1)
    unit = meterfacts.unit_kwh(bytes([unit_code])) if unit_code is not None else None
    if i >= 0 and f.pdc(i):
        unit = meterfacts.unit_kwh(f.edt(i))
    return None if unit is None else (coefficient, unit)


def describe(raw, envelope=None, coefficient=1, unit_code=None):
    f = echonet.Frame().parse(raw)
    scale = _scale(f, coefficient, unit_code)
    props = []
    for i in range(f.opc):
        epc, edt = f.epc(i), f.edt(i)
        p = {"epc": "%02X" % epc, "name": eldecode.name(f.seoj, epc), "pdc": f.pdc(i), "raw": bytes(edt).hex().upper()}
        if f.pdc(i):
            try:
                p.update(natural(f.seoj, epc, edt, scale))
            except EchonetError as e:
                p.update({"value": None, "error": str(e)})
        props.append(p)
    out = {"tid": f.tid, "seoj": "%06X" % f.seoj, "deoj": "%06X" % f.deoj,
           "esv": {"code": "%02X" % f.esv, "name": eldecode.ESV_NAMES.get(f.esv, "unknown")}, "properties": props}
    if envelope:
        out["erxudp"] = envelope
    return out


def cmd_decode(args):
    try:
        raw, envelope = split_input(" ".join(args.frame))
        print(json.dumps(describe(raw, envelope, args.coefficient, args.unit), ensure_ascii=False))
    except (InputError, EchonetError) as e:
        print(json.dumps({"error": str(e)}), file=sys.stdout)
        print("broute: decode: %s" % e, file=sys.stderr)  # stdout may be going to a pipe
        return EXIT_INPUT
    return 0


def _unit_code(text):
    """--unit: one byte in hex, as E1 carries it."""
    if not re.fullmatch("[0-9A-Fa-f]{1,2}", text):
        raise argparse.ArgumentTypeError("%r is not an E1 unit code (one byte in hex, e.g. 01)" % text)
    return int(text, 16)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["read"]:  # argparse's REMAINDER drops leading options such as --port
        import broute_read
        return broute_read.main(argv[1:])
    if argv[:1] == ["serve"]:
        import broute_serve  # paho-mqtt is imported only here
        return broute_serve.main(argv[1:])
    ap = argparse.ArgumentParser(prog=os.path.basename(sys.argv[0]) or "broute", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version="broute-stick " + VERSION)
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("decode", help="decode a hex ECHONET Lite frame or a whole ERXUDP line", epilog=DECODE_EPILOG)
    d.add_argument("frame", nargs="+", help="hex bytes, or the ERXUDP line (quoted or not)")
    d.add_argument("--coefficient", type=int, default=1, help="D3 coefficient when the frame has none (default 1)")
    d.add_argument("--unit", type=_unit_code, default=None,
                   help="E1 unit code in hex (e.g. 01 = 0.1 kWh) when the frame has none; without it counters stay raw")
    r = sub.add_parser("read", help="read a meter through a USB Wi-SUN dongle", add_help=False)
    r.add_argument("rest", nargs=argparse.REMAINDER)
    v = sub.add_parser("serve", help="publish the meter to MQTT and/or serve its web page (--http)",
                       add_help=False)
    v.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    if args.command == "decode":
        return cmd_decode(args)
    if args.command == "serve":
        import broute_serve
        return broute_serve.main(args.rest)
    import broute_read
    return broute_read.main(args.rest)
